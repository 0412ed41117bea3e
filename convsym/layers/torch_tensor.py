"""PyTorch tensor operations of forward code, as layers: permute, reshape, slice, reduce, stack.

These have no ``torch.nn`` module; the PyTorch importer makes them from ``x.permute(...)``,
``x.view(...)``, ``x[..., a:b]``, ``x.mean(dims)``, ``torch.stack`` and arithmetic with a
parameter (``gamma * x``).  Every ``dim`` counts the batch axis, as in torch, and may not be
the batch axis itself (convsym shapes have none).  Sizes may be symbolic: a slice's bounds
``(H - h) // 2`` are SymPy expressions of the input's symbols, and every closed form is exact
(a bound that PyTorch would clamp, and that cannot be decided, is kept as a side condition).

>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> H = QPoly.sym(symbol("H"))
>>> out = Slice(2, 1, None, 2).infer([(QPoly.const(8), H, H)])
>>> [to_sympy(s) for s in out.shape]
[8, floor(H/2), H]
>>> [to_sympy(s) for s in Permute((0, 2, 3, 1)).infer([(QPoly.const(8), H, H)]).shape]
[H, H, 8]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import sympy

from convsym import formulas
from convsym.errors import ConvsymError
from convsym.expr import as_expr
from convsym.intdiv import (
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    add,
    as_int,
    from_sympy,
    scale,
    to_sympy,
)
from convsym.layers.agree import require_equal
from convsym.layers.base import (
    Condition,
    Inference,
    Layer,
    Shape,
    Weight,
    check_room,
    to_choice,
    to_flag,
    to_size,
)
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.merge import default_names, infer_concat, infer_elementwise, infer_into
from convsym.layers.reshape import infer_reshape
from convsym.layers.resize import infer_pad
from convsym.layers.torch_einsum import Einsum
from convsym.layers.torch_shape import torch_pads
from convsym.period import decide_nonneg
from convsym.sizes import add_sizes, mul_sizes


def batch_axis(layer: Layer, fld: str, dim: object, rank: int, *, allow_end: bool = False
               ) -> int:
    """``dim`` (counting the batch, may be negative) as an index into the batchless shape.

    ``rank`` counts the batch axis; ``allow_end`` admits ``rank`` itself (an insertion point).
    """
    top = rank + 1 if allow_end else rank
    if isinstance(dim, bool) or not isinstance(dim, int) or not -top <= dim < top:
        raise layer.config_error(fld, dim, f"must be an integer dimension of a rank-{rank} "
                                 "tensor (with batch)", code="bad_axis")
    d = dim % top
    if d == 0:
        raise layer.config_error(fld, dim, "is the batch axis; convsym shapes have no batch "
                                 "axis, so operations along it are not supported",
                                 code="bad_axis")
    return d - 1


@layer_class
class Permute(TorchLayer):
    """``x.permute(dims)`` / ``x.transpose(a, b)``: ``dims`` keeps the batch axis first."""

    cost_kind: ClassVar[str] = "none"

    dims: Any

    def validate(self) -> None:
        """A permutation with the batch axis (0) in place."""
        dims = tuple(self.dims) if isinstance(self.dims, (list, tuple)) else ()
        if sorted(dims) != list(range(len(dims))) or not dims or dims[0] != 0:
            raise self.config_error("dims", self.dims, "must be a permutation of 0..rank-1 "
                                    "that keeps the batch axis 0 first", code="bad_permutation")

    def infer_one(self, shape: Shape) -> Inference:
        """Reorder the axes."""
        if len(self.dims) != len(shape) + 1:
            raise self.config_error("dims", tuple(self.dims),
                                    f"permutes {len(self.dims)} axes but the input has "
                                    f"{len(shape) + 1} (with batch)", code="bad_permutation")
        return Inference(tuple(shape[d - 1] for d in self.dims[1:]))


@layer_class
class Reshape(TorchLayer):
    """``x.view(x.size(0), *shape)`` / ``x.reshape(...)`` keeping the batch axis; one ``-1``."""

    cost_kind: ClassVar[str] = "none"

    shape: Any

    def target(self) -> list[QPoly | None]:
        """The target sizes, ``None`` for the ``-1``."""
        items = self.shape if isinstance(self.shape, (list, tuple)) else (self.shape,)
        out: list[QPoly | None] = []
        for i, v in enumerate(items):
            if type(v) is int and v == -1 and None not in out:
                out.append(None)
            else:
                # a computed size may be 0 somewhere (floor(H/4) for H < 4): the element count,
                # which the input keeps >= 1, then tells, so it is a side condition, not a
                # refusal; a literal 0 is refused as before
                out.append(to_size(self, f"shape[{i}]", v, minimum=1 if type(v) is int else 0))
        return out

    def validate(self) -> None:
        """Check eagerly."""
        self.target()

    def infer_one(self, shape: Shape) -> Inference:
        """Same number of elements per sample."""
        return infer_reshape(self, shape, self.target(), fld="shape")


def _bound(layer: Layer, fld: str, value: object, n: QExpr, default: QExpr,
           conditions: list[Condition], axis: str) -> QExpr:
    """A slice bound as PyTorch normalises it: negative counts from the end, then clamped
    to ``[0, n]``.  A clamp that cannot be decided is kept as a side condition (the bound lies
    inside the axis), so the closed form is exact wherever it is claimed."""
    if value is None:
        return default
    v = QPoly.const(value) if type(value) is int else _signed(layer, fld, value)
    sign = _sign(v)
    if sign is None:  # e.g. H - 2: taken as counted from the start, where that holds
        conditions += check_room(layer, axis, v, rule=f"a negative {fld} would count from "
                                 "the end of the axis instead",
                                 what=f"{fld} is negative")
        sign = 1
    if sign < 0:
        at = add(n, v)  # n + v, clamped below at 0
        if _always(at):
            return at
        if _always(_neg(at)):
            return QPoly.const(0)
        conditions += check_room(layer, axis, at, rule=f"PyTorch clamps {fld} = n + {fld} to "
                                 "0 when it is negative",
                                 what=f"{fld} counts back past the start of the axis")
        return at
    room = add(n, v * QPoly.const(-1))  # n - v, clamped: min(v, n)
    if _always(room):
        return v
    if _always(_neg(room)):
        return n
    conditions += check_room(layer, axis, room,
                             rule=f"PyTorch clamps {fld} to the axis size n when it is larger",
                             what=f"{fld} lies past the end of the axis")
    return v


def _signed(layer: Layer, fld: str, value: object) -> QPoly:
    """An integer expression that may be negative (``-h`` in ``x[..., -h:]``)."""
    try:
        q = from_sympy(as_expr(value, field=fld, kind=layer.type_name))
    except (ConvsymError, NotQuasiPolynomial) as err:
        raise layer.config_error(fld, str(value), f"must be an integer expression ({err})",
                                 code="not_integer_valued") from None
    if not isinstance(q, QPoly):
        raise layer.config_error(fld, str(value), "must not be a Min/Max", code="bad_slice")
    return q


def _neg(e: QExpr) -> QExpr:
    """``-e``."""
    return scale(e, QPoly.const(-1))


def _always(e: QExpr) -> bool:
    """``e >= 0`` for every value of its symbols."""
    c = as_int(e)
    return c >= 0 if c is not None else bool(decide_nonneg(e).holds)


def _sign(v: QPoly) -> int | None:
    """+1 if ``v >= 0`` for every value of its symbols, -1 if always negative, else None."""
    if _always(v):
        return 1
    if _always(v * QPoly.const(-1) - QPoly.const(1)):
        return -1
    return None


@layer_class
class Slice(TorchLayer):
    """``x[..., start:stop:step]`` on one axis (``dim`` counts the batch); bounds may be symbolic.

    Exact for symbolic sizes: a bound that torch would clamp is kept as a side condition
    (``stop <= n``), and the slice must not be empty.
    """

    cost_kind: ClassVar[str] = "none"

    dim: Any
    start: Any = None
    stop: Any = None
    step: Any = 1

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "step", self.step)

    def infer_one(self, shape: Shape) -> Inference:
        """``ceil((stop - start)/step)`` after PyTorch's normalisation of the bounds."""
        pos = batch_axis(self, "dim", self.dim, len(shape) + 1)
        n = shape[pos]
        axis = f"dim {self.dim}"
        conditions: list[Condition] = []
        start = _bound(self, "start", self.start, n, QPoly.const(0), conditions, axis)
        stop = _bound(self, "stop", self.stop, n, n, conditions, axis)
        length = add(stop, start * QPoly.const(-1)) if isinstance(start, QPoly) else None
        if length is None:
            raise self.shape_error(axis, None, "the slice start is a Min/Max of sizes",
                                   code="bad_slice")
        conditions += check_room(self, axis, add(length, QPoly.const(-1)),
                                 rule="a slice must keep at least one element",
                                 what="the slice is empty")
        out = formulas.slice_len(length, to_size(self, "step", self.step))
        return Inference((*shape[:pos], out, *shape[pos + 1:]), [], conditions)


