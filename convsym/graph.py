"""Graph networks (the functional style): branches, skip connections and merges.

Two ways to build one, both giving a :class:`~convsym.network.Network`:

* Keras style: call layers on tensors, then ``Model(inputs=..., outputs=...)``.  An ``Input``
  is itself the first tensor; merge layers take a list.  Rows include an ``InputLayer`` row
  per input, as Keras's summary does, and layers get Keras's automatic names.

  >>> from convsym.layers.keras import Input, Conv2D, Add
  >>> x = Input(("n", "n", 16))
  >>> y = Conv2D(16, 3, padding="same")(x)
  >>> model = Model(inputs=x, outputs=Add()([x, y]))
  >>> [(r.name, r.type, r.output_shape) for r in model.rows]  # doctest: +NORMALIZE_WHITESPACE
  [('input_layer', 'InputLayer', (n, n, 16)), ('conv2d', 'Conv2D', (n, n, 16)),
   ('add', 'Add', (n, n, 16))]

* A builder that suits PyTorch (whose modules are not called on symbolic tensors):

  >>> from convsym.layers.torch import Conv2d, Add as TAdd
  >>> g = Graph(input_shape=(3, "H", "W"))
  >>> y = g.add(Conv2d(3, 3, 3, padding=1), g.input, name="conv")
  >>> z = g.add(TAdd(), g.input, y)
  >>> g.build(z).output_shape
  (3, H, W)

Spec files describe graphs with ``inputs`` and per-layer ``name``/``inputs``; see
:mod:`convsym.graph_spec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from convsym.errors import UsageError
from convsym.intdiv import to_sympy
from convsym.layers.base import (
    Layer,
    Shape,
    Tensor,
    _snake,
    as_tensor,
    call_layer,
    to_size,
)
from convsym.layers.keras import InputLayer
from convsym.network import Network, Node, _TorchInput


def assemble(inputs: Sequence[Tensor], outputs: Sequence[Tensor], *, keras_rows: bool
             ) -> tuple[list[Node], dict[int, Shape], list[int], list[int], str]:
    """Nodes (inputs first, then in call order), input shapes, hidden rows, outputs, dialect."""
    order: list[Tensor] = []
    seen: set[int] = {id(t) for t in inputs}
    stack = list(outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        if t.input_shape is not None:  # (Tensor.is_input, read once per tensor)
            raise UsageError(f"the graph is disconnected: input {t.label()!r} feeds the "
                             "outputs but is not among the model's inputs",
                             code="disconnected_graph")
        seen.add(id(t))
        order.append(t)
        stack.extend(t.parents)
    order.sort(key=_SERIAL)
    tensors = [*inputs, *order]
    dialects = {t.layer.dialect for t in order}
    if len(dialects) > 1:
        raise UsageError("the graph mixes Keras and PyTorch layers; use one dialect (their "
                         "conventions differ)", code="mixed_dialects")
    dialect = dialects.pop() if dialects else inputs[0].layer.dialect or "torch"
    index = {id(t): i for i, t in enumerate(tensors)}
    names = _names(tensors, dialect)
    nodes: list[Node] = []
    first_use: dict[int, int] = {}
    input_shapes: dict[int, Shape] = {}
    for i, t in enumerate(tensors):
        if t.input_shape is not None:
            input_shapes[i] = t.input_shape
            nodes.append(Node(_input_layer(t, names[i], dialect), names[i], ()))
            continue
        shares = first_use.setdefault(id(t.layer), i)
        parents = t.parents
        nodes.append(Node(t.layer, names[i], (index[id(parents[0])],) if len(parents) == 1
                          else tuple([index[id(p)] for p in parents]),
                          None if shares == i else shares))
    hidden = [] if keras_rows and dialect == "keras" else sorted(input_shapes)
    return nodes, input_shapes, hidden, [index[id(t)] for t in outputs], dialect


_SERIAL = attrgetter("serial")  # tensors in the order they were made


def _input_layer(t: Tensor, name: str, dialect: str) -> Layer:
    shape = tuple(to_sympy(s) for s in t.input_shape or ())
    if dialect == "keras":
        return InputLayer(shape=shape, name=name)
    return _TorchInput(shape)


def _names(tensors: list[Tensor], dialect: str) -> list[str]:
    explicit = [t.name or getattr(t.layer, "name", None) for t in tensors]
    taken: dict[str, int] = {}
    for i, name in enumerate(explicit):
        if name:
            if name in taken and tensors[taken[name]].layer is not tensors[i].layer:
                raise UsageError(f"two layers are named {name!r}; names must be unique",
                                 code="duplicate_name")
            taken.setdefault(name, i)
    counts: dict[str, int] = {}
    out: list[str] = []
    for t, name in zip(tensors, explicit):
        if name:
            # a shared layer applied again is named like torch.fx does: relu, relu_1, ...
            count = counts.get(name, 0)
            counts[name] = count + 1
            out.append(name if count == 0 else f"{name}_{count}")
            continue
        if t.is_input:
            stem = "input_layer" if dialect == "keras" else "input"
        elif dialect == "keras":
            stem = t.layer.base_name
        else:
            stem = _snake(t.layer.type_name)
        while True:
            count = counts.get(stem, 0)
            counts[stem] = count + 1
            candidate = stem if count == 0 else f"{stem}_{count}"
            if candidate not in taken:
                break
        taken[candidate] = len(out)
        out.append(candidate)
    return out


def _tensor_list(value: object, what: str) -> list[Tensor]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise UsageError(f"Model: {what} must name at least one tensor", code="bad_call")
    return [as_tensor(v, f"Model {what}") for v in items]


class Model(Network):
    """``keras.Model(inputs=..., outputs=...)``: a functional network (one or more of each)."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None) -> None:
        ins, outs = _tensor_list(inputs, "inputs"), _tensor_list(outputs, "outputs")
        nodes, shapes, hidden, out_index, dialect = assemble(ins, outs, keras_rows=True)
        super().__init__(nodes, shapes, dialect=dialect,
                         name=name or ("functional" if dialect == "keras" else "Graph"),
                         hidden=hidden, outputs=out_index)

    def _rebuild(self, nodes: list[Node], shapes: dict[int, Shape]) -> Network:
        net = Network.__new__(Model)
        Network.__init__(net, nodes, shapes, dialect=self.dialect, name=self.name,
                         hidden=sorted(self._hidden), outputs=self.outputs)
        return net


