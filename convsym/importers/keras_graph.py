"""Functional Keras models: read ``inbound_nodes`` (Keras 3 and tf.keras 2) into graph nodes.

Keras 3 records each call of a layer as ``{"args": [...], "kwargs": {...}}`` whose tensors are
``{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, tensor]}}``;
tf.keras 2 records it as a list of ``[layer, node, tensor, kwargs]``.  Either way a call is a
list of references ``(layer name, node index, tensor index)``, where the node index counts the
calls of that layer within the model (an InputLayer's own node is 0).  Calls are added in the
order of the config's layer list, parents first, without recursion (deep models are fine).

>>> refs_of_call({"args": [{"class_name": "__keras_tensor__",
...               "config": {"keras_history": ["conv2d", 0, 0]}}], "kwargs": {}})
[('conv2d', 0, 0)]
>>> refs_of_call([["input_1", 0, 0, {}], ["conv2d", 1, 0, {}]])
[('input_1', 0, 0), ('conv2d', 1, 0)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convsym.errors import did_you_mean

if TYPE_CHECKING:
    from convsym.importers.keras_json import _Importer

Ref = tuple[str, int, int]


class _BadCall(Exception):
    """A call record in a form this reader does not know (reported as a SpecError)."""


def _is_tensor(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("class_name") == "__keras_tensor__"


def _ref(history: Any) -> Ref:
    if not (isinstance(history, list) and len(history) >= 3 and isinstance(history[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                    for v in history[1:3])):
        raise _BadCall(f"a tensor reference must be [layer name, node index, tensor index], "
                       f"got {history!r}")
    return history[0], history[1], history[2]


def _tensors(value: Any, out: list[Ref]) -> None:
    if _is_tensor(value):
        config = value.get("config")
        out.append(_ref(config.get("keras_history") if isinstance(config, Mapping) else None))
    elif isinstance(value, list):
        for item in value:
            _tensors(item, out)
    elif isinstance(value, Mapping):
        for item in value.values():
            _tensors(item, out)


def refs_of_call(call: Any) -> list[Ref]:
    """The tensors one recorded call consumes, in order (either format)."""
    if isinstance(call, Mapping):  # Keras 3
        refs: list[Ref] = []
        _tensors(call.get("args", []), refs)
        extra: list[Ref] = []
        _tensors(call.get("kwargs", {}), extra)
        if extra:
            raise _BadCall("tensors passed as keyword arguments (masks, attention inputs) are "
                           "not supported")
        return refs
    if isinstance(call, list):  # tf.keras 2: [[name, node, tensor, kwargs], ...]
        if call and isinstance(call[0], str):
            call = [call]  # TFOpLambda-style: the call is one reference
        out = []
        for item in call:
            if isinstance(item, list) and len(item) == 4 and isinstance(item[3], Mapping) \
                    and any(_looks_like_ref(v) for v in item[3].values()):
                raise _BadCall("tensors passed as keyword arguments are not supported")
            out.append(_ref(item))
        return out
    raise _BadCall(f"a call record must be a mapping (Keras 3) or a list (tf.keras 2), got "
                   f"{type(call).__name__}")


def _looks_like_ref(value: Any) -> bool:
    return isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str)


def _io_refs(value: Any) -> list[Ref]:
    """``input_layers``/``output_layers``: ``[[name, 0, 0], ...]`` or one ``[name, 0, 0]``."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [_ref(value)]
    if isinstance(value, Mapping):  # Keras 3 may key them by name
        return [_ref(v) for v in value.values()]
    if not isinstance(value, list):
        raise _BadCall("input_layers/output_layers must be lists of [name, node, tensor]")
    return [_ref(v) for v in value]


@dataclass
class _Entry:
    index: int
    name: str
    raw: Mapping[str, Any]
    calls: list[list[Ref]]
    args_offset: int = 0
    io_offset: int = 0


