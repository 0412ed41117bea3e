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
import dis
import functools
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple

from convsym.budget import building
from convsym.errors import BudgetExceeded, InternalError, LayerError, SpecError
from convsym.expr import symbol
from convsym.importers.common import applied
from convsym.importers.torch_fixed import FixedTensor
from convsym.importers.torch_ops import FunctionalLayers, merge_layer
from convsym.importers.torch_sizes import SymBool, SymInt, SymSize
from convsym.importers.torch_table import leaf_class, module_parameters
from convsym.intdiv import NotQuasiPolynomial, QPoly, as_int, exact_quotient, floordiv, to_sympy
from convsym.layers import torch as T
from convsym.layers.base import Layer
from convsym.layers.sharing import copied
from convsym.layers.torch import Flatten, GroupNorm, LayerNorm, Linear, Unflatten, Upsample
from convsym.layers.torch_conv import with_output_size
from convsym.layers.torch_einsum import Einsum
from convsym.layers.torch_tensor import (
    BatchExpanded,
    Expand,
    Gather,
    InPlace,
    MatMul,
    MatMulFixed,
    MultiheadAttention,
    Narrow,
    PadAxes,
    Permute,
    Reduce,
    Repeat,
    Require,
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
    "softshrink", "hardshrink", "gelu_", "fill_", "zero_", "roll",
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__", "gt", "lt", "ge", "le", "eq",
    "ne", "logical_not", "__invert__", "isnan", "isfinite", "bool", "long", "int",
})
"""Functions and methods that keep the shape of their one tensor argument."""

BROADCASTING = frozenset({
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__", "gt", "lt", "ge", "le", "eq",
    "ne", "clamp", "clamp_", "clip", "clip_", "clamp_min", "clamp_max", "clamp_min_",
    "clamp_max_"})
"""Functions of :data:`PASS` whose other tensor arguments broadcast with the first: ``m > x``
has the shape of ``m + x`` (larger than ``m``'s when ``m`` is ``x.mean(1, keepdim=True)``),
``x.clamp_(min=floor)`` that of ``x.add_(floor)``."""

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

IN_PLACE = frozenset(n for n in ARITHMETIC if n.startswith("__i") or (
    n.endswith("_") and not n.endswith("__")))
"""In-place arithmetic (``add_``, ``__iadd__``): the result keeps the first tensor's shape."""

IN_PLACE_OPS = frozenset({"addcmul_", "addcdiv_"})
"""In-place methods whose ``op_`` handler writes into the tensor itself (others are refused:
``x.unsqueeze_(1)`` would change the shape of every name for ``x``)."""

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


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, str]:
    """convsym's and torch's folders: frames there are not the model's own code."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    return _HERE + os.sep, os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def _library(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_library_dirs()) or \
        filename.startswith("<frozen")


def _model_frame() -> list[traceback.FrameSummary]:
    """The innermost frame of the model's own code, kept for a refusal made later (its line
    is read only then)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _library(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return []
    return [traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno,
                                   frame.f_code.co_name, lookup_line=False)]


def _location(frames: Sequence[traceback.FrameSummary]) -> str:
    for frame in reversed(frames):
        path = os.path.abspath(frame.filename)
        if _library(frame.filename):
            continue
        parts = path.split(os.sep)
        short = "/".join(parts[-3:])
        code = (frame.line or "").strip()
        return f"{short}:{frame.lineno}" + (f" `{code[:100]}`" if code else "")
    return "an unknown line"


MOVED = -(10**9)
"""The node index of a tensor whose batch axis a permute moved: it has no row (any use that
reads its node fails loudly; those that may meet it check ``_cs_moved``)."""

FOLLOW_MOVED = frozenset({"permute", "transpose", "swapaxes", "swapdims", "__getitem__",
                          "unbind", "select", "size", "dim"})
"""What a tensor whose batch axis a permute moved may go into."""

FOLD_OK = frozenset({
    "view", "reshape", "view_as", "reshape_as", "permute", "transpose", "swapaxes",
    "swapdims", "flatten", "linear", "layer_norm", "matmul", "bmm", "rmatmul", "getitem",
    "unsqueeze", "unbind", "select", "new_zeros", "new_ones", "new_empty",
    "scaled_dot_product_attention", "chunk", "split"})
"""Operations (by name, underscores stripped) that may meet a tensor whose batch axis holds
windows folded in (see :meth:`Trace.fold`), besides the shape-keeping and arithmetic ones;
each handler maps torch's dims onto the per-sample axes or refuses."""

FOLD_MODULES = frozenset({
    "Linear", "LayerNorm", "Dropout", "Identity", "GELU", "ReLU", "ReLU6", "SiLU", "Sigmoid",
    "Tanh", "Hardswish", "Hardsigmoid", "LeakyReLU", "ELU", "Mish", "Softplus", "Softmax",
    "LogSoftmax", "Softmin"})
"""``torch.nn`` modules that act on the last axes only, and so may meet a folded tensor
(a LayerNorm whose shape does not reach the batch axis, a softmax over a dim counted from
the end)."""

ASSERTED = "the forward requires it (an assert, or a raise otherwise)"
FOLLOWED = "the forward's branch on sizes is followed as it goes for large inputs"

SAMPLES = tuple(range(4096, 4096 + 64)) + (2**20 + 1, 2**20 + 7, 10**6 + 3)
"""Where "large inputs" are sampled: 64 consecutive values (a test that flips with a period
up to 64 is caught) and three far ones; several symbols take distinct values, in both
orders."""

MAX_REQUIRED = 256
"""Tests of sizes one forward may turn into conditions (a loop counting a size down is
refused rather than unrolled into thousands of rows)."""


def eventually(diff: QPoly, op: str) -> bool | None:
    """How ``diff <op> 0`` goes for large values of its symbols, or None if it flips.

    Only picks the branch to follow: the network keeps the exact condition of that branch,
    so a wrong pick narrows what the network claims, never makes a claim false.

    >>> from convsym.expr import symbol
    >>> h = QPoly.sym(symbol("H"))
    >>> eventually(floordiv(h, QPoly.const(32)) - QPoly.const(7), "<"), eventually(h, "==")
    (False, False)
    >>> print(eventually(h - QPoly.const(2) * floordiv(h, QPoly.const(2)), ">"))
    None
    """
    names = sorted(diff.free_symbols(), key=str)
    seen = set()
    for v in SAMPLES:
        for order in (names, names[::-1]):  # (H > W is no more true than W > H)
            value = diff.evaluate({x: v + 17 * i for i, x in enumerate(order)})
            seen.add(_holds(value, op))
            if len(seen) > 1:
                return None
    return seen.pop()


def _holds(value: int, op: str) -> bool:
    return {"==": value == 0, "!=": value != 0, "<": value < 0, "<=": value <= 0,
            ">": value > 0, ">=": value >= 0}[op]


def required_truth(frame: Any) -> bool | None:
    """The truth the code in ``frame`` requires of the test it is making, or None.

    The instruction asking for the truth is a conditional jump; when one of its two ways runs
    straight (no branch, loop or return) into a ``raise`` (``assert``, whose failing way is
    ``LOAD_ASSERTION_ERROR ... RAISE_VARARGS``; ``if h % 8: raise ValueError(...)``; an assert
    rewritten by pytest; ``torch._assert``'s own ``if not condition: raise``), the forward
    requires the other way.  Python compiles ``assert`` and ``if ...: raise`` to exactly that.
    """
    try:
        code, at = frame.f_code, frame.f_lasti
    except AttributeError:
        return None
    ins, where = _instructions(code)
    i = where.get(at)
    if i is None:
        return None
    if ins[i].opname == "TO_BOOL" and i + 1 < len(ins):  # Python 3.13: the test, then the jump
        i += 1
    name = ins[i].opname
    if "JUMP" not in name or "NONE" in name or ("IF_TRUE" not in name and
                                                "IF_FALSE" not in name):
        return None
    jumps_when = "IF_TRUE" in name
    jumped, fallen = _raises(ins, where, where.get(ins[i].argval)), _raises(ins, where, i + 1)
    if fallen and not jumped:
        return jumps_when
    if jumped and not fallen:
        return not jumps_when
    return None