@layer_class
class Narrow(TorchLayer):
    """``x.narrow(dim, start, length)``: ``length`` elements from ``start`` (a negative
    ``start`` counts from the end).  Unlike a slice, PyTorch does not clamp: ``start + length``
    past the end is an error, so it is refused, or kept as the side condition that it fits.

    >>> from convsym.intdiv import QPoly
    >>> from convsym.expr import symbol
    >>> H = QPoly.sym(symbol("H"))
    >>> out = Narrow(2, -3, 2).infer([(QPoly.const(8), H)])
    >>> [to_sympy(s) for s in out.shape], [str(c.relation()) for c in out.conditions]
    ([8, 2], ['H >= 3'])
    """

    cost_kind: ClassVar[str] = "none"

    dim: Any
    start: Any
    length: Any

    def infer_one(self, shape: Shape) -> Inference:
        """``length``, where ``start`` and ``start + length`` lie inside the axis."""
        pos = batch_axis(self, "dim", self.dim, len(shape) + 1)
        n = shape[pos]
        axis = f"dim {self.dim}"
        start = _signed(self, "start", self.start)
        length = _signed(self, "length", self.length)  # (W - 2: positive where it fits)
        conditions: list[Condition] = []
        end = (start + length) * QPoly.const(-1)
        if _sign(start) == -1:  # counted from the end, once: n + start >= 0, and then
            conditions += check_room(self, axis, add(n, start), rule="a negative start "
                                     "counts from the end of the axis, which it must not "
                                     "pass", what="the start lies before the axis")
            room: QExpr = end  # n - (n + start + length)
        else:  # (a sign that depends on the sizes: taken as counted from the start)
            conditions += check_room(self, axis, start, rule="narrow's start must not be "
                                     "negative here (it would count from the end)",
                                     what="the start is negative")
            room = add(n, end)
        conditions += check_room(self, axis, add(length, QPoly.const(-1)),
                                 rule="narrow must keep at least one element",
                                 what="the length is not positive")
        conditions += check_room(self, axis, room,
                                 rule="narrow's start + length must not pass the end of the "
                                 "axis (PyTorch does not clamp it)",
                                 what="start + length lies past the end of the axis")
        return Inference((*shape[:pos], length, *shape[pos + 1:]), [], conditions)


