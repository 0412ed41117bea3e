"""Follow a module's ``forward`` by running it on tensors that carry convsym's symbolic sizes.

The model's own Python runs, in eval mode, on a ``torch.Tensor`` subclass with no data:
every torch function and tensor method it calls reaches :meth:`Trace.function` through
``__torch_function__``, and becomes a row (a convolution, ``x.permute``, ``torch.cat``), or
nothing when it keeps the shape (``F.relu``, ``x * 0.5``, dropout and ``stochastic_depth``,
which are identities in eval mode).  ``x.shape`` holds plain ints where a size is a number
and :class:`SymInt` where it is symbolic, so shape arithmetic (``x.shape[-2:]``,
``(H - h) // 2``) is exact; a comparison on sizes is decided for every value of the symbols
or refused with the source line that branches on it.  Submodules are intercepted at call
time: ``torch.nn`` layers convsym knows are rows named by their qualified name, anything
else (``torch.nn`` subclasses with their own ``forward`` included) is followed into.

Why this and not ``torch.fx`` or ATen capture: see ``docs/design/torch-import.md``.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Crop(torch.nn.Module):
...     def forward(self, x):
...         h, w = x.shape[-2:]
...         return x[..., h // 4: h // 4 + h // 2, :w - 1].mean((2, 3), keepdim=True)
>>> [(r.name, r.output_shape) for r in from_torch(Crop(), (4, "H", "W")).rows]
[('getitem', (4, floor(H/2), W)), ('getitem_1', (4, floor(H/2), W - 1)), ('mean', (4, 1, 1))]
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from convsym.budget import building
from convsym.errors import BudgetExceeded, InternalError, LayerError, SpecError
from convsym.expr import symbol
from convsym.importers.common import applied
from convsym.importers.torch_ops import FunctionalLayers, merge_layer
from convsym.importers.torch_sizes import SymInt, SymSize
from convsym.importers.torch_table import leaf_class, module_parameters
from convsym.intdiv import NotQuasiPolynomial, QPoly, as_int, floordiv, to_sympy
from convsym.layers import torch as T
from convsym.layers.base import Layer
from convsym.layers.sharing import copied
from convsym.layers.torch import Flatten, GroupNorm, LayerNorm, Linear, Unflatten, Upsample
from convsym.layers.torch_conv import with_output_size
from convsym.layers.torch_tensor import (
    Expand,
    MatMul,
    Permute,
    Reduce,
    Reshape,
    ScaledDotProductAttention,
    Select,
    Slice,
    Stack,
    TensorOperand,
    Unsqueeze,
)
from convsym.period import decide_nonneg

if TYPE_CHECKING:
    import torch

    from convsym.importers.torch_module import _Builder
    from convsym.layers.base import Inference, Shape

BATCH_SYMBOL = symbol("batch_size_")
"""The batch size while tracing: it may flow into ``view`` but never into a layer."""

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PASS = frozenset({
    "relu", "relu_", "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu",
    "silu", "silu_", "mish", "hardswish", "hardswish_", "hardsigmoid", "hardsigmoid_",
    "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "sigmoid", "sigmoid_", "tanh",
    "tanh_", "softplus", "softsign", "softmax", "log_softmax", "softmin", "logsigmoid",
    "dropout", "dropout_", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "exp", "exp_", "log", "abs", "neg", "clamp", "clamp_", "clip",
    "clip_", "clamp_min", "clamp_max", "clamp_min_", "clamp_max_", "contiguous", "clone",
    "detach", "float", "double", "half", "to", "type", "type_as", "sqrt", "rsqrt", "square",
    "sign", "erf", "sin", "cos", "normalize", "reciprocal", "floor", "ceil", "round",
    "nan_to_num", "threshold", "threshold_", "zeros_like", "ones_like", "empty_like",
    "full_like", "rand_like", "randn_like", "requires_grad_", "cpu", "__neg__", "__pos__",
    "__abs__", "channel_shuffle", "native_channel_shuffle", "hard_sigmoid", "tanhshrink",
    "softshrink", "hardshrink", "gelu_", "fill_", "zero_",
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__", "gt", "lt", "ge", "le", "eq",
    "ne", "logical_not", "__invert__", "isnan", "isfinite", "bool", "long", "int",
})
"""Functions and methods that keep the shape of their one tensor argument."""

ARITHMETIC = {
    "add": "add", "add_": "add", "__add__": "add", "__radd__": "add", "__iadd__": "add",
    "sub": "subtract", "sub_": "subtract", "__sub__": "subtract", "__rsub__": "subtract",
    "__isub__": "subtract", "rsub": "subtract", "subtract": "subtract",
    "mul": "multiply", "mul_": "multiply", "__mul__": "multiply", "__rmul__": "multiply",
    "__imul__": "multiply", "multiply": "multiply",
    "div": "divide", "div_": "divide", "__truediv__": "divide", "__rtruediv__": "divide",
    "__itruediv__": "divide", "true_divide": "divide", "divide": "divide",
    "pow": "power", "__pow__": "power", "__rpow__": "power", "pow_": "power",
}
"""Element-wise arithmetic: two tensors merge; a tensor and a number keep the shape."""

REDUCE = frozenset({"mean", "sum", "amax", "amin", "max", "min", "prod", "std", "var",
                    "logsumexp", "norm", "any", "all", "argmax", "argmin"})
NORMS = frozenset({"layer_norm", "batch_norm", "group_norm", "instance_norm"})
CONVS = {"conv1d": "Conv1d", "conv2d": "Conv2d", "conv3d": "Conv3d"}


@functools.lru_cache(maxsize=1)
def _proxy_class() -> type:
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    class SymTensor(torch.Tensor):
        """A data-free tensor standing for node ``index`` of the network being built."""

        _cs_trace: Trace
        _cs_index: int

        @staticmethod
        def __new__(cls, trace: Trace, index: int, rank: int) -> Any:
            # no data: a meta tensor (any kernel that ran on it by mistake has nothing to read)
            t = torch.Tensor._make_subclass(cls, _meta_base(rank, torch.get_default_dtype()))
            t._cs_trace = trace
            t._cs_index = index
            return t

        def __init__(self, *args: Any) -> None:
            pass

        @classmethod
        def __torch_function__(cls, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            trace = _find_trace(args, kwargs or {})
            if trace is None or getattr(func, "__name__", "") == "__get__":
                with torch._C.DisableTorchFunctionSubclass():
                    return func(*args, **(kwargs or {}))
            return trace.function(func, list(args), dict(kwargs or {}))

        def __repr__(self) -> str:  # type: ignore[override]
            return f"SymTensor(node {self._cs_index})"

        @property
        def shape(self) -> SymSize:  # type: ignore[override]
            return self._cs_trace.size_of(self)

        def size(self, dim: Any = None) -> Any:
            sizes = self._cs_trace.size_of(self)
            return sizes if dim is None else sizes[dim]

        def dim(self) -> int:
            return len(self._cs_trace.shapes[self._cs_index]) + 1

        ndimension = dim

        @property
        def ndim(self) -> int:  # type: ignore[override]
            return self.dim()

        def numel(self) -> Any:
            return self.shape.numel()

        def __len__(self) -> int:
            return int(self.shape[0])

        def __bool__(self) -> bool:
            raise self._cs_trace.fail("the truth value of a tensor: control flow that "
                                      "depends on tensor values", "value_dependent")

        def __iter__(self) -> Iterator[Any]:
            raise self._cs_trace.fail("iterating over a tensor's batch axis",
                                      "value_dependent")

        __hash__ = torch.Tensor.__hash__

        # methods whose arguments may be SymInts: torch's C argument parser rejects those
        # before __torch_function__ is consulted, so they are routed here directly
        def view(self, *sizes: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.view, [self, *sizes], {})

        def reshape(self, *sizes: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.reshape, [self, *sizes], {})

        def unflatten(self, dim: Any, sizes: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.unflatten, [self, dim, sizes], {})

        def narrow(self, dim: Any, start: Any, length: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.narrow, [self, dim, start, length],
                                           {})

        def expand(self, *sizes: Any) -> Any:  # type: ignore[override]
            return self._cs_trace.function(torch.Tensor.expand, [self, *sizes], {})

        def __getitem__(self, key: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.__getitem__, [self, key], {})

    return SymTensor


@functools.lru_cache(maxsize=16)
def _meta_base(rank: int, dtype: Any) -> Any:
    """A data-free tensor of ``rank`` that every traced tensor of that rank views (making a
    view is a third of the cost of a new meta tensor, paid for every row)."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    return torch.empty((1,) * rank, device="meta", dtype=dtype)


