"""Follow a module's ``forward`` by running it on tensors that carry convsym's symbolic sizes.

The model's own Python runs, in eval mode, on a ``torch.Tensor`` subclass with no data:
every torch function and tensor method it calls reaches :meth:`Trace.function` through
``__torch_function__``, and becomes a row (a convolution, ``x.permute``, ``torch.cat``), or
nothing when it keeps the shape (``F.relu``, ``x * 0.5``, dropout and ``stochastic_depth``,
which are identities in eval mode).  ``x.shape`` holds plain ints where a size is a number
and :class:`SymInt` where it is symbolic, so shape arithmetic (``x.shape[-2:]``,
``(H - h) // 2``) is exact; a comparison on sizes is decided for every value of the symbols,
or required (``assert``, ``if ...: raise``) or followed (an order in an ``if``) with its test
kept as a condition of the network (:meth:`Trace.truth`), or refused with the source line that
branches on it.  Submodules are intercepted at call
time: ``torch.nn`` layers convsym knows are rows named by their qualified name, anything
else (``torch.nn`` subclasses with their own ``forward`` included) is followed into.

This module is the tracer's core: the tensor subclass, the interception of module calls and
torch functions, rows and their shapes.  The handlers of each kind of op are mixed into
:class:`Trace` from their own modules: :mod:`~convsym.importers.torch_views` (reshaping),
:mod:`~convsym.importers.torch_indexing`, :mod:`~convsym.importers.torch_arith` (element-wise
arithmetic), :mod:`~convsym.importers.torch_attention`, :mod:`~convsym.importers.torch_weights`
(functional layers and their parameters), :mod:`~convsym.importers.torch_fold` (windows folded
into the batch) and :mod:`~convsym.importers.torch_branch` (tests of sizes).

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
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from convsym.budget import building
from convsym.errors import BudgetExceeded, InternalError, LayerError, SpecError
from convsym.importers.common import applied
from convsym.importers.torch_args import plain_values, spread
from convsym.importers.torch_arith import ARITHMETIC, BROADCASTING, IN_PLACE_OPS, ArithmeticOps
from convsym.importers.torch_attention import AttentionOps
from convsym.importers.torch_branch import SizeTests
from convsym.importers.torch_factory import FACTORIES, FactoryOps
from convsym.importers.torch_fixed import FixedTensor
from convsym.importers.torch_fold import FOLD_OK, FoldOps
from convsym.importers.torch_frames import location
from convsym.importers.torch_indexing import IndexOps
from convsym.importers.torch_ops import FunctionalLayers
from convsym.importers.torch_sizes import BATCH_SYMBOL, SymInt, SymSize
from convsym.importers.torch_table import leaf_class, module_parameters
from convsym.importers.torch_views import FOLLOW_MOVED, ViewOps
from convsym.importers.torch_weights import WeightOps
from convsym.intdiv import QPoly, as_int, to_sympy
from convsym.layers.base import Layer
from convsym.layers.sharing import copied
from convsym.layers.torch_conv import with_output_size

if TYPE_CHECKING:
    import torch

    from convsym.importers.torch_module import _Builder
    from convsym.layers.base import Inference, Shape

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
    "softshrink", "hardshrink", "gelu_", "fill_", "zero_", "roll", "flip",
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__", "gt", "lt", "ge", "le", "eq",
    "ne", "logical_not", "__invert__", "isnan", "isfinite", "bool", "long", "int",
})
"""Functions and methods that keep the shape of their one tensor argument."""


REDUCE = frozenset({"mean", "sum", "amax", "amin", "max", "min", "prod", "std", "var",
                    "logsumexp", "norm", "any", "all", "argmax", "argmin"})


@functools.lru_cache(maxsize=1)
def _proxy_class() -> type:
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    class SymTensor(torch.Tensor):
        """A data-free tensor standing for node ``index`` of the network being built."""

        _cs_trace: Trace
        _cs_index: int
        _cs_moved: tuple[int, tuple[int, ...]] | None = None  # see Trace.permuted
        _cs_folded: bool = False  # see Trace.folded

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
            if trace is not None and getattr(func, "__name__", "") == "__get__":
                return trace.attribute(func, args)
            if trace is None:
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
            return self._cs_trace.rank(self)

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
            if self._cs_moved is not None:  # q, k, v = qkv after a permute moved the batch
                return iter(self._cs_trace.function(torch.Tensor.unbind, [self], {}))
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

        def repeat(self, *sizes: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.repeat, [self, *sizes], {})

        def __getitem__(self, key: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.__getitem__, [self, key], {})

        def repeat_interleave(self, *args: Any, **kwargs: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.repeat_interleave, [self, *args],
                                           kwargs)

        def new_zeros(self, *sizes: Any, **kwargs: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.new_zeros, [self, *sizes], kwargs)

        def new_ones(self, *sizes: Any, **kwargs: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.new_ones, [self, *sizes], kwargs)

        def new_empty(self, *sizes: Any, **kwargs: Any) -> Any:
            return self._cs_trace.function(torch.Tensor.new_empty, [self, *sizes], kwargs)

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
        if isinstance(item, SymInt):  # cls_token.expand(x.shape[0], -1, -1)
            sized: Trace = item.trace  # type: ignore[assignment]
            return sized
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return None


def op_name(func: Any) -> str:
    """The name of a torch function or tensor method (``add``, ``__radd__``, ``interpolate``)."""
    return str(getattr(func, "__name__", ""))


class Trace(SizeTests, FoldOps, ArithmeticOps, AttentionOps, ViewOps, IndexOps, WeightOps,
            FactoryOps):
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
        # as PyTorch reports them (read before the trace turns every flag on: _recording)
        self.frozen = {i for i, (_, p) in self.params.items() if not p.requires_grad}
        # modules that computed a weight in forward, with the line: autograd's record may
        # miss some of its sources (torch.no_grad, detach), checked once the forward has run
        self.computing: dict[int, tuple[str, Any, list[traceback.FrameSummary]]] = {}
        self.buffers = {id(b) for _, m in self.modules for b in m._buffers.values()
                        if b is not None}
        self.storages: dict[int, Any] | None = None  # parameters by storage, made on demand
        self.shapes: dict[int, Shape] = {}
        # nodes whose torch dim 0 is the batch and their per-sample axis 0 together (windows
        # folded into the batch, Swin's (B*nW, N, C)): see fold
        self.folded: set[int] = set()
        # modules of the model run on fixed tensors, not on the input (Swin V2's position
        # bias MLP on a buffer): no rows; their parameters count where the result is read
        self.fixed_calls: set[str] = set()
        self.inferred: dict[int, tuple[Layer, Inference]] = {}  # reused by the Network
        self.memo: dict[tuple[int, tuple[Shape, ...]], tuple[Layer, Inference]] = {}
        self.kinds: dict[type, str | None] = {}  # leaf_class per module class
        self.stack: list[tuple[str, Any]] = []
        self.calls: dict[str, list[tuple[int, ...]]] = {}
        self.functional = FunctionalLayers()
        self.result: list[int] = []  # the output nodes, once the forward has run
        self.required_count = 0  # Require rows made (MAX_REQUIRED)
        self.check: Any = lambda doing: None  # the build clock, set by run_forward
        self.inputs: list[int] = []  # the input nodes (a fixed tensor's row reads the first)

    # --- errors -----------------------------------------------------------------------------
    def scope(self) -> tuple[str, Any]:
        return self.stack[-1] if self.stack else ("", self.root)

    def fail(self, message: str, code: str = "unsupported_operation",
             frames: Sequence[traceback.FrameSummary] | None = None) -> SpecError:
        qual, module = self.scope()
        where = location(frames if frames is not None else traceback.extract_stack())
        kind = type(module).__name__
        return self.b.fail(f"in module {qual or '(root)'!r} ({kind}) at {where}: {message}",
                           qual, code)

    # --- tensors ----------------------------------------------------------------------------
    def tensor(self, index: int) -> Any:
        folded = index in self.folded
        t = _proxy_class()(self, index, len(self.shapes[index]) + (0 if folded else 1))
        if folded:
            t._cs_folded = True
        return t

    def size_of(self, t: Any) -> SymSize:
        if t._cs_moved is not None:  # the parent's sizes in the permuted order
            parent, dims = t._cs_moved
            sizes = self.size_of(self.tensor(parent))
            return SymSize(sizes[d] for d in dims)
        shape = self.shapes[t._cs_index]
        batch = QPoly.sym(BATCH_SYMBOL)
        if t._cs_folded:  # torch's dim 0: the batch times the per-sample axis 0
            head = shape[0]
            if not isinstance(head, QPoly):
                raise self.fail(f"a size that is a Min/Max ({to_sympy(head)}) is read from "
                                "x.shape", "size_not_concrete")
            shape = shape[1:]
            batch = batch * head
        items: list[Any] = [SymInt(batch, self)]
        for s in shape:
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

    def add(self, layer: Layer | str, op: str, parents: Sequence[Any], *, name: str | None = None,
            folded: bool | None = None) -> Any:
        """A row for ``layer`` applied to the proxies ``parents``; returns its proxy, whose
        batch axis holds folded windows when ``folded`` says so (by default: when a parent's
        does; the operations that may meet such a tensor keep the fold)."""
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
        if folded if folded is not None else any(p._cs_folded for p in parents):
            self.folded.add(index)
        return self.tensor(index)

    def leaf_row(self, module: Any, qual: str, kind: str, x: Any,
                 output_size: Any = None) -> Any:
        params = module_parameters(module)
        if id(module) not in self.b.calls and any(id(p) in self.counted for p in params):
            used = next(self.param_names.get(id(p), "?") for p in params
                        if id(p) in self.counted)
            raise self.fail(f"module {qual!r} ({kind}) runs after its parameter {used!r} was "
                            "counted by another row (read in forward first, or shared with "
                            "another module); its row would count it again",
                            "shared_parameter")
        if x._cs_folded and kind == "BatchNorm1d":
            return self.folded_batch_norm(module, qual, kind, x)
        if x._cs_folded:
            self.fold_module(module, qual, kind, x)
        index = self.b.leaf(module, qual, [x._cs_index], kind=kind)
        if x._cs_folded:
            self.folded.add(index)
        if output_size is not None:
            self.with_output_size(index, qual, kind, output_size)
        if self.frozen:
            self.freeze(index, module)
        node = self.b.nodes[index]
        try:
            inference = self.infer(node.layer, [x._cs_index])
        except LayerError as err:
            raise self.fail(f"{kind} {qual!r}: {err}", err.code) from None
        self.shapes[index] = inference.shape
        self.inferred[index] = (node.layer, inference)
        for p in params:
            self.counted.add(id(p))
        return self.tensor(index)

    def freeze(self, index: int, module: Any) -> None:
        """Mark the weights of a module's row whose parameters do not require a gradient
        (PyTorch's trainable count leaves them out); the names are the module's own, which
        are the layer's weight names (``check_parameters`` compares both counts after)."""
        names = [n for n, p in module.named_parameters() if id(p) in self.frozen]
        if not names:
            return
        node = self.b.nodes[index]
        every = len(names) == len(module_parameters(module))
        layer = applied(node.layer, frozen=every, frozen_weights=() if every else names)
        self.b.nodes[index] = dataclasses.replace(node, layer=self.b.layers.same(layer))

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
        if tensors and tensors[0]._cs_moved is not None:
            raise self.fail(f"module {qual!r} ({kind}) is called on a tensor whose batch axis "
                            "a permute moved", "batch_size")
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
        if kind is None and _torch_own_forward(module) and cls.__name__ == "MultiheadAttention":
            out = self.multihead_attention(module, qual, args, kwargs)
        elif kind is not None and kind.startswith("ConvTranspose") and (
                "output_size" in kwargs or len(args) == 2):
            rest = {k: v for k, v in kwargs.items() if k != "output_size"}
            given = kwargs["output_size"] if "output_size" in kwargs else args[1]
            x = self.leaf_input(qual, kind, args[:1], rest)
            out = self.leaf_row(module, qual, kind, x, output_size=given)
        elif kind is not None and any(isinstance(a, FixedTensor) for a in spread(
                [*args, *kwargs.values()])):
            out = self.fixed_leaf(module, qual, kind, args, kwargs)
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
            if value._cs_folded and strict and value._cs_moved is None:
                raise self.fail("the forward returns a tensor whose batch axis holds windows "
                                "folded in (B*F, ...); convsym's shapes are per sample: "
                                "unfold it with x.view(B, ...)", "batch_size")
            if value._cs_moved is None:
                return [value._cs_index]
            if strict:
                raise self.fail("the forward returns a tensor whose batch axis a permute "
                                "moved", "batch_size")
            return []  # a submodule's sequence-first output: no row has its layout
        if isinstance(value, FixedTensor) and value.node is not None:
            if strict:
                raise self.fail("the forward returns a layer's output on a tensor made from "
                                "symbolic sizes, whose batch axis is 1; repeat or expand it "
                                "over the batch", "batch_size")
            return [value.node]
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
    def attribute(self, getter: Any, args: Any) -> Any:
        """A property of a traced tensor: ``x.mT`` / ``x.T`` are transposes, ``x.data`` and
        ``x.real`` the tensor itself, and a property holding another tensor is refused (it
        would be the data-free stand-in); the rest (``dtype``, ``device``) read for real."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        prop = str(getattr(getattr(getter, "__self__", None), "__name__", ""))
        x = args[0]
        if prop in ("mT", "mH"):
            return self.function(torch.Tensor.transpose, [x, -2, -1], {})
        if prop in ("T", "H"):
            return self.function(torch.Tensor.permute, [x, *range(self.rank(x) - 1, -1, -1)],
                                 {})
        if prop in ("data", "real"):
            return x
        with torch._C.DisableTorchFunctionSubclass():
            value = getter(*args)
        if isinstance(value, torch.Tensor):
            raise self.fail(f"the tensor property .{prop} of a traced tensor")
        return value

    def function(self, func: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        name = op_name(func)
        self.check(f"the operation {name}")  # a forward that loops on tensors ends in time
        flat = spread([*args, *kwargs.values()])
        if name not in ("expand", "expand_as", "repeat") and not any(self.is_tensor(a)
                                                                     for a in flat):
            raise self.fail(f"{name} of fixed tensors with symbolic sizes; convsym follows "
                            "the tensors computed from the input")
        if kwargs.get("out") is not None:
            raise self.fail(f"{name} with out=: the result written into a given tensor, "
                            "whose shape PyTorch changes to the result's; assign the result "
                            "instead")
        if name == "clone" and args and self.is_tensor(args[0]) and args[0]._cs_moved is None:
            return self.tensor(args[0]._cs_index)  # a new tensor: in-place writes stay its own
        if name in PASS:
            if name in BROADCASTING:
                return self.broadcasting(name, args, kwargs)
            return self.first_tensor(name, args, kwargs)
        listed = spread([a for a in [*args, *kwargs.values()] if isinstance(a, (list, tuple))])
        if any(self.is_tensor(a) and a._cs_moved is not None for a in
               (flat if name not in FOLLOW_MOVED else listed)):
            raise self.fail(f"{name} of a tensor whose batch axis a permute moved; convsym "
                            "follows such a tensor only into unbind(0), x[i], select(0, i) "
                            "and permutes", "batch_size")
        if name not in ARITHMETIC and name not in BROADCASTING and \
                name != "scaled_dot_product_attention" and any(
                isinstance(a, FixedTensor) for a in flat):
            raise self.fail(f"{name} of a tensor made from symbolic sizes in forward (an "
                            "attention mask); convsym follows one only as an operand of "
                            "element-wise arithmetic with a traced tensor, or as the mask "
                            "of scaled_dot_product_attention", "size_not_concrete")
        if name not in ARITHMETIC and name.strip("_") not in FOLD_OK and any(
                self.is_tensor(a) and a._cs_folded for a in flat):
            raise self.fail(f"{name} of a tensor whose batch axis holds windows folded in "
                            "(B*F, ...); convsym follows such a tensor through views, "
                            "permutes keeping dim 0 first, linear maps, layer norms, matrix "
                            "products and element-wise operations only", "batch_size")
        if name in ARITHMETIC:
            return self.arithmetic(name, ARITHMETIC[name], args, kwargs)
        handler = getattr(self, f"op_{name.strip('_')}", None)
        if handler is not None:
            if name.endswith("_") and not name.endswith("__") and name not in IN_PLACE_OPS:
                # x.unsqueeze_(1) changes x itself, and the forward's other names for x
                # (PASS functions return their tensor as it is) would follow
                raise self.fail(f"in-place {name} changes the shape of the tensor itself; "
                                f"convsym follows x = x.{name[:-1]}(...)")
            return handler(name, args, kwargs)
        tensors = [a for a in args if self.is_tensor(a)]
        if tensors and self.is_tensor(args[0]):
            made = self.functional.from_function(func, plain_values(args[1:]), plain_values(kwargs))
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

    def op_setitem(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        raise self.fail("writing into a tensor (x[...] = y)")


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
        if _find_trace(args, kwargs) is trace or any(
                isinstance(a, FixedTensor) and a.trace is trace
                for a in spread([*args, *kwargs.values()])):
            return trace.call_module(module, args, kwargs)
        qual = trace.names.get(id(module))
        if qual is not None:  # a module of the model run on fixed tensors (no rows)
            trace.fixed_calls.add(qual)
        return original(module, *args, **kwargs)

    # torch functions whose C argument parser rejects a SymInt argument before it consults
    # __torch_function__ (the tensor-method forms are routed by the SymTensor class; those
    # of a fixed tensor, cls_token.expand(b, ...), here)
    routed = [(torch, "reshape"), (torch, "narrow"), (torch.nn.functional, "pad"),
              (torch.Tensor, "expand"), (torch.Tensor, "repeat"), (torch, "cat"),
              (torch, "concat"), (torch, "concatenate")]
    saved = [(mod, name, getattr(mod, name)) for mod, name in routed]
    made = [(torch, name, getattr(torch, name)) for name in FACTORIES]

    def route(fn: Any, to: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _find_trace(args, kwargs) is trace:
                return to(fn, list(args), dict(kwargs))
            return fn(*args, **kwargs)
        return wrapper

    def factory(name: str) -> Any:
        # torch.arange(H) of a size read from the input: a FixedTensor (torch_factory)
        return lambda fn, args, kwargs: trace.factory(name, args, kwargs)

    setattr(torch.nn.Module, hook, call)
    for mod, name, fn in saved:
        setattr(mod, name, route(fn, trace.function))
    for mod, name, fn in made:
        setattr(mod, name, route(fn, factory(name)))
    try:
        # (eval() sets every module's flag, about 10 us each: only when one is training)
        if any(mode for _, mode in modes):
            trace.root.eval()
        yield
    finally:
        setattr(torch.nn.Module, hook, original)
        for mod, name, fn in saved + made:
            setattr(mod, name, fn)
        for m, mode in modes:
            if m.training != mode:
                m.training = mode


_PASS_THROUGH = (SpecError, BudgetExceeded, InternalError, MemoryError)
"""Errors out of a forward that are not the forward's failure: convsym's own refusals,
budgets, bugs, and running out of memory."""


@contextlib.contextmanager
def _recording(trace: Trace) -> Iterator[None]:
    """Gradients on, and every parameter requiring one, while the forward runs: autograd then
    records what a weight computed in forward is made of (:meth:`Trace.sources`).  Frozen
    parameters (:attr:`Trace.frozen`, read before) get their flag back afterwards."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    frozen = [p for i, (_, p) in trace.params.items()  # (only float tensors can require one)
              if i in trace.frozen and (p.is_floating_point() or p.is_complex())]
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
    trace.inputs = list(parents)
    for index, shape in zip(parents, shapes):
        trace.shapes[index] = shape
    inputs = [trace.tensor(i) for i in parents]
    with _intercepting(trace), _recording(trace), building() as check:
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
        trace.check_computed()
    trace.result = trace.outputs(result)
    if not trace.result:
        raise b.fail("the forward returns no tensor", "", "unsupported_operation")
    return trace


__all__ = ["BATCH_SYMBOL", "SymInt", "SymSize", "Trace", "named_parameters", "run_forward"]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