def _offsets(entry: Mapping[str, Any], calls: list[Any]) -> tuple[int, int]:
    """How a nested model's node indices count (for references from calls, and from
    input_layers/output_layers).

    A functional model starts with a node of its own (Input to output), which the config
    leaves out.  tf.keras 2 still counts it everywhere: references start at 1 (for a
    Functional, and for a Sequential built with an InputLayer).  Keras 3 counts it only in
    input_layers/output_layers of a Functional; references inside calls start at 0.
    """
    cls = entry.get("class_name")
    if cls not in ("Sequential", "Functional", "Model"):
        return 0, 0
    keras3 = any(isinstance(c, Mapping) for c in calls)
    if keras3:
        return (0, 1) if cls in ("Functional", "Model") else (0, 0)
    config = entry.get("config")
    layers = config.get("layers") if isinstance(config, Mapping) else config
    first = layers[0] if isinstance(layers, list) and layers else None
    starts_with_input = isinstance(first, Mapping) and first.get("class_name") == "InputLayer"
    skip = cls in ("Functional", "Model") or starts_with_input
    return (1, 1) if skip else (0, 0)


def _key(imp: _Importer, entries: dict[str, _Entry], name: str, node: int, path: str, *,
         io: bool) -> tuple[str, int]:
    """A reference's (layer, call index), undoing the node-index offset of nested models."""
    entry = _lookup(imp, entries, name, path)
    index = node - (entry.io_offset if io else entry.args_offset)
    if index < 0:
        raise imp.fail(f"layer {name!r} has no call for node index {node}",
                       f"{path}.layers[{entry.index}]", "unknown_layer_reference")
    return name, index


def add_functional(imp: _Importer, config: Mapping[str, Any], path: str,
                   inputs: list[int] | None, *, frozen: bool, call: int) -> list[int]:
    """Add a functional model's nodes; returns the node indices of its outputs."""
    entries = _entries(imp, config, path)
    resolved: dict[tuple[str, int], list[int]] = {}
    try:
        input_refs = _io_refs(config.get("input_layers"))
        output_refs = _io_refs(config.get("output_layers"))
    except _BadCall as err:
        raise imp.fail(str(err), path, "bad_keras_json") from None
    for i, (name, _node, _) in enumerate(input_refs):
        entry = _lookup(imp, entries, name, path)
        if entry.raw.get("class_name") != "InputLayer":
            raise imp.fail(f"input {name!r} is a {entry.raw.get('class_name')}, not an "
                           "InputLayer", path, "bad_keras_json")
        if inputs is not None:
            if len(inputs) != len(input_refs):
                raise imp.fail(f"the nested model takes {len(input_refs)} inputs but is "
                               f"called with {len(inputs)}", path, "bad_keras_json")
            resolved[(name, 0)] = [inputs[i]]
        else:
            where = f"{path}.layers[{entry.index}]"
            cfg = imp.mapping(entry.raw.get("config", {}), f"{where}.config")
            resolved[(name, 0)] = [imp.add_input(_batch_shape(cfg), name, f"{where}.config",
                                                 hidden=False)]
    for entry in entries.values():
        if entry.raw.get("class_name") == "InputLayer" and (entry.name, 0) not in resolved:
            raise imp.fail(f"InputLayer {entry.name!r} is not among the model's input_layers",
                           path, "bad_keras_json")
        for c in range(len(entry.calls)):
            _resolve(imp, entries, resolved, (entry.name, c), path, frozen, call)
    outputs = []
    for name, node, tensor in output_refs:
        key = _key(imp, entries, name, node, path, io=True)
        _resolve(imp, entries, resolved, key, path, frozen, call)
        outs = resolved[key]
        if tensor >= len(outs):
            raise imp.fail(f"output {name!r} has no tensor {tensor}", path, "bad_keras_json")
        outputs.append(outs[tensor])
    return outputs


