"""Read a Keras ``model.to_json()`` document (Keras 3 or tf.keras 2) as plain data.

Keras is never imported and nothing is deserialised through it: the document is strict JSON
(duplicate keys, NaN and Infinity rejected), each layer goes through the allowlist of
:mod:`convsym.importers.keras_table`, and Lambda or custom layers are refused by name.
Sequential and functional models are read, nested models are inlined (their layers become
rows), a shared layer's later calls are rows named ``name[1]``, ``name[2]`` whose weights are
counted once, and ``trainable: false`` makes a layer's weights non-trainable, as
``model.summary()`` counts them.

>>> doc = {"class_name": "Sequential", "config": {"name": "seed3", "layers": [
...     {"class_name": "InputLayer", "config": {"batch_shape": [None, 32, 32, 3]}},
...     {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 10,
...      "kernel_size": [4, 4], "strides": [2, 2], "padding": "same"}},
...     {"class_name": "Flatten", "config": {"name": "flatten"}},
...     {"class_name": "Dense", "config": {"name": "dense", "units": 10}}]}}
>>> [(r.name, r.output_shape, r.params) for r in from_keras(doc).rows]
[('conv2d', (16, 16, 10), 490), ('flatten', (2560,), 0), ('dense', (10,), 25610)]
>>> from_keras(doc, input_shape=("n", "n", 3)).rows[0].output_shape
(ceiling(n/2), ceiling(n/2), 10)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from convsym.budget import current as current_budgets
from convsym.budget import exceeded as budget_exceeded
from convsym.errors import LayerError, SpecError, SpecTypeError
from convsym.importers.common import applied, unknown_sizes
from convsym.importers.keras_graph import _batch_shape, add_functional
from convsym.importers.keras_table import build_layer, foreign_module, refusal
from convsym.layers.base import Layer, Shape
from convsym.layers.keras import LAYERS, Input
from convsym.network import Network, Node
from convsym.readers import MAX_FILE_BYTES, check_nodes, read_bytes
from convsym.spec import check_plain, parse_json

MAX_BYTES = MAX_FILE_BYTES
"""The one document size limit of :mod:`convsym.readers` (50 MB): Keras JSON of a large model
(NASNetLarge, EfficientNetV2L) runs to megabytes."""

MODEL_CLASSES = ("Sequential", "Functional", "Model")


def from_keras(source: str | bytes | os.PathLike[str] | Mapping[str, Any],
               input_shape: Sequence[object] | Sequence[Sequence[object]] |
               Mapping[str, Sequence[object]] | None = None, *,
               origin: str | None = None) -> Network:
    """The network a Keras ``model.to_json()`` string, parsed dict or file path describes.

    ``input_shape`` (without the batch axis, symbols allowed, e.g. ``("n", "n", 1)``)
    replaces the recorded input size; for several inputs give a list of shapes or a dict by
    input name.  Unknown recorded sizes (``None``) become symbols (``H``, ``W``, ...).
    ``origin`` names a dict in error messages (the file it was read from; default
    ``<dict>``).
    """
    doc, where = _read(source, origin)
    return _Importer(where, input_shape).model(doc)


def _read(source: object, origin: str | None = None) -> tuple[Any, str]:
    if isinstance(source, Mapping):
        where = origin if isinstance(origin, str) else "<dict>"
        check_nodes(dict(source), where)
        check_plain(source, where)
        return source, where
    if isinstance(source, bytes):
        _check_size(len(source), "<bytes>")
        source = _decode(source, "<bytes>")
    if isinstance(source, str) and source.lstrip().startswith("{"):
        _check_size(len(source), "<json>")
        return parse_json(source, "<json>"), "<json>"
    if not isinstance(source, (str, os.PathLike)):
        raise SpecTypeError(f"from_keras takes a JSON string, a dict or a file path, not "
                            f"{type(source).__name__}", code="bad_source")
    path = os.fspath(source)
    if not isinstance(path, str):
        raise SpecTypeError(f"from_keras: the path {path!r:.60} is not text", code="bad_source")
    raw = read_bytes(path, MAX_BYTES)  # regular files only: a FIFO would block
    _check_size(len(raw), path)
    return parse_json(_decode(raw, path), path), path


def _decode(raw: bytes, origin: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("the document is not UTF-8 text", source=origin,
                        code="not_text") from None


def _check_size(size: int, origin: str) -> None:
    if size > MAX_BYTES:
        raise SpecError(f"the document is larger than the limit of {MAX_BYTES:,} bytes",
                        source=origin, code="too_large")


def _is_model(entry: Mapping[str, Any]) -> bool:
    return entry.get("class_name") in MODEL_CLASSES


def inlined_layers(doc: Any, memo: dict[int, int]) -> int:
    """How many layers a model document has once every call of a nested model is inlined.

    Each nested model counts its own inlined size once per call (its ``inbound_nodes``), so
    a 3 KB document nesting a model called 8 times, 6 levels deep, counts 8**6 at once
    instead of being built.  Memoised by document identity; malformed parts count 1.

    >>> inner = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}
    >>> outer = {"class_name": "Functional", "config": {"layers": [
    ...     {"class_name": "InputLayer", "inbound_nodes": []},
    ...     dict(inner, inbound_nodes=[{}, {}, {}])]}}
    >>> inlined_layers(outer, {})
    4
    """
    found = memo.get(id(doc))
    if found is not None:
        return found
    memo[id(doc)] = 1  # a document that contains itself counts 1 here (refused later)
    config = doc.get("config") if isinstance(doc, Mapping) else None
    layers = config if isinstance(config, list) else \
        config.get("layers") if isinstance(config, Mapping) else None
    total = 0
    for entry in layers if isinstance(layers, list) else []:
        calls = entry.get("inbound_nodes") if isinstance(entry, Mapping) else None
        count = max(len(calls), 1) if isinstance(calls, list) else 1
        nested = isinstance(entry, Mapping) and entry.get("class_name") in MODEL_CLASSES
        total += count * (inlined_layers(entry, memo) if nested else 1)
    memo[id(doc)] = max(total, 1)
    return memo[id(doc)]


class _Importer:
    """Builds the node list of one document, inlining nested models."""

    def __init__(self, origin: str, input_shape: object) -> None:
        self.origin = origin
        self.given = input_shape
        self.nodes: list[Node] = []
        self.inputs: dict[int, Shape] = {}
        self.hidden: list[int] = []
        self.names: set[str] = set()
        self.input_count = 0
        self.first: dict[str, int] = {}  # layer entry path -> node of its first call
        self.suffix: dict[str, int] = {}  # name -> next number to try when it is taken
        self.max_layers = current_budgets().max_layers

    # --- errors and plain-data access -----------------------------------------------------
    def fail(self, message: str, path: str, code: str) -> SpecError:
        return SpecError(message, source=self.origin, path=path, code=code)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"expected a mapping, got {type(value).__name__}", path,
                            "bad_keras_json")
        return value

    def listing(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(f"expected a list, got {type(value).__name__}", path,
                            "bad_keras_json")
        return value

    # --- the top level ----------------------------------------------------------------------
    def model(self, doc: Any) -> Network:
        doc = self.mapping(doc, "")
        cls = doc.get("class_name")
        if cls not in MODEL_CLASSES:
            raise self.fail(f"class_name {cls!r} is not a Keras model (Sequential or "
                            "Functional); a single layer's config is not a model document",
                            "class_name", "not_a_model")
        config = doc.get("config")
        name = config.get("name") if isinstance(config, Mapping) else None
        inlined = inlined_layers(doc, {})
        if inlined > self.max_layers:  # refused before any of it is built
            raise budget_exceeded(self.origin, "max_layers", f"the model has {inlined:,} "
                                  "layers once every call of its nested models is inlined")
        self.add_model(doc, "", None, frozen=False, call=0)
        if not self.nodes or len(self.nodes) == len(self.hidden):
            raise self.fail("the model has no layers", "config.layers", "empty_network")
        return Network(self.nodes, self.inputs, dialect="keras",
                       name=name if isinstance(name, str) else "model", hidden=self.hidden)

    def add_model(self, doc: Mapping[str, Any], path: str, inputs: list[int] | None, *,
                  frozen: bool, call: int) -> list[int]:
        """Add a model's nodes; ``inputs`` are the nodes feeding a nested model."""
        config = doc.get("config")
        cfg_path = f"{path}config" if not path else f"{path}.config"
        if isinstance(config, list):  # Keras <= 2.2: a Sequential's config is its layer list
            config = {"layers": config}
        config = self.mapping(config, cfg_path)
        frozen = frozen or not self.trainable(config, cfg_path) or \
            not self.trainable(doc, path or "")
        if doc.get("class_name") == "Sequential":
            return self.sequential(doc, config, cfg_path, inputs, frozen=frozen, call=call)

        return add_functional(self, config, cfg_path, inputs, frozen=frozen, call=call)

    # --- nodes ------------------------------------------------------------------------------
    def add_node(self, layer: Layer, name: str, parents: Sequence[int], *,
                 key: str | None = None) -> int:
        """Add a node; a later call of the layer at ``key`` shares the first call's weights."""
        shares = self.first.get(key) if key is not None else None
        if len(self.nodes) >= self.max_layers:
            raise budget_exceeded(self.origin, "max_layers", f"more than {self.max_layers:,} "
                                  "layers once nested models are inlined")
        unique = name
        count = self.suffix.get(name, 1)  # where the last search for this name stopped
        while unique in self.names:
            unique = f"{name}_{count}"
            count += 1
        self.suffix[name] = count
        self.names.add(unique)
        self.nodes.append(Node(layer, unique, tuple(parents), shares=shares))
        if key is not None and shares is None:
            self.first[key] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def add_input(self, recorded: Any, name: str, path: str, *, hidden: bool) -> int:
        """An input node: the given shape for this input, else the recorded one."""
        index = self.input_count
        self.input_count += 1
        given = self.given_shape(index, name)
        if given is None:
            given = self.recorded_shape(recorded, path)
        elif isinstance(recorded, list) and len(recorded) - 1 != len(given):
            raise self.fail(f"input_shape {tuple(given)} has {len(given)} axes, but the "
                            f"model's input {name!r} has {len(recorded) - 1} (without the "
                            "batch axis)", path, "bad_input_shape")

        cls: type[Input] = Input if hidden else LAYERS.get("InputLayer", Input)  # type: ignore[assignment]
        try:
            layer = cls(tuple(given), name=name)
        except LayerError as err:
            raise self.fail(f"input {name!r}: {err.rule}", path, err.code) from None
        node = self.add_node(layer, name, ())
        self.inputs[node] = layer.sizes
        if hidden:
            self.hidden.append(node)
        return node

    def given_shape(self, index: int, name: str) -> Sequence[object] | None:
        given = self.given
        if given is None:
            return None
        if isinstance(given, Mapping):
            value = given.get(name)
            return None if value is None else self.sizes(value)
        if isinstance(given, Sequence) and given and all(
                isinstance(g, Sequence) and not isinstance(g, str) for g in given):
            if index >= len(given):
                raise self.fail(f"input_shape gives {len(given)} shapes, but the model has "
                                "more inputs", "", "bad_input_shape")
            return self.sizes(given[index])
        if index > 0:
            raise self.fail("the model has several inputs: give input_shape as a list of "
                            "shapes or a dict by input name", "", "bad_input_shape")
        return self.sizes(given)

    def sizes(self, value: object) -> list[object]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
            raise self.fail("input_shape must be a non-empty tuple of sizes without the batch "
                            f"axis, e.g. (28, 28, 1) or ('n', 'n', 1); got {value!r}", "",
                            "bad_input_shape")
        return list(value)

    def recorded_shape(self, recorded: Any, path: str) -> list[object]:
        if not isinstance(recorded, list) or len(recorded) < 2:
            raise self.fail("the model does not record its input shape; pass input_shape="
                            "(...) without the batch axis, e.g. (28, 28, 1) or ('n', 'n', 1)",
                            path, "missing_input")
        sizes = recorded[1:]
        names = unknown_sizes(len(sizes), channels_first=False,
                              suffix="" if self.input_count == 1 else f"_{self.input_count}")
        out: list[object] = []
        for i, size in enumerate(sizes):
            if size is None:
                out.append(names[i])
            elif isinstance(size, bool) or not isinstance(size, int):
                raise SpecTypeError(f"input size {size!r} is not an integer", source=self.origin,
                                    path=f"{path}[{i + 1}]", code="not_an_integer")
            else:
                out.append(size)
        return out

    def check_class(self, entry: Mapping[str, Any], path: str) -> str:
        """The entry's class name, or a refusal naming the layer, its class and why."""
        cls = entry.get("class_name")
        if not isinstance(cls, str):
            raise self.fail("a layer entry needs a class_name", path, "bad_keras_json")
        module = entry.get("module")
        registered = entry.get("registered_name")
        config = entry.get("config")
        name = config.get("name", entry.get("name", "?")) if isinstance(config, Mapping) \
            else entry.get("name", "?")

        if foreign_module(cls, module) or (registered is not None and registered != cls):
            raise self.fail(f"layer {name!r} (class {cls}, registered as {registered!r}) is "
                            "refused: it is a custom layer from module "
                            f"{module!r}, and custom code can compute any shape", path,
                            "custom_layer")
        if cls not in MODEL_CLASSES and cls != "InputLayer":
            why = refusal(cls, str(name))
            if why is not None:
                raise self.fail(why, path, "lambda_layer" if cls == "Lambda" else
                                "unknown_layer")
        return cls

    def layer(self, entry: Mapping[str, Any], path: str, *, frozen: bool, call: int) -> Layer:
        """The convsym layer of one layer entry (refusals name the layer and its class)."""
        cls = self.check_class(entry, path)
        config = self.mapping(entry.get("config", {}), f"{path}.config")
        layer = build_layer(cls, config, origin=self.origin, path=path)
        layer_frozen = frozen or not self.trainable(config, f"{path}.config")
        return applied(layer, frozen=layer_frozen)

    def trainable(self, config: Mapping[str, Any], path: str) -> bool:
        """The ``trainable`` flag (default True); only JSON true or false is accepted."""
        value = config.get("trainable", True)
        if not isinstance(value, bool):
            where = f"{path}.trainable" if path else "trainable"
            raise SpecTypeError(f"trainable = {value!r:.60}: must be true or false",
                                source=self.origin, path=where, code="not_a_bool")
        return value

    # --- Sequential -------------------------------------------------------------------------
    def sequential(self, doc: Mapping[str, Any], config: Mapping[str, Any], path: str,
                   inputs: list[int] | None, *, frozen: bool, call: int) -> list[int]:
        entries = self.listing(config.get("layers"), f"{path}.layers")
        current: int | None = inputs[0] if inputs else None
        if inputs is not None and len(inputs) != 1:
            raise self.fail("a nested Sequential model takes exactly one input", path,
                            "bad_keras_json")
        for i, raw in enumerate(entries):
            where = f"{path}.layers[{i}]"
            entry = self.mapping(raw, where)
            cfg = entry.get("config")
            if entry.get("class_name") == "InputLayer":
                if current is None:
                    cfg = self.mapping(cfg, f"{where}.config")
                    current = self.add_input(_batch_shape(cfg), _name(cfg, "input_layer"),
                                             f"{where}.config", hidden=True)
                continue  # a nested model's own InputLayer is where it is connected
            if current is None:
                current = self.add_input(_sequential_input(doc, config, entry),
                                         "input_layer", f"{where}.config", hidden=True)
            if _is_model(entry):
                (current,) = self.add_model(entry, where, [current], frozen=frozen, call=call)
                continue
            layer = self.layer(entry, where, frozen=frozen, call=call)
            name = _name(cfg if isinstance(cfg, Mapping) else {}, layer.base_name)
            current = self.add_node(layer, _call_name(name, call), [current], key=where)
        if current is None:
            raise self.fail("the model has no layers", f"{path}.layers", "empty_network")
        return [current]


def _name(config: Mapping[str, Any], default: str) -> str:
    name = config.get("name")
    return name if isinstance(name, str) and name else default


def _call_name(name: str, call: int) -> str:
    """Rows of a shared layer's later calls: ``name[1]`` as in Keras's "Connected to"."""
    return name if call == 0 else f"{name}[{call}]"


def _sequential_input(doc: Mapping[str, Any], config: Mapping[str, Any],
                      first: Mapping[str, Any]) -> Any:
    """Where a Sequential without InputLayer recorded its input: the first layer (tf.keras 2),
    the model's build shape (Keras 3), or nowhere."""
    first_cfg = first.get("config")
    if isinstance(first_cfg, Mapping) and _batch_shape(first_cfg) is not None:
        return _batch_shape(first_cfg)
    if config.get("build_input_shape") is not None:
        return config["build_input_shape"]
    build = doc.get("build_config")
    if isinstance(build, Mapping) and build.get("input_shape") is not None:
        return build["input_shape"]
    build = first.get("build_config")
    if isinstance(build, Mapping):
        return build.get("input_shape")
    return None


__all__ = ["from_keras"]