def named_parameters(modules: Sequence[tuple[str, Any]]) -> dict[int, tuple[str, Any]]:
    """``{id(p): (name, p)}`` in the order and with the names of ``named_parameters()``
    (each parameter once, under its first name), from a ``named_modules()`` list."""
    out: dict[int, tuple[str, Any]] = {}
    for prefix, module in modules:
        for key, p in module._parameters.items():
            if p is not None and id(p) not in out:
                out[id(p)] = (_join(prefix, key), p)
    return out


def _find_trace(args: Any, kwargs: Any) -> Trace | None:
    cls: Any = _proxy_class()
    stack = [*args, *kwargs.values()]
    while stack:
        item = stack.pop()
        if isinstance(item, cls):
            trace: Trace = item._cs_trace
            return trace
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return None


def op_name(func: Any) -> str:
    """The name of a torch function or tensor method (``add``, ``__radd__``, ``interpolate``)."""
    return str(getattr(func, "__name__", ""))


def _location(frames: Sequence[traceback.FrameSummary]) -> str:
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    skip = (_HERE + os.sep, os.path.dirname(os.path.abspath(torch.__file__)) + os.sep)
    for frame in reversed(frames):
        path = os.path.abspath(frame.filename)
        if path.startswith(skip) or frame.filename.startswith("<frozen"):
            continue
        parts = path.split(os.sep)
        short = "/".join(parts[-3:])
        code = (frame.line or "").strip()
        return f"{short}:{frame.lineno}" + (f" `{code[:100]}`" if code else "")
    return "an unknown line"


