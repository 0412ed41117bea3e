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
