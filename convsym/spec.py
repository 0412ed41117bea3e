"""Spec files (YAML, JSON, TOML) and dicts to networks, in the dialect's own names.

Loading is strict: safe YAML without aliases or tags, duplicate keys rejected, a bool or a
float is not an integer, NaN and Infinity rejected, size and depth limited.  Every error
names the file, the path inside it (``layers[3].kernel_size``) and the value.

>>> net = load({"dialect": "keras", "input": [28, 28, 1],
...             "layers": [{"Conv2D": {"filters": 32, "kernel_size": 3}}]})
>>> net.output_shape
(26, 26, 32)
>>> load({"dialect": "keras", "input": [28, 28, 1], "layers": [{"Conv2d": {}}]})
Traceback (most recent call last):
  ...
convsym.errors.SpecError: <dict>, layers[0]: unknown keras layer 'Conv2d' (did you mean 'Conv2D'?)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from convsym.errors import ConvsymError, LayerError, SpecError, SpecTypeError, did_you_mean
from convsym.layers.base import Layer

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_LAYERS = 10_000
TOP_KEYS = ("dialect", "input", "layers", "name")


def load(source: str | os.PathLike[str] | Mapping[str, Any], *, name: str | None = None) -> Any:
    """Build a network from a spec file path or an equivalent mapping.

    ``layers`` is a list of one-key mappings ``{LayerName: {argument: value}}`` in the
    dialect's names.  Graph specs (with ``inputs``/``outputs`` per layer) are handled by
    :func:`convsym.graph.load_graph` when present.
    """
    if isinstance(source, Mapping):
        return from_mapping(source, origin=name or "<dict>")
    path = os.fspath(source)
    return from_mapping(read_document(path), origin=path)


def read_document(path: str) -> Any:
    """Read a YAML, JSON or TOML file strictly into plain data."""
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.strerror}", source=path,
                        code="unreadable") from None
    if size > MAX_FILE_BYTES:
        raise SpecError(f"the file has {size} bytes; the limit is {MAX_FILE_BYTES}",
                        source=path, code="too_large")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.strerror}", source=path,
                        code="unreadable") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("the file is not UTF-8 text", source=path, code="not_text") from None
    lower = path.lower()
    if lower.endswith(".json"):
        return parse_json(text, path)
    if lower.endswith(".toml"):
        return parse_toml(text, path)
    return parse_yaml(text, path)


def parse_json(text: str, origin: str) -> Any:
    """Strict JSON: duplicate keys, NaN and Infinity rejected."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise SpecError(f"duplicate key {key!r}", source=origin, code="duplicate_key")
            out[key] = value
        return out

    def constant(token: str) -> Any:
        raise SpecError(f"{token} is not a number convsym accepts", source=origin,
                        code="not_finite")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as err:
        raise SpecError(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                        source=origin, code="bad_json") from None
    except RecursionError:
        raise SpecError("the document is nested too deeply", source=origin,
                        code="too_deep") from None


def parse_toml(text: str, origin: str) -> Any:
    """TOML via the standard library (``tomllib``)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise SpecError("TOML needs Python 3.11 or later", source=origin,
                        code="no_toml") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"invalid TOML: {err}", source=origin, code="bad_toml") from None
    except RecursionError:
        raise SpecError("the document is nested too deeply", source=origin,
                        code="too_deep") from None


def parse_yaml(text: str, origin: str) -> Any:
    """Safe YAML: no aliases, no tags, no duplicate keys."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Any, node: Any) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise SpecError(f"mapping key {key!r} is not text", source=origin,
                                code="bad_key")
            if key in out:
                raise SpecError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})",
                                source=origin, code="duplicate_key")
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.compose_node = _compose_without_alias(Loader.compose_node, origin)  # type: ignore
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except ConvsymError:
        raise
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SpecError(f"invalid YAML{where}: {problem}", source=origin,
                        code="bad_yaml") from None
    except RecursionError:
        raise SpecError("the document is nested too deeply", source=origin,
                        code="too_deep") from None


