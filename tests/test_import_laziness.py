"""``import convsym`` loads SymPy and nothing heavy (NumPy, torch, keras, z3, hypothesis)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "torch", "keras", "z3", "hypothesis", "tensorflow", "scipy", "onnx",
         "onnxruntime")


def test_import_convsym_loads_sympy_only() -> None:
    code = ("import sys, convsym; "
            f"print('heavy:' + ','.join(m for m in {HEAVY!r} if m in sys.modules)); "
            "print('sympy:' + str('sympy' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    heavy, has_sympy = done.stdout.strip().splitlines()
    assert heavy == "heavy:"
    assert has_sympy == "sympy:True"
