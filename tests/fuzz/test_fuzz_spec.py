"""Fuzz: spec documents, as data and as YAML/JSON/TOML text, random and nearly valid.

* random plain data (nested mappings, lists and scalars) given to ``convsym.spec.load``;
* nearly valid specs, sequential and graph, in both dialects, built with ``@st.composite``
  from a catalog of real layer entries, then with one field mutated (junk value, hostile
  text, a missing, unknown or misspelt key, a wrong type, a huge or negative number);
* the same documents written as YAML, JSON and TOML text, then with the text mutated
  (characters inserted, deleted, lines duplicated), read by the strict readers;
* YAML and JSON token soup (anchors, aliases, tags, flow and block syntax, directives).

Each document must load to a network (whose summary then builds) or raise a convsym error,
within budget.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from fuzzkit import JUNK_TEXT, batch, call, expression_text, fuzz
from hypothesis import given
from hypothesis import strategies as st

from convsym.readers import parse_json, parse_toml, parse_yaml
from convsym.spec import load

# --- valid pieces ----------------------------------------------------------------------------

SIZES = st.one_of(st.integers(1, 40), st.sampled_from(["n", "m", "H", "W", "2*n", "n + 2"]))
SMALL = st.integers(1, 4)

KERAS_2D = {
    "Conv2D": {"filters": SMALL, "kernel_size": st.integers(1, 3), "strides": SMALL,
               "padding": st.sampled_from(["valid", "same"]), "use_bias": st.booleans()},
    "Conv2DTranspose": {"filters": SMALL, "kernel_size": st.integers(1, 3),
                        "strides": SMALL, "padding": st.sampled_from(["valid", "same"])},
    "DepthwiseConv2D": {"kernel_size": st.integers(1, 3), "depth_multiplier": SMALL},
    "SeparableConv2D": {"filters": SMALL, "kernel_size": st.integers(1, 3)},
    "MaxPooling2D": {"pool_size": st.integers(1, 3), "padding": st.sampled_from(["valid",
                                                                                 "same"])},
    "AveragePooling2D": {"pool_size": st.integers(1, 3), "strides": SMALL},
    "BatchNormalization": {"center": st.booleans()},
    "ZeroPadding2D": {"padding": st.integers(0, 2)},
    "UpSampling2D": {"size": st.integers(1, 3)},
    "Dropout": {"rate": st.floats(0, 0.9)},
    "ReLU": {},
    "Activation": {"activation": st.sampled_from(["relu", "tanh"])},
}
KERAS_TAIL = {
    "Flatten": {},
    "GlobalAveragePooling2D": {},
    "Dense": {"units": SMALL, "use_bias": st.booleans()},
}
TORCH_2D = {
    "Conv2d": {"in_channels": SMALL, "out_channels": SMALL, "kernel_size": st.integers(1, 3),
               "stride": SMALL, "padding": st.integers(0, 2), "dilation": SMALL},
    "ConvTranspose2d": {"in_channels": SMALL, "out_channels": SMALL,
                        "kernel_size": st.integers(1, 3), "stride": SMALL},
    "MaxPool2d": {"kernel_size": st.integers(1, 3), "stride": SMALL,
                  "padding": st.integers(0, 1), "ceil_mode": st.booleans()},
    "AvgPool2d": {"kernel_size": st.integers(1, 3), "ceil_mode": st.booleans()},
    "BatchNorm2d": {"num_features": SMALL},
    "ZeroPad2d": {"padding": st.integers(0, 2)},
    "Upsample": {"scale_factor": st.integers(1, 3)},
    "ReLU": {},
    "Dropout": {"p": st.floats(0, 0.9)},
}
TORCH_TAIL = {
    "Flatten": {},
    "Linear": {"in_features": SMALL, "out_features": SMALL},
}
MERGES = {"keras": ["Add", "Concatenate", "Multiply", "Maximum"],
          "torch": ["Add", "Concat", "Multiply"]}


@st.composite
def layer_entries(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    """One ``{LayerName: {argument: value}}`` entry with plausible arguments."""
    table = {**KERAS_2D, **KERAS_TAIL} if dialect == "keras" else {**TORCH_2D, **TORCH_TAIL}
    kind = draw(st.sampled_from(sorted(table)))
    args = {key: draw(strategy) for key, strategy in table[kind].items()
            if draw(st.integers(0, 2))}
    return {kind: args}


@st.composite
def sequential_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A sequential spec in either dialect that is valid or nearly so."""
    dialect = draw(st.sampled_from(["keras", "torch"]))
    channels = draw(SMALL)
    spatial = [draw(SIZES), draw(SIZES)]
    shape = [*spatial, channels] if dialect == "keras" else [channels, *spatial]
    doc: dict[str, Any] = {"dialect": dialect, "input": shape,
                           "layers": draw(st.lists(layer_entries(dialect), min_size=1,
                                                   max_size=4))}
    if draw(st.booleans()):
        doc["name"] = draw(st.sampled_from(["net", "small", "x" * 50]))
    return doc


