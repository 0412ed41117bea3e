"""Graph networks in spec files: named inputs, and per-layer ``name`` and ``inputs``.

A spec is a graph when its top level has ``inputs`` or ``outputs``::

    dialect: keras
    name: residual
    inputs:                    # one entry per input: name -> shape without the batch axis
      image: [n, n, 16]
    layers:
      - Conv2D: {filters: 16, kernel_size: 3, padding: same}
        name: conv             # optional; default: the automatic name (conv2d, conv2d_1, ...)
        inputs: [image]        # optional; default: the previous layer (or the only input)
      - Add: {}
        inputs: [image, conv]  # a merge lists every branch
    outputs: [add]             # optional; default: the last layer

``input: [shape]`` (one unnamed input) may replace ``inputs``.  A layer may only read
inputs and layers listed before it.  Merge layers are Keras's ``Add``, ``Concatenate``, ...
and, in the torch dialect, convsym's ``Add``, ``Subtract``, ``Multiply``, ``Divide`` and
``Concat``.

>>> net = load_graph({"dialect": "keras", "inputs": {"x": ["n", "n", 16]},
...                   "layers": [{"Conv2D": {"filters": 16, "kernel_size": 3,
...                                          "padding": "same"}, "name": "conv"},
...                              {"Add": {}, "inputs": ["x", "conv"]}]},
...                  origin="<dict>", dialect="keras")
>>> [(r.name, r.output_shape) for r in net.rows]
[('x', (n, n, 16)), ('conv', (n, n, 16)), ('add', (n, n, 16))]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from convsym.errors import ConvsymError, LayerError, SpecError, SpecTypeError, did_you_mean
from convsym.graph import Graph, _names
from convsym.layers.base import Tensor
from convsym.network import Network
from convsym.spec_layers import MAX_LAYERS, _check_size, build_layer

ENTRY_KEYS = ("name", "inputs")


def load_graph(doc: Mapping[str, Any], *, origin: str, dialect: str) -> Network:
    """Build a graph network from a spec mapping (already checked to be plain data)."""
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecTypeError("name must be text", source=origin, path="name", code="bad_name")
    graph = Graph(name=name)
    tensors: dict[str, Tensor] = {}
    for input_name, shape, path in _inputs(doc, origin, dialect):
        try:
            tensors[input_name] = graph.add_input(shape, name=input_name)
        except ConvsymError as err:
            raise SpecError(str(err), source=origin, path=path, code=err.code) from None
    raw = doc.get("layers")
    if not isinstance(raw, list) or not raw:
        raise SpecError("layers must be a non-empty list", source=origin, path="layers",
                        code="bad_layers")
    if len(raw) > MAX_LAYERS:
        raise SpecError(f"{len(raw)} layers; the limit is {MAX_LAYERS}", source=origin,
                        path="layers", code="too_large")
    built = []
    seen = set(tensors)
    for i, item in enumerate(raw):
        path = f"layers[{i}]"
        entry, extra = _split_entry(item, origin, path)
        layer_name = extra.get("name")
        if layer_name is not None and (not isinstance(layer_name, str) or not layer_name):
            raise SpecTypeError("name must be non-empty text", source=origin,
                                path=f"{path}.name", code="bad_name")
        if layer_name is not None:
            if layer_name in seen:
                raise SpecError(f"the name {layer_name!r} is used twice", source=origin,
                                path=f"{path}.name", code="duplicate_name")
            seen.add(layer_name)
        built.append((build_layer(entry, dialect, origin, path), layer_name, extra, path))
    # every layer's final name, explicit or automatic, so that any layer can be referred to
    try:
        names = _names([*graph.inputs, *(Tensor(layer, (), name=layer_name)
                                         for layer, layer_name, _, _ in built)], dialect)
    except ConvsymError as err:
        raise SpecError(str(err), source=origin, path="layers", code=err.code) from None
    last: Tensor | None = None
    for (layer, _, extra, path), name in zip(built, names[len(graph.inputs):]):
        if name in tensors:
            raise SpecError(f"the name {name!r} is used twice", source=origin, path=path,
                            code="duplicate_name")
        parents = _parents(extra.get("inputs"), tensors, last, graph, origin, path)
        try:
            last = graph.add(layer, *parents, name=name)
        except ConvsymError as err:
            raise SpecError(str(err), source=origin, path=path, code=err.code) from None
        tensors[name] = last
    outputs = _outputs(doc.get("outputs"), tensors, origin)
    paths = {name: path for (_, _, _, path), name in zip(built, names[len(graph.inputs):])}
    try:
        net = graph.build(outputs or None)
    except LayerError as err:
        # the network counts its input nodes too: name the entry of the spec's layers list
        named = re.match(r"'(.*)' at layers\[", err.where)
        path = paths.get(named.group(1), "") if named else ""
        if path:
            err.where = ""
            err.locate(repr(named.group(1)) if named else "")
        raise SpecError(str(err), source=origin, path=path, code=err.code) from None
    except ConvsymError as err:
        raise SpecError(str(err), source=origin, code=err.code) from None
    return net


def _inputs(doc: Mapping[str, Any], origin: str, dialect: str
            ) -> list[tuple[str, list[Any], str]]:
    if "input" in doc and "inputs" in doc:
        raise SpecError("give either input (one shape) or inputs (name: shape), not both",
                        source=origin, path="inputs", code="duplicate_input")
    if "inputs" in doc:
        raw = doc["inputs"]
        if not isinstance(raw, Mapping) or not raw:
            raise SpecError("inputs must map each input's name to its shape, e.g. "
                            "{image: [H, W, 3]}", source=origin, path="inputs",
                            code="bad_input")
        items = [(str(k), v, f"inputs.{k}") for k, v in raw.items()]
    elif "input" in doc:
        items = [("input_layer" if dialect == "keras" else "input", doc["input"], "input")]
    else:
        raise SpecError("a graph needs inputs (name: shape) or input (one shape)",
                        source=origin, path="inputs", code="bad_input")
    for _, shape, path in items:
        if not isinstance(shape, list) or not shape:
            raise SpecError("an input shape must be a non-empty list of sizes without the "
                            "batch axis, e.g. [28, 28, 1] or [3, H, W]", source=origin,
                            path=path, code="bad_input")
        for j, size in enumerate(shape):
            _check_size(size, origin, f"{path}[{j}]")
    return items


def _split_entry(item: Any, origin: str, path: str) -> tuple[Any, dict[str, Any]]:
    if not isinstance(item, Mapping):
        return item, {}
    extra = {k: v for k, v in item.items() if k in ENTRY_KEYS}
    rest = {k: v for k, v in item.items() if k not in ENTRY_KEYS}
    if len(rest) != 1:
        raise SpecError("each layer must have exactly one layer key (e.g. Conv2D) besides "
                        "the optional name and inputs", source=origin, path=path,
                        code="bad_layer_entry")
    return rest, extra


def _parents(raw: Any, tensors: dict[str, Tensor], last: Tensor | None, graph: Graph,
             origin: str, path: str) -> list[Tensor]:
    if raw is None:
        if last is not None:
            return [last]
        if len(graph.inputs) != 1:
            raise SpecError("the first layer must list its inputs when there are several",
                            source=origin, path=f"{path}.inputs", code="missing_inputs")
        return [graph.inputs[0]]
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or \
            not all(isinstance(n, str) for n in names):
        raise SpecTypeError("inputs must be a name or a non-empty list of names",
                            source=origin, path=f"{path}.inputs", code="bad_inputs")
    out = []
    for j, n in enumerate(names):
        if n not in tensors:
            known = list(tensors)
            raise SpecError(f"unknown input {n!r}{did_you_mean(n, known)}; a layer may read "
                            "the inputs and the layers named before it", source=origin,
                            path=f"{path}.inputs[{j}]", code="unknown_input")
        out.append(tensors[n])
    return out


def _outputs(raw: Any, tensors: dict[str, Tensor], origin: str) -> list[Tensor]:
    if raw is None:
        return []
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or \
            not all(isinstance(n, str) for n in names):
        raise SpecTypeError("outputs must be a name or a non-empty list of names",
                            source=origin, path="outputs", code="bad_outputs")
    out = []
    for j, n in enumerate(names):
        if n not in tensors:
            known = list(tensors)
            raise SpecError(f"unknown output {n!r}{did_you_mean(n, known)}", source=origin,
                            path=f"outputs[{j}]", code="unknown_output")
        out.append(tensors[n])
    return out