@layer_class
class Select(TorchLayer):
    """``x[:, i]`` / ``x.select(dim, i)``: one index on an axis, which disappears."""

    cost_kind: ClassVar[str] = "none"

    dim: Any
    index: Any

    def infer_one(self, shape: Shape) -> Inference:
        """Drop the axis; the index must exist."""
        pos = batch_axis(self, "dim", self.dim, len(shape) + 1)
        conditions = _index_exists(self, "index", self.index, shape[pos])
        return Inference((*shape[:pos], *shape[pos + 1:]), [], conditions)


@layer_class
class Gather(TorchLayer):
    """``x[:, :, idx]`` with one list or 1-D integer tensor of ``count`` fixed indices
    between ``lowest`` and ``highest`` (CSATv2's ``x[:, :, self.permutation]``): the axis
    ``dim`` (counting the batch) takes ``count`` entries; every index must exist.

    >>> from convsym.expr import symbol
    >>> gathered = Gather(2, 5, 0, 7).infer([(QPoly.const(3), QPoly.sym(symbol("c")))])
    >>> gathered.shape == (QPoly.const(3), QPoly.const(5)), str(gathered.conditions[0].relation())
    (True, 'c >= 8')
    """

    cost_kind: ClassVar[str] = "none"

    dim: Any
    count: Any
    lowest: Any
    highest: Any

    def infer_one(self, shape: Shape) -> Inference:
        """The axis becomes ``count``; ``-n <= lowest`` and ``highest < n``."""
        pos = batch_axis(self, "dim", self.dim, len(shape) + 1)
        conditions = [*_index_exists(self, "lowest", self.lowest, shape[pos]),
                      *_index_exists(self, "highest", self.highest, shape[pos])]
        count = to_size(self, "count", self.count)
        return Inference((*shape[:pos], count, *shape[pos + 1:]), [], conditions)


def _index_exists(layer: Layer, fld: str, i: object, n: QExpr) -> list[Condition]:
    """Index ``i`` (negative from the end) lies inside an axis of ``n``."""
    if isinstance(i, bool) or not isinstance(i, int):
        raise layer.config_error(fld, i, "must be an integer", code="bad_index")
    room = add(n, QPoly.const(-(i + 1))) if i >= 0 else add(n, QPoly.const(i))
    return check_room(layer, f"dim {getattr(layer, 'dim', '?')}", room,
                      rule="the index must lie inside the axis",
                      what=f"index {i} is outside the axis")


RELATIONS = ("==", "!=", ">=", ">", "<=", "<")
"""The relations a :class:`Require` row may state between two sizes."""


@layer_class
class Require(TorchLayer):
    """A condition the forward's own Python puts on sizes, on the tensor it was checked with:
    ``torch._assert(h % 8 == 0)``, ``assert h == 224``, or the branch ``if h < 7:`` takes for
    large inputs.  The tensor passes unchanged; the relation ``left op right`` holds, is
    refused (it never holds: the forward would raise or take the other branch), or is kept as
    a side condition, so the network is exact exactly where it is claimed.

    >>> from convsym.intdiv import QPoly
    >>> from convsym.expr import symbol
    >>> h = QPoly.sym(symbol("H"))
    >>> out = Require("floor(H/8)", ">=", 7, "the branch taken").infer_one((h,))
    >>> out.shape == (h,), [str(c.relation()) for c in out.conditions]
    (True, ['floor(H/8) >= 7'])
    """

    cost_kind: ClassVar[str] = "none"

    left: Any
    op: str
    right: Any
    why: str = "the forward requires it"

    def validate(self) -> None:
        """Check eagerly."""
        to_choice(self, "op", self.op, list(RELATIONS))

    def infer_one(self, shape: Shape) -> Inference:
        """The input unchanged, with the relation as a side condition if undecided."""
        left, right = _signed(self, "left", self.left), _signed(self, "right", self.right)
        where, rule = "size", self.why
        if self.op == "==":
            return Inference(tuple(shape), [], require_equal(
                self, where, left, right, rule=rule,
                what=lambda: f"{self.why}; here its sides are {to_sympy(left)} and "
                             f"{to_sympy(right)}"))
        if self.op == "!=":  # between integers: (left - right)**2 >= 1
            d = left - right
            room = d * d - QPoly.const(1)
        else:
            big, small = (left, right) if self.op in (">=", ">") else (right, left)
            room = big - small
            if self.op in (">", "<"):
                room = room - QPoly.const(1)
        conditions = check_room(self, where, room, rule=rule,
                                what=lambda: f"{self.why}; here {to_sympy(left)} {self.op} "
                                             f"{to_sympy(right)} fails")
        if self.op == "!=":
            conditions = [Condition(c.expr, c.kind, c.layer, c.axis, c.rule,
                                    shown=sympy.Ne(to_sympy(left), to_sympy(right)))
                          for c in conditions]
        return Inference(tuple(shape), [], conditions)


