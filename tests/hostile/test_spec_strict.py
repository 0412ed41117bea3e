"""convsym.readers and convsym.spec: strict reading, plain data, errors at their path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convsym.errors import SpecError, SpecTypeError
from convsym.readers import MAX_DEPTH, parse_json, parse_toml, parse_yaml, read_document
from convsym.spec import MAX_LAYERS, MAX_RANK, MAX_TEXT, check_plain, load


@pytest.mark.parametrize(("text", "value"), [
    ("a: yes", "yes"), ("a: on", "on"), ("a: 010", 10), ("a: 0x10", "0x10"),
    ("a: 1:20", "1:20"), ("a: 2001-01-01", "2001-01-01"), ("a: 1_000", "1_000"),
    ("a: true", True), ("a: False", False), ("a: ~", None), ("a:", None), ("a: null", None),
    ("a: -3", -3), ("a: +4", 4), ("a: 1.5", 1.5), ("a: 1e3", 1000.0), ("a: '3'", "3"),
    ("a: \"n + 1\"", "n + 1"), ("a: n + 1", "n + 1"), ("a: |\n  x\n", "x\n"),
    ("a: <<", "<<"),
])
def test_yaml_scalars_follow_the_core_schema(text: str, value: object) -> None:
    assert parse_yaml(text, "t.yaml") == {"a": value}


def test_yaml_structure() -> None:
    doc = parse_yaml("input: [n, n, 3]\nlayers:\n  - Conv2D: {filters: 8}\n  - Flatten\n",
                     "t.yaml")
    assert doc == {"input": ["n", "n", 3], "layers": [{"Conv2D": {"filters": 8}}, "Flatten"]}
    assert parse_yaml("", "t.yaml") is None
    assert parse_yaml("- [1, [2, {a: b}]]", "t.yaml") == [[1, [2, {"a": "b"}]]]


@pytest.mark.parametrize(("text", "code", "fragment"), [
    ("a: 1\na: 2", "duplicate_key", "duplicate key 'a'"),
    ("? [1, 2]\n: 3", "bad_key", "must be text"),
    ("1: 3", "bad_key", "must be text"),
    ("a: &x 1", "yaml_alias", "anchors"),
    ("a: !!int 3", "yaml_tag", "'!!int'"),
    ("a: ! x", "yaml_tag", "'!'"),
    ("a: .NaN", "not_finite", "NaN"),
    ("a: -.inf", "not_finite", "Infinity"),
    ("a: [" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "too_deep", "32 levels"),
    ("a: b: c", "bad_yaml", "line 1"),
    ("a: 1\n--- \nb: 2", "bad_yaml", "one document"),
])
def test_yaml_rejections(text: str, code: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "t.yaml")
    assert info.value.code == code and fragment in str(info.value), str(info.value)
    assert str(info.value).startswith("t.yaml")


def test_depth_limit_is_exact() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(ok, "t.json") is not None
    assert parse_yaml(ok, "t.yaml") is not None
    check_plain(parse_json(ok, "t.json"), "t.json")
    deeper = "[" + ok + "]"
    for parse in (parse_json, parse_yaml, parse_toml):
        with pytest.raises(SpecError, match="32 levels"):
            parse(deeper if parse is not parse_toml else f"a = {deeper}", "t")
    with pytest.raises(SpecError, match="32 levels"):
        check_plain(json.loads(deeper), "<dict>")


@pytest.mark.parametrize(("parse", "text", "code"), [
    (parse_json, '{"a": 1, "a": 1}', "duplicate_key"),
    (parse_json, '{"a": NaN}', "not_finite"),
    (parse_json, '{"a": -Infinity}', "not_finite"),
    (parse_json, '{"a": ' + "1" * 31 + "}", "too_large"),
    (parse_json, '{"a": 1,}', "bad_json"),
    (parse_toml, "a = nan", "not_finite"),
    (parse_toml, "a = -inf", "not_finite"),
    (parse_toml, "a = 1\na = 2", "bad_toml"),
    (parse_toml, "a = " + "1" * 5000, "too_large"),
    (parse_yaml, "a: \ud800", "not_text"),
])
def test_json_and_toml_rejections(parse: Any, text: str, code: str) -> None:
    with pytest.raises(SpecError) as info:
        parse(text, "t")
    assert info.value.code == code, str(info.value)


def test_thirty_digits_is_the_integer_literal_limit() -> None:
    assert parse_json('{"a": ' + "9" * 30 + "}", "t")["a"] == int("9" * 30)
    with pytest.raises(SpecError) as info:  # then the spec rejects it at its path
        load({"input": [int("9" * 30), 8, 1], "layers": ["Flatten"]})
    assert info.value.path == "input[0]" and info.value.code == "too_large"


def test_read_document_by_extension(tmp_path: Path) -> None:
    for name, text in (("a.json", '{"x": 1}'), ("a.toml", "x = 1"), ("a.yml", "x: 1"),
                       ("a.spec", "x: 1"), ("a.YAML", "x: 1")):
        (tmp_path / name).write_text(text)
        assert read_document(tmp_path / name) == {"x": 1}
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfx: 1")
    assert read_document(tmp_path / "bom.yaml") == {"x": 1}
    with pytest.raises(SpecError) as info:
        read_document(tmp_path / "missing.yaml")
    assert info.value.code == "unreadable"
    with pytest.raises(SpecError) as info:
        read_document(tmp_path)
    assert info.value.code == "unreadable"


# --- plain data ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code", "path"), [
    ({"a": {1: 2}}, "bad_key", "a"),
    ({"a": [1, {2, 3}]}, "bad_value_type", "a[1]"),
    ({"a": b"x"}, "bad_value_type", "a"),
    ({"a": object()}, "bad_value_type", "a"),
    ({"a": float("nan")}, "not_finite", "a"),
    ({"a": [[[float("inf")]]]}, "not_finite", "a[0][0][0]"),
    ({"odd key": {"b": float("nan")}}, "not_finite", "'odd key'.b"),
])
def test_check_plain(value: Any, code: str, path: str) -> None:
    with pytest.raises(SpecError) as info:
        check_plain(value, "<dict>")
    assert (info.value.code, info.value.path) == (code, path)


def test_check_plain_stops_cycles() -> None:
    loop: dict[str, Any] = {}
    loop["a"] = loop
    with pytest.raises(SpecError, match="nested deeper"):
        check_plain(loop, "<dict>")


@pytest.mark.parametrize(("value", "fragment"), [
    ("x" * (MAX_TEXT + 1), "limit is 4096"),
    ("a\nb", "U+000A"),
    ("\x1b[2J", "U+001B"),
    ("a\u202eb", "U+202E"),
    ("\ud800", "U+D800"),
])
def test_spec_text_is_strict(value: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        load({"input": [8, 8, 1], "name": value, "layers": ["Flatten"]})
    assert info.value.path == "name" and fragment in str(info.value)
    check_plain({"name": value}, "<keras json>")  # the importer's non-strict mode accepts it


def test_printable_text_has_no_character_the_spec_refuses() -> None:
    # spec._check_text passes printable text without looking at each character
    import sys
    import unicodedata

    refused = [c for c in map(chr, range(sys.maxunicode + 1))
               if c.isprintable() and unicodedata.category(c) in ("Cc", "Cs", "Cf")]
    assert refused == []


# --- documents to networks -------------------------------------------------------------------


def test_python_dicts_may_use_tuples() -> None:
    net = load({"input": (28, 28, 1), "layers": ({"Conv2D": {"filters": 4,
                                                             "kernel_size": (3, 3)}},)})
    assert net.output_shape == (26, 26, 4)


def test_input_may_be_the_first_layer() -> None:
    net = load({"layers": [{"Input": {"shape": ["n", "n", 1]}}, {"Conv2D": [4, 3]}]})
    assert [str(s) for s in net.output_shape] == ["n - 2", "n - 2", "4"]


def test_positional_arguments_and_bare_names() -> None:
    net = load({"dialect": "pytorch", "input": [3, 8, 8],
                "layers": [{"Conv2d": [3, 4, 3]}, "ReLU", {"MaxPool2d": 2}, "Flatten"]})
    assert net.output_shape == (36,)


@pytest.mark.parametrize(("doc", "cls", "code", "path", "fragment"), [
    ([1, 2], SpecTypeError, "bad_source", "", "not list"),
    ({"input": [8]}, SpecError, "bad_layers", "layers", "missing"),
    ({"input": [8], "layers": []}, SpecError, "bad_layers", "layers", "non-empty"),
    ({"input": [8], "layers": "Flatten"}, SpecError, "bad_layers", "layers", "str"),
    ({"layers": ["Flatten"]}, SpecError, "bad_input", "input", "missing"),
    ({"input": "28", "layers": ["Flatten"]}, SpecError, "bad_input", "input", "'28'"),
    ({"input": [1] * (MAX_RANK + 1), "layers": ["Flatten"]}, SpecError, "too_large", "input",
     "axes"),
    ({"input": [[8]], "layers": ["Flatten"]}, SpecTypeError, "not_a_size", "input[0]",
     "[8]"),
    ({"input": [True], "layers": ["Flatten"]}, SpecTypeError, "not_an_integer", "input[0]",
     "bool"),
    ({"input": ["n//0"], "layers": ["Flatten"]}, SpecError, "bad_expression", "input[0]",
     "division by zero"),
    ({"input": [8], "layers": ["Flatten"] * (MAX_LAYERS + 1)}, SpecError, "too_large",
     "layers", "10,000"),
    ({"input": [8], "layers": [["Flatten"]]}, SpecError, "bad_layer_entry", "layers[0]",
     "one key"),
    ({"input": [8], "layers": [{"Flatten": {}, "Dense": {}}]}, SpecError, "bad_layer_entry",
     "layers[0]", "one key"),
    ({"input": [8], "layers": [{"Dense": {"units": 2, "name": 7}}]}, SpecTypeError,
     "bad_name", "layers[0].Dense.name", "text"),
    ({"input": [8, 8, 1], "layers": [{"Conv2D": 5}]}, SpecTypeError, "missing_argument",
     "layers[0].Conv2D", "kernel_size is required"),
    ({"input": [8], "layers": [{"Lambda": {"function": "x"}}]}, SpecError, "code_layer",
     "layers[0]", "never runs"),
    ({"input": [8], "layers": ["Flatten"], "name": 3}, SpecTypeError, "bad_name", "name",
     "text"),
    ({"input": [8], "layers": ["Flatten"], "dialect": "jax"}, SpecError, "bad_dialect",
     "dialect", "'jax'"),
    ({"input": [8], "layers": ["Flatten"], "dialect": ["keras"]}, SpecError, "bad_dialect",
     "dialect", "['keras']"),
    ({"input": [8, 8, 1], "layers": [{"Input": {"shape": [8, 8, 1]}}]}, SpecError,
     "duplicate_input", "", "once"),
])
def test_spec_errors(doc: Any, cls: type, code: str, path: str, fragment: str) -> None:
    with pytest.raises(cls) as info:
        load(doc)
    err = info.value
    assert (err.code, err.path) == (code, path), str(err)
    assert fragment in str(err), str(err)


def test_load_takes_a_path_or_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("input: [4]\nlayers: [{Dense: {units: 2}}]\n")
    assert load(tmp_path / "s.yaml").output_shape == (2,)
    assert load(str(tmp_path / "s.yaml")).output_shape == (2,)
    with pytest.raises(SpecTypeError) as info:
        load(42)  # type: ignore[arg-type]
    assert info.value.code == "bad_source"


def test_graph_specs_go_to_the_graph_loader() -> None:
    net = load({"inputs": {"x": ["n", "n", 4]}, "layers": [
        {"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same"}, "name": "c"},
        {"Add": {}, "inputs": ["x", "c"]}]})
    assert [r.name for r in net.rows] == ["x", "c", "add"]
