"""Summary table and JSON."""

from __future__ import annotations

import json

from convsym.examples import example


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
