"""Follow a module's ``forward`` with ``torch.fx`` and add its operations as graph nodes.

Each fx node becomes: a module row (``call_module``, named by its qualified name), a merge
row for two-tensor arithmetic (``a + b`` is an ``Add``, ``a * b`` a ``Multiply``) or
``torch.cat`` (a ``Concatenate``), a layer row for the functional forms of layers
(``F.max_pool2d``, ``torch.flatten``, ``x.view(x.size(0), -1)``), or nothing for
shape-preserving operations (``F.relu``, ``x * 0.5``, ``.contiguous()``).  Anything else is
refused with the operation and the node's name.  torch is imported on first use.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Residual(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)
...     def forward(self, x):
...         return torch.relu(self.conv(x)) + x
>>> [(r.name, r.type) for r in from_torch(Residual(), (4, "H", "W")).rows]
[('conv', 'Conv2d'), ('add', 'Add')]
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from convsym.errors import LayerError
from convsym.importers.torch_ops import FunctionalLayers, merge_layer

if TYPE_CHECKING:
    import torch
    import torch.fx

    from convsym.importers.torch_module import _Builder


@dataclass(frozen=True)
class _Tensor:
    index: int


@dataclass(frozen=True)
class _Sizes:
    """``x.shape`` / ``x.size()`` of a tensor (only its batch entry is usable)."""

    index: int


class _Batch:
    """``x.size(0)`` / ``x.shape[0]``: the batch size."""


BATCH = _Batch()

_PASS_METHODS = frozenset({
    "relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "exp", "abs", "neg", "clamp",
    "clamp_", "clip", "contiguous", "clone", "detach", "float", "double", "half", "softmax",
    "log_softmax",
})
_ARITHMETIC_METHODS = {"add": "add", "add_": "add", "sub": "subtract", "sub_": "subtract",
                       "mul": "multiply", "mul_": "multiply", "div": "divide",
                       "div_": "divide"}


@functools.lru_cache(maxsize=1)
def tables() -> SimpleNamespace:
    """The torch functions this module recognises (built on first use: imports torch)."""
    import torch
    import torch.fx
    import torch.nn.functional as F

    class Tracer(torch.fx.Tracer):
        """Known torch.nn modules are leaves; user modules and Sequentials are traced."""

        def is_leaf_module(self, m: torch.nn.Module, module_qualified_name: str) -> bool:
            from convsym.importers.torch_module import _is_torch_class
            from convsym.importers.torch_table import known

            if _is_torch_class(m) and known(type(m).__name__):
                return True
            return bool(super().is_leaf_module(m, module_qualified_name))

    return SimpleNamespace(
        Node=torch.fx.Node,
        Tracer=Tracer,
        passing=(
            F.relu, F.relu_, F.relu6, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish,
            F.leaky_relu, F.hardswish, F.hardsigmoid, F.hardtanh, F.sigmoid, F.tanh,
            F.softplus, F.softsign, F.softmax, F.log_softmax, F.dropout, F.dropout1d,
            F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout, F.normalize,
            F.prelu, torch.relu, torch.relu_, torch.sigmoid, torch.tanh, torch.softmax,
            torch.log_softmax, torch.exp, torch.abs, torch.neg, torch.clamp, torch.clip,
            operator.neg, operator.pos),
        arithmetic={
            operator.add: "add", operator.iadd: "add", torch.add: "add",
            operator.sub: "subtract", operator.isub: "subtract", torch.sub: "subtract",
            operator.mul: "multiply", operator.imul: "multiply", torch.mul: "multiply",
            operator.truediv: "divide", operator.itruediv: "divide", torch.div: "divide"},
        cat=(torch.cat, torch.concat, torch.concatenate),
        flatten=torch.flatten,
        reshape=torch.reshape,
        errors=(torch.fx.proxy.TraceError, TypeError, ValueError, RuntimeError,
                AttributeError, NotImplementedError, KeyError, IndexError, AssertionError),
    )


def trace_into(b: _Builder, module: torch.nn.Module, qualname: str, parents: list[int]) -> int:
    """Add the operations of ``module.forward`` applied to ``parents``; returns the output."""
    t = tables()
    tracer = t.Tracer()
    try:
        graph = tracer.trace(module)
    except t.errors as err:
        kind = type(module).__name__
        first = str(err).splitlines()[0] if str(err) else ""
        raise b.fail(f"module {qualname or '(root)'!r} ({kind}) could not be followed with "
                     f"torch.fx ({type(err).__name__}: {first}); convsym reads forward code "
                     "through symbolic tracing, so control flow that depends on tensor "
                     "values is not supported", qualname, "untraceable") from None
    return _Graph(b, module, qualname, parents).run(graph)


class _Graph:
    def __init__(self, b: _Builder, module: torch.nn.Module, qualname: str,
                 parents: list[int]) -> None:
        self.b = b
        self.module = module
        self.qualname = qualname
        self.parents = list(parents)
        self.env: dict[torch.fx.Node, Any] = {}
        self.layers = FunctionalLayers()
        self.t = tables()

    def fail(self, node: torch.fx.Node, message: str, code: str = "unsupported_operation"
             ) -> Exception:
        where = f"{self.qualname}:{node.name}" if self.qualname else node.name
        return self.b.fail(f"operation {node.name!r} ({_describe(node)}): {message}", where,
                           code)

    def run(self, graph: torch.fx.Graph) -> int:
        placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        needed = [n for n in placeholders if not n.args]  # no default value
        if len(needed) > len(self.parents) or len(self.parents) > len(placeholders):
            raise self.b.fail(f"forward of {type(self.module).__name__} takes "
                              f"{len(needed)} tensor inputs but it is given "
                              f"{len(self.parents)} (one input_shape each)",
                              self.qualname, "wrong_input_count")
        result: Any = None
        for node in graph.nodes:
            if node.op == "output":
                result = node.args[0]
                continue
            self.env[node] = self.visit(node)
        out = self.tensors(result, node=None)
        if len(out) != 1:
            where = self.qualname or "(root)"
            raise self.b.fail(f"module {where!r} returns {len(out)} tensors; convsym follows "
                              "modules with one output", self.qualname, "multiple_outputs")
        return out[0]

    # --- values -----------------------------------------------------------------------------
    def value(self, arg: Any) -> Any:
        if isinstance(arg, self.t.Node):
            return self.env[arg]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.value(a) for a in arg)
        return arg

    def tensors(self, arg: Any, node: torch.fx.Node | None) -> list[int]:
        """The tensor nodes in an argument (a node, or a list/tuple of them)."""
        value = self.value(arg)
        items = value if isinstance(value, (list, tuple)) else [value]
        out = []
        for item in items:
            if not isinstance(item, _Tensor):
                if node is None:
                    raise self.b.fail("the module returns something other than a tensor",
                                      self.qualname, "unsupported_operation")
                raise self.fail(node, f"expected tensors, got {item!r}")
            out.append(item.index)
        return out

    # --- nodes ------------------------------------------------------------------------------
    def visit(self, node: torch.fx.Node) -> Any:
        if node.op == "placeholder":
            if self.parents:
                return _Tensor(self.parents.pop(0))
            return node.args[0]  # an argument left at its default value
        if node.op == "get_attr":
            raise self.fail(node, "forward reads a parameter or buffer directly; convsym "
                                  "follows modules and operations on their outputs")
        if node.op == "call_module":
            return self.call_module(node)
        if node.op == "call_method":
            return self.call_method(node)
        return self.call_function(node)

    def call_module(self, node: torch.fx.Node) -> Any:
        from convsym.importers.torch_module import _join

        args = [self.value(a) for a in node.args]
        if "output_size" in node.kwargs or (len(args) == 2 and not isinstance(args[1], _Tensor)):
            return _call_with_output_size(self, node, args)  # issue 12, at the end
        if node.kwargs or any(not isinstance(a, _Tensor) for a in args):
            raise self.fail(node, "a module called with non-tensor arguments")
        sub = self.module.get_submodule(str(node.target))
        name = _join(self.qualname, str(node.target))
        return _Tensor(self.b.walk(sub, name, [a.index for a in args]))

    def add_layer(self, node: torch.fx.Node, layer: Any, parents: list[int]) -> _Tensor:
        """An operation's row: named by the module whose forward ran it (``layer1.0.add``)."""
        from convsym.importers.torch_module import _join

        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack)[-1] if stack else ""
        name = re.sub(r"_\d+$", "", node.name) if owner else node.name
        return _Tensor(self.b.add_node(layer, _join(_join(self.qualname, str(owner)), name),
                                       parents))

    def arithmetic(self, node: torch.fx.Node, kind: str, operands: list[Any]) -> Any:
        values = [self.value(a) for a in operands]
        tensors = [v.index for v in values if isinstance(v, _Tensor)]
        others = [v for v in values if not isinstance(v, _Tensor)]
        if any(not isinstance(v, (int, float, bool)) for v in others):
            raise self.fail(node, "arithmetic with something other than tensors and numbers")
        if len(tensors) == 1:
            return _Tensor(tensors[0])  # tensor op number keeps the shape
        if not tensors:
            raise self.fail(node, "arithmetic on numbers only")
        return self.layer_call(node, merge_layer(kind), tensors)

    def call_function(self, node: torch.fx.Node) -> Any:
        fn = node.target
        if fn in self.t.passing:
            (first,) = self.tensors(node.args[0], node)
            return _Tensor(first)
        if fn in self.t.arithmetic:
            operands = list(node.args) + [v for k, v in node.kwargs.items() if k != "alpha"]
            return self.arithmetic(node, self.t.arithmetic[fn], operands)
        if fn in self.t.cat:
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            return self.concat(node, node.args[0], dim)
        if fn is getattr and node.args[1] == "shape":
            value = self.value(node.args[0])
            if isinstance(value, _Tensor):
                return _Sizes(value.index)
        if fn is operator.getitem:
            base, key = self.value(node.args[0]), node.args[1]
            if isinstance(base, _Sizes) and key == 0:
                return BATCH
            raise self.fail(node, "indexing and slicing are not supported (only x.shape[0])")
        if fn is self.t.flatten:
            return self.flatten(node, node.args[1:], node.kwargs)
        if fn is self.t.reshape:
            return self.view(node, node.args[0], list(node.args[1:]))
        made = self.layers.from_function(fn, node.args[1:], node.kwargs)
        if made is not None:
            return self.layer_call(node, made, self.tensors(node.args[0], node))
        raise self.fail(node, "convsym does not know this operation")

    def call_method(self, node: torch.fx.Node) -> Any:
        method = str(node.target)
        if method in _PASS_METHODS:
            (first,) = self.tensors(node.args[0], node)
            return _Tensor(first)
        if method in _ARITHMETIC_METHODS:
            return self.arithmetic(node, _ARITHMETIC_METHODS[method],
                                   list(node.args) + list(node.kwargs.values()))
        if method == "size":
            value = self.value(node.args[0])
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            if isinstance(value, _Tensor):
                if dim is None:
                    return _Sizes(value.index)
                if dim == 0:
                    return BATCH
            raise self.fail(node, "only x.size(0) (the batch size) is supported")
        if method in ("view", "reshape"):
            return self.view(node, node.args[0], list(node.args[1:]))
        if method == "flatten":
            return self.flatten(node, node.args[1:], node.kwargs, tensor=node.args[0])
        made = self.layers.from_method(method, node.args[1:], node.kwargs)
        if made is not None:
            return self.layer_call(node, made, self.tensors(node.args[0], node))
        raise self.fail(node, f"convsym does not know the tensor method .{method}()")

    def layer_call(self, node: torch.fx.Node, layer: Any, parents: list[int]) -> _Tensor:
        if isinstance(layer, str):
            raise self.fail(node, layer)
        return self.add_layer(node, layer, parents)

    def concat(self, node: torch.fx.Node, tensors: Any, dim: Any) -> Any:
        if not isinstance(dim, int) or dim == 0:
            raise self.fail(node, f"concatenation along dim {dim!r}; convsym concatenates "
                                  "along a non-batch axis given as an integer")
        return self.layer_call(node, merge_layer("concatenate", dim=dim),
                               self.tensors(tensors, node))

    def flatten(self, node: torch.fx.Node, args: Any, kwargs: Any, tensor: Any = None) -> Any:
        from convsym.layers.torch import Flatten

        start = kwargs.get("start_dim", args[0] if len(args) > 0 else 0)
        end = kwargs.get("end_dim", args[1] if len(args) > 1 else -1)
        if start == 0:
            raise self.fail(node, "flattening the batch axis (start_dim=0) is not supported; "
                                  "write torch.flatten(x, 1)")
        try:
            layer = Flatten(start, end)
        except LayerError as err:
            raise self.fail(node, str(err)) from None
        return self.add_layer(node, layer, self.tensors(node.args[0] if tensor is None
                                                        else tensor, node))

    def view(self, node: torch.fx.Node, tensor: Any, sizes: list[Any]) -> Any:
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        values = [self.value(s) for s in sizes]
        if len(values) == 2 and (values[0] is BATCH or values[0] == -1):
            other = values[1]
            if other == -1 and values[0] is BATCH:
                return self.flatten(node, (1,), {}, tensor=tensor)
            if isinstance(other, int) and not isinstance(other, bool) and other > 0:
                from convsym.importers.torch_ops import View

                return self.add_layer(node, View(other), self.tensors(tensor, node))
        raise self.fail(node, "only reshapes that flatten, x.view(x.size(0), -1) or "
                              "x.view(-1, N), are supported")