def _compose_without_alias(compose: Any, origin: str) -> Any:
    import yaml

    def compose_node(self: Any, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise SpecError("YAML aliases and anchors are not accepted", source=origin,
                            code="yaml_alias")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise SpecError("YAML aliases and anchors are not accepted", source=origin,
                            code="yaml_alias")
        return compose(self, parent, index)

    return compose_node


def check_plain(value: Any, origin: str, path: str = "", depth: int = 0) -> None:
    """Reject anything but plain JSON-like data, non-finite floats and deep nesting."""
    if depth > MAX_DEPTH:
        raise SpecError(f"nested deeper than {MAX_DEPTH} levels", source=origin, path=path,
                        code="too_deep")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecError(f"key {key!r} is not text", source=origin, path=path,
                                code="bad_key")
            check_plain(item, origin, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_plain(item, origin, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"{value} is not a finite number", source=origin, path=path,
                            code="not_finite")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise SpecTypeError(f"{type(value).__name__} values are not accepted",
                            source=origin, path=path, code="bad_value_type")


def layer_table(dialect: str) -> dict[str, type[Layer]]:
    """The layer classes of a dialect by name."""
    from convsym.layers import keras, torch

    return dict(keras.LAYERS if dialect == "keras" else torch.LAYERS)


def from_mapping(doc: Any, *, origin: str) -> Any:
    """Build a network from plain data (already read)."""
    from convsym.network import Sequential

    if not isinstance(doc, Mapping):
        raise SpecError(f"the top level must be a mapping with keys {', '.join(TOP_KEYS)}",
                        source=origin, code="bad_top_level")
    check_plain(doc, origin)
    for key in doc:
        if key not in TOP_KEYS and key not in ("inputs", "outputs"):
            raise SpecError(f"unknown key {key!r}{did_you_mean(key, TOP_KEYS)}",
                            source=origin, path=key, code="unknown_key")
    dialect = doc.get("dialect", "keras")
    if dialect not in ("keras", "torch", "pytorch"):
        raise SpecError(f"dialect {dialect!r} must be 'keras' or 'torch'"
                        f"{did_you_mean(str(dialect), ['keras', 'torch'])}", source=origin,
                        path="dialect", code="bad_dialect")
    dialect = "torch" if dialect == "pytorch" else dialect
    if "inputs" in doc or "outputs" in doc:
        from convsym.graph import load_graph  # graph specs: Add, Concatenate, ...

        return load_graph(doc, origin=origin, dialect=dialect)
    shape = doc.get("input")
    if not isinstance(shape, list) or not shape:
        raise SpecError("input must be a non-empty list of sizes without the batch axis, "
                        "e.g. [28, 28, 1] or [3, H, W]", source=origin, path="input",
                        code="bad_input")
    for i, size in enumerate(shape):
        _check_size(size, origin, f"input[{i}]")
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise SpecError("layers must be a non-empty list", source=origin, path="layers",
                        code="bad_layers")
    if len(raw_layers) > MAX_LAYERS:
        raise SpecError(f"{len(raw_layers)} layers; the limit is {MAX_LAYERS}",
                        source=origin, path="layers", code="too_large")
    layers = [build_layer(item, dialect, origin, f"layers[{i}]")
              for i, item in enumerate(raw_layers)]
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecTypeError("name must be text", source=origin, path="name", code="bad_name")
    try:
        return Sequential(layers, input_shape=tuple(shape), name=name)
    except LayerError as err:
        raise SpecError(str(err), source=origin, code=err.code) from None


def _check_size(value: Any, origin: str, path: str) -> None:
    if isinstance(value, bool):
        raise SpecTypeError(f"{value} is a bool, not a size", source=origin, path=path,
                            code="not_an_integer")
    if isinstance(value, float):
        raise SpecTypeError(f"{value} is a float, not an integer", source=origin, path=path,
                            code="not_an_integer")
    if not isinstance(value, (int, str)):
        raise SpecTypeError(f"{value!r} is not a size (an integer or a symbol)",
                            source=origin, path=path, code="not_a_size")


def build_layer(item: Any, dialect: str, origin: str, path: str) -> Layer:
    """One ``{LayerName: {argument: value}}`` entry to a layer."""
    table = layer_table(dialect)
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, Mapping) or len(item) != 1:
        raise SpecError("each layer must be a mapping with one key, the layer name, e.g. "
                        "{Conv2D: {filters: 32, kernel_size: 3}}", source=origin, path=path,
                        code="bad_layer_entry")
    ((kind, args),) = item.items()
    if kind not in table:
        raise SpecError(f"unknown {dialect} layer {kind!r}{did_you_mean(kind, table)}",
                        source=origin, path=path, code="unknown_layer")
    if args is None:
        args = {}
    if isinstance(args, list):
        positional, keywords = list(args), {}
    elif isinstance(args, Mapping):
        positional, keywords = [], dict(args)
    else:
        positional, keywords = [args], {}
    cls = table[kind]
    for key, value in keywords.items():
        _check_argument(value, origin, f"{path}.{kind}.{key}")
    try:
        return cls(*positional, **keywords)
    except LayerError as err:
        field = err.field.split("[")[0] if err.field else ""
        where = f"{path}.{kind}.{field}" if field and field in keywords else f"{path}.{kind}"
        cls_err = SpecTypeError if isinstance(err, TypeError) else SpecError
        raise cls_err(f"{err.field} = {err.value}: {err.rule}" if err.field and
                      err.value is not None else err.rule, source=origin, path=where,
                      code=err.code) from None


FLOAT_ARGUMENTS = frozenset({"rate", "p", "eps", "epsilon", "momentum", "negative_slope",
                             "alpha"})
"""Arguments that really are floats (dropout rates, BatchNorm constants); shapes ignore them."""


def _check_argument(value: Any, origin: str, path: str) -> None:
    if isinstance(value, float) and path.rsplit(".", 1)[-1] not in FLOAT_ARGUMENTS:
        hint = f" (write {int(value)}, not {value})" if value.is_integer() else ""
        raise SpecTypeError(f"{value} is a float, not an integer{hint}", source=origin,
                            path=path, code="not_an_integer")