@st.composite
def graph_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A graph spec (named inputs, per-layer names and inputs, a merge) nearly valid."""
    dialect = draw(st.sampled_from(["keras", "torch"]))
    shape = ["n", "n", 4] if dialect == "keras" else [4, "n", "n"]
    names = ["x"]
    layers = []
    for i in range(draw(st.integers(1, 4))):
        entry = draw(layer_entries(dialect))
        entry["name"] = f"l{i}"
        entry["inputs"] = [draw(st.sampled_from(names))]
        layers.append(entry)
        names.append(f"l{i}")
    if draw(st.booleans()):
        pair = draw(st.lists(st.sampled_from(names), min_size=2, max_size=3))
        layers.append({draw(st.sampled_from(MERGES[dialect])): {}, "inputs": pair,
                       "name": "merge"})
        names.append("merge")
    doc = {"dialect": dialect, "inputs": {"x": shape}, "layers": layers}
    if draw(st.booleans()):
        doc["outputs"] = [draw(st.sampled_from(names))]
    return doc


# --- mutations -------------------------------------------------------------------------------


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*here, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*here, i))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


REPLACEMENTS = st.one_of(
    st.sampled_from([0, -1, 1, 2**62, 2**62 + 1, 10**30, 10**12, 2**61 - 1, 2**31 - 1,
                     -(2**63), 3.0, 2.5, float("nan"),
                     float("inf"), True, False, None, "", " ", [], {}, [1], [[1]], {"a": 1},
                     "same", "valid", "causal", "full", "reflect", "channels_first", "n/2",
                     "n - 100", "0*n", "__import__('os').system('touch CANARY')", "\x1b[2J",
                     "\ud800", "a" * 5000, [1, 2, 3, 4, 5], ["n", "n"], "1:20", "yes"]),
    expression_text(), st.integers(), st.floats(), st.text(max_size=12))
KEYS = st.one_of(st.sampled_from(["stride", "strides", "Strides", "kernel", "padding", "groups",
                                  "name", "inputs", "outputs", "input", "layers", "dialect",
                                  "__class__", "self", "rank", "dialects", "Conv2d", "Conv2D",
                                  "Lambda", "InputLayer", "<<", ""]), st.text(max_size=8))


@st.composite
def mutated(draw: st.DrawFn, docs: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A document with one place changed: a value replaced, a key removed, added or renamed."""
    doc = draw(docs)
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename", "wrap",
                                   "none"]))
    if action == "none":
        return doc
    if not path:
        return copy.deepcopy(draw(REPLACEMENTS)) if action == "replace" else doc
    parent, key = _get(doc, path[:-1]), path[-1]
    if action == "replace":
        parent[key] = copy.deepcopy(draw(REPLACEMENTS))
    elif action == "delete":
        del parent[key]
    elif action == "wrap":
        parent[key] = [parent[key]]
    elif isinstance(parent, dict):
        new = draw(KEYS)
        if action == "rename":
            parent[new] = parent.pop(key)
        else:
            parent[new] = copy.deepcopy(draw(REPLACEMENTS))
    else:
        parent.insert(int(key), copy.deepcopy(draw(REPLACEMENTS)))
    return doc


def _load(doc: Any) -> None:
    load(doc, name="fuzz.yaml").summary().to_dict()


@fuzz(250)
@given(batch(mutated(sequential_specs()), 8))
def test_nearly_valid_sequential_specs(docs: list[Any]) -> None:
    for doc in docs:
        if isinstance(doc, dict):
            call(_load, doc)


@fuzz(120)
@given(batch(mutated(graph_specs()), 8))
def test_nearly_valid_graph_specs(docs: list[Any]) -> None:
    for doc in docs:
        if isinstance(doc, dict):
            call(_load, doc)


PLAIN_INTS = [0, 1, -1, 2, 3, 28, 2**62, 2**62 + 1, 10**30, -(10**30)]
PLAIN_FLOATS = [0.5, 3.0, float("nan"), float("inf"), -float("inf"), 1e308, -0.0]
PLAIN_TEXT = ["keras", "torch", "pytorch", "Conv2D", "Flatten", "Dense", "Input", "Add", "n",
              "2*n", "", "same", "\x1b[2J", "\ud800", "a" * 5000, "relu", "x",
              "__import__('os').system('touch CANARY')", "n/2", "Lambda"]
PLAIN_KEYS = ["dialect", "input", "inputs", "outputs", "layers", "name", "Conv2D", "Conv2d",
              "Flatten", "Dense", "Input", "Add", "filters", "kernel_size", "units", "shape",
              "x", "", "in_channels", "out_channels", "strides"]


