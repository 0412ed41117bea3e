"""Spec files (YAML, JSON, TOML) and dicts to networks, in the dialect's own names.

Loading is strict: the text readers of :mod:`convsym.readers` (safe YAML from the event
stream without tags, anchors or aliases; duplicate keys, NaN and Infinity rejected; size and
depth limited), then :func:`check_plain` (plain data only; in a spec no string longer than
4096 characters or holding control characters, no integer beyond 2**62), then each layer
built by its dialect's constructor.  Every error names the file, the path inside it
(``layers[3].Conv2D.kernel_size``) and the value.

>>> net = load({"dialect": "keras", "input": [28, 28, 1],
...             "layers": [{"Conv2D": {"filters": 32, "kernel_size": 3}}]})
>>> net.output_shape
(26, 26, 32)
>>> load({"dialect": "keras", "input": [28, 28, 1], "layers": [{"Conv2d": {}}]})
Traceback (most recent call last):
  ...
convsym.errors.SpecError: <dict>, layers[0]: unknown keras layer 'Conv2d' (did you mean 'Conv2D'?)
>>> load({"input": [28, 28, 1], "layers": [{"Conv2D": {"filters": 8, "kernel_size": 2.0}}]})
... # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
convsym.errors.SpecTypeError: <dict>, layers[0].Conv2D.kernel_size: ...: write 2, not 2.0
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from convsym.budget import current as current_budgets
from convsym.budget import exceeded as budget_exceeded
from convsym.errors import (
    ConvsymError,
    LayerError,
    SpecError,
    SpecTypeError,
    did_you_mean,
)
from convsym.graph_spec import load_graph
from convsym.network import Sequential
from convsym.readers import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    check_nodes,
    parse_json,
    parse_toml,
    parse_yaml,
    read_document,
)
from convsym.spec_layers import (
    FLOAT_ARGUMENTS,
    MAX_LAYERS,
    _check_size,
    _short,
    build_layer,
    layer_table,
)

__all__ = [
    "FLOAT_ARGUMENTS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT",
    "MAX_LAYERS",
    "MAX_RANK",
    "MAX_TEXT",
    "TOP_KEYS",
    "build_layer",
    "check_plain",
    "from_mapping",
    "layer_table",
    "load",
    "parse_json",
    "parse_toml",
    "parse_yaml",
    "read_document",
]

MAX_RANK = 16
MAX_TEXT = 4096
MAX_INT = 2**62
TOP_KEYS = ("dialect", "input", "layers", "name")
GRAPH_KEYS = ("inputs", "outputs")


def load(source: str | os.PathLike[str] | Mapping[str, Any], *, name: str | None = None) -> Any:
    """Build a network from a spec file path or an equivalent mapping.

    ``layers`` is a list of one-key mappings ``{LayerName: {argument: value}}`` in the
    dialect's names.  Graph specs (top-level ``inputs``/``outputs``) are handled by
    :func:`convsym.graph_spec.load_graph`.
    """
    if name is not None and not isinstance(name, str):
        raise SpecTypeError(f"load: name must be text, not {type(name).__name__}",
                            code="bad_name")
    if isinstance(source, Mapping):
        return from_mapping(source, origin=name or "<dict>")
    if not isinstance(source, (str, os.PathLike)):
        raise SpecTypeError(f"load takes a spec file path or a mapping, not "
                            f"{type(source).__name__}", code="bad_source")
    path = os.fspath(source)
    if not isinstance(path, str):
        raise SpecTypeError("the path must be text", code="bad_source")
    return from_mapping(read_document(path), origin=path)


# --- plain data -----------------------------------------------------------------------------


def check_plain(value: Any, origin: str, path: str = "", depth: int = 0, *,
                strict_text: bool = False, _seen: list[int] | None = None) -> None:
    """Reject anything but plain JSON-like data, non-finite floats and deep nesting.

    With ``strict_text`` (spec documents) also strings longer than :data:`MAX_TEXT` or with
    control characters or lone surrogates, and integers beyond ``2**62``.  Every value is
    counted each time it is reached, so a dict whose lists share sub-lists (``a = [a, a]``
    28 times: 2**28 paths) stops at the ``max_document_values`` budget.
    """
    if _seen is None:  # [values reached so far, the budget]
        _seen = [0, current_budgets().max_document_values]
    _seen[0] += 1
    if _seen[0] > _seen[1]:
        raise budget_exceeded(f"{origin}, {path or 'the document'}", "max_document_values",
                              f"more than {_seen[1]:,} values (shared ones counted each "
                              "time they are reached)")
    if depth >= MAX_DEPTH and isinstance(value, (Mapping, list, tuple)):
        raise SpecError(f"nested deeper than {MAX_DEPTH} levels", source=origin, path=path,
                        code="too_deep")
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise SpecError(f"key {_short(key)} is not text", source=origin, path=path,
                                code="bad_key")
            here = _join(path, key)
            if strict_text:
                _check_text(key, origin, here)
            check_plain(value[key], origin, here, depth + 1, strict_text=strict_text,
                        _seen=_seen)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_plain(item, origin, f"{path}[{i}]", depth + 1, strict_text=strict_text,
                        _seen=_seen)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"{value} is not a finite number", source=origin, path=path,
                            code="not_finite")
    elif isinstance(value, str):
        if strict_text:
            _check_text(value, origin, path)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if strict_text and abs(value) > MAX_INT:
            shown = str(value) if value.bit_length() <= 100 else \
                f"a {value.bit_length()}-bit integer"
            raise SpecError(f"{shown} exceeds the limit 2**62", source=origin, path=path,
                            code="too_large")
    else:
        raise SpecTypeError(f"{type(value).__name__} values are not accepted (plain data "
                            "only: mappings, lists, text, integers, numbers, booleans, null)",
                            source=origin, path=path, code="bad_value_type")


def _join(path: str, key: str) -> str:
    shown = key if key.isidentifier() else repr(key)
    return f"{path}.{shown}" if path else shown


def _check_text(text: str, origin: str, path: str) -> None:
    if len(text) > MAX_TEXT:
        raise SpecError(f"text of {len(text):,} characters ({_short(text)}); the limit is "
                        f"{MAX_TEXT}", source=origin, path=path, code="too_large")
    if text.isprintable():
        return  # (no character of the categories below is printable: a per-character test
        # of every key and value of a 1,000-layer spec was a tenth of reading it)
    for i, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cs", "Cf"):
            raise SpecError(f"{_short(text)} has the control character U+{ord(char):04X} "
                            f"at position {i + 1}", source=origin, path=path,
                            code="bad_text")


# --- documents to networks ------------------------------------------------------------------


def from_mapping(doc: Any, *, origin: str) -> Any:
    """Build a network from plain data (already read)."""
    if not isinstance(doc, Mapping):
        raise SpecError(f"the top level must be a mapping with keys {', '.join(TOP_KEYS)}, "
                        f"not {_kind(doc)}", source=origin, code="bad_top_level")
    # check_plain counts the values it reaches against the max_document_values budget (so
    # shared sub-lists cost what they would cost written out); check_nodes then adds the
    # readers' own caps for a dict given directly
    check_plain(doc, origin, strict_text=True)
    check_nodes(dict(doc), origin)
    for key in doc:
        if key not in TOP_KEYS and key not in GRAPH_KEYS:
            raise SpecError(f"unknown key {key!r}{did_you_mean(key, TOP_KEYS)}; a spec has "
                            f"{', '.join(TOP_KEYS)}", source=origin, path=key,
                            code="unknown_key")
    dialect = doc.get("dialect", "keras")
    if dialect not in ("keras", "torch", "pytorch") or not isinstance(dialect, str):
        hint = did_you_mean(dialect, ["keras", "torch"]) if isinstance(dialect, str) else ""
        raise SpecError(f"dialect {_short(dialect)} must be 'keras' or 'torch'{hint}",
                        source=origin, path="dialect", code="bad_dialect")
    dialect = "torch" if dialect == "pytorch" else dialect
    layers = doc.get("layers")
    if "inputs" in doc or "outputs" in doc or (isinstance(layers, list) and any(
            isinstance(e, Mapping) and ("inputs" in e or "name" in e) for e in layers)):
        return load_graph(doc, origin=origin, dialect=dialect)
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecTypeError(f"name must be text, not {_short(name)}", source=origin,
                            path="name", code="bad_name")
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, (list, tuple)) or not raw_layers:
        raise SpecError(f"layers must be a non-empty list of {{LayerName: {{argument: "
                        f"value}}}} entries, not {_kind(raw_layers)}", source=origin,
                        path="layers", code="bad_layers")
    if len(raw_layers) > MAX_LAYERS:
        raise SpecError(f"{len(raw_layers):,} layers; the limit is {MAX_LAYERS:,}",
                        source=origin, path="layers", code="too_large")
    shape = _input_shape(doc, raw_layers, origin)
    layers = [build_layer(item, dialect, origin, f"layers[{i}]")
              for i, item in enumerate(raw_layers)]
    try:
        return Sequential(layers, input_shape=shape, name=name)
    except LayerError as err:
        raise _network_error(err, origin) from None
    except ConvsymError as err:
        raise SpecError(str(err), source=origin, code=err.code) from None


def _kind(value: object) -> str:
    if value is None:
        return "missing"
    return f"{type(value).__name__} {_short(value)}"


def _input_shape(doc: Mapping[str, Any], raw_layers: Any, origin: str) -> tuple[Any, ...] | None:
    """The ``input`` sizes, checked; ``None`` when the first layer is a Keras ``Input``."""
    shape = doc.get("input")
    first = raw_layers[0]
    starts_with_input = first == "Input" or (isinstance(first, Mapping) and len(first) == 1
                                             and "Input" in first)
    if shape is None and starts_with_input:
        return None
    if not isinstance(shape, (list, tuple)) or not shape:
        raise SpecError(f"input must be a non-empty list of sizes without the batch axis, "
                        f"e.g. [28, 28, 1] or [3, H, W], not {_kind(shape)}", source=origin,
                        path="input", code="bad_input")
    if len(shape) > MAX_RANK:
        raise SpecError(f"input has {len(shape)} axes; the limit is {MAX_RANK}",
                        source=origin, path="input", code="too_large")
    for i, size in enumerate(shape):
        _check_size(size, origin, f"input[{i}]")
    return tuple(shape)


_WHERE = re.compile(r" at layers\[(\d+)\]")


def _network_error(err: LayerError, origin: str) -> SpecError:
    """A layer error found while propagating shapes, placed at its spec path."""
    text = str(err)
    field = err.field or ""
    if not err.where and field.startswith(("shape[", "input_shape[")):  # the input sizes
        axis = field[field.index("["):]
        return SpecError(f"{err.value}: {err.rule}" if err.value is not None else err.rule,
                         source=origin, path=f"input{axis}", code=err.code)
    match = _WHERE.search(text)
    path = ""
    if match:  # the network counts the spec's layers (an added input layer is not counted)
        path = f"layers[{match.group(1)}]"
        text = text[:match.start()] + text[match.end():]
    cls = SpecTypeError if isinstance(err, TypeError) else SpecError
    return cls(text, source=origin, path=path, code=err.code)


