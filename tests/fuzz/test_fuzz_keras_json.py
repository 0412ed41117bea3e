"""Fuzz: Keras ``model.to_json()`` documents, mutated, through ``from_keras``.

Two documents written by hand in the Keras 3 format (``fixtures/``: a Sequential CNN and a
functional residual block; both load in Keras 3 and give Keras's own summary) are mutated at
one to three random places: a value replaced by junk, hostile text or another real class
name, a key deleted or renamed, a list entry duplicated or dropped, a layer config swapped
with another layer's.  The mutated document goes to ``from_keras`` as a dict and as JSON
text (also damaged at the text level).  Keras is never imported.  Each document must load
or raise a convsym error, within budget.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fuzzkit import JUNK_TEXT, batch, call, expression_text, fuzz
from hypothesis import given
from hypothesis import strategies as st

from convsym.importers.keras_json import from_keras

FIXTURES = Path(__file__).parent / "fixtures"
DOCS = {name: json.loads((FIXTURES / f"{name}.json").read_text())
        for name in ("keras3_sequential", "keras3_functional")}

CLASS_NAMES = ["Conv2D", "Conv1D", "Conv3D", "Dense", "Flatten", "InputLayer", "Add",
               "Concatenate", "Lambda", "TFOpLambda", "Functional", "Sequential", "Model",
               "BatchNormalization", "MaxPooling2D", "Conv2DTranspose", "DepthwiseConv2D",
               "Reshape", "Permute", "GlobalAveragePooling2D", "MyCustomLayer", "__lambda__",
               "__keras_tensor__", "function", "Activation", "Dropout", "ZeroPadding2D"]

REPLACEMENTS = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 1, 2, 3, 2**62 + 1, 10**25, 1.5, 3.0,
                     float("nan"), float("inf"), "", "same", "valid", "causal", "full",
                     "channels_first", "relu", "softmax", "glu", "float16", [], {}, [None],
                     [None, None], [None, 32, 32, 3], [None, 0, 32, 3], [None, -1, 5, 3],
                     [3], [3, 3, 3], {"class_name": "Lambda", "config": {}},
                     {"class_name": "__lambda__", "config": {"code": "YWJj", "defaults": None,
                                                             "closure": None}},
                     "__import__('os').system('touch CANARY')", "\x1b[2J", "\ud800",
                     "x" * 3000, ["image", 0, 0], ["nowhere", 0, 0], ["conv_a", 5, 9]]),
    st.sampled_from(CLASS_NAMES), expression_text(), st.integers(), st.text(max_size=10))


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*here, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*here, i))
    return out


PATHS = {name: _paths(doc)[1:] for name, doc in DOCS.items()}


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """A fixture with one to three places changed."""
    name = draw(st.sampled_from(sorted(DOCS)))
    doc = copy.deepcopy(DOCS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)[1:]
        if not paths:
            break
        # weight places under the layers (where the shapes come from)
        path = draw(st.sampled_from(paths))
        try:
            parent, key = _get(doc, path[:-1]), path[-1]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "rename",
                                       "duplicate", "swap", "class"]))
        if action == "replace":
            parent[key] = copy.deepcopy(draw(REPLACEMENTS))  # constants are shared objects
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["config", "class_name", "name", "layers",
                                         "inbound_nodes", "args", "batch_shape", "x"]))] = \
                parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(int(key), copy.deepcopy(parent[key]))
        elif action == "swap":
            config = doc.get("config") if isinstance(doc, dict) else None
            layers = config.get("layers") if isinstance(config, dict) else None
            if isinstance(layers, list) and len(layers) > 1:
                i = draw(st.integers(0, len(layers) - 1))
                j = draw(st.integers(0, len(layers) - 1))
                layers[i], layers[j] = layers[j], layers[i]
        elif action == "class" and isinstance(parent, dict):
            parent["class_name"] = draw(st.sampled_from(CLASS_NAMES))
    return doc


def _load(doc: Any, as_text: bool) -> None:
    source = json.dumps(doc) if as_text else doc
    from_keras(source).summary().to_dict()


@fuzz(400)
@given(batch(st.tuples(mutated_documents(), st.booleans()), 8))
def test_mutated_keras_documents(cases: list[tuple[Any, bool]]) -> None:
    for doc, as_text in cases:
        call(_load, doc, as_text)


@st.composite
def damaged_text(draw: st.DrawFn) -> str:
    text = json.dumps(DOCS[draw(st.sampled_from(sorted(DOCS)))], indent=draw(
        st.sampled_from([None, 1])))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(JUNK_TEXT)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
    return text


def _load_text(text: str) -> None:
    from_keras(text).summary().to_dict()


@fuzz(120)
@given(batch(damaged_text(), 8))
def test_damaged_keras_json_text(texts: list[str]) -> None:
    for text in texts:
        call(_load_text, text)


@fuzz(60)
@given(batch(st.tuples(st.sampled_from(sorted(DOCS)),
                       st.one_of(st.lists(st.one_of(expression_text(), st.integers(-3, 40),
                                                    st.none()), max_size=4),
                                 st.dictionaries(st.text(max_size=6), st.lists(
                                     st.integers(-1, 9), max_size=3), max_size=2),
                                 st.just("abc"), st.integers())), 8))
def test_keras_input_shape_override(cases: list[tuple[str, Any]]) -> None:
    for name, shape in cases:
        call(lambda doc=DOCS[name], shape=shape: from_keras(doc, input_shape=shape).summary())