def _entries(imp: _Importer, config: Mapping[str, Any], path: str) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for i, raw in enumerate(imp.listing(config.get("layers"), f"{path}.layers")):
        where = f"{path}.layers[{i}]"
        entry = imp.mapping(raw, where)
        cfg = entry.get("config")
        name = entry.get("name", cfg.get("name") if isinstance(cfg, Mapping) else None)
        if not isinstance(name, str) or not name:
            raise imp.fail("a functional model's layer needs a name", where, "bad_keras_json")
        if name in entries:
            raise imp.fail(f"two layers are named {name!r}", where, "duplicate_layer_name")
        imp.check_class(entry, where)  # refuse Lambda / custom layers before reading calls
        try:
            calls = [refs_of_call(c) for c in imp.listing(entry.get("inbound_nodes", []),
                                                           f"{where}.inbound_nodes")]
        except _BadCall as err:
            raise imp.fail(f"layer {name!r}: {err}", f"{where}.inbound_nodes",
                           "bad_keras_json") from None
        raw_calls = entry.get("inbound_nodes", [])
        entries[name] = _Entry(i, name, entry, calls,
                               *_offsets(entry, raw_calls if isinstance(raw_calls, list) else []))
    if not entries:
        raise imp.fail("the model has no layers", f"{path}.layers", "empty_network")
    return entries


def _lookup(imp: _Importer, entries: dict[str, _Entry], name: str, path: str) -> _Entry:
    if name not in entries:
        raise imp.fail(f"no layer is named {name!r}{did_you_mean(name, entries)}", path,
                       "unknown_layer_reference")
    return entries[name]


def _resolve(imp: _Importer, entries: dict[str, _Entry], resolved: dict[tuple[str, int],
             list[int]], key: tuple[str, int], path: str, frozen: bool, call: int) -> None:
    """Add the node(s) of call ``key`` after its parents, with an explicit stack."""
    stack = [key]
    active: set[tuple[str, int]] = set()
    while stack:
        top = stack[-1]
        if top in resolved:
            stack.pop()
            continue
        entry = _lookup(imp, entries, top[0], path)
        if top[1] >= len(entry.calls):
            raise imp.fail(f"layer {top[0]!r} has no call {top[1]} (it is called "
                           f"{len(entry.calls)} times)", f"{path}.layers[{entry.index}]",
                           "unknown_layer_reference")
        refs = [(*_key(imp, entries, n, k, path, io=False), t) for n, k, t in
                entry.calls[top[1]]]
        missing = [(n, k) for n, k, _ in refs if (n, k) not in resolved]
        if missing:
            if top in active:
                raise imp.fail(f"layer {top[0]!r} depends on itself", path, "cyclic_graph")
            active.add(top)
            stack.extend(missing)
            continue
        stack.pop()
        parents = []
        for n, k, t in refs:
            outs = resolved[(n, k)]
            if t >= len(outs):
                raise imp.fail(f"layer {top[0]!r} reads tensor {t} of {n!r}, which has "
                               f"{len(outs)}", f"{path}.layers[{entry.index}]",
                               "unknown_layer_reference")
            parents.append(outs[t])
        resolved[top] = _add_call(imp, entry, top[1], parents, path, frozen, call)


def _add_call(imp: _Importer, entry: _Entry, index: int, parents: list[int], path: str,
              frozen: bool, call: int) -> list[int]:
    where = f"{path}.layers[{entry.index}]"
    repeat = max(call, index)
    if entry.raw.get("class_name") in ("Sequential", "Functional", "Model"):
        return imp.add_model(entry.raw, where, parents, frozen=frozen, call=repeat)
    if not parents:
        raise imp.fail(f"layer {entry.name!r} is called without inputs", where,
                       "bad_keras_json")
    layer = imp.layer(entry.raw, where, frozen=frozen, call=repeat)
    name = f"{entry.name}[{repeat}]" if repeat else entry.name
    return [imp.add_node(layer, name, parents, key=where)]


def _batch_shape(config: Mapping[str, Any]) -> Any:
    """The recorded input shape with the batch axis: Keras 3 or tf.keras 2 spelling."""
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            return config[key]
    shape = config.get("shape")
    if isinstance(shape, list):
        return [None, *shape]
    return None
