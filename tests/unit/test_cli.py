"""The command line: exit statuses, one-line errors, JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from convsym.cli import main


def test_summary_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "example:seed1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 18816


def test_set_instantiates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "example:seed1_symbolic", "--set", "n=28", "--set", "c=1",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["layers"][1]["output_shape"] == [24, 24, 64]


@pytest.mark.parametrize("argv", [
    ["summary", "example:nope"],
    ["summary", "/nonexistent/spec.yaml"],
    ["summary", "example:seed1_symbolic", "--set", "n=__import__('os')"],
    ["summary", "example:seed1_symbolic", "--set", "nope"],
    ["summary", "example:seed1_symbolic", "--set", "n=2"],
    ["no-such-command"],
])
def test_bad_input_exits_2_with_one_line(argv: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("convsym: error:")
    assert "Traceback" not in err


def test_spec_file_round_trip(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "net.yaml"
    path.write_text("dialect: keras\ninput: [28, 28, 1]\nlayers:\n"
                    "  - Conv2D: {filters: 32, kernel_size: 3, activation: relu}\n"
                    "  - Conv2D: {filters: 64, kernel_size: 3}\n")
    assert main(["summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"][1]["params"] == 18496


def test_module_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "convsym", "summary", "example:seed2"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "51,200" in done.stdout


# --- advice worded for the command line (issue 15) --------------------------------------------
@pytest.mark.parametrize("argv, cli_words, api_words", [
    (["solve", "example:seed1_symbolic", "--for", "zz", "--where", "out_H == 8"],
     "convsym: error: --for: 'zz' is not a symbol", "solve: 'zz'"),
    (["solve", "example:seed1_symbolic", "--for", "n", "--where", "zz == 8"],
     "convsym: error: --where: zz == 8: 'zz' is neither", "where[0]"),
    (["solve", "example:seed1_symbolic", "--for", "n", "--where", "out_H == 8", "--bounds",
      "q <= 3"], "convsym: error: --bounds: 'q' is not a symbol", " bounds:"),
    (["compare", "example:seed1_symbolic", "example:seed1", "--at", "zz=3"],
     "convsym: error: --at: 'zz' is not a symbol", "compare: at"),
])
def test_errors_use_the_command_lines_words(argv: list[str], cli_words: str, api_words: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(cli_words), err
    assert api_words not in err


def test_symbolic_hyperparameters_advice_is_set_on_the_cli(
        tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    import convsym

    path = Path(str(tmp_path)) / "k.yaml"
    path.write_text("dialect: keras\ninput: [n, n, 3]\nlayers:\n"
                    "  - Conv2D: {filters: 8, kernel_size: k}\n")
    assert main(["inputs", str(path)]) == 2
    err = capsys.readouterr().err
    assert "(--set k=...)" in err and "convsym solve SOURCE --for k" in err
    assert "net.subs" not in err and "solve()" not in err
    with pytest.raises(convsym.ConvsymError) as info:  # the API keeps Python's words
        convsym.load(str(path)).admissible_inputs()
    assert "net.subs(k=...)" in str(info.value) and "--set" not in str(info.value)


def test_the_surface_is_reset_after_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    from convsym.errors import SURFACE

    main(["summary", "example:seed1_symbolic", "--set", "zz=1"])
    capsys.readouterr()
    assert SURFACE.get() == "api"


@pytest.mark.parametrize("spec, fragment", [
    ("dialect: keras\ninput: [8, 8, 1]\nlayers:\n"
     "  - Conv2D: {filters: 2, kernel_size: 3, activation: relux}\n",
     "activation = 'relux': must be the name of a built-in Keras activation (did you mean "
     "'relu'?)"),
    ("dialect: keras\ninput: [8, 8, 1]\nlayers:\n  - Activation: {activation: ReLU}\n",
     "activation = 'ReLU': must be the name of a built-in Keras activation (did you mean "
     "'relu'?)"),
    ("dialect: torch\ninput: [1, 8, 8]\nlayers:\n  - Relux: {}\n",
     "unknown torch layer 'Relux' (did you mean 'ReLU'?)"),
])
def test_unknown_activations_are_refused_per_dialect(
        spec: str, fragment: str, tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "a.yaml"
    path.write_text(spec)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"convsym: error: {path}") and fragment in err, err


def test_a_recursion_limit_is_one_line_naming_the_command(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # sizes nested deeper than a walk (SymPy's or convsym's) can follow: a budget line,
    # not an internal error
    from convsym.commands import summary

    def too_deep(*args: object, **kwargs: object) -> int:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(summary, "run", too_deep)
    assert main(["summary", "example:seed1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "convsym: error: summary: the expressions are nested too deep")


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
def test_output_to_a_fifo_nobody_reads_is_refused_not_waited_on(
        tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    """Opening a FIFO to write waits for a reader forever; convsym refuses it in one line,
    and still writes to a device (``/dev/null``) and a regular file."""
    import os

    fifo = os.path.join(str(tmp_path), "out.txt")
    os.mkfifo(fifo)
    assert main(["derive", "example:seed1", "-o", fifo]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a FIFO that no process reads" in err
    assert main(["derive", "example:seed1", "-o", os.devnull]) == 0
    plain = os.path.join(str(tmp_path), "plain.txt")
    assert main(["derive", "example:seed1", "-o", plain]) == 0
    with open(plain, encoding="utf-8") as handle:
        assert "18,496" in handle.read()
