"""``import convsym`` loads nothing heavy, not even SymPy; each public name loads its module on
first use (SymPy, and nothing heavier: NumPy, torch, keras, z3, hypothesis).  ``convsym
--version`` and ``--help`` need no algebra, so they do not load SymPy either."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "torch", "keras", "z3", "hypothesis", "tensorflow", "scipy", "onnx",
         "onnxruntime")


def _loaded(code: str) -> list[str]:
    probe = (f"{code}; import sys; "
             f"print(','.join(m for m in {(*HEAVY, 'sympy')!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return [m for m in done.stdout.rstrip("\n").split("\n")[-1].split(",") if m]


def test_import_convsym_loads_nothing_heavy() -> None:
    assert _loaded("import convsym") == []


def test_public_names_load_sympy_only() -> None:
    assert _loaded("import convsym; convsym.Sequential; convsym.load; convsym.keras") == \
        ["sympy"]
    assert _loaded("from convsym import torch, parse_expr") == ["sympy"]


def test_version_and_help_do_not_load_sympy() -> None:
    for argv in (["--version"], ["--help"]):
        code = ("import contextlib, io, convsym.cli\n"
                "with contextlib.redirect_stdout(io.StringIO()):\n"
                f"    convsym.cli.main({argv!r})")
        assert _loaded(f"exec({code!r})") == []


def test_the_cli_prove_timeout_is_the_engines() -> None:
    from convsym.commands.prove import DEFAULT_TIMEOUT
    from convsym.proof import DEFAULT_TIMEOUT as ENGINE

    assert DEFAULT_TIMEOUT == ENGINE