class Trace:
    """One run of a forward on symbolic tensors, adding rows to a builder."""

    def __init__(self, b: _Builder, root: torch.nn.Module) -> None:
        self.b = b
        self.root = root
        # one walk of the module tree serves every lookup of the import (names, parameters,
        # training modes, what the forward left unused): each walk of a ResNet-50 costs
        # about as much as inferring ten of its layers
        self.modules: list[tuple[str, Any]] = list(root.named_modules())
        self.names = {id(m): n for n, m in self.modules}
        self.params = named_parameters(self.modules)
        self.param_names = {i: n for i, (n, _) in self.params.items()}
        self.counted: set[int] = set()
        self.shapes: dict[int, Shape] = {}
        self.inferred: dict[int, tuple[Layer, Inference]] = {}  # reused by the Network
        self.memo: dict[tuple[int, tuple[Shape, ...]], tuple[Layer, Inference]] = {}
        self.kinds: dict[type, str | None] = {}  # leaf_class per module class
        self.stack: list[tuple[str, Any]] = []
        self.calls: dict[str, list[tuple[int, ...]]] = {}
        self.functional = FunctionalLayers()
        self.result: list[int] = []  # the output nodes, once the forward has run
        self.check: Any = lambda doing: None  # the build clock, set by run_forward

    # --- errors -----------------------------------------------------------------------------
    def scope(self) -> tuple[str, Any]:
        return self.stack[-1] if self.stack else ("", self.root)

    def fail(self, message: str, code: str = "unsupported_operation",
             frames: Sequence[traceback.FrameSummary] | None = None) -> SpecError:
        qual, module = self.scope()
        where = _location(frames if frames is not None else traceback.extract_stack())
        kind = type(module).__name__
        return self.b.fail(f"in module {qual or '(root)'!r} ({kind}) at {where}: {message}",
                           qual, code)

    def decide(self, diff: QPoly, op: str, text: str) -> bool:
        """``diff <op> 0`` for every value of the symbols, or a refusal naming the line."""
        def nonneg(e: QPoly) -> bool:
            c = as_int(e)
            return c >= 0 if c is not None else bool(decide_nonneg(e).holds)

        minus = diff * QPoly.const(-1)
        one = QPoly.const(1)
        if op in ("==", "!="):
            if as_int(diff) == 0:
                return True
            if nonneg(diff - one) or nonneg(minus - one):
                return False
        elif op in (">=", "<"):
            if nonneg(diff):
                return op == ">="
            if nonneg(minus - one):
                return op == "<"
        else:  # ">" and "<="
            if nonneg(diff - one):
                return op == ">"
            if nonneg(minus):
                return op == "<="
        raise self.fail(f"the forward branches on a size: {text} holds for some input sizes "
                        "and not others, so the network's shapes would depend on which; "
                        "give concrete sizes for this axis", "branches_on_size")

    def floordiv(self, a: QPoly, d: QPoly) -> QPoly:
        if as_int(d) is not None and as_int(d) <= 0:  # type: ignore[operator]
            raise self.fail(f"floor division of a size by {to_sympy(d)}", "size_arithmetic")
        try:
            return floordiv(a, d)
        except NotQuasiPolynomial:
            raise self.fail(f"floor division by {to_sympy(d)}, which is not a number or a "
                            "product of symbols", "size_arithmetic") from None

    # --- tensors ----------------------------------------------------------------------------
    def tensor(self, index: int) -> Any:
        return _proxy_class()(self, index, len(self.shapes[index]) + 1)

    def size_of(self, t: Any) -> SymSize:
        items: list[Any] = [SymInt(QPoly.sym(BATCH_SYMBOL), self)]
        for s in self.shapes[t._cs_index]:
            c = as_int(s)
            if c is not None:
                items.append(c)
            elif isinstance(s, QPoly):
                items.append(SymInt(s, self))
            else:
                raise self.fail(f"a size that is a Min/Max ({to_sympy(s)}) is read from "
                                "x.shape", "size_not_concrete")
        return SymSize(items)

    def is_tensor(self, v: object) -> bool:
        return isinstance(v, _proxy_class())

    def add(self, layer: Layer | str, op: str, parents: Sequence[Any], *, name: str | None = None
            ) -> Any:
        """A row for ``layer`` applied to the proxies ``parents``; returns its proxy."""
        if isinstance(layer, str):
            raise self.fail(f"{op}: {layer}")
        indices = [p._cs_index for p in parents]
        if type(layer).infer_named is Layer.infer_named:  # (a merge is inferred every time)
            layer = self.b.layers.same(layer)  # so that its repeats are inferred once
        try:
            inference = self.infer(layer, indices)
        except LayerError as err:
            raise self.fail(f"{op}: {err}", err.code) from None
        row = name or _join(self.scope()[0], op)
        index = self.b.add_node(layer, row, indices)
        self.shapes[index] = inference.shape
        self.inferred[index] = (layer, inference)
        return self.tensor(index)

    def leaf_row(self, module: Any, qual: str, kind: str, x: Any,
                 output_size: Any = None) -> Any:
        index = self.b.leaf(module, qual, [x._cs_index], kind=kind)
        if output_size is not None:
            self.with_output_size(index, qual, kind, output_size)
        node = self.b.nodes[index]
        try:
            inference = self.infer(node.layer, [x._cs_index])
        except LayerError as err:
            raise self.fail(f"{kind} {qual!r}: {err}", err.code) from None
        self.shapes[index] = inference.shape
        self.inferred[index] = (node.layer, inference)
        for p in module_parameters(module):
            self.counted.add(id(p))
        return self.tensor(index)

    def infer(self, layer: Layer, indices: Sequence[int]) -> Inference:
        """``layer`` on the outputs of nodes ``indices``; once per layer and input shapes.

        A layer shared by modules of one configuration (:class:`ModuleLayers`) meets the
        same shapes again in every repeat of a block (12 of ResNet-50's 16 blocks): the
        inference is a function of the layer and its input shapes (canonical forms, equal
        exactly when equal as sizes), so the first one is reused.  Layers whose inference
        reads the inputs' names (merges name their branches) are inferred every time.  Each
        caller gets its own copy: the network drops the weights of a module's repeat calls.
        """
        shapes = tuple(self.shapes[i] for i in indices)
        # (only plain polynomials as keys: hashing a product kept factored would expand it)
        reuse = type(layer).infer_named is Layer.infer_named and all(
            type(s) is QPoly and s.factors is None for shape in shapes for s in shape)
        key = (id(layer), shapes)
        known = self.memo.get(key) if reuse else None
        if known is not None and known[0] is layer:
            return copied(known[1])
        inference = layer.infer_checked(shapes, [self.b.nodes[i].name for i in indices])
        if reuse:
            self.memo[key] = (layer, inference)  # (the layer kept alive: its id stays its own)
            return copied(inference)
        return inference

    def with_output_size(self, index: int, qual: str, kind: str, given: Any) -> None:
        """``ConvTranspose*d.forward(x, output_size=...)``: the size becomes a field of the
        row's layer (ints, or sizes read from another tensor such as ``skip.size()``), which
        checks PyTorch's range ``[m, m + stride - 1]`` exactly, symbolically if need be."""
        if not isinstance(given, (list, tuple)):
            given = [given]
        sizes: list[object] = []
        for v in given:
            if isinstance(v, SymInt):
                sizes.append(to_sympy(v.q))
            elif type(v) is int:
                sizes.append(v)
            else:
                raise self.fail(f"{kind} {qual!r} is called with output_size containing "
                                f"{type(v).__name__} {v!r:.40}; sizes must be integers or "
                                "sizes read from a tensor", "bad_output_size")
        node = self.b.nodes[index]
        try:
            layer = with_output_size(node.layer, sizes)
        except LayerError as err:
            raise self.fail(f"{kind} {qual!r}: {err}", err.code) from None
        self.b.nodes[index] = dataclasses.replace(node, layer=layer)

    # --- modules ----------------------------------------------------------------------------
    def leaf_input(self, qual: str, kind: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
        """The one traced tensor a known ``torch.nn`` module is called with.

        Extra arguments are refused here.  This is the hook for forward arguments that change
        a layer's output (``ConvTranspose2d.forward(x, output_size=...)``): such an argument
        would become a field of the row's layer, next to the module's attributes.
        """
        tensors = [a for a in args if self.is_tensor(a)]
        if len(tensors) != 1 or len(args) != 1 or kwargs:
            extra = f" and {sorted(kwargs)}" if kwargs else ""
            raise self.fail(f"module {qual!r} ({kind}) is called with {len(args)} "
                            f"arguments{extra}; convsym's layers take one tensor",
                            "wrong_input_count")
        return tensors[0]

    def call_module(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        qual = self.names.get(id(module))
        if qual is None:  # a module made inside forward
            qual = _join(self.scope()[0], type(module).__name__)
        cls = type(module)
        kind = self.kinds[cls] if cls in self.kinds else self.kinds.setdefault(
            cls, leaf_class(module))
        own = "forward" in module.__dict__  # set on the instance (timm's Partial_conv3)
        if own:
            kind = None  # its own forward is followed, whatever its class
        if _parametrized(module):
            raise self.b.fail(self.b.refusal(module, qual), qual, "unknown_module")
        if kind is not None and kind.startswith("ConvTranspose") and (
                "output_size" in kwargs or len(args) == 2):
            rest = {k: v for k, v in kwargs.items() if k != "output_size"}
            given = kwargs["output_size"] if "output_size" in kwargs else args[1]
            x = self.leaf_input(qual, kind, args[:1], rest)
            out = self.leaf_row(module, qual, kind, x, output_size=given)
        elif kind is not None:
            out = self.leaf_row(module, qual, kind, self.leaf_input(qual, kind, args, kwargs))
        elif not own and _torch_own_forward(module):
            raise self.b.fail(self.b.refusal(module, qual), qual, "unknown_module")
        else:
            self.stack.append((qual, module))
            try:
                out = module.forward(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - user code: any error, tagged, re-raised
                if not hasattr(err, "_cs_scope"):  # the innermost module, for the message
                    setattr(err, "_cs_scope", (qual, module))  # noqa: B010
                raise
            finally:
                self.stack.pop()
        self.calls.setdefault(qual, []).append(tuple(self.outputs(out, strict=False)))
        return out

    def outputs(self, value: Any, *, strict: bool = True) -> list[int]:
        """The nodes of the tensors in a forward's result (tensor, tuple, list or dict)."""
        if self.is_tensor(value):
            return [value._cs_index]
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            out: list[int] = []
            for v in value:
                out += self.outputs(v, strict=strict)
            return out
        if strict and value is not None:
            raise self.b.fail(f"the forward returns {type(value).__name__}, not tensors",
                              "", "unsupported_operation")
        return []

    # --- functions and methods --------------------------------------------------------------
    def function(self, func: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        name = op_name(func)
        self.check(f"the operation {name}")  # a forward that loops on tensors ends in time
        if name in PASS:
            return self.first_tensor(name, args, kwargs)
        if name in ARITHMETIC:
            return self.arithmetic(name, ARITHMETIC[name], args, kwargs)
        handler = getattr(self, f"op_{name.strip('_')}", None)
        if handler is not None:
            return handler(name, args, kwargs)
        tensors = [a for a in args if self.is_tensor(a)]
        if tensors and self.is_tensor(args[0]):
            made = self.functional.from_function(func, _plain(args[1:]), _plain(kwargs))
            if made is not None:
                return self.add(made, name.strip("_"), [args[0]])
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        shown = torch.overrides.resolve_name(func) or name
        raise self.fail(f"{shown} is not an operation convsym follows", "unsupported_operation")

    def first_tensor(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        for a in [*args, *kwargs.values()]:
            if self.is_tensor(a):
                return a
        raise self.fail(f"{name} without a tensor argument")

    def operand(self, value: Any) -> Any:
        """A real tensor met in arithmetic: a row when it is a parameter or broadcasts."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        if not isinstance(value, torch.Tensor) or self.is_tensor(value):
            return value
        owner = _parameter_of(value)
        fresh = owner is not None and id(owner) not in self.counted
        if value.numel() == 1 and not fresh and value.dim() <= 1:
            return 1.0  # a scalar tensor: keeps the shape
        return value

    def arithmetic(self, name: str, kind: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        operands = [self.operand(a) for a in [*args, kwargs.get("other")]
                    if a is not None]
        tensors = [a for a in operands if self.is_tensor(a)]
        real = [a for a in operands if isinstance(a, torch.Tensor) and not self.is_tensor(a)]
        if len(tensors) == 2 and not real:
            if kind == "power":
                raise self.fail("a tensor raised to a tensor power")
            return self.add(merge_layer(kind), kind if kind != "subtract" else "sub",
                            tensors)
        if len(tensors) == 1 and not real:
            return tensors[0]
        if len(tensors) == 1 and len(real) == 1:
            value = real[0]
            owner = _parameter_of(value)  # gamma, or gamma.view(1, -1, 1, 1)
            fresh = owner is not None and id(owner) not in self.counted
            params = int(owner.numel()) if fresh else 0
            row = self.param_names.get(id(owner)) if fresh else None
            if fresh:
                self.counted.add(id(owner))
            layer = TensorOperand(kind, tuple(int(s) for s in value.shape), params)
            return self.add(layer, kind, tensors, name=row)
        raise self.fail(f"{name} on {len(tensors)} traced tensors and {len(real)} other "
                        "tensors")

    # tensor methods and functions by name (``op_<name>``) -----------------------------------
    def op_addcmul(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``input + value * tensor1 * tensor2`` (``addcdiv``: ``/``), as the two steps it is
        (ConvNeXt-V2's global response norm: ``addcmul(bias, weight, x * n)``)."""
        if name.endswith("_") and not name.startswith("__"):
            raise self.fail(f"in-place {name}: its result must keep the input's shape, which "
                            "convsym does not check; write torch.addcmul(...)")
        names = ("input", "tensor1", "tensor2")
        given = dict(zip(names, args))
        given.update({k: v for k, v in kwargs.items() if k in names})
        if len(given) != 3:
            raise self.fail(f"{name} without input, tensor1 and tensor2")
        kind = "divide" if name.strip("_").endswith("div") else "multiply"
        inner = self.arithmetic(name, kind, [given["tensor1"], given["tensor2"]], {})
        return self.arithmetic(name, "add", [given["input"], inner], {})

    op_addcdiv = op_addcmul

    def op_matmul(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``a @ b``, ``torch.matmul``, ``bmm`` of two traced tensors (attention scores)."""
        a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("mat2"))
        if name.strip("_") == "rmatmul":
            a, b = b, a
        if not (self.is_tensor(a) and self.is_tensor(b)):
            raise self.fail(f"{name} with a tensor that is not traced (a parameter or a "
                            "constant); convsym follows products of two traced tensors")
        return self.add(MatMul(), "matmul", [a, b])

    op_bmm = op_rmatmul = op_matmul

    def op_scaled_dot_product_attention(self, name: str, args: list[Any],
                                        kwargs: dict[str, Any]) -> Any:
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale")
        given = dict(zip(names, args))
        given.update(kwargs)
        if given.get("attn_mask") is not None or given.get("enable_gqa"):
            raise self.fail(f"{name} with an attention mask or grouped heads (enable_gqa); "
                            "convsym follows plain attention")
        qkv = [given.get(n) for n in names[:3]]
        if not all(self.is_tensor(t) for t in qkv):
            raise self.fail(f"{name} with a query, key or value that is not traced")
        return self.add(ScaledDotProductAttention(), "scaled_dot_product_attention", qkv)

    def _dim(self, args: list[Any], kwargs: dict[str, Any], pos: int, default: Any,
             key: str = "dim") -> Any:
        if key in kwargs:
            return kwargs[key]
        return args[pos] if len(args) > pos else default

    def op_cat(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        items = list(args[0] if args else kwargs.get("tensors", ()))
        dim = self._dim(args, kwargs, 1, 0)
        if not all(self.is_tensor(t) for t in items):
            raise self.fail(f"{name} of traced tensors with other tensors")
        if isinstance(dim, int) and dim < 0:
            dim += self.rank(items[0])
        if dim == 0:
            raise self.fail(f"{name} along the batch axis (dim 0)")
        if len(items) == 1:
            return items[0]
        return self.add(merge_layer("concatenate", dim=dim), "cat", items)

    op_concat = op_concatenate = op_cat

    def op_stack(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        items = list(args[0] if args else kwargs.get("tensors", ()))
        if not all(self.is_tensor(t) for t in items):
            raise self.fail(f"{name} of traced tensors with other tensors")
        return self.add(Stack(self._dim(args, kwargs, 1, 0)), "stack", items)

    def rank(self, t: Any) -> int:
        return len(self.shapes[t._cs_index]) + 1

    def op_flatten(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        rank = self.rank(x)
        start = self._dim(args, kwargs, 1, 0, "start_dim")
        end = self._dim(args, kwargs, 2, -1, "end_dim")
        if start % rank == 0:
            raise self.fail("flattening the batch axis (start_dim=0); write "
                            "torch.flatten(x, 1)")
        if start % rank == end % rank:
            return x
        return self.add(Flatten(start, end), "flatten", [x])

    def op_unflatten(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        dim = self._dim(args, kwargs, 1, None)
        sizes = self._dim(args, kwargs, 2, None, "sizes")
        return self.add(Unflatten(dim, tuple(self.size_value(s) for s in sizes)), "unflatten",
                        [args[0]])

    def size_value(self, v: Any) -> Any:
        """A size argument for a layer field: an int or a SymPy expression (never the batch)."""
        if isinstance(v, SymInt):
            if BATCH_SYMBOL in v.q.free_symbols():
                raise self.fail(f"a size computed from the batch size ({to_sympy(v.q)}) "
                                "where convsym needs a per-sample size", "batch_size")
            return to_sympy(v.q)
        if isinstance(v, bool) or not isinstance(v, int):
            # why: PyTorch is optional (the frameworks extra) and heavy
            import torch

            if isinstance(v, torch.Tensor):
                raise self.fail("a size given as a tensor", "size_not_concrete")
            return v
        return v

    def op_view(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        sizes = list(args[1:]) or list(kwargs.get("shape", kwargs.get("size", ())))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if len(sizes) == 1 and self.is_tensor(sizes[0]):  # view_as / reshape_as
            sizes = list(sizes[0].shape)
        if not sizes:
            raise self.fail(f"{name} without sizes")
        head, rest = sizes[0], sizes[1:]
        batch_kept = isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)
        if not batch_kept and not (type(head) is int and head == -1 and -1 not in rest):
            raise self.fail(f"{name} whose first size is {head!r}, not the batch size "
                            "(x.size(0)) or -1: it changes the batch axis, which convsym "
                            "shapes do not have", "batch_size")
        if not rest:
            raise self.fail(f"{name} to one axis: it would flatten the batch axis")
        target = tuple(self.size_value(s) for s in rest)
        return self.add(Reshape(target), "view" if name.startswith("view") else "reshape",
                        [x])

    op_reshape = op_view_as = op_reshape_as = op_view

    def op_permute(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dims = list(args[1:]) or list(kwargs.get("dims", ()))
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = list(dims[0])
        rank = self.rank(x)
        dims = [d % rank if isinstance(d, int) else d for d in dims]
        if dims == list(range(rank)):
            return x
        return self.add(Permute(tuple(dims)), "permute", [x])

    def op_transpose(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        rank = self.rank(x)
        a = self._dim(args, kwargs, 1, None, "dim0")
        b = self._dim(args, kwargs, 2, None, "dim1")
        if not isinstance(a, int) or not isinstance(b, int):
            raise self.fail(f"{name} with non-integer dims")
        dims = list(range(rank))
        dims[a % rank], dims[b % rank] = dims[b % rank], dims[a % rank]
        if a % rank == b % rank:
            return x
        return self.add(Permute(tuple(dims)), "transpose", [x])

    op_swapaxes = op_swapdims = op_transpose

    def op_getitem(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x, key = args[0], args[1]
        items = list(key) if isinstance(key, tuple) else [key]
        rank = self.rank(x)
        used = sum(1 for k in items if k is not None and k is not Ellipsis)
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (rank - used)
        dim = 0
        out = x
        for k in items:
            if k is None:
                out = self.add(Unsqueeze(dim), "getitem", [out])
                dim += 1
            elif isinstance(k, slice):
                if not (_is(k.start, None, 0) and k.stop is None and _is(k.step, None, 1)):
                    if dim == 0:
                        raise self.fail("slicing the batch axis (x[a:b])", "batch_size")
                    layer = Slice(dim, self.size_value(k.start), self.size_value(k.stop),
                                  1 if k.step is None else self.size_value(k.step))
                    out = self.add(layer, "getitem", [out])
                dim += 1
            elif type(k) is int:
                if dim == 0:
                    raise self.fail("indexing the batch axis (x[i]) selects one sample",
                                    "batch_size")
                out = self.add(Select(dim, k), "getitem", [out])
            else:
                raise self.fail(f"indexing with {type(k).__name__} (only ints, slices, None "
                                "and ... are followed)")
        return out

    def op_expand(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        sizes = list(args[1:]) or list(kwargs.get("size", ()))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if len(sizes) == 1 and self.is_tensor(sizes[0]):  # expand_as
            sizes = list(sizes[0].shape)
        if len(sizes) != self.rank(x):
            raise self.fail(f"{name} to {len(sizes)} axes of a rank-{self.rank(x)} tensor "
                            "(new leading axes would come before the batch)")
        head = sizes[0]
        if not (type(head) is int and head == -1) and not (
                isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)):
            raise self.fail(f"{name} whose first size is not -1 or the batch size",
                            "batch_size")
        target = tuple(self.size_value(s) for s in sizes[1:])
        return self.add(Expand(target), "expand", [x])

    op_expand_as = op_expand

    def op_select(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return self.add(Select(args[1], args[2]), "select", [args[0]])

    def op_narrow(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x, dim, start, length = args[:4]
        stop = start + length
        return self.add(Slice(dim, self.size_value(start), self.size_value(stop)), "narrow",
                        [x])

    def op_unsqueeze(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        dim = self._dim(args, kwargs, 1, None)
        rank = self.rank(args[0])
        return self.add(Unsqueeze(dim % (rank + 1)), "unsqueeze", [args[0]])

    def op_squeeze(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dims = self._dim(args, kwargs, 1, None)
        if dims is None:
            raise self.fail("squeeze() without dims (it would also drop a batch of size 1)")
        rank = self.rank(x)
        out = x
        for d in sorted((d % rank for d in (dims if isinstance(dims, (list, tuple)) else
                                            [dims])), reverse=True):
            if d == 0:
                raise self.fail("squeezing the batch axis", "batch_size")
            size = self.shapes[out._cs_index][d - 1]
            if as_int(size) == 1:
                out = self.add(Select(d, 0), "squeeze", [out])
            elif as_int(size) is None:
                raise self.fail(f"squeeze of dim {d}, whose size {to_sympy(size)} may or may "
                                "not be 1", "branches_on_size")
        return out

    def op_split(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        how = self._dim(args, kwargs, 1, None, "split_size_or_sections")
        if how is None:
            how = kwargs.get("split_size")
        dim = self._dim(args, kwargs, 2, 0)
        n = self.concrete_axis(x, dim, name)
        if isinstance(how, int):
            bounds = [(i, min(i + how, n)) for i in range(0, n, how)]
        else:
            sizes = [int(s) for s in how]
            if sum(sizes) != n:
                raise self.fail(f"{name} into sizes {sizes}, which add up to {sum(sizes)}, "
                                f"not the axis size {n}")
            starts = [sum(sizes[:i]) for i in range(len(sizes))]
            bounds = [(s, s + size) for s, size in zip(starts, sizes)]
        return self.pieces(x, dim, bounds, "split")

    def op_chunk(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        chunks = self._dim(args, kwargs, 1, None, "chunks")
        dim = self._dim(args, kwargs, 2, 0)
        n = self.concrete_axis(x, dim, name)
        size = -(-n // chunks)
        bounds = [(i, min(i + size, n)) for i in range(0, n, size)]
        return self.pieces(x, dim, bounds, "chunk")

    def op_unbind(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dim = self._dim(args, kwargs, 1, 0)
        n = self.concrete_axis(x, dim, name)
        return tuple(self.add(Select(dim, i), "unbind", [x]) for i in range(n))

    def concrete_axis(self, x: Any, dim: Any, name: str) -> int:
        rank = self.rank(x)
        if not isinstance(dim, int) or dim % rank == 0:
            raise self.fail(f"{name} along dim {dim!r} (the batch axis or not an integer)",
                            "batch_size")
        size = self.shapes[x._cs_index][dim % rank - 1]
        n = as_int(size)
        if n is None:
            raise self.fail(f"{name} of an axis of symbolic size {to_sympy(size)}: the number "
                            "of pieces depends on it", "size_not_concrete")
        return n

    def pieces(self, x: Any, dim: int, bounds: list[tuple[int, int]], op: str) -> Any:
        rank = self.rank(x)
        return tuple(self.add(Slice(dim % rank, a, b), op, [x]) for a, b in bounds)

    def reduce(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dim = self._dim(args, kwargs, 1, None)
        keep = bool(self._dim(args, kwargs, 2, False, "keepdim"))
        if self.is_tensor(dim) or (dim is not None and not isinstance(dim, (int, list, tuple))):
            raise self.fail(f"{name} of two tensors (element-wise {name}imum)")
        if dim is None:
            raise self.fail(f"{name} over every axis, the batch included", "batch_size")
        dims = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
        out = self.add(Reduce(name, dims, keep), name, [x])
        if name in ("max", "min") and not isinstance(dim, (list, tuple)):
            return _ValuesIndices(out, out)
        return out

    op_mean = op_sum = op_amax = op_amin = op_max = op_min = op_prod = op_std = op_var = reduce
    op_logsumexp = op_norm = op_any = op_all = op_argmax = op_argmin = reduce

    def op_interpolate(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
                 "antialias")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        size = given.get("size")
        if size is not None:
            size = tuple(self.size_value(s) for s in size) if isinstance(size, (list, tuple)) \
                else self.size_value(size)
        scale_factor = given.get("scale_factor")
        if isinstance(scale_factor, list):
            scale_factor = tuple(scale_factor)
        layer = _build(lambda: Upsample(size=size, scale_factor=scale_factor,
                                        mode=given.get("mode", "nearest"),
                                        align_corners=given.get("align_corners")))
        return self.add(layer, "interpolate", [args[0]])

    op_upsample = op_interpolate

    def op_pad(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        pad = self._dim(args, kwargs, 1, None, "pad")
        mode = self._dim(args, kwargs, 2, "constant", "mode")
        value = self._dim(args, kwargs, 3, None, "value")
        spatial = self.rank(x) - 2
        stem = {"constant": "ConstantPad" if value else "ZeroPad", "reflect": "ReflectionPad",
                "replicate": "ReplicationPad", "circular": "CircularPad"}.get(mode)
        cls: Any = T.LAYERS.get(f"{stem}{spatial}d")
        if cls is None:
            raise self.fail(f"F.pad with mode={mode!r} on a rank-{spatial + 2} tensor")
        if mode != "constant" and len(pad) != 2 * spatial:
            raise self.fail(f"F.pad with mode={mode!r} takes {2 * spatial} sizes for a "
                            f"rank-{spatial + 2} input (PyTorch's rule), not {len(pad)}")
        padding = tuple(self.size_value(p) for p in pad)
        layer = _build(lambda: cls(padding, value) if stem == "ConstantPad" else cls(padding))
        return self.add(layer, "pad", [x])

    def weights(self, tensors: Sequence[Any], what: str, *, computed: bool = False
                ) -> int | None:
        """Parameters that a functional layer counts itself: each must be read here first.

        With ``computed`` (a convolution or linear map), a weight that is not a parameter is
        accepted: one computed in forward from buffers (timm's ``BlurPool2d``) or from
        parameters (``StdConv2d`` standardises its weight, ``ScaledStdConv2d`` also scales it
        by a gain).  The parameters it was computed from are read off autograd's record of
        the computation (the trace runs with gradients on, see :func:`run_forward`); the row
        holds those no row has counted yet and the parameters passed as they are (the bias),
        and their number is returned; else None (the layer counts its own weights).
        """
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        plain = True
        total = 0
        for t in tensors:
            if t is None:
                continue
            if not isinstance(t, torch.nn.Parameter):
                if computed and isinstance(t, torch.Tensor) and not self.is_tensor(t):
                    plain = False
                    total += self.computed_from(t, what)
                    continue
                raise self.fail(f"{what} with a weight that is not a parameter of the model "
                                "(computed in forward); convsym cannot count it")
            if id(t) in self.counted:
                raise self.fail(f"{what} with a parameter already used elsewhere")
            self.counted.add(id(t))
            total += int(t.numel())
        return None if plain else total

    def computed_from(self, t: Any, what: str) -> int:
        """The parameters (not counted yet) a weight computed in forward was made from.

        Only the running module's own parameters may be its sources (another module's
        could be counted again when that module runs); and when autograd recorded nothing
        (``torch.inference_mode``; ``detach`` or ``.data`` of a parameter) which parameters
        the weight uses is unknown: both are refused rather than counted wrongly.
        """
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        module = self.stack[-1][1] if self.stack else self.b.root
        own = {id(p) for p in module._parameters.values() if p is not None}
        found = self.sources(t, what)
        if any(id(p) not in own for p in found):
            raise self.fail(f"{what} with a weight computed from parameters of another "
                            "module; convsym counts a computed weight's parameters only "
                            "from the module computing it")
        if not found and (torch.is_inference_mode_enabled() or _shares_storage(t, module)):
            raise self.fail(f"{what} with a weight computed in forward whose parameters "
                            "autograd did not record (inference_mode, no_grad, detach or "
                            "integer parameters); convsym cannot count them")
        total = 0
        for p in found:
            if id(p) not in self.counted:
                self.counted.add(id(p))
                total += int(p.numel())
        return total

    def sources(self, t: Any, what: str) -> list[Any]:
        """The parameters a tensor computed in forward was computed from (autograd's leaves)."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        found: list[Any] = []
        todo = [t.grad_fn]
        seen: set[int] = set()
        while todo:
            fn = todo.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            if len(seen) > _MAX_GRAPH:
                raise self.fail(f"{what} with a weight computed in more than {_MAX_GRAPH} "
                                "steps; convsym stops following it", "budget_exceeded")
            leaf = getattr(fn, "variable", None)
            if isinstance(leaf, torch.nn.Parameter):
                found.append(leaf)
            todo.extend(f for f, _ in fn.next_functions)
        return found

    def op_layer_norm(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("normalized_shape", "weight", "bias", "eps")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        weight, bias = given.get("weight"), given.get("bias")
        shape = given["normalized_shape"]
        shape = tuple(self.size_value(s) for s in (shape if isinstance(shape, (list, tuple))
                                                    else (shape,)))
        self.weights([weight, bias], name)
        if weight is None and bias is not None:
            raise self.fail("layer_norm with a bias but no weight")
        layer = LayerNorm(shape, given.get("eps", 1e-5), weight is not None, bias is not None)
        return self.add(layer, "layer_norm", [args[0]])

    def op_batch_norm(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        weight, bias = given.get("weight"), given.get("bias")
        if (weight is None) != (bias is None):
            raise self.fail("batch_norm with only one of weight and bias")
        self.weights([weight, bias], name)
        x = args[0]
        rank = self.rank(x)
        channels = self.shapes[x._cs_index][0]
        cls: Any = T.LAYERS[f"BatchNorm{max(rank - 2, 1)}d"]
        layer = _build(lambda: cls(to_sympy(channels), affine=weight is not None,
                                   track_running_stats=given.get("running_mean") is not None))
        return self.add(layer, "batch_norm", [x])

    def op_group_norm(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("num_groups", "weight", "bias", "eps")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        weight, bias = given.get("weight"), given.get("bias")
        if (weight is None) != (bias is None):
            raise self.fail("group_norm with only one of weight and bias")
        self.weights([weight, bias], name)
        x = args[0]
        channels = self.shapes[x._cs_index][0]
        layer = _build(lambda: GroupNorm(given["num_groups"], to_sympy(channels),
                                         given.get("eps", 1e-5), weight is not None))
        return self.add(layer, "group_norm", [x])

    def conv(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("weight", "bias", "stride", "padding", "dilation", "groups")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        weight, bias = given["weight"], given.get("bias")
        counted = self.weights([weight, bias], name, computed=True)
        groups = given.get("groups", 1)
        w = tuple(int(s) for s in weight.shape)
        padding = given.get("padding", 0)
        if isinstance(padding, list):
            padding = tuple(padding)
        cls: Any = T.LAYERS[CONVS[name]]
        layer = _build(lambda: cls(w[1] * groups, w[0], w[2:], _tuple(given.get("stride", 1)),
                                   padding, _tuple(given.get("dilation", 1)), groups,
                                   bias is not None))
        return self.add(_counting(layer, counted), name, [args[0]])

    op_conv1d = op_conv2d = op_conv3d = conv

    def op_linear(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        weight = self._dim(args, kwargs, 1, None, "weight")
        bias = self._dim(args, kwargs, 2, None, "bias")
        counted = self.weights([weight, bias], name, computed=True)
        layer = _build(lambda: Linear(int(weight.shape[1]), int(weight.shape[0]),
                                      bias is not None))
        return self.add(_counting(layer, counted), "linear", [args[0]])

    def op_setitem(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        raise self.fail("writing into a tensor (x[...] = y)")


def _shares_storage(t: Any, module: Any) -> bool:
    """True when ``t`` views a parameter of ``module`` (``w.detach()``, ``w.data``)."""
    try:
        ptr = t.untyped_storage().data_ptr()
        return any(p.untyped_storage().data_ptr() == ptr for p in module.parameters())
    except (RuntimeError, NotImplementedError):  # no storage (a meta or sparse tensor)
        return False


def _counting(layer: Layer | str, counted: int | None) -> Layer | str:
    """``layer`` holding ``counted`` parameters instead of its own weights (see
    :meth:`Trace.weights`), or as it is (or the refusal text) when None."""
    if counted is None or isinstance(layer, str):
        return layer
    return applied(layer, counted=counted)


class _ValuesIndices(NamedTuple):
    """``x.max(dim)``: values and indices, of one shape."""

    values: Any
    indices: Any


def _parameter_of(value: Any) -> Any:
    """The parameter a tensor is, or is a view of (``gamma.view(1, -1, 1, 1)``), else None."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    while value is not None and not isinstance(value, torch.nn.Parameter):
        value = getattr(value, "_base", None)
    return value


def _is(v: Any, *plain: object) -> bool:
    """``v`` is one of the given None/int values (never compares a SymInt)."""
    return any(v is p if p is None else type(v) is int and v == p for p in plain)


def _tuple(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    return v


def _build(make: Any) -> Any:
    """A layer, or the reason it cannot be made (a string, reported with the line)."""
    try:
        return make()
    except LayerError as err:
        return str(err)


def _parametrized(module: Any) -> bool:
    """``torch.nn.utils.parametrize.is_parametrized``, asked only of a module that has a
    ``parametrizations`` entry (torch's getattr of a missing name raises inside, slowly)."""
    if "parametrizations" not in module._modules and "parametrizations" not in \
            module.__dict__ and not hasattr(type(module), "parametrizations"):
        return False
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch.nn.utils.parametrize as parametrize

    return bool(parametrize.is_parametrized(module))


def _torch_own_forward(module: Any) -> bool:
    """True when the module's ``forward`` is torch.nn's own (not a container's)."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    forward = type(module).forward
    if forward is torch.nn.Sequential.forward:
        return False
    return str(getattr(forward, "__module__", "")).startswith("torch.")


def _call_hook(trace: Trace) -> str:
    """The ``torch.nn.Module`` attribute that sees every ``module(x)`` of the forward.

    ``__call__`` is torch's ``_wrapped_call_impl``, which calls ``self._call_impl`` unless the
    module was compiled (``module.compile()``).  Replacing ``_call_impl`` costs a few hundred
    microseconds; replacing ``__call__`` (a special method: Python updates the call slot of
    each of the thousand-odd ``Module`` subclasses that torchvision and timm define) about
    2 ms, twice per import.  ``__call__`` is still used when ``__call__`` is not that
    wrapper (another torch version), or a module of the tree was compiled or has its own
    ``_call_impl`` (its class's or its own).
    """
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    module = torch.nn.Module
    if getattr(module, "_wrapped_call_impl", None) is not module.__call__ or \
            getattr(module, "_compiled_call_impl", 0) is not None:
        return "__call__"
    own = module._call_impl
    classes = {type(m) for _, m in trace.modules}
    if any(c._call_impl is not own for c in classes) or any(
            m.__dict__.get("_compiled_call_impl") is not None or "_call_impl" in m.__dict__
            for _, m in trace.modules):
        return "__call__"  # (a class or module with its own _call_impl, or compiled)
    return "_call_impl"


@contextlib.contextmanager
def _intercepting(trace: Trace) -> Iterator[None]:
    """Route ``module(x)`` on traced tensors to the trace; eval mode; both undone after."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    hook = _call_hook(trace)
    original = getattr(torch.nn.Module, hook)
    modes = [(m, m.training) for _, m in trace.modules]

    def call(module: Any, *args: Any, **kwargs: Any) -> Any:
        if _find_trace(args, kwargs) is trace:
            return trace.call_module(module, args, kwargs)
        return original(module, *args, **kwargs)

    # torch functions whose C argument parser rejects a SymInt argument before it consults
    # __torch_function__ (the tensor-method forms are routed by the SymTensor class)
    routed = [(torch, "reshape"), (torch, "narrow"), (torch.nn.functional, "pad")]
    saved = [(mod, name, getattr(mod, name)) for mod, name in routed]

    def route(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _find_trace(args, kwargs) is trace:
                return trace.function(fn, list(args), dict(kwargs))
            return fn(*args, **kwargs)
        return wrapper

    setattr(torch.nn.Module, hook, call)
    for mod, name, fn in saved:
        setattr(mod, name, route(fn))
    try:
        # (eval() sets every module's flag, about 10 us each: only when one is training)
        if any(mode for _, mode in modes):
            trace.root.eval()
        yield
    finally:
        setattr(torch.nn.Module, hook, original)
        for mod, name, fn in saved:
            setattr(mod, name, fn)
        for m, mode in modes:
            if m.training != mode:
                m.training = mode


_PASS_THROUGH = (SpecError, BudgetExceeded, InternalError, MemoryError)
"""Errors out of a forward that are not the forward's failure: convsym's own refusals,
budgets, bugs, and running out of memory."""


_MAX_GRAPH = 10_000
"""Steps of autograd's record followed back from a weight computed in forward."""


@contextlib.contextmanager
def _recording(root: Any) -> Iterator[None]:
    """Gradients on, and every parameter requiring one, while the forward runs: autograd then
    records what a weight computed in forward is made of (:meth:`Trace.sources`).  Frozen
    parameters get their flag back afterwards."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    frozen = [p for p in root.parameters()  # (only float tensors can require a gradient)
              if not p.requires_grad and (p.is_floating_point() or p.is_complex())]
    try:
        for p in frozen:
            p.requires_grad_(True)
        with torch.enable_grad():
            yield
    finally:
        for p in frozen:
            p.requires_grad_(False)


def run_forward(b: _Builder, root: Any, parents: list[int], shapes: list[Shape]) -> Trace:
    """Run ``root``'s forward on traced tensors for the input nodes ``parents``."""
    trace = Trace(b, root)
    for index, shape in zip(parents, shapes):
        trace.shapes[index] = shape
    inputs = [trace.tensor(i) for i in parents]
    with _intercepting(trace), _recording(root), building() as check:
        trace.check = check
        try:
            result = trace.call_module(root, tuple(inputs), {})
        except _PASS_THROUGH:
            raise
        except Exception as err:  # noqa: BLE001 - the user's forward may raise anything
            frames = traceback.extract_tb(err.__traceback__)
            trace.stack.append(getattr(err, "_cs_scope", ("", root)))
            first = str(err).splitlines()[0] if str(err) else ""
            raise trace.fail(f"the forward failed on symbolic tensors ({type(err).__name__}: "
                             f"{first[:200]})", "untraceable", frames) from None
    trace.result = trace.outputs(result)
    if not trace.result:
        raise b.fail("the forward returns no tensor", "", "unsupported_operation")
    return trace


__all__ = ["BATCH_SYMBOL", "SymInt", "SymSize", "Trace", "named_parameters", "run_forward"]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