# --- ConvTranspose*d(x, output_size=...) (issue 12) ---------------------------------------
# A minimal hook, kept apart: the layer does the work (convsym.layers.torch_conv
# .with_output_size takes ints, SymPy expressions or text, spatial or (N, C, *spatial)). Sizes
# read from another tensor (output_size=skip.size()) need that tensor's symbolic shape, which
# this tracer does not know while tracing; an importer that knows it passes those sizes.


def _call_with_output_size(graph: _Graph, node: torch.fx.Node, args: list[Any]) -> Any:
    from convsym.importers.torch_module import _is_torch_class, _join
    from convsym.layers.torch_conv import with_output_size

    sub = graph.module.get_submodule(str(node.target))
    kind = type(sub).__name__
    given = node.kwargs.get("output_size", args[1] if len(args) > 1 else None)
    given = graph.value(given)
    if not (_is_torch_class(sub) and kind.startswith("ConvTranspose")) or \
            set(node.kwargs) - {"output_size"} or not isinstance(args[0], _Tensor):
        raise graph.fail(node, "a module called with non-tensor arguments (only "
                               "ConvTranspose*d takes output_size=)")
    if not isinstance(given, (list, tuple)) or \
            any(isinstance(v, bool) or not isinstance(v, int) for v in given):
        raise graph.fail(node, f"{kind} is called with output_size={given!r}; convsym follows "
                               "output_size given as integers", "unsupported_operation")
    index = graph.b.walk(sub, _join(graph.qualname, str(node.target)), [args[0].index])
    row = graph.b.nodes[index]
    try:
        layer = with_output_size(row.layer, list(given))
    except LayerError as err:
        raise graph.fail(node, str(err), err.code) from None
    graph.b.nodes[index] = dataclasses.replace(row, layer=layer)
    return _Tensor(index)


def _describe(node: torch.fx.Node) -> str:
    target = node.target
    if node.op == "call_method":
        return f"tensor method .{target}()"
    if node.op == "call_module":
        return f"module {target}"
    if node.op == "get_attr":
        return f"attribute {target}"
    name = getattr(target, "__name__", str(target))
    module = getattr(target, "__module__", None) or ""
    return f"{module}.{name}" if module and module != "_operator" else name