@layer_class
class Unsqueeze(TorchLayer):
    """``x.unsqueeze(dim)`` / ``x[:, None]``: a new axis of size 1 at ``dim``."""

    cost_kind: ClassVar[str] = "none"

    dim: Any

    def infer_one(self, shape: Shape) -> Inference:
        """Insert a 1."""
        pos = batch_axis(self, "dim", self.dim, len(shape) + 1, allow_end=True)
        return Inference((*shape[:pos], QPoly.const(1), *shape[pos:]))


@layer_class
class Expand(TorchLayer):
    """``x.expand(*sizes)`` / ``x.expand_as(y)``: size-1 axes stretched to ``shape`` (no
    batch; ``-1`` keeps an axis), aligned on the right as broadcasting is."""

    cost_kind: ClassVar[str] = "none"

    shape: Any

    def infer_one(self, shape: Shape) -> Inference:
        """Each input size must be 1 or the target size (three-valued)."""
        items = tuple(self.shape)
        if len(items) < len(shape):
            raise self.config_error("shape", items, f"has fewer axes than the input's "
                                    f"{len(shape)}", code="bad_expand")
        lead = len(items) - len(shape)
        out: list[QExpr] = []
        conditions: list[Condition] = []
        for i, v in enumerate(items):
            n = shape[i - lead] if i >= lead else None
            if type(v) is int and v == -1:
                if n is None:
                    raise self.config_error(f"shape[{i}]", -1, "-1 on a new axis",
                                            code="bad_expand")
                out.append(n)
                continue
            # (a computed size, a window count, may be 0 for tiny inputs: as Reshape's)
            target = to_size(self, f"shape[{i}]", v, minimum=1 if type(v) is int else 0)
            if n is not None and as_int(n) != 1:
                conditions += require_equal(self, f"axis {i}", n, target,
                                            rule="expand stretches only axes of size 1",
                                            what=f"axis {i} is neither 1 nor the target size")
            out.append(target)
        return Inference(tuple(out), [], conditions)


@layer_class
class Repeat(TorchLayer):
    """``x.repeat(1, *counts)``: each axis (without the batch) times its count.

    >>> from convsym.expr import symbol
    >>> out = Repeat((2, "k")).infer([(QPoly.const(3), QPoly.sym(symbol("n")))])
    >>> [str(to_sympy(s)) for s in out.shape]
    ['6', 'k*n']
    """

    cost_kind: ClassVar[str] = "none"

    counts: Any

    def infer_one(self, shape: Shape) -> Inference:
        """``n * count`` per axis; one count per axis."""
        counts = [to_size(self, f"counts[{i}]", v) for i, v in enumerate(self.counts)]
        if len(counts) != len(shape):
            raise self.config_error("counts", tuple(self.counts), f"needs {len(shape)} "
                                    "counts, one per axis without the batch",
                                    code="wrong_tuple_length")
        return Inference(tuple(mul_sizes(n, c) for n, c in zip(shape, counts)))


REDUCTIONS = ("mean", "sum", "amax", "amin", "max", "min", "prod", "std", "var", "norm",
              "logsumexp", "any", "all", "argmax", "argmin")
"""Tensor reductions over given dims (``keepdim`` keeps each as size 1)."""


@layer_class
class Reduce(TorchLayer):
    """``x.mean(dims, keepdim)`` and the other reductions over non-batch dims."""

    cost_kind: ClassVar[str] = "pool"

    op: str
    dim: Any
    keepdim: bool = False

    def validate(self) -> None:
        """Check eagerly."""
        to_choice(self, "op", self.op, list(REDUCTIONS))

    @property
    def type_name(self) -> str:
        """The torch function, e.g. ``mean``."""
        return self.op

    def infer_one(self, shape: Shape) -> Inference:
        """Remove (or keep as 1) every reduced axis."""
        dims = self.dim if isinstance(self.dim, (list, tuple)) else (self.dim,)
        rank = len(shape) + 1
        axes = {batch_axis(self, "dim", d, rank) for d in dims}
        out: list[QExpr] = []
        for i, s in enumerate(shape):
            if i not in axes:
                out.append(s)
            elif self.keepdim:
                out.append(QPoly.const(1))
        return Inference(tuple(out))