def decode_plain(data: bytes) -> Any:
    """Plain data (what a reader returns) from bytes; cheap to generate, easy to shrink."""
    at = [0]

    def take(n: int) -> int:
        byte = data[at[0]] if at[0] < len(data) else 0
        at[0] += 1
        return byte % n

    def value(depth: int) -> Any:
        kind = take(10) if depth < 5 else take(6)
        if kind == 0:
            return None
        if kind == 1:
            return bool(take(2))
        if kind == 2:
            return PLAIN_INTS[take(len(PLAIN_INTS))]
        if kind == 3:
            return PLAIN_FLOATS[take(len(PLAIN_FLOATS))]
        if kind in (4, 5):
            return PLAIN_TEXT[take(len(PLAIN_TEXT))]
        if kind in (6, 7):
            return [value(depth + 1) for _ in range(take(5))]
        return {PLAIN_KEYS[take(len(PLAIN_KEYS))]: value(depth + 1) for _ in range(take(5))}

    return {PLAIN_KEYS[take(6)]: value(1) for _ in range(take(6))}


@fuzz(300)
@given(batch(st.binary(max_size=60).map(decode_plain), 16))
def test_random_plain_documents(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        call(_load, doc)


# --- text ------------------------------------------------------------------------------------


@st.composite
def text_mutations(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters inserted, deleted or a line duplicated."""
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "line"]))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(JUNK_TEXT)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)):]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
                text = "".join(lines)
    return text


def _toml(doc: dict[str, Any]) -> str:
    """A small TOML writer for spec documents (top-level keys, arrays of inline tables)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        return '"null"'

    return "".join(f"{key} = {value(v)}\n" for key, v in doc.items())


@st.composite
def spec_texts(draw: st.DrawFn) -> tuple[str, str]:
    """A spec written as YAML, JSON or TOML, then perhaps damaged."""
    doc = draw(st.one_of(sequential_specs(), graph_specs()))
    form = draw(st.sampled_from(["yaml", "yaml-flow", "json", "toml"]))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    if form == "yaml":
        text = yaml.dump(doc, Dumper=dumper, sort_keys=False)
    elif form == "yaml-flow":
        text = yaml.dump(doc, Dumper=dumper, default_flow_style=True, width=60)
    elif form == "json":
        text = json.dumps(doc, indent=draw(st.sampled_from([None, 2])))
    else:
        text = _toml(doc)
    return form.split("-")[0], draw(text_mutations(text))


def _parse_and_load(form: str, text: str) -> None:
    reader = {"yaml": parse_yaml, "json": parse_json, "toml": parse_toml}[form]
    doc = reader(text, f"fuzz.{form}")
    _load(doc) if isinstance(doc, dict) else load(doc)


@fuzz(150)
@given(batch(spec_texts(), 8))
def test_spec_text(cases: list[tuple[str, str]]) -> None:
    for form, text in cases:
        call(_parse_and_load, form, text)


YAML_TOKENS = ["a", "b", "layers", "input", "Conv2D", "filters", "1", "-1", "3.5", ".nan",
               ".inf", "~", "null", "yes", "on", "0x10", "010", "1:20", "2001-01-01", "1e400",
               "9" * 40, ": ", ":", "- ", "-", "\n", "\n  ", "\n    ", " ", "\t", "[", "]",
               "{", "}", ", ", "&a ", "*a", "&b [*a, *a]", "!!python/object/apply:os.system",
               "!!python/name:os.system", "!!str ", "!!int ", "!!binary ", "!!set ", "!foo ",
               "!<tag:yaml.org,2002:python/tuple> ", "<<: ", "---\n", "...\n", "%YAML 1.1\n",
               "%TAG ! tag:x,1:\n", "? ", "|\n  ", ">\n  ", "'", '"', "\\u0000", "\\ud800",
               "#", "\x00", "\x85", "\ufeff", "\u2028", "\U0001F600"]


@fuzz(400)
@given(batch(st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join), 16))
def test_yaml_token_soup(texts: list[str]) -> None:
    for text in texts:
        call(parse_yaml, text, "soup.yaml")


JSON_TOKENS = ["{", "}", "[", "]", ":", ",", '"a"', '"layers"', '"input"', '"Conv2D"',
               '"filters"', "1", "-0", "1e999", "1.5", "NaN", "Infinity", "-Infinity", "true",
               "null", '"\\ud800"', '"\\u0000"', " ", "\n", "9" * 40, '"a":1,"a":2', "/*", "'"]


@fuzz(350)
@given(batch(st.lists(st.sampled_from(JSON_TOKENS), max_size=40).map("".join), 16))
def test_json_token_soup(texts: list[str]) -> None:
    for text in texts:
        call(parse_json, text, "soup.json")