class Graph:
    """A builder for graph networks: ``g.add(layer, *input_tensors, name=...)``."""

    def __init__(self, input_shape: Sequence[object] | None = None, *,
                 name: str | None = None, input_name: str | None = None) -> None:
        self.name = name
        self.inputs: list[Tensor] = []
        self.tensors: list[Tensor] = []
        if input_shape is not None:
            self.add_input(input_shape, name=input_name)

    def add_input(self, shape: Sequence[object], name: str | None = None) -> Tensor:
        """Declare another input (without the batch axis); returns its tensor."""
        if not isinstance(shape, (list, tuple)):
            raise UsageError(f"Graph: an input shape must be a tuple, got {shape!r}",
                             code="bad_input_shape")
        holder = _TorchInput(tuple(shape))
        sizes = tuple(to_size(holder, f"input_shape[{i}]", v) for i, v in enumerate(shape))
        t = Tensor(holder, (), name=name, input_shape=sizes)
        self.inputs.append(t)
        return t

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Graph{name}: {len(self.inputs)} input(s), {len(self.tensors)} layer(s) " \
               "added; build() makes the network>"

    @property
    def input(self) -> Tensor:
        """The first input's tensor."""
        if not self.inputs:
            raise UsageError("Graph: no input yet; pass input_shape= or call add_input",
                             code="missing_input")
        return self.inputs[0]

    def add(self, layer: Layer, *inputs: Tensor, name: str | None = None) -> Tensor:
        """Apply ``layer`` to ``inputs`` (default: the last tensor added, or the input)."""
        if not isinstance(layer, Layer):
            raise UsageError(f"Graph.add: {type(layer).__name__} is not a convsym layer",
                             code="not_a_layer")
        if not inputs:
            inputs = (self.tensors[-1] if self.tensors else self.input,)
        if not layer.is_input and all(type(x) is Tensor for x in inputs):
            t = Tensor(layer, inputs, name=name)  # what call_layer makes of tensors
        else:
            t = call_layer(layer, tuple(inputs), {"name": name})
        self.tensors.append(t)
        return t

    def build(self, outputs: Tensor | Sequence[Tensor] | None = None) -> Network:
        """The network from the inputs to ``outputs`` (default: the last tensor added)."""
        if outputs is None:
            if not self.tensors:
                raise UsageError("Graph.build: no layers were added", code="empty_network")
            outputs = self.tensors[-1]
        outs = _tensor_list(outputs, "outputs")
        nodes, shapes, hidden, out_index, dialect = assemble(self.inputs, outs,
                                                             keras_rows=True)
        return Network(nodes, shapes, dialect=dialect,
                       name=self.name or ("functional" if dialect == "keras" else "Graph"),
                       hidden=hidden, outputs=out_index)


__all__ = ["Graph", "Model", "Tensor", "assemble", "call_layer"]
