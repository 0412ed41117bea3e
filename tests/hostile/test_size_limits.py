"""One document size limit (50 MB) for text, files, the CLI and dicts, and value caps that keep
the work bounded (issue 12: NASNetLarge's 1.03 MB Keras JSON was refused as text but not as a
file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convsym.errors import ConvsymError
from convsym.importers.keras_json import from_keras
from convsym.readers import (
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_TOML_BYTES,
    MAX_TOML_VALUES,
    parse_json,
    parse_toml,
)


def _keras_doc(padding: int) -> dict[str, Any]:
    """A small valid Keras model whose JSON is ``padding`` characters longer (a long name)."""
    return {"class_name": "Sequential", "config": {"name": "m" * padding, "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3]}},
        {"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": 3}}]}}


def _rejected(call: Any) -> ConvsymError:
    with pytest.raises(ConvsymError) as info:
        call()
    return info.value


def test_a_megabytes_long_keras_json_is_read_in_every_form(tmp_path: Path) -> None:
    from convsym.cli import main

    doc = _keras_doc(1_500_000)  # longer than NASNetLarge's 1.03 MB
    text = json.dumps(doc)
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    for source in (text, text.encode("utf-8"), str(path), doc):
        assert from_keras(source).rows[-1].output_shape == (6, 6, 4)
    assert main(["summary", str(path)]) == 0


def test_over_the_limit_is_refused_in_every_form(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse; never read past the limit
    text = "{" + " " * MAX_FILE_BYTES  # read as JSON text (it starts with a brace)
    for source in (str(path), text, text.encode("utf-8")):
        err = _rejected(lambda source=source: from_keras(source))
        assert err.code == "too_large" and "50,000,000 bytes" in str(err)
    err = _rejected(lambda: parse_json(text, "t.json"))
    assert err.code == "too_large"


def test_the_limit_counts_utf8_bytes_as_a_file_would() -> None:
    text = '["' + "\u00e9" * (MAX_FILE_BYTES // 2 + 1) + '"]'  # fewer characters than bytes
    assert len(text) < MAX_FILE_BYTES < len(text.encode("utf-8"))
    err = _rejected(lambda: parse_json(text, "t.json"))
    assert err.code == "too_large"


@pytest.mark.parametrize("text", [
    "[" + ",".join(["1"] * (MAX_NODES + 1)) + "]",
    "[" + ",".join(['{"a":1}'] * (MAX_NODES // 2 + 1)) + "]",
    "[" + ",".join(['"x"'] * (MAX_NODES + 1)) + "]",
])
def test_json_values_are_capped(text: str) -> None:
    err = _rejected(lambda: parse_json(text, "t.json"))
    assert err.code == "too_large" and f"{MAX_NODES:,} values" in str(err)


def test_a_dict_is_held_to_the_value_cap() -> None:
    doc = _keras_doc(1)
    doc["config"]["layers"][1]["config"]["extra"] = [0] * (MAX_NODES + 1)
    err = _rejected(lambda: from_keras(doc))
    assert err.code == "too_large"
    from convsym.spec import load

    err = _rejected(lambda: load({"input": [8], "layers": ["Flatten"], "name": None,
                                  "dialect": "keras", "outputs": [[0] * (MAX_NODES + 1)]}))
    # a spec document meets its own, smaller budget first (max_document_values)
    assert err.code == "budget_exceeded" and "max_document_values" in str(err)


def test_big_integers_in_json_are_refused_after_a_fast_parse() -> None:
    for digits in (31, 5000):
        err = _rejected(lambda digits=digits: parse_json("[" + "9" * digits + "]", "t.json"))
        assert err.code == "too_large" and "digits" in str(err)
    assert parse_json("[" + "9" * 30 + "]", "t.json") == [10**30 - 1]


@pytest.mark.parametrize(("text", "fragment"), [
    ('a = "' + "x" * MAX_TOML_BYTES + '"', "2,000,000 characters"),
    ("".join(f"k{i} = 1\n" for i in range(MAX_TOML_VALUES + 1)), "100,000 values"),
])
def test_toml_is_capped_before_the_slow_parser_runs(text: str, fragment: str) -> None:
    err = _rejected(lambda: parse_toml(text, "t.toml"))
    assert err.code == "too_large" and fragment in str(err)