@layer_class
class Stack(TorchLayer):
    """``torch.stack(tensors, dim)``: equal shapes, a new axis of the tensors' count."""

    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "none"

    dim: Any = 0

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """The tensors must agree on every axis."""
        names = default_names(len(inputs))
        joined = infer_concat(self, inputs, names, 0, fld="dim")  # checks the other axes
        rank = len(inputs[0]) + 1
        pos = batch_axis(self, "dim", self.dim, rank, allow_end=True)
        shape = inputs[0]
        out = (*shape[:pos], QPoly.const(len(inputs)), *shape[pos:])
        conditions = [c for c in joined.conditions]
        if len(inputs) > 1 and shape:
            for j, other in enumerate(inputs[1:], 1):
                conditions += require_equal(self, "axis 0", shape[0], other[0],
                                            rule="stacked tensors must have equal shapes",
                                            what=f"input 0 and input {j} differ on axis 0")
        return Inference(out, [], conditions)


def fixed_operand(layer: Layer, fld: str, operand_shape: Any, rank: int) -> list[QPoly]:
    """A fixed tensor's shape (with the batch axis) aligned on the right with a traced
    tensor of ``rank`` axes (without it), as broadcasting aligns them: a leading batch axis
    must be 1, and missing leading axes (a 0-d gain, a ``(W,)`` vector) are 1.  A size
    computed from the input's (a shifted-window mask's window count) may be 0 for tiny
    inputs, where the broadcast with the traced tensor then decides, as for a reshape."""
    sizes = [to_size(layer, f"{fld}[{i}]", v, minimum=0)
             for i, v in enumerate(operand_shape)]
    if len(sizes) > rank:
        if len(sizes) > rank + 1 or as_int(sizes[0]) != 1:
            raise layer.shape_error(fld, tuple(operand_shape),
                                    "the operand would change the batch axis",
                                    code="bad_broadcast")
        sizes = sizes[1:]
    return [QPoly.const(1)] * (rank - len(sizes)) + sizes


@layer_class
class TensorOperand(TorchLayer):
    """``x * gamma``, ``x + bias``: element-wise with a fixed tensor (a parameter or buffer).

    ``operand_shape`` is the tensor's shape, aligned on the right with ``x``'s shape with the
    batch (broadcasting); ``params`` counts its entries when it is a parameter read here first.
    """

    cost_kind: ClassVar[str] = "merge"

    op: str
    operand_shape: Any
    params: int = 0
    inplace: bool = False
    """``x.add_(bias)``, ``x *= gamma``: the result keeps ``x``'s shape, into which the
    operand must broadcast (PyTorch refuses an in-place result that would grow)."""

    def infer_one(self, shape: Shape) -> Inference:
        """Broadcast the two shapes (the operand may not reach the batch axis); in place,
        the operand broadcasts into the input's shape."""
        sizes = fixed_operand(self, "operand_shape", self.operand_shape, len(shape))
        if to_flag(self, "inplace", self.inplace):
            out = infer_into(self, shape, tuple(sizes), ["input", "operand"])
        else:
            out = infer_elementwise(self, [shape, tuple(sizes)], ["input", "operand"])
        if self.params:
            out.weights = [Weight("operand", (QPoly.const(self.params),))]
        return out


@layer_class
class BatchExpanded(TorchLayer):
    """``token.expand(b, -1, -1)``: a fixed tensor (a parameter or buffer whose batch axis
    is 1) expanded over the batch, as vision transformers make their class token.

    Its input (the network's) only gives the batch size: the output is ``shape`` (without
    the batch) whatever the input's shape.  ``params`` counts the tensor's entries when it
    is a parameter read here first.

    >>> from convsym.intdiv import QPoly, to_sympy
    >>> from convsym.expr import symbol
    >>> out = BatchExpanded((1, 8), 8).infer_one((QPoly.sym(symbol("n")), QPoly.const(8)))
    >>> [to_sympy(s) for s in out.shape], to_sympy(out.trainable)
    ([1, 8], 8)
    """

    cost_kind: ClassVar[str] = "none"

    shape: Any
    params: int = 0

    def infer_one(self, shape: Shape) -> Inference:
        """The fixed shape; the input's shape does not matter.  A size may be 0 for some
        inputs (a position encoding made at ``H // 8``), as PyTorch's may."""
        out = Inference(tuple(to_size(self, f"shape[{i}]", v, minimum=0)
                              for i, v in enumerate(self.shape)))
        if self.params:
            out.weights = [Weight("tensor", (QPoly.const(self.params),))]
        return out


@layer_class
class PadAxes(TorchLayer):
    """``F.pad(x, pads, value=v)`` in constant mode on more axes than the ``ZeroPad*d``
    modules pad: ``pads`` lists ``(before, after)`` from the last axis backwards, as
    PyTorch does, and may reach every axis but the batch (CoaT pads the token axis of a
    channels-last ``(B, h, N, C)`` tensor with ``(0, 0, 1, 0, 0, 0)``).  Negative pads crop.

    >>> from convsym.intdiv import QPoly, to_sympy
    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> out = PadAxes((0, 0, 1, 0, 0, 0)).infer_one((QPoly.const(2), n, QPoly.const(8)))
    >>> [to_sympy(s) for s in out.shape]
    [2, n + 1, 8]
    """

    cost_kind: ClassVar[str] = "none"

    pads: Any
    value: Any = 0.0

    def infer_one(self, shape: Shape) -> Inference:
        """``n + before + after`` on each padded axis (at least one cell must remain)."""
        items = tuple(self.pads) if isinstance(self.pads, (list, tuple)) else ()
        k = len(items) // 2
        if len(items) % 2 or not 0 < k <= len(shape):
            raise self.config_error("pads", self.pads, f"must be (before, after) pairs for "
                                    f"1 to {len(shape)} axes (not the batch), last axis "
                                    "first", code="wrong_tuple_length")
        pairs = torch_pads(self, items, k, negative=True)
        lead = len(shape) - k
        names = tuple(f"axis {lead + 1 + i}" for i in range(k))
        out = infer_pad(self, (QPoly.const(1), *shape[lead:]), pairs, True, names=names)
        return dataclasses.replace(out, shape=(*shape[:lead], *out.shape[1:]))