def _raises(ins: list[Any], where: dict[int, int], i: int | None) -> bool:
    """Whether the code from instruction ``i`` runs straight into a ``raise``."""
    for _ in range(64):
        if i is None or i >= len(ins):
            return False
        op = ins[i].opname
        if op == "RAISE_VARARGS":
            return True
        if op == "JUMP_FORWARD":  # chained comparisons reach the raise through one
            i = where.get(ins[i].argval)
            continue
        if "JUMP" in op or op.startswith(("RETURN", "YIELD", "RERAISE")) or op in (
                "FOR_ITER", "SEND", "END_FOR"):
            return False
        i += 1
    return False


@functools.lru_cache(maxsize=256)
def _instructions(code: Any) -> tuple[list[Any], dict[int, int]]:
    """A code object's instructions and the index of each by its byte offset."""
    ins = list(dis.get_instructions(code))
    return ins, {x.offset: i for i, x in enumerate(ins)}


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
        where = _location(frames if frames is not None else traceback.extract_stack())
        kind = type(module).__name__
        return self.b.fail(f"in module {qual or '(root)'!r} ({kind}) at {where}: {message}",
                           qual, code)

    def decide(self, left: QPoly, op: str, right: QPoly, text: str) -> bool | SymBool:
        """``left <op> right`` when it is the same for every value of the symbols, else the
        undecided test (its truth is taken where Python asks for it: :meth:`truth`)."""
        def nonneg(e: QPoly) -> bool:
            c = as_int(e)
            return c >= 0 if c is not None else bool(decide_nonneg(e).holds)

        diff = left - right
        minus = diff * QPoly.const(-1)
        one = QPoly.const(1)
        if op in ("==", "!="):
            if as_int(diff) == 0:
                return op == "=="
            if nonneg(diff - one) or nonneg(minus - one):
                return op == "!="
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
        return SymBool(left, op, right, text, self)

    def truth(self, test: SymBool, frame: Any) -> bool:
        """The truth of an undecided test, where the code in ``frame`` asks for it.

        * ``assert test`` or ``if not test: raise ...``: true, kept as a condition of the
          network (a :class:`Require` row);
        * an order (``<``, ``>=``, ...) in an ``if``, ``max`` or ``min``: the way it goes for
          every large input (sampled), kept as a condition, so the network is exact where it
          is claimed and says for which inputs (as torch.export's guards do);
        * anything else (``==``, ``%``, a test that flips between large inputs): refused,
          naming the line, since either branch would be a guess at the user's inputs.
        """
        needed = required_truth(frame)
        if needed is not None:  # the other way raises: required
            self.asserted(test if needed else test.negated())
            return needed
        self.per_sample(test)
        if test.op not in ("==", "!="):
            taken = eventually(test.diff, test.op)
            if taken is not None:
                self.required(test if taken else test.negated(), FOLLOWED)
                return taken
        raise self.fail(f"the forward branches on a size: {test.text} holds for some input "
                        "sizes and not others, so the network's shapes would depend on which; "
                        "give concrete sizes for this axis", "branches_on_size")

    def asserted(self, test: SymBool) -> bool:
        """``assert test`` / ``torch._assert(test, ...)``: true, as a condition."""
        self.per_sample(test)
        self.required(test, ASSERTED)
        return True

    def per_sample(self, test: SymBool) -> None:
        """Refuse a test of the batch size (a condition on it has no place in the shapes)."""
        if BATCH_SYMBOL in test.diff.free_symbols():
            raise self.fail(f"the forward tests the batch size ({test.text}); convsym's "
                            "shapes are per sample", "batch_size")

    def required(self, test: SymBool, why: str) -> None:
        """A :class:`Require` row stating ``test`` (on the newest tensor: the row shows where
        in the forward the condition arose)."""
        self.required_count += 1
        if self.required_count > MAX_REQUIRED:
            raise self.fail(f"the forward tests symbolic sizes more than {MAX_REQUIRED} times "
                            "(a loop over a size?)", "branches_on_size")
        where = _location(traceback.extract_stack())
        layer = Require(to_sympy(test.left), test.op, to_sympy(test.right), f"{why} ({where})")
        last = self.tensor(len(self.b.nodes) - 1)
        self.add(layer, "assert" if why == ASSERTED else "branch", [last])

    def floordiv(self, a: QPoly, d: QPoly) -> QPoly:
        if as_int(d) is not None and as_int(d) <= 0:  # type: ignore[operator]
            raise self.fail(f"floor division of a size by {to_sympy(d)}", "size_arithmetic")
        exact = exact_quotient(a, d) if as_int(d) is None else None
        if exact is not None:  # (B * nW) // nW: the quotient, whatever nW's form
            self.nonzero_divisor(d)
            return exact
        batch = QPoly.sym(BATCH_SYMBOL)
        windows = exact_quotient(a, batch) if BATCH_SYMBOL in a.free_symbols() else None
        if windows is not None and BATCH_SYMBOL not in windows.free_symbols() and \
                as_int(d) is None and self.same_windows(windows, d):
            self.nonzero_divisor(d)
            return batch  # B*F // nW with F and nW written differently, equal
        try:
            return floordiv(a, d)
        except NotQuasiPolynomial:
            raise self.fail(f"floor division by {to_sympy(d)}, which is not a number or a "
                            "product of symbols", "size_arithmetic") from None

    def nonzero_divisor(self, d: QPoly) -> None:
        """A symbolic divisor of sizes (``n = H // 8; (C * n) // n``) is at least 1 wherever
        the forward runs, since Python raises ZeroDivisionError at 0: proved, or kept as a
        condition of the network (a Require row), or refused where it is never 1 or more."""
        text = f"{to_sympy(d)} >= 1 (a divisor of sizes)"
        test = self.decide(d, ">=", QPoly.const(1), text)
        if test is True:
            return
        if test is False:
            raise self.fail(f"floor division of a size by {to_sympy(d)}, which is never 1 or "
                            "more", "size_arithmetic")
        self.per_sample(test)
        self.required(test, "Python's floor division by a size needs it to be 1 or more")

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

    def multihead_attention(self, module: Any, qual: str, args: tuple[Any, ...],
                            kwargs: dict[str, Any]) -> Any:
        """``nn.MultiheadAttention(query, key, value)``: a row of the module (its parameters
        counted once, checked against PyTorch's), and one for the weights when returned."""
        names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                 "average_attn_weights", "is_causal")
        given = dict(zip(names, args))
        given.update(kwargs)
        if given.get("key_padding_mask") is not None or given.get("attn_mask") is not None:
            raise self.fail(f"module {qual!r} (MultiheadAttention) with a mask; convsym "
                            "follows attention without masks")
        qkv: list[Any] = [given.get(n) for n in names[:3]]
        if not all(self.is_tensor(t) for t in qkv):
            raise self.fail(f"module {qual!r} (MultiheadAttention) with a query, key or value "
                            "that is not traced")
        if any(t._cs_folded for t in qkv):
            raise self.fail(f"module {qual!r} (MultiheadAttention) on a tensor whose batch "
                            "axis holds windows folded in", "batch_size")
        if not module.batch_first:  # (L, B, E): the batch moved by a permute, put back first
            qkv = [self.batch_first(t, qual) for t in qkv]
        elif any(t._cs_moved is not None for t in qkv):
            raise self.fail(f"module {qual!r} (MultiheadAttention, batch_first) on a tensor "
                            "whose batch axis a permute moved", "batch_size")
        m = module
        layer = MultiheadAttention(m.embed_dim, m.num_heads, m.kdim, m.vdim,
                                   m.in_proj_bias is not None, m.bias_k is not None,
                                   m.add_zero_attn)
        index = self.b.leaf(module, qual, [t._cs_index for t in qkv], layer=layer)
        inference = self.infer(layer, [t._cs_index for t in qkv])
        self.shapes[index] = inference.shape
        self.inferred[index] = (layer, inference)
        for p in module_parameters(module):
            self.counted.add(id(p))
        out: Any = self.tensor(index)
        if not module.batch_first:
            out = self.permuted(out, [1, 0, 2], "transpose")
        if not given.get("need_weights", True):
            return out, None
        kind = "weights" if given.get("average_attn_weights", True) else "weights_per_head"
        weights = dataclasses.replace(layer, output=kind)
        return out, self.add(weights, "attention_weights", qkv, name=f"{qual}.weights")

    def batch_first(self, t: Any, qual: str) -> Any:
        """A ``(L, B, E)`` input of a sequence-first layer as ``(B, L, E)``."""
        if t._cs_moved is None or len(t._cs_moved[1]) != 3 or t._cs_moved[1][1] != 0:
            raise self.fail(f"module {qual!r} (MultiheadAttention, batch_first=False) on a "
                            "tensor whose batch axis is not its second", "batch_size")
        parent, dims = t._cs_moved
        return self.permuted(self.tensor(parent), [dims[1], dims[0], dims[2]], "transpose")

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
        flat = _flat([*args, *kwargs.values()])
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
        listed = _flat([a for a in [*args, *kwargs.values()] if isinstance(a, (list, tuple))])
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

    def broadcasting(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``m > x``, ``x.clamp(min=floor)``: shaped as the sum of the tensors (in place:
        written into the first), a row named after the operation when they differ."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        tensors = [a for a in [*args, *kwargs.values()] if isinstance(a, torch.Tensor)]
        out, op = tensors[0], name.strip("_")
        for other in tensors[1:]:
            if name.endswith("_") and not name.endswith("__"):
                out = self.write_into(name, out, self.in_place(name, "add", [out, other], {},
                                                               op=op))
            else:
                out = self.arithmetic(name, "add", [out, other], {}, op=op)
        return out if self.is_tensor(out) else self.first_tensor(name, args, kwargs)

    def operand(self, value: Any) -> Any:
        """A real tensor met in arithmetic: a row when it is a parameter or broadcasts."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        if not isinstance(value, torch.Tensor) or self.is_tensor(value):
            return value
        if value.numel() == 1 and value.dim() <= 1 and all(
                id(p) in self.counted for p in self.operand_params(value)):
            return 1.0  # a scalar tensor of nothing left to count: keeps the shape
        return value

    def write_into(self, name: str, target: Any, out: Any) -> Any:
        """An in-place arithmetic's result: ``target`` itself (PyTorch returns the tensor it
        changed, and the forward may go on using it, not the result), now standing for the
        row ``out``, whose shape is ``target``'s (``x.add_(y); return x`` returns the sum).

        Another name for the same tensor object (``F.relu`` and other shape-keeping
        functions return their tensor as it is) follows it too: its shape is the same."""
        if not self.is_tensor(target):
            raise self.fail(f"in-place {name} on a tensor that is not traced (a parameter, "
                            "buffer or constant) with a traced operand")
        if out is target:
            return target
        if not self.is_tensor(out):
            raise self.fail(f"in-place {name} whose result is not one tensor")
        target._cs_index = out._cs_index
        target._cs_folded = out._cs_folded
        return target

    def arithmetic(self, name: str, kind: str, args: list[Any], kwargs: dict[str, Any], *,
                   op: str | None = None) -> Any:
        """``a + b`` and the like (``kind`` names the merge); ``op`` names the row (the
        merge's name by default)."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        op = op or (kind if kind != "subtract" else "sub")
        if name in IN_PLACE:
            return self.write_into(name, args[0], self.in_place(name, kind, args, kwargs,
                                                                op=op))
        operands = [self.operand(a) for a in [*args, kwargs.get("other")]
                    if a is not None]
        tensors = [a for a in operands if self.is_tensor(a)]
        real = [a for a in operands if isinstance(a, (torch.Tensor, FixedTensor)) and
                not self.is_tensor(a)]
        if len(tensors) == 2 and not real:
            if kind == "power":
                raise self.fail("a tensor raised to a tensor power")
            self.same_fold(tensors, name)
            return self.add(merge_layer(kind), op, tensors)
        if len(tensors) == 1 and not real:
            return tensors[0]
        if len(tensors) == 1 and len(real) == 1:
            return self.with_operand(kind, tensors[0], real[0], inplace=False, op=op)
        raise self.fail(f"{name} on {len(tensors)} traced tensors and {len(real)} other "
                        "tensors")

    def with_operand(self, kind: str, x: Any, value: Any, *, inplace: bool, op: str) -> Any:
        """``x`` combined with a tensor that is not traced: a row that counts the parameter
        it is (or views), when no row has yet."""
        shape = self.operand_shape(x, value, op)
        layer, row = self.holding(value, lambda params: TensorOperand(kind, shape, params,
                                                                      inplace))
        return self.add(layer, op, [x], name=row)

    def holding(self, value: Any, make: Any) -> tuple[Layer, str | None]:
        """The layer ``make(params)`` for a row reading the fixed tensor ``value``, holding
        the parameters it is made of that no row has counted yet, and the row's name (the
        parameter's, when it is or views one read here first).  A :class:`FixedTensor`
        (made from sizes) holds none."""
        fixed = isinstance(value, FixedTensor)
        fresh = [] if fixed else [
            p for p in self.operand_params(value) if id(p) not in self.counted]
        self.counted.update(id(p) for p in fresh)
        params = sum(int(p.numel()) for p in fresh)
        frozen = sum(int(p.numel()) for p in fresh if id(p) in self.frozen)
        owner = None if fixed else _parameter_of(value)  # gamma, or gamma.view(1, -1, 1, 1)
        row = self.param_names.get(id(owner)) if fresh and owner is not None else None
        layer: Layer = make(params if owner is not None else 0)
        if owner is None and params:  # computed from parameters: it holds them
            layer = applied(layer, counted=params, counted_frozen=frozen)
        elif frozen:
            layer = applied(layer, frozen=True)
        return layer, row

    def in_place(self, name: str, kind: str, args: list[Any], kwargs: dict[str, Any], *,
                 op: str) -> Any:
        """``a.add_(b)``, ``a += b``: ``b`` broadcast into ``a``, whose shape the result keeps
        (PyTorch raises when the broadcast would grow ``a``: refused, or a side condition
        when that depends on the sizes)."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        target = args[0]
        other = self.operand(args[1] if len(args) > 1 else kwargs.get("other"))
        if not self.is_tensor(target):
            return target  # (write_into refuses it)
        if self.is_tensor(other):
            if kind == "power":
                raise self.fail("a tensor raised to a tensor power")
            self.same_fold([target, other], name)
            if self.shapes[target._cs_index] == self.shapes[other._cs_index]:
                # one shape (ResNet's out += identity): the plain merge, nothing to check
                return self.add(merge_layer(kind), op, [target, other])
            return self.add(InPlace(kind), op, [target, other])
        if isinstance(other, (torch.Tensor, FixedTensor)):
            return self.with_operand(kind, target, other, inplace=True, op=op)
        if not isinstance(other, (int, float, bool)):
            raise self.fail(f"in-place {name} with {type(other).__name__}")
        return target  # a number: the shape is kept

    # tensor methods and functions by name (``op_<name>``) -----------------------------------
    def op_addcmul(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``input + value * tensor1 * tensor2`` (``addcdiv``: ``/``), as the two steps it is
        (ConvNeXt-V2's global response norm: ``addcmul(bias, weight, x * n)``); in place
        (``addcmul_``), the product is added into ``input`` as ``input.add_(...)`` is."""
        names = ("input", "tensor1", "tensor2")
        given = dict(zip(names, args))
        given.update({k: v for k, v in kwargs.items() if k in names})
        if len(given) != 3:
            raise self.fail(f"{name} without input, tensor1 and tensor2")
        kind = "divide" if name.strip("_").endswith("div") else "multiply"
        inner = self.arithmetic(name, kind, [given["tensor1"], given["tensor2"]], {})
        if name.endswith("_"):
            target = given["input"]
            return self.write_into(name, target, self.in_place(name, "add", [target, inner],
                                                               {}, op=name.strip("_")))
        return self.arithmetic(name, "add", [given["input"], inner], {})

    op_addcdiv = op_addcmul

    def op_matmul(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``a @ b``, ``torch.matmul``, ``bmm`` of two traced tensors (attention scores)."""
        a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("mat2"))
        if name.strip("_") == "rmatmul":
            a, b = b, a
        x, w = (a, b) if self.is_tensor(a) else (b, a)
        fixed = w is not None and not self.is_tensor(w) and hasattr(w, "shape")
        if w is not None and fixed and self.is_tensor(x) and name.strip("_") in (
                "matmul", "rmatmul"):  # a fixed matrix (SwiftFormer's)
            shape = tuple(int(n) for n in w.shape)
            layer, row = self.holding(w, lambda params: MatMulFixed(shape, params, x is b))
            return self.add(layer, "matmul", [x], name=row)
        if not (self.is_tensor(a) and self.is_tensor(b)):
            raise self.fail(f"{name} with a tensor that is not traced (a parameter or a "
                            "constant); convsym follows products of two traced tensors")
        self.same_fold([a, b], name)
        return self.add(MatMul(), "matmul", [a, b])

    op_bmm = op_rmatmul = op_matmul

    def op_einsum(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``torch.einsum(equation, *tensors)`` of traced tensors (MaxViT's attention)."""
        equation, *operands = args
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        if kwargs or not isinstance(equation, str) or not operands or not all(
                self.is_tensor(t) for t in operands):
            raise self.fail(f"{name} of tensors that are not all traced, or in the sublist "
                            "form; convsym follows einsum('...', *traced tensors)")
        return self.add(Einsum(equation), "einsum", operands)

    def op_scaled_dot_product_attention(self, name: str, args: list[Any],
                                        kwargs: dict[str, Any]) -> Any:
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale")
        given = dict(zip(names, args))
        given.update(kwargs)
        if given.get("is_causal"):
            raise self.fail(f"{name} with is_causal; convsym follows plain attention")
        if given.get("enable_gqa"):
            raise self.fail(f"{name} with grouped heads (enable_gqa); convsym follows plain "
                            "attention")
        qkv = [given.get(n) for n in names[:3]]
        if not all(self.is_tensor(t) for t in qkv):
            raise self.fail(f"{name} with a query, key or value that is not traced")
        self.same_fold(qkv[:2], name)
        self.same_fold(qkv[1:], name)
        mask = given.get("attn_mask")
        if mask is None:
            return self.add(ScaledDotProductAttention(), "scaled_dot_product_attention", qkv)
        if self.is_tensor(mask) or not isinstance(mask, (torch.Tensor, FixedTensor)):
            raise self.fail(f"{name} with an attention mask computed from the input (or not "
                            "a tensor); convsym follows a fixed mask (a position bias)")
        shape = self.operand_shape(qkv[0], mask, name)
        layer, row = self.holding(mask, lambda params: ScaledDotProductAttention(shape,
                                                                                 params))
        return self.add(layer, "scaled_dot_product_attention", qkv, name=row)

    def operand_shape(self, x: Any, value: Any, op: str) -> tuple[Any, ...]:
        """The shape of a fixed tensor (a parameter, buffer, tensor computed from them or a
        :class:`FixedTensor`) meeting the traced ``x``, with the batch axis: a folded ``x``'s
        (B*F, ...) dim 0 is F's per-sample axis, which the operand may reach only with 1."""
        if isinstance(value, FixedTensor) and any(
                BATCH_SYMBOL in s.free_symbols() for s in value.sizes):
            raise self.fail(f"{op} with a tensor whose sizes were computed from the batch "
                            "size; convsym's shapes are per sample", "batch_size")
        shape: tuple[Any, ...] = tuple(
            to_sympy(s) if as_int(s) is None else as_int(s) for s in value.sizes
        ) if isinstance(value, FixedTensor) else tuple(int(s) for s in value.shape)
        if x._cs_folded:  # (B*F, d...): the operand may not reach dim 0 unless it is 1 there
            rank = self.rank(x)
            if len(shape) > rank or (len(shape) == rank and not _is(shape[0], 1)):
                raise self.fail(f"{op} of a tensor whose batch axis holds windows folded in "
                                f"(rank {rank}) with a fixed tensor of shape {shape}, which "
                                "reaches that axis", "batch_size")
            shape = shape[1:] if len(shape) == rank else shape
        return shape

    def _dim(self, args: list[Any], kwargs: dict[str, Any], pos: int, default: Any,
             key: str = "dim") -> Any:
        if key in kwargs:
            return kwargs[key]
        return args[pos] if len(args) > pos else default

    def op_cat(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        items = list(args[0] if args else kwargs.get("tensors", ()))
        dim = self._dim(args, kwargs, 1, kwargs.get("axis", 0))  # (concatenate's name)
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
        if t._cs_moved is not None:
            return len(t._cs_moved[1])
        return len(self.shapes[t._cs_index]) + (0 if t._cs_folded else 1)

    def axis_size(self, index: int, dim: int) -> Any:
        """The size of torch's ``dim`` (>= 1) of node ``index``'s tensor."""
        return self.shapes[index][dim - (0 if index in self.folded else 1)]

    def same_fold(self, tensors: Sequence[Any], name: str) -> None:
        """Two tensors of one operation: neither folded, or both with the same windows per
        sample and the same rank (so that torch's dim 0, ``B*F``, meets ``B*F``)."""
        folds = [t._cs_folded for t in tensors]
        if not any(folds):
            return
        a, b = tensors[0], tensors[1]
        if all(folds) and self.rank(a) == self.rank(b) and self.same_windows(
                self.shapes[a._cs_index][0], self.shapes[b._cs_index][0]):
            return
        shown = ", ".join(f"({'B*' if t._cs_folded else 'B, '}"
                          + ", ".join(str(to_sympy(v)) for v in self.shapes[t._cs_index])
                          + ")" for t in tensors)
        raise self.fail(f"{name} of tensors {shown} whose batch axes hold different folds "
                        "of windows (or none); convsym follows only tensors of one rank "
                        "with the same windows per sample", "batch_size")

    def same_windows(self, f: Any, g: Any) -> bool:
        """Whether two per-sample window counts are equal: always (True), never (False), or
        where the sizes make them so (True, the equality kept as a condition of the network,
        a Require row, as an assert: timm's Swin builds its mask for 224 x 224 only, and
        asserts that size)."""
        if f == g:
            return True
        if not isinstance(f, QPoly) or not isinstance(g, QPoly):
            return False
        test = self.decide(f, "==", g, f"{to_sympy(f)} == {to_sympy(g)} (windows per sample)")
        if isinstance(test, bool):
            return test
        self.per_sample(test)
        self.required(test, "windows folded into the batch axis must be as many on both "
                            "sides (PyTorch's dim 0 is the batch times their count)")
        return True

    def fold_module(self, module: Any, qual: str, kind: str, x: Any) -> None:
        """A ``torch.nn`` module called on a folded tensor: one acting on the last axes."""
        shape = getattr(module, "normalized_shape", ())
        dim = getattr(module, "dim", -1) if kind.startswith(("Softm", "LogSoftm")) else -1
        if kind not in FOLD_MODULES or len(tuple(shape)) >= self.rank(x) or \
                type(dim) is not int or not -self.rank(x) < dim < 0:
            raise self.fail(f"module {qual!r} ({kind}) on a tensor whose batch axis holds "
                            "windows folded in (B*F, ...); convsym follows linear maps, "
                            "layer norms over the last axes, dropout and activations on "
                            "such a tensor", "batch_size")

    def fold(self, x: Any, head: Any, rest: list[Any], name: str) -> Any:
        """``x.view(head, *rest)`` where ``head`` is not the batch size: windows folded into
        the batch axis (``x.reshape(B * nW, N, C)``, ``x.view(-1, ws, ws, C)``), or, for a
        folded ``x``, a new fold or the unfolding (``head`` = ``B``, or -1 resolving to it).

        A tensor whose torch dim 0 is ``B*F`` (F a per-sample size) is per sample the tensor
        ``(F, d1, ...)``: the row is a per-sample reshape to ``(F, *rest)``; only the way
        torch's dims map to per-sample axes differs (dim 0 is the batch and axis 0 together).
        ``-1`` resolves to ``total / prod(rest)`` when that is an exact quotient; otherwise
        the element counts must agree (the fold is 1: an ordinary reshape, as before)."""
        target = [self.size_value(s) for s in rest]
        known = QPoly.const(1)
        for s in rest:
            known = known * (s.q if isinstance(s, SymInt) else QPoly.const(int(s)))
        if isinstance(head, SymInt):
            windows = exact_quotient(head.q, QPoly.sym(BATCH_SYMBOL))
            if windows is None or BATCH_SYMBOL in windows.free_symbols():
                raise self.fail(f"{name} whose first size is {to_sympy(head.q)}, not the batch "
                                "size times a per-sample size: it changes the batch axis, "
                                "which convsym shapes do not have", "batch_size")
        else:
            total = QPoly.const(1)
            for v in self.shapes[x._cs_index]:
                if not isinstance(v, QPoly):
                    raise self.fail(f"{name}(-1, ...) of a tensor with a Min/Max size "
                                    f"({to_sympy(v)})", "size_not_concrete")
                total = total * v
            windows = exact_quotient(total, known) if as_int(known) != 0 else None
            if windows is None:
                windows = QPoly.const(1)
        op = "view" if name.startswith("view") else "reshape"
        if as_int(windows) == 1:
            return self.add(Reshape(tuple(target)), op, [x], folded=False)
        if as_int(windows) is not None and as_int(windows) < 1:  # type: ignore[operator]
            raise self.fail(f"{name} to {as_int(windows)} windows per sample", "batch_size")
        return self.add(Reshape((to_sympy(windows), *target)), op, [x], folded=True)

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
        if x._cs_folded:  # torch's dim d >= 1 is the layer's d + 1
            return self.add(Flatten(start % rank + 1, end % rank + 1), "flatten", [x])
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
        minus = type(head) is int and head == -1 and -1 not in rest
        if not batch_kept and not minus and not (
                isinstance(head, SymInt) and BATCH_SYMBOL in head.q.free_symbols()):
            raise self.fail(f"{name} whose first size is {head!r}, not the batch size "
                            "(x.size(0)) or -1: it changes the batch axis, which convsym "
                            "shapes do not have", "batch_size")
        if not rest:
            raise self.fail(f"{name} to one axis: it would flatten the batch axis")
        if not batch_kept:
            return self.fold(x, head, rest, name)
        target = tuple(self.size_value(s) for s in rest)
        return self.add(Reshape(target), "view" if name.startswith("view") else "reshape",
                        [x], folded=False)

    op_reshape = op_view_as = op_reshape_as = op_view

    def op_permute(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        dims = list(args[1:]) or list(kwargs.get("dims", ()))
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = list(dims[0])
        rank = self.rank(x)
        if not all(type(d) is int for d in dims):
            raise self.fail(f"{name} with non-integer dims")
        return self.permuted(x, [d % rank for d in dims], "permute")

    def op_transpose(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        rank = self.rank(x)
        a = self._dim(args, kwargs, 1, None, "dim0")
        b = self._dim(args, kwargs, 2, None, "dim1")
        if not isinstance(a, int) or not isinstance(b, int):
            raise self.fail(f"{name} with non-integer dims")
        dims = list(range(rank))
        dims[a % rank], dims[b % rank] = dims[b % rank], dims[a % rank]
        return self.permuted(x, dims, "transpose")

    def permuted(self, x: Any, dims: list[int], op: str) -> Any:
        """``x.permute(dims)``.  A permute that moves the batch axis (attention's
        ``qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4)``) has no convsym row: it is kept
        as the parent and the order, until ``unbind(0)`` / ``x[i]`` select on the new leading
        axis (:meth:`moved_select`), which puts the batch first again."""
        if x._cs_moved is not None:  # a permute of a permute: one order over the parent
            parent, before = x._cs_moved
            x, dims = self.tensor(parent), [before[d] for d in dims]
        if len(dims) != self.rank(x) or sorted(dims) != list(range(self.rank(x))):
            raise self.fail(f"{op} with dims {tuple(dims)}: not a permutation of the "
                            f"{self.rank(x)} dims", "bad_axis")
        if dims == list(range(len(dims))):
            return x
        if dims[0] == 0 and x._cs_folded:  # torch's dim d >= 1 is the layer's d + 1
            return self.add(Permute((0, 1, *(d + 1 for d in dims[1:]))), op, [x])
        if dims[0] == 0:
            return self.add(Permute(tuple(dims)), op, [x])
        moved = self.tensor(x._cs_index)
        moved._cs_index = MOVED
        moved._cs_moved = (x._cs_index, tuple(dims))
        return moved

    def moved_select(self, x: Any, index: int, op: str) -> Any:
        """``x[index]`` on the leading axis of a tensor whose batch a permute moved: the
        parent's axis that became the leading one is selected, then the others permuted."""
        parent, dims = x._cs_moved
        axis = dims[0]
        size = self.axis_size(parent, axis)
        n = as_int(size)
        if n is None or not -n <= index < n:
            raise self.fail(f"{op} {index} of an axis of size {to_sympy(size)}", "bad_index")
        shift = 1 if parent in self.folded else 0
        out = self.add(Select(axis + shift, index % n), op, [self.tensor(parent)])
        return self.permuted(out, [d - (d > axis) for d in dims[1:]], "permute")

    op_swapaxes = op_swapdims = op_transpose

    def op_getitem(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x, key = args[0], args[1]
        items = list(key) if isinstance(key, tuple) else [key]
        if x._cs_moved is not None:
            if not items or type(items[0]) is not int:
                raise self.fail("indexing a tensor whose batch axis a permute moved, other "
                                "than x[i] on its leading axis", "batch_size")
            out = self.moved_select(x, items[0], "getitem")
            return self.op_getitem(name, [out, tuple(items[1:])], {}) if items[1:] else out
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        rank = self.rank(x)
        if any(isinstance(k, (list, torch.Tensor)) for k in items):
            return self.gather(x, items)
        used = sum(1 for k in items if k is not None and k is not Ellipsis)
        if Ellipsis in items:
            at = items.index(Ellipsis)
            items[at:at + 1] = [slice(None)] * (rank - used)
        dim = 0  # torch's, in the result so far; the layer's is dim + shift
        shift = 1 if x._cs_folded else 0  # (a folded tensor's dim 0 is B*F)
        out = x
        for k in items:
            if k is None:
                if shift and dim == 0:
                    raise self.fail("x[None] before a batch axis that holds windows folded "
                                    "in", "batch_size")
                out = self.add(Unsqueeze(dim + shift), "getitem", [out])
                dim += 1
            elif isinstance(k, slice):
                if not (_is(k.start, None, 0) and k.stop is None and _is(k.step, None, 1)):
                    if dim == 0:
                        raise self.fail("slicing the batch axis (x[a:b])", "batch_size")
                    layer = Slice(dim + shift, self.size_value(k.start),
                                  self.size_value(k.stop),
                                  1 if k.step is None else self.size_value(k.step))
                    out = self.add(layer, "getitem", [out])
                dim += 1
            elif type(k) is int:
                if dim == 0:
                    raise self.fail("indexing the batch axis (x[i]) selects one sample",
                                    "batch_size")
                out = self.add(Select(dim + shift, k), "getitem", [out])
            else:
                raise self.fail(f"indexing with {type(k).__name__} (only ints, slices, None "
                                "and ... are followed)")
        return out

    def gather(self, x: Any, items: list[Any]) -> Any:
        """``x[:, :, idx]``: one list or 1-D integer tensor of fixed indices among full
        slices (and ``...``): a :class:`Gather` row; anything more (two index lists, an int
        or ``None`` beside one, which move axes by NumPy's rules) is refused."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        lists = [i for i, k in enumerate(items) if isinstance(k, (list, torch.Tensor))]
        index = items[lists[0]]
        values = index.tolist() if isinstance(index, torch.Tensor) and not self.is_tensor(
            index) and index.dim() == 1 and not index.dtype.is_floating_point and \
            index.dtype != torch.bool else index
        full = all(k is Ellipsis or (isinstance(k, slice) and k == slice(None))
                   for i, k in enumerate(items) if i != lists[0])
        if len(lists) != 1 or not full or not isinstance(values, list) or not values or \
                not all(type(v) is int for v in values):
            raise self.fail("indexing with a list or tensor of indices other than one 1-D "
                            "list of fixed integers among full slices (x[:, :, idx])")
        at = lists[0]
        if Ellipsis in items and items.index(Ellipsis) < at:
            at = self.rank(x) - (len(items) - at)
        if at == 0:
            raise self.fail("indexing the batch axis with a list (x[idx])", "batch_size")
        at += 1 if x._cs_folded else 0  # (a folded tensor's torch dim d >= 1: the layer's d + 1)
        return self.add(Gather(at, len(values), min(values), max(values)), "getitem", [x])

    def op_expand(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        sizes = list(args[1:]) or list(kwargs.get("size", ()))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if len(sizes) == 1 and self.is_tensor(sizes[0]):  # expand_as
            sizes = list(sizes[0].shape)
        if not self.is_tensor(x):
            return self.expanded(x, sizes, name)
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

    def expanded(self, value: Any, sizes: list[Any], name: str) -> Any:
        """A parameter or buffer expanded over the batch (``cls_token.expand(b, -1, -1)``):
        a :class:`BatchExpanded` row on the network's input, which gives the batch size.
        Its batch axis must be 1 and grow to the batch; another axis keeps its size (``-1``
        or the same) or, when it is 1, grows to the size given."""
        self.batch_one(value, sizes, name)
        shape: list[Any] = []
        for i, (s, n) in enumerate(zip(sizes[1:], value.shape[1:]), 1):
            if type(s) is int and s in (-1, int(n)):
                shape.append(int(n))
            elif int(n) == 1 and (isinstance(s, SymInt) or (type(s) is int and s >= 0)):
                shape.append(self.size_value(s))
            else:
                raise self.fail(f"{name} of a fixed tensor of shape {tuple(value.shape)}: "
                                f"axis {i} of size {int(n)} cannot become "
                                f"{to_sympy(s.q) if isinstance(s, SymInt) else s}", "bad_expand")
        return self.fixed_row(value, shape, "expand")

    def batch_one(self, value: Any, sizes: list[Any], name: str) -> None:
        """Refuse unless ``value`` is a fixed tensor of batch size 1 and ``sizes`` (one per
        axis) take its batch axis to the batch size."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        head = sizes[0] if sizes else None
        batch = isinstance(head, SymInt) and head.q == QPoly.sym(BATCH_SYMBOL)
        if not (batch and isinstance(value, torch.Tensor) and value.dim() == len(sizes)
                and int(value.shape[0]) == 1):
            raise self.fail(f"{name} of a fixed tensor of shape {tuple(value.shape)} to "
                            f"{sizes}; convsym follows a fixed tensor of batch size 1 "
                            "expanded over the batch axis", "batch_size")

    def fixed_row(self, value: Any, shape: list[Any], op: str) -> Any:
        """A :class:`BatchExpanded` row of ``shape`` for the fixed tensor ``value``, on the
        network's input, counting the parameters it is made of."""
        layer, row = self.holding(value, lambda params: BatchExpanded(tuple(shape), params))
        return self.add(layer, op, [self.tensor(self.inputs[0])], name=row)

    def op_repeat(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``x.repeat(1, 2, 1)``: each axis times its count, the batch's 1; a fixed tensor of
        batch size 1 repeated over the batch (``cls_token.repeat(b, 1, 1)``) is expanded."""
        x = args[0]
        reps = list(args[1:]) or list(kwargs.get("repeats", ()))
        if len(reps) == 1 and isinstance(reps[0], (list, tuple)):
            reps = list(reps[0])
        if not self.is_tensor(x):
            self.batch_one(x, reps, name)
            return self.fixed_row(x, [int(n) * self.size_value(r) for n, r in
                                      zip(x.shape[1:], reps[1:])], "repeat")
        if len(reps) != self.rank(x) or not _is(reps[0], 1):
            raise self.fail(f"{name} with counts {reps} of a rank-{self.rank(x)} tensor: one "
                            "count per axis, the batch's 1 (new leading axes or a repeated "
                            "batch would change the batch axis)", "batch_size")
        return self.add(Repeat(tuple(self.size_value(r) for r in reps[1:])), "repeat", [x])

    def op_select(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        if x._cs_moved is not None:
            if type(args[1]) is not int or args[1] % self.rank(x) or type(args[2]) is not int:
                raise self.fail(f"{name} on dim {args[1]!r} of a tensor whose batch axis a "
                                "permute moved (only its leading dim is followed)",
                                "batch_size")
            return self.moved_select(x, args[2], "select")
        dim = args[1]
        if x._cs_folded:
            if type(dim) is not int or dim % self.rank(x) == 0:
                raise self.fail(f"{name} on dim {dim!r} of a tensor whose batch axis holds "
                                "windows folded in", "batch_size")
            dim = dim % self.rank(x) + 1
        return self.add(Select(dim, args[2]), "select", [x])

    def op_narrow(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x, dim, start, length = args[:4]
        return self.add(Narrow(dim, self.size_value(start), self.size_value(length)), "narrow",
                        [x])

    def op_unsqueeze(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        dim = self._dim(args, kwargs, 1, None)
        rank = self.rank(args[0])
        if args[0]._cs_folded:
            if dim % (rank + 1) == 0:
                raise self.fail(f"{name}(0) of a tensor whose batch axis holds windows folded "
                                "in", "batch_size")
            return self.add(Unsqueeze(dim % (rank + 1) + 1), "unsqueeze", [args[0]])
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
        if x._cs_moved is not None:
            if not isinstance(dim, int) or dim % self.rank(x):
                raise self.fail(f"{name} on dim {dim!r} of a tensor whose batch axis a permute "
                                "moved (only its leading dim is followed)", "batch_size")
            parent, dims = x._cs_moved
            n = as_int(self.axis_size(parent, dims[0]))
            if n is None:
                raise self.fail(f"{name} of an axis of symbolic size", "size_not_concrete")
            return tuple(self.moved_select(x, i, "unbind") for i in range(n))
        n = self.concrete_axis(x, dim, name)
        layer_dim = dim % self.rank(x) + (1 if x._cs_folded else 0)  # (folded: after B*F)
        return tuple(self.add(Select(layer_dim, i), "unbind", [x]) for i in range(n))

    def concrete_axis(self, x: Any, dim: Any, name: str) -> int:
        rank = self.rank(x)
        if not isinstance(dim, int) or dim % rank == 0:
            raise self.fail(f"{name} along dim {dim!r} (the batch axis or not an integer)",
                            "batch_size")
        size = self.axis_size(x._cs_index, dim % rank)
        n = as_int(size)
        if n is None:
            raise self.fail(f"{name} of an axis of symbolic size {to_sympy(size)}: the number "
                            "of pieces depends on it", "size_not_concrete")
        return n

    def pieces(self, x: Any, dim: int, bounds: list[tuple[int, int]], op: str) -> Any:
        rank = self.rank(x)
        at = dim % rank + (1 if x._cs_folded else 0)  # (folded: the layer's dim after B*F)
        return tuple(self.add(Slice(at, a, b), op, [x]) for a, b in bounds)

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

    def op_new_zeros(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``x.new_zeros(sizes)`` (``new_ones``, ``new_empty``): a tensor that takes only
        its dtype from ``x`` and has no batch axis (Swin's attention mask, filled in by slice
        assignment).  With concrete sizes it is a real tensor (its own operations run in
        PyTorch, and it meets the traced tensors as a fixed operand); with symbolic sizes a
        :class:`FixedTensor`, which keeps only its shape."""
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        sizes = list(args[1:]) or list(kwargs.get("size", ()))
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        if not all(type(v) is int for v in sizes):
            if not all(type(v) is int or isinstance(v, SymInt) for v in sizes) or any(
                    isinstance(v, SymInt) and BATCH_SYMBOL in v.q.free_symbols()
                    for v in sizes):
                raise self.fail(f"{name} with sizes {sizes!r:.80}", "size_not_concrete")
            return FixedTensor(tuple(v.q if isinstance(v, SymInt) else QPoly.const(v)
                                     for v in sizes), self)
        make = {"new_zeros": torch.zeros, "new_ones": torch.ones}.get(name, torch.zeros)
        dtype = kwargs.get("dtype") or torch.get_default_dtype()
        return make(tuple(sizes), dtype=dtype)

    op_new_ones = op_new_empty = op_new_zeros

    def op_repeat_interleave(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``q.repeat_interleave(G, dim=0)`` of a ``(B, ...)`` tensor, G a per-sample size:
        each sample repeated G times in a row, which is ``(B*G, ...)`` folded (per sample
        ``(G, ...)``, G copies): timm's GCViT gives each window its image's global query.
        Other repeats are refused."""
        x = args[0]
        repeats = self._dim(args, kwargs, 1, None, "repeats")
        dim = self._dim(args, kwargs, 2, None)
        if not self.is_tensor(x) or x._cs_folded or type(dim) is not int or \
                dim % self.rank(x) != 0 or not (type(repeats) is int or isinstance(
                    repeats, SymInt)):
            raise self.fail(f"{name} other than of a traced tensor over its batch axis "
                            "(dim=0) by a size", "unsupported_operation")
        count = self.size_value(repeats)  # (never the batch size)
        ones = self.add(Unsqueeze(1), "repeat_interleave", [x], folded=False)
        rest = [-1] * len(self.shapes[x._cs_index])
        return self.add(Expand((count, *rest)), "repeat_interleave", [ones], folded=True)

    def op_pad(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        x = args[0]
        pad = self._dim(args, kwargs, 1, None, "pad")
        mode = self._dim(args, kwargs, 2, "constant", "mode")
        value = self._dim(args, kwargs, 3, None, "value")
        spatial = self.rank(x) - 2
        if mode == "constant" and isinstance(pad, (list, tuple)) and len(pad) > 2 * spatial:
            # more axes than a ZeroPad*d pads (a channels-last tensor's three): PadAxes
            padding = tuple(self.size_value(p) for p in pad)
            return self.add(PadAxes(padding, value or 0.0), "pad", [x])
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
                ) -> _Counted:
        """Parameters that a functional layer counts itself: each must be read here first.

        ``tensors`` are the layer's ``weight`` and ``bias`` (or None), in that order: a
        parameter passed as it is counts as the layer's weight of that name, frozen when it
        does not require a gradient.  With ``computed`` (a convolution or linear map), a weight
        that is not a parameter is accepted: one computed in forward from buffers (timm's
        ``BlurPool2d``) or from parameters (``StdConv2d`` standardises its weight,
        ``ScaledStdConv2d`` also scales it by a gain).  The parameters it was computed from
        are read off autograd's record of the computation (the trace runs with gradients on,
        see :func:`run_forward`); the row then holds those no row has counted yet and the
        parameters passed as they are (the bias): :attr:`_Counted.counted`.
        """
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        plain = True
        total = frozen = 0
        names: list[str] = []
        for name, t in zip(("weight", "bias"), tensors):
            if t is None:
                continue
            if not isinstance(t, torch.nn.Parameter):
                if computed and isinstance(t, torch.Tensor) and not self.is_tensor(t):
                    plain = False
                    found = self.computed_from(t, what)
                    total += sum(int(p.numel()) for p in found)
                    frozen += sum(int(p.numel()) for p in found if id(p) in self.frozen)
                    continue
                raise self.fail(f"{what} with a weight that is not a parameter of the model "
                                "(computed in forward); convsym cannot count it")
            if id(t) in self.counted:
                raise self.fail(f"{what} with a parameter already used elsewhere")
            self.counted.add(id(t))
            total += int(t.numel())
            if id(t) in self.frozen:
                frozen += int(t.numel())
                names.append(name)
        return _Counted(None if plain else total, frozen, tuple(names))

    def computed_from(self, t: Any, what: str) -> list[Any]:
        """The parameters (not counted yet) a weight computed in forward was made from.

        Only the running module's own parameters may be its sources (another module's
        could be counted again when that module runs); and when autograd recorded nothing
        (``torch.inference_mode``; ``detach`` or ``.data`` of a parameter) which parameters
        the weight uses is unknown: both are refused rather than counted wrongly.  A source
        autograd cannot see (a weight computed under ``torch.no_grad``, from ``w.detach()``)
        leaves its parameter uncounted: the module is remembered, and if parameters of its
        own remain uncounted when the forward ends, :meth:`check_computed` refuses.
        """
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        module = self.stack[-1][1] if self.stack else self.b.root
        # its own parameters or its submodules' (torchvision's Swin V2 passes
        # self.qkv.bias.clone() to F.linear): a submodule that runs later as a row of its own
        # is refused there (shared_parameter), so nothing is counted twice
        own = {id(p) for p in module.parameters()}
        found = self.sources(t, what)
        if any(id(p) not in own for p in found):
            raise self.fail(f"{what} with a weight computed from parameters of another "
                            "module; convsym counts a computed weight's parameters only "
                            "from the module computing it or its submodules")
        if not found and (torch.is_inference_mode_enabled() or _shares_storage(t, module)):
            raise self.fail(f"{what} with a weight computed in forward whose parameters "
                            "autograd did not record (inference_mode, no_grad, detach or "
                            "integer parameters); convsym cannot count them")
        self.remember_computing()
        out = []
        for p in found:
            if id(p) not in self.counted:
                self.counted.add(id(p))
                out.append(p)
        return out

    def remember_computing(self) -> None:
        """Note that the running module computes a tensor from parameters autograd may not
        have seen whole (:meth:`check_computed`)."""
        module = self.stack[-1][1] if self.stack else self.b.root
        if id(module) not in self.computing:
            self.computing[id(module)] = (self.scope()[0], module, _model_frame())

    def operand_params(self, value: Any) -> list[Any]:
        """The parameters a tensor met in arithmetic is made of: the parameter it is or
        views; none for a buffer; autograd's record for one computed in forward (``x *
        torch.sigmoid(self.gate)``); the parameter whose storage it shares (``w.detach()``,
        ``w.data``).  A computed tensor also makes its module remembered: a source autograd
        missed (``torch.no_grad``) would leave a parameter uncounted."""
        owner = _parameter_of(value)
        if owner is not None:
            return [owner]
        base = value
        while getattr(base, "_base", None) is not None:
            base = base._base
        if id(base) in self.buffers:
            return []
        found = self.sources(value, "arithmetic") if value.grad_fn is not None else []
        if not found:
            shared = self.storage_parameter(value)
            found = [shared] if shared is not None else []
        self.remember_computing()
        return found

    def storage_parameter(self, value: Any) -> Any:
        """The parameter whose storage ``value`` shares, else None."""
        if self.storages is None:
            self.storages = {}
            for _, p in self.params.values():
                ptr = _data_ptr(p)
                if ptr:
                    self.storages.setdefault(ptr, p)
        ptr = _data_ptr(value)
        return self.storages.get(ptr) if ptr else None

    def check_computed(self) -> None:
        """Refuse when a module that computed a weight in forward still has parameters no
        row counted: autograd records nothing under ``torch.no_grad`` (or from
        ``w.detach()``, ``w.data``), so the weight may well use them, and convsym would
        otherwise report them as never run."""
        for qual, module, frames in self.computing.values():
            left = [n for n, p in module.named_parameters() if id(p) not in self.counted]
            if left:
                shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3
                                               else "")
                self.stack.append((qual, module))
                raise self.fail(
                    f"a tensor computed in forward here (a weight or an operand), while the "
                    f"module's parameters {shown} are used nowhere autograd or convsym can "
                    "see (computed under torch.no_grad, from w.detach() or w.data?); convsym "
                    "cannot tell whether the tensor is made of them", "unattributed_parameters",
                    frames)

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
        if args[0]._cs_folded and len(shape) >= self.rank(args[0]):
            raise self.fail(f"layer_norm over {len(shape)} axes of a tensor whose batch axis "
                            "holds windows folded in (it would normalise across them)",
                            "batch_size")
        counted = self.weights([weight, bias], name)
        if weight is None and bias is not None:
            raise self.fail("layer_norm with a bias but no weight")
        layer = LayerNorm(shape, given.get("eps", 1e-5), weight is not None, bias is not None)
        return self.add(_counting(layer, counted), "layer_norm", [args[0]])

    def op_batch_norm(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        weight, bias = given.get("weight"), given.get("bias")
        if (weight is None) != (bias is None):
            raise self.fail("batch_norm with only one of weight and bias")
        counted = self.weights([weight, bias], name)
        x = args[0]
        rank = self.rank(x)
        channels = self.shapes[x._cs_index][0]
        cls: Any = T.LAYERS[f"BatchNorm{max(rank - 2, 1)}d"]
        layer = _build(lambda: cls(to_sympy(channels), affine=weight is not None,
                                   track_running_stats=given.get("running_mean") is not None))
        return self.add(_counting(layer, counted), "batch_norm", [x])

    def op_group_norm(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = ("num_groups", "weight", "bias", "eps")
        given = dict(zip(names, args[1:]))
        given.update(kwargs)
        weight, bias = given.get("weight"), given.get("bias")
        if (weight is None) != (bias is None):
            raise self.fail("group_norm with only one of weight and bias")
        counted = self.weights([weight, bias], name)
        x = args[0]
        channels = self.shapes[x._cs_index][0]
        layer = _build(lambda: GroupNorm(given["num_groups"], to_sympy(channels),
                                         given.get("eps", 1e-5), weight is not None))
        return self.add(_counting(layer, counted), "group_norm", [x])

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


def _data_ptr(t: Any) -> int:
    """Where ``t``'s storage starts (0 when it has none: a meta tensor)."""
    try:
        return int(t.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError):  # no storage (a meta or sparse tensor)
        return 0


def _shares_storage(t: Any, module: Any) -> bool:
    """True when ``t`` views a parameter of ``module`` (``w.detach()``, ``w.data``)."""
    try:
        ptr = t.untyped_storage().data_ptr()
        return any(p.untyped_storage().data_ptr() == ptr for p in module.parameters())
    except (RuntimeError, NotImplementedError):  # no storage (a meta or sparse tensor)
        return False


class _Counted(NamedTuple):
    """What a functional layer's weights hold (:meth:`Trace.weights`): ``counted``
    parameters instead of the layer's own weights (a weight computed in forward), or None
    (its own weights); ``frozen`` of the parameters do not require a gradient, and
    ``names`` are the layer's own weights that are such parameters."""

    counted: int | None
    frozen: int
    names: tuple[str, ...]


def _counting(layer: Layer | str, counted: _Counted) -> Layer | str:
    """``layer`` holding what ``counted`` says (see :meth:`Trace.weights`), or as it is (or
    the refusal text)."""
    if isinstance(layer, str) or (counted.counted is None and not counted.names):
        return layer
    if counted.counted is not None:
        return applied(layer, counted=counted.counted, counted_frozen=counted.frozen)
    return applied(layer, frozen_weights=counted.names)


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


def _flat(items: list[Any]) -> list[Any]:
    """``items`` with lists and tuples (one level, as torch's tensor lists) spread out."""
    out: list[Any] = []
    for item in items:
        out.extend(item if isinstance(item, (list, tuple)) else [item])
    return out


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
