"""Summary table and JSON."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from convsym.cli import main
from convsym.examples import example, names
from convsym.spec import load
from convsym.summary import count_text, shape_text


def test_seed3_json_matches_the_issue_format() -> None:
    data = example("seed3").summary().to_dict()
    assert [layer["output_shape"] for layer in data["layers"]] == [
        [16, 16, 10], [8, 8, 20], [1280], [10]]
    assert [layer["params"] for layer in data["layers"]] == [490, 1820, 0, 12810]
    assert set(data["layers"][0]) >= {"name", "type", "output_shape", "params", "trainable",
                                      "non_trainable"}
    assert (data["total_params"], data["trainable_params"], data["non_trainable_params"]) == (
        15120, 15120, 0)
    json.dumps(data)


def test_symbolic_json_values_are_strings() -> None:
    data = example("seed3_symbolic").summary().to_dict()
    assert data["layers"][0]["output_shape"] == ["ceiling(n/2)", "ceiling(n/2)", 10]
    assert data["layers"][3]["params"] == "200*ceiling(n/4)**2 + 10"


def test_table_lists_rows_totals_and_conditions() -> None:
    text = str(example("seed1_symbolic").summary())
    assert "conv2d_1 (Conv2D)" in text
    assert "(n - 4, n - 4, 64)" in text
    assert "18,496" in text
    assert "Valid when: n >= 5" in text


# --- width (issue 15: text summaries ran to 190 columns) --------------------------------------

_WIDE = {"input": ["n", "n", "c"], "layers": [
    {"Conv2D": {"filters": "f", "kernel_size": "k", "strides": "s"}},
    {"Conv2D": {"filters": 64, "kernel_size": "k", "strides": "s"}},
    {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}}, {"Dense": {"units": 10}}]}


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.mark.parametrize("name", names())
def test_every_example_summary_fits_100_columns(name: str) -> None:
    assert _widest(str(example(name).summary())) <= 100


def test_a_symbolic_stride_summary_fits_and_keeps_every_piece() -> None:
    summary = load(_WIDE).summary()
    text = summary.text(width=72)
    assert _widest(text) <= 72
    body = text.split("=" * 72)[1]
    want: Counter[str] = Counter()
    for row in summary.rows:  # every shape and count is still there, only broken at spaces
        want.update(f"{row.name} ({row.type})".split())
        want.update(shape_text(row.output_shape, batch=False).split())
        want.update(count_text(row.params).split())
    assert Counter(body.split()) == want
    assert "Valid when: n + s >= k*s + k + s**2" in text


@pytest.mark.parametrize("columns", ["60", "80"])
def test_cli_follows_the_terminal_width(columns: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    for source in ["example:unet", "example:c3d", "example:resnet50"]:
        assert main(["summary", source]) == 0
        assert _widest(capsys.readouterr().out) <= int(columns)


def test_a_narrow_table_is_unchanged() -> None:
    text = str(example("seed1").summary())
    assert "conv2d_1 (Conv2D)   (24, 24, 64)    18,496" in text