@layer_class
class InPlace(TorchLayer):
    """``a.add_(b)``, ``a += b``, ``a.mul_(b)`` ... of two traced tensors: element-wise ``op``
    written into ``a``, so the result keeps ``a``'s shape and ``b`` must broadcast into it
    (PyTorch refuses ``a`` of ``(8, 1, 1)`` plus ``b`` of ``(8, H, W)`` unless H = W = 1).

    >>> from convsym.intdiv import QPoly
    >>> from convsym.expr import symbol
    >>> H = QPoly.sym(symbol("H"))
    >>> out = InPlace("add").infer([(QPoly.const(8), QPoly.const(1)), (QPoly.const(8), H)])
    >>> [to_sympy(s) for s in out.shape], [str(c.relation()) for c in out.conditions]
    ([8, 1], ['Eq(H, 1)'])
    """

    n_inputs: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "merge"

    op: str

    def validate(self) -> None:
        """One of the element-wise operations PyTorch has in place."""
        to_choice(self, "op", self.op, ("add", "subtract", "multiply", "divide", "power"))

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """The target (first input) with the operand broadcast into it."""
        return self.infer_named(inputs, default_names(len(inputs)))

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """The target's shape; each of the operand's sizes must be the target's or 1."""
        a, b = _inputs(self, inputs, "the tensor written into and the operand")
        return infer_into(self, a, b, names)


def _products(layer: Layer, a: Shape, b: Shape, names: tuple[str, str], what: str
              ) -> tuple[list[QExpr], list[Condition]]:
    """The broadcast leading axes of two tensors multiplied as stacks of matrices: equal ranks
    (the batch axes then meet each other), each pair of leading sizes equal or one of them 1."""
    if len(a) != len(b) or len(a) < 2:
        raise layer.shape_error(
            "inputs", None, f"{what} of a rank-{len(a)} and a rank-{len(b)} tensor (without the "
            "batch axis): convsym follows products of two stacks of matrices of one rank, "
            "batch axes matched", code="rank_mismatch")
    if len(a) == 2:
        return [], []
    lead = infer_elementwise(layer, [a[:-2], b[:-2]], list(names))
    return list(lead.shape), list(lead.conditions)


def _inputs(layer: Layer, inputs: Sequence[Shape], what: str) -> Sequence[Shape]:
    """``inputs`` when there are ``layer.n_inputs`` of them, else the layer's refusal."""
    if len(inputs) != layer.n_inputs:
        raise layer.shape_error("inputs", len(inputs), f"takes {what}",
                                code="wrong_input_count")
    return inputs


