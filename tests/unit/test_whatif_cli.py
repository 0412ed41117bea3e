"""convsym solve / inputs / compare: answers, exit statuses, JSON and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convsym.cli import main

STRIDE_SPEC = {
    "name": "stride", "dialect": "torch", "input": [3, 32, 32],
    "layers": [{"Conv2d": {"in_channels": 3, "out_channels": 8, "kernel_size": 3,
                           "stride": "s"}}],
}


@pytest.fixture()
def stride_spec(tmp_path: Path) -> str:
    path = tmp_path / "stride.json"
    path.write_text(json.dumps(STRIDE_SPEC))
    return str(path)


def test_solve_stride(stride_spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", stride_spec, "--for", "s", "--where", "out_H == 8"]) == 0
    out = capsys.readouterr().out
    assert "Answer (exact): s in {4}" in out and "Derivation:" in out


def test_solve_json_and_formats(stride_spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", stride_spec, "--for", "s", "--where", "out_H == 8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["points"] == [[4]] and data["status"] == "exact"
    assert main(["solve", stride_spec, "--for", "s", "--where", "out_H == 8",
                 "--format", "latex"]) == 0
    assert "\\begin{enumerate}" in capsys.readouterr().out


def test_solve_with_bounds_and_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "example:seed1_symbolic", "--set", "c=1", "--for", "n",
                 "--where", "conv2d_1_params + conv2d_params <= 20000", "--bounds",
                 "1 <= n <= 40", "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "5 <= n <= 40"


def test_solve_plain_conditions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "-", "--for", "s", "--where", "floor((32 - 3)/s) + 1 == 8",
                 "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "s in {4}"


def test_solve_unknown_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "-", "--for", "H", "--for", "W", "--where",
                 "H + W == 10 + floor(H*W/3)"]) == 3
    assert "Answer (unknown)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["solve", "example:seed3_symbolic", "--for", "q", "--where", "conv2d_1_H == 8"],
    ["solve", "example:seed3_symbolic", "--for", "n", "--where", "out.H == 8"],
    ["solve", "example:seed3_symbolic", "--for", "n", "--where", "__import__('os') == 1"],
    ["solve", "example:seed3_symbolic", "--for", "n", "--bounds", "n <= m"],
    ["solve", "example:seed3_symbolic", "--where", "out_0 == 10"],
    ["compare", "example:seed3", "--depthwise", "dense"],
    ["compare", "example:seed3", "--at", "n=x"],
])
def test_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("convsym: error:") and "Traceback" not in err


def test_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inputs", "example:seed1_symbolic", "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "n: n >= 5"
    assert main(["inputs", "example:seed1_symbolic", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["per_symbol"]["n"]["smallest"][:2] == [5, 6]


def test_compare_two_variants(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "example:seed1_symbolic", "--set", "c=3", "--set-a", "n=28",
                 "--set-b", "n=32", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"][1]["output_b"] == [28, 28, 64]
    assert data["totals"]["status"] == "changed"


def test_compare_depthwise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "example:seed3", "--depthwise", "conv2d_1"]) == 0
    out = capsys.readouterr().out
    assert "200 maps" in out and "2,000 parameters" in out and "1,820 parameters" in out


@pytest.mark.parametrize("fmt, header", [
    ("markdown", "**Admissible inputs** of `seed1_symbolic`"),
    ("latex", r"\textbf{Admissible inputs} of \texttt{seed1\_symbolic}")])
def test_inputs_formats_keep_the_header(fmt: str, header: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inputs", "example:seed1_symbolic", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.startswith(header + " (exact)")
    assert "n >= 5" in out and "Derivation" in out


def test_solve_markdown_has_the_question_and_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "example:seed3_symbolic", "--for", "n", "--where", "conv2d_1_H == 8",
                 "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Solve for n** in `seed3_symbolic`\n\n"
                          "Answer (exact): `n in {29, 30, 31, 32}`")


def test_out_h_on_a_classifier_points_to_the_layer_with_that_axis(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "example:seed3_symbolic", "--for", "n", "--where",
                 "out_H == 8"]) == 2
    err = capsys.readouterr().err
    assert "the output (of the last row, 'dense') has no axis H, only out_0; rows with an " \
           "H axis: conv2d, conv2d_1 (e.g. conv2d_1_H)" in err
    assert "out_H," not in err