@layer_class
class MatMul(TorchLayer):
    """``a @ b`` / ``torch.matmul`` / ``bmm`` of two traced tensors: ``(..., n, k)`` times
    ``(..., k, m)`` is ``(..., n, m)``; the ``k`` must agree, the leading axes broadcast."""

    n_inputs: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "dense"

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Rows of the first times columns of the second, stack by stack."""
        a, b = _inputs(self, inputs, "two tensors")
        lead, conditions = _products(self, a, b, ("left", "right"), "a matrix product")
        conditions += require_equal(
            self, "inner axis", a[-1], b[-2],
            rule="a matrix product needs the left's columns to equal the right's rows",
            what=lambda: f"the left has {to_sympy(a[-1])} columns and the right "
                         f"{to_sympy(b[-2])} rows")
        out = (*lead, a[-2], b[-1])
        return Inference(out, [], conditions, macs=mul_sizes(*out, a[-1]))


@layer_class
class MatMulFixed(TorchLayer):
    """``x @ w`` (``left``: ``w @ x``) with a fixed matrix ``w`` (a parameter, buffer or a
    tensor computed from them) of shape ``operand_shape``: SwiftFormer's ``query @ self.w_g``.
    ``x @ w`` with ``w`` of ``(k, m)`` takes ``x`` of ``(..., k)`` to ``(..., m)``; ``w @ x``
    with ``w`` of ``(m, n)`` takes ``(..., n, k)`` to ``(..., m, k)``.  A stack of matrices
    ``(..., k, m)`` (Gemma 4's one-hot lookup in its ``(2, positions, dim)`` table) has
    leading axes that broadcast with the tensor's and never reach the batch axis.
    ``params`` counts ``w`` when it holds parameters read here first.

    >>> from convsym.intdiv import QPoly, to_sympy
    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> out = MatMulFixed((8, 1), 8).infer_one((n, QPoly.const(8)))
    >>> [to_sympy(s) for s in out.shape], to_sympy(out.macs), to_sympy(out.trainable)
    ([n, 1], 8*n, 8)
    >>> out = MatMulFixed((2, 8, 3)).infer_one((QPoly.const(2), n, QPoly.const(8)))
    >>> [to_sympy(s) for s in out.shape], to_sympy(out.macs)
    ([2, n, 3], 48*n)
    """

    cost_kind: ClassVar[str] = "dense"

    operand_shape: Any
    params: int = 0
    left: bool = False

    def infer_one(self, shape: Shape) -> Inference:
        """The matrix product; the inner sizes must agree."""
        items = tuple(self.operand_shape)
        if len(items) < 2:
            raise self.config_error("operand_shape", items, "must be a matrix or a stack of "
                                    "them (two axes or more); convsym follows products with "
                                    "a fixed matrix", code="rank_mismatch")
        sizes = [to_size(self, f"operand_shape[{i}]", v) for i, v in enumerate(items)]
        rows, cols = sizes[-2:]
        left = to_flag(self, "left", self.left)
        if len(shape) < (2 if left or len(items) > 2 else 1) or len(items) > len(shape):
            raise self.shape_error("input shape", len(shape), f"a fixed tensor of {len(items)} "
                                   "axes times a tensor of fewer than two axes or fewer axes "
                                   "than it (without the batch, which it may not reach)",
                                   code="rank_mismatch")
        inner = shape[-2] if left else shape[-1]
        conditions: list[Condition] = []
        if len(items) > 2:  # a stack of matrices: the leading axes broadcast
            ones = [QPoly.const(1)] * (len(shape) - len(items))
            lead = infer_elementwise(self, [shape[:-2], (*ones, *sizes[:-2])],
                                     ["tensor", "operand"])
            shape = (*lead.shape, *shape[-2:])
            conditions += lead.conditions
        conditions += require_equal(
            self, "inner axis", inner, cols if left else rows,
            rule="a matrix product needs the left's columns to equal the right's rows",
            what=lambda: f"the tensor's {to_sympy(inner)} against the matrix "
                         f"{tuple(to_sympy(v) for v in (rows, cols))}")
        out = (*shape[:-2], rows, shape[-1]) if left else (*shape[:-1], cols)
        weights = [Weight("operand", (QPoly.const(self.params),))] if self.params else []
        return Inference(out, weights, conditions, macs=mul_sizes(*out, inner))


@layer_class
class ScaledDotProductAttention(TorchLayer):
    """``F.scaled_dot_product_attention(q, k, v)``: ``(..., L, E)``, ``(..., S, E)`` and
    ``(..., S, Ev)`` give ``(..., L, Ev)``; keys and values agree on ``S``, queries and keys
    on ``E``; no grouped heads.  ``mask`` is the shape of a fixed ``attn_mask`` (with the
    batch axis; BEiT's relative position bias ``(1, heads, N, N)``), which must broadcast
    into the scores ``(..., L, S)``; ``params`` counts it when it holds parameters read here
    first.

    >>> from convsym.intdiv import QPoly, to_sympy
    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> x = (QPoly.const(2), n, QPoly.const(4))
    >>> out = ScaledDotProductAttention((1, 2, 5, 5), 6).infer([x, x, x])
    >>> [to_sympy(s) for s in out.shape], [str(c.relation()) for c in out.conditions]
    ([2, n, 4], ['Eq(n, 5)', 'Eq(n, 5)'])
    """

    n_inputs: ClassVar[int] = 3
    cost_kind: ClassVar[str] = "dense"

    mask: Any = None
    params: int = 0

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """The two matrix products it is, ``softmax(q k^T) v``, without the scaling."""
        q, k, v = _inputs(self, inputs, "query, key and value")
        lead, conditions = _products(self, q, k, ("query", "key"), "attention")
        lead_v, more = _products(self, (*lead, *q[-2:]), v, ("scores", "value"), "attention")
        conditions += more
        conditions += require_equal(
            self, "embedding axis", q[-1], k[-1],
            rule="attention needs queries and keys of one embedding size",
            what=lambda: f"queries of size {to_sympy(q[-1])}, keys of size {to_sympy(k[-1])}")
        conditions += require_equal(
            self, "sequence axis", k[-2], v[-2],
            rule="attention needs as many values as keys",
            what=lambda: f"{to_sympy(k[-2])} keys and {to_sympy(v[-2])} values")
        out = (*lead_v, q[-2], v[-1])
        macs = add_sizes(mul_sizes(*lead_v, q[-2], k[-2], q[-1]),  # the scores, then
                         mul_sizes(*lead_v, q[-2], k[-2], v[-1]))  # the weighted sum
        weights = []
        if self.mask is not None:
            scores = (*lead_v, q[-2], k[-2])
            mask = fixed_operand(self, "mask", self.mask, len(scores))
            conditions += infer_into(self, scores, tuple(mask), ["scores", "mask"]).conditions
            if self.params:
                weights = [Weight("mask", (QPoly.const(self.params),))]
        return Inference(out, weights, conditions, macs=macs)


@layer_class
class MultiheadAttention(TorchLayer):
    """``nn.MultiheadAttention`` called as ``attn(query, key, value)`` (batch first here; the
    importer turns ``batch_first=False`` inputs round): ``(L, E)``, ``(S, kdim)`` and
    ``(S, vdim)`` give ``(L, E)``, or with ``output="weights"`` the attention weights
    ``(L, S)`` (``"weights_per_head"``: ``(num_heads, L, S)``), which hold no parameters.

    >>> from convsym.intdiv import QPoly, to_sympy
    >>> from convsym.expr import symbol
    >>> n = QPoly.sym(symbol("n"))
    >>> x = (n, QPoly.const(8))
    >>> out = MultiheadAttention(8, 2).infer([x, x, x])
    >>> [to_sympy(s) for s in out.shape], to_sympy(out.trainable)
    ([n, 8], 288)
    """

    n_inputs: ClassVar[int] = 3
    cost_kind: ClassVar[str] = "dense"

    embed_dim: int
    num_heads: int
    kdim: int | None = None
    vdim: int | None = None
    bias: bool = True
    add_bias_kv: bool = False
    add_zero_attn: bool = False
    output: str = "out"

    def validate(self) -> None:
        """Check eagerly, as ``nn.MultiheadAttention`` does (sizes are integers here)."""
        for fld in ("embed_dim", "num_heads", "kdim", "vdim"):
            value = getattr(self, fld)
            if value is None and fld in ("kdim", "vdim"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self.config_error(fld, value, "must be an integer >= 1",
                                        code="below_minimum")
        if self.embed_dim % self.num_heads:
            raise self.config_error("num_heads", self.num_heads,
                                    f"must divide embed_dim = {self.embed_dim}",
                                    code="bad_heads")
        to_choice(self, "output", self.output, ["out", "weights", "weights_per_head"])

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Projections, scores, the weighted sum and the output projection."""
        q, k, v = _inputs(self, inputs, "query, key and value")
        e = QPoly.const(self.embed_dim)
        kdim = QPoly.const(self.kdim if self.kdim is not None else self.embed_dim)
        vdim = QPoly.const(self.vdim if self.vdim is not None else self.embed_dim)
        conditions: list[Condition] = []
        for name, shape, size in (("query", q, e), ("key", k, kdim), ("value", v, vdim)):
            if len(shape) != 2:
                raise self.shape_error("inputs", None, f"the {name} has rank {len(shape) + 1} "
                                       "with the batch; batched attention takes rank 3",
                                       code="rank_mismatch")
            conditions += require_equal(
                self, f"{name} features", shape[1], size,
                rule=f"the {name}'s last axis must be the layer's size",
                what=f"the {name} has {to_sympy(shape[1])} features, not {to_sympy(size)}")
        conditions += require_equal(
            self, "sequence axis", k[0], v[0], rule="attention needs as many values as keys",
            what=lambda: f"{to_sympy(k[0])} keys and {to_sympy(v[0])} values")
        extra = int(self.add_bias_kv) + int(self.add_zero_attn)
        s_len = add_sizes(k[0], QPoly.const(extra)) if extra else k[0]
        if self.output != "out":
            heads = (QPoly.const(self.num_heads),) if self.output == "weights_per_head" else ()
            return Inference((*heads, q[0], s_len), [], conditions)
        macs = add_sizes(mul_sizes(q[0], e, e), mul_sizes(k[0], kdim, e),
                         mul_sizes(v[0], vdim, e), mul_sizes(q[0], s_len, e),
                         mul_sizes(q[0], s_len, e), mul_sizes(q[0], e, e))
        return Inference((q[0], e), self._weights(e, kdim, vdim), conditions, macs=macs)

    def _weights(self, e: QPoly, kdim: QPoly, vdim: QPoly) -> list[Weight]:
        """PyTorch's parameters: one packed input projection when key and value have the
        query's size, else three; biases; the output projection; ``bias_k`` / ``bias_v``."""
        if self.kdim in (None, self.embed_dim) and self.vdim in (None, self.embed_dim):
            out = [Weight("in_proj_weight", (QPoly.const(3 * self.embed_dim), e))]
        else:
            out = [Weight("q_proj_weight", (e, e)), Weight("k_proj_weight", (e, kdim)),
                   Weight("v_proj_weight", (e, vdim))]
        if self.bias:
            out.append(Weight("in_proj_bias", (QPoly.const(3 * self.embed_dim),)))
        out.append(Weight("out_proj.weight", (e, e)))
        if self.bias:
            out.append(Weight("out_proj.bias", (e,)))
        if self.add_bias_kv:
            out += [Weight("bias_k", (QPoly.const(1), QPoly.const(1), e)),
                    Weight("bias_v", (QPoly.const(1), QPoly.const(1), e))]
        return out


TENSOR_OPS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Permute, Reshape, Slice, Narrow, Select, Unsqueeze, Expand, Reduce, Stack, TensorOperand,
    InPlace, MatMul, ScaledDotProductAttention, Require, BatchExpanded, MultiheadAttention,
    PadAxes, MatMulFixed, Einsum, Gather, Repeat)}
"""The tensor-operation layers of this module, by class name."""
