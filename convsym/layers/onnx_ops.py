"""ONNX operators without a window: element-wise, normalisation, dense, reshaping, resizing.

Channels first and no batch axis here: the importer removes the batch axis (axis 0 of every
data tensor) and rewrites ``axes``/``perm``/``pads`` to the axes that remain.  One class
serves several operators where they share a shape rule (``Unary("Relu")``,
``Elementwise("Add")``, ``Reduce("ReduceMean")``); ``type_name`` is the ONNX operator.

>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> H = QPoly.sym(symbol("H"))
>>> x = (QPoly.const(8), H, H)
>>> [to_sympy(s) for s in Reshape((-1,)).infer([x]).shape]
[8*H**2]
>>> [to_sympy(s) for s in Elementwise("Mul", ((8, 1, 1),)).infer([x]).shape]
[8, H, H]
"""

# Messages are built by lambdas that check_room/require_equal call before returning, inside
# the loop iteration that made them, so late binding of loop variables cannot bite.
# ruff: noqa: B023

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, ClassVar

from convsym.intdiv import QExpr, QPoly, add, as_int, div_ceil, div_floor, ext, scale, to_sympy
from convsym.layers.agree import require_equal
from convsym.layers.base import AxisStep, Condition, Inference, Layer, Shape, check_room, to_size
from convsym.layers.core import infer_dense, infer_identity
from convsym.layers.frontend import layer_class
from convsym.layers.merge import default_names, infer_concat, infer_elementwise
from convsym.layers.onnx_conv import OnnxLayer
from convsym.layers.reduce import infer_global_pool
from convsym.layers.reshape import infer_reshape
from convsym.sizes import mul_sizes, settle

_AXES = ("axis 0", "axis 1", "axis 2", "axis 3", "axis 4", "axis 5")


def _sizes(layer: Layer, fld: str, values: Sequence[object], minimum: int = 1
           ) -> tuple[QPoly, ...]:
    return tuple(to_size(layer, f"{fld}[{i}]", v, minimum=minimum) for i, v in enumerate(values))


def _axis(layer: Layer, fld: str, axis: object, rank: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank:
        raise layer.config_error(fld, axis, f"is not an axis of a rank-{rank} input (without "
                                 "the batch)", code="bad_axis")
    return axis % rank


class _Named(OnnxLayer):
    """An ONNX layer whose ``op`` field names the operator."""

    @property
    def type_name(self) -> str:
        """The ONNX operator (``Relu``, ``Add``, ...)."""
        op: object = self.__dict__.get("op", type(self).__name__)
        return str(op)


@layer_class
class Unary(_Named):
    """An operator that keeps the shape: activations, Dropout, Identity, Cast, Clip, LRN..."""

    cost_kind: ClassVar[str] = "activation"

    op: str
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through; one operation per element."""
        out = infer_identity(shape)
        out.ops = mul_sizes(*shape)
        return self.with_initializers(out)


@layer_class
class Elementwise(_Named):
    """``Add``/``Sub``/``Mul``/``Div``/``PRelu``/... with broadcasting; ``constants`` are the
    shapes of constant operands (aligned on the right as ONNX broadcasts, batch removed).

    Broadcasting is convsym's element-wise merge (:mod:`convsym.layers.merge`)."""

    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "merge"

    op: str
    constants: Any = ()
    initializers: Any = ()

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Broadcast the inputs and the constants."""
        return self.infer_named(inputs, default_names(len(inputs)))

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Broadcast, naming the branches in messages."""
        # a constant shape may be computed from a size (Expand to Shape(x)) that is 0 for some
        # inputs: broadcasting decides, as Reshape's element count does
        consts = [_sizes(self, f"constants[{i}]", c, minimum=0)
                  for i, c in enumerate(self.constants)]
        shapes = [*inputs, *consts]
        labels = [*names, *(f"constant {i}" for i in range(len(consts)))]
        return self.with_initializers(infer_elementwise(self, shapes, labels))


@layer_class
class Concat(OnnxLayer):
    """ONNX ``Concat`` along ``axis`` (without the batch)."""

    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "merge"

    axis: int
    initializers: Any = ()

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Join the inputs along ``axis``."""
        return self.infer_named(inputs, default_names(len(inputs)))

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Join, naming the branches in messages."""
        return self.with_initializers(infer_concat(self, inputs, names, self.axis))


@layer_class
class BatchNormalization(OnnxLayer):
    """ONNX ``BatchNormalization`` (inference form): four vectors of ``channels``; the mean and
    variance are non-trainable statistics."""

    cost_kind: ClassVar[str] = "norm"

    channels: Any
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """The input's channels (axis 0) must be ``channels``."""
        if not shape:
            raise self.shape_error("input shape", "()", "needs a channel axis", code="wrong_rank")
        conditions = require_equal(self, "channels", shape[0],
                                   to_size(self, "channels", self.channels),
                                   rule="the input's channels must match the scale vector",
                                   what=lambda: f"the input has {_t(shape[0])} channels, the "
                                        f"scale vector {self.channels}")
        out = Inference(tuple(shape), [], conditions, ops=mul_sizes(*shape))
        return self.with_initializers(out)


@layer_class
class Gemm(OnnxLayer):
    """ONNX ``Gemm`` on ``(batch, in_features)``: ``(out_features,)`` per sample."""

    cost_kind: ClassVar[str] = "dense"

    in_features: Any
    out_features: Any
    bias: bool = False
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """The dense core; the input must be one axis of ``in_features``."""
        if len(shape) != 1:
            raise self.shape_error("input shape", len(shape) + 1,
                                   "Gemm multiplies matrices: its input must have rank 2 "
                                   "(batch, features)", code="wrong_rank")
        out = infer_dense(self, shape, to_size(self, "out_features", self.out_features),
                          bool(self.bias), "torch",
                          in_features=to_size(self, "in_features", self.in_features))
        return self.with_initializers(out)


@layer_class
class MatMul(OnnxLayer):
    """ONNX ``MatMul``: with a constant right operand ``right`` (``(K, M)`` or ``(K,)``), or of
    two data tensors of one rank (batched)."""

    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "dense"

    right: Any = None
    initializers: Any = ()

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """``(..., K) @ (K, M)`` is ``(..., M)``; batched when both operands are data."""
        a: Shape
        b: Shape
        if self.right is not None:
            if len(inputs) != 1:
                raise self.config_error("inputs", len(inputs), "takes one data input with a "
                                        "constant right operand", code="wrong_input_count")
            a, b = inputs[0], _sizes(self, "right", self.right)
        elif len(inputs) == 2:
            a, b = inputs
        else:
            raise self.config_error("inputs", len(inputs), "takes two operands",
                                    code="wrong_input_count")
        if not a:
            raise self.shape_error("input shape", "(batch,)", "a vector operand would remove "
                                   "the batch axis", code="wrong_rank")
        k_b = b[0] if len(b) == 1 else b[-2]
        conditions = require_equal(self, "K", a[-1], k_b,
                                   rule="MatMul needs the left operand's last size to equal "
                                        "the right operand's rows",
                                   what=lambda: f"{_t(a[-1])} vs {_t(k_b)}")
        if len(b) == 1:
            shape: Shape = tuple(a[:-1])
        elif self.right is not None:
            shape = (*a[:-1], b[-1])
        else:
            if len(a) != len(b):
                raise self.shape_error("inputs", None, "convsym multiplies data tensors of "
                                       "one rank only", code="rank_mismatch")
            lead = infer_elementwise(self, [a[:-2], b[:-2]], ["left", "right"]) if \
                len(a) > 2 else Inference(())
            conditions += lead.conditions
            shape = (*lead.shape, a[-2], b[-1])
        macs = mul_sizes(*shape, a[-1]) if shape else a[-1]
        return self.with_initializers(Inference(shape, [], conditions, macs=macs))


@layer_class
class Reshape(OnnxLayer):
    """ONNX ``Reshape`` to ``shape`` (without the batch; ``-1`` is inferred, at most once)."""

    shape: Any
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """The reshape core (element count kept, three-valued)."""
        if not isinstance(self.shape, (list, tuple)):
            raise self.config_error("shape", self.shape, "must be a tuple of sizes",
                                    code="bad_target_shape")
        target: list[QPoly | None] = []
        for i, v in enumerate(self.shape):
            if isinstance(v, int) and not isinstance(v, bool) and v == -1:
                if None in target:
                    raise self.config_error("shape", tuple(self.shape), "has two -1 entries",
                                            code="bad_target_shape")
                target.append(None)
            else:  # computed sizes may be 0 for some inputs: the element count decides
                target.append(to_size(self, f"shape[{i}]", v, minimum=0))
        return self.with_initializers(infer_reshape(self, shape, target, fld="shape"))


@layer_class
class Flatten(OnnxLayer):
    """ONNX ``Flatten`` with ``axis=1``: one axis per sample."""

    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """The product of the sizes."""
        total = mul_sizes(*shape)
        return self.with_initializers(Inference((total,)))


@layer_class
class Transpose(OnnxLayer):
    """ONNX ``Transpose`` of the axes after the batch (``perm`` counts from 0 here)."""

    perm: Any
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """Reorder the axes."""
        perm = list(self.perm)
        if sorted(perm) != list(range(len(shape))):
            raise self.config_error("perm", tuple(perm), f"must be a permutation of "
                                    f"0..{len(shape) - 1}", code="bad_permutation")
        return self.with_initializers(Inference(tuple(shape[p] for p in perm)))


@layer_class
class Squeeze(OnnxLayer):
    """ONNX ``Squeeze`` of ``axes`` (without the batch); each must have size 1."""

    axes: Any
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """Drop the size-1 axes."""
        axes = {_axis(self, "axes", a, len(shape)) for a in self.axes}
        conditions: list[Condition] = []
        for a in sorted(axes):
            conditions += require_equal(self, f"axis {a}", shape[a], QPoly.const(1),
                                        rule="Squeeze removes axes of size 1 only",
                                        what=lambda: f"axis {a} has size {_t(shape[a])}")
        return self.with_initializers(Inference(tuple(s for i, s in enumerate(shape)
                                                      if i not in axes), [], conditions))


@layer_class
class Unsqueeze(OnnxLayer):
    """ONNX ``Unsqueeze``: insert size-1 axes at ``axes`` (of the output, without the batch)."""

    axes: Any
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """Insert the axes."""
        rank = len(shape) + len(self.axes)
        axes = {_axis(self, "axes", a, rank) for a in self.axes}
        rest = iter(shape)
        return self.with_initializers(Inference(tuple(
            QPoly.const(1) if i in axes else next(rest) for i in range(rank))))


@layer_class
class Reduce(_Named):
    """``ReduceMean``/``ReduceMax``/... over ``axes`` (without the batch), kept as 1 with
    ``keepdims``; ``GlobalAveragePool``/``GlobalMaxPool`` reduce every spatial axis."""

    cost_kind: ClassVar[str] = "pool"

    op: str
    axes: Any
    keepdims: int = 1
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """Reduce the axes."""
        if self.op.startswith("Global"):
            if len(shape) < 2:
                raise self.shape_error("input shape", len(shape) + 1, "global pooling needs "
                                       "(batch, channels, *spatial)", code="wrong_rank")
            return self.with_initializers(
                infer_global_pool(self, shape, len(shape) - 1, True, keepdims=True))
        axes = {_axis(self, "axes", a, len(shape)) for a in self.axes}
        one = QPoly.const(1)
        out = [one if i in axes else s for i, s in enumerate(shape)] if self.keepdims else \
            [s for i, s in enumerate(shape) if i not in axes]
        return self.with_initializers(Inference(tuple(out), ops=mul_sizes(*shape)))


@layer_class
class Slice(OnnxLayer):
    """ONNX ``Slice`` with ``(axis, start, end, step)`` entries (axes without the batch).

    Negative ``start``/``end`` count from the end; both are clamped to the axis as ONNX does
    (``end`` at or above 2**31 means the end).  Steps must be positive.
    """

    slices: Any
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """Size ``ceil((min(end, n) - start)/step)`` per sliced axis; at least one cell."""
        out = list(shape)
        steps: list[AxisStep] = []
        conditions: list[Condition] = []
        for axis, start, end, step in self.slices:
            a = _axis(self, "slices", axis, len(shape))
            n = shape[a]
            s = to_size(self, "step", step)
            lo = _bound(self, n, start, "start")
            hi = _bound(self, n, end, "end")
            if not (isinstance(lo, QPoly) or isinstance(hi, QPoly)):
                # two clamped bounds (x[..., 4:-4]): take them unclamped, where they lie in
                # the axis (a condition when undecided), which is where no clamp applies
                lo, hi = _raw(self, n, start, "start"), _raw(self, n, end, "end")
                conditions += check_room(self, _AXES[a], lo, rule="the slice must start "
                                         "inside the axis", what=lambda: f"start {_t(lo)}")
                conditions += check_room(self, _AXES[a], _minus(self, n, hi),
                                         rule="the slice must end inside the axis",
                                         what=lambda: f"end {_t(hi)} is past {_t(n)}")
            size = settle(div_ceil(_minus(self, hi, lo), s))
            conditions += check_room(self, _AXES[a], add(size, QPoly.const(-1)),
                                     rule="a slice must keep at least one cell",
                                     what=lambda: f"slicing {_t(n)} cells "
                                     f"keeps {_t(size)}")
            steps.append(AxisStep(_AXES[a], "slice_onnx",
                                  {"n": n, "b": lo, "e": hi, "s": s}, size))
            out[a] = size
        return self.with_initializers(Inference(tuple(out), [], conditions, steps))


_HUGE = 2 ** 31


def _bound(layer: Layer, n: QExpr, value: object, fld: str) -> QExpr:
    """A slice bound clamped to ``[0, n]``: concrete negatives count from the end."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= _HUGE:
            return n
        if value < 0:
            return settle(ext("max", [add(n, QPoly.const(value)), QPoly.const(0)]))
        return settle(ext("min", [n, QPoly.const(value)]))
    return settle(ext("min", [n, to_size(layer, fld, value, minimum=0)]))


def _raw(layer: Layer, n: QExpr, value: object, fld: str) -> QExpr:
    """A slice bound without clamping: negatives count from the end."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= _HUGE:
            return n
        return add(n, QPoly.const(value)) if value < 0 else QPoly.const(value)
    return to_size(layer, fld, value, minimum=0)


def _minus(layer: Layer, a: QExpr, b: QExpr) -> QExpr:
    if isinstance(b, QPoly):
        return add(a, -b)
    if isinstance(a, QPoly):
        return add(scale(b, QPoly.const(-1)), a)
    raise layer.config_error("slices", None, "convsym cannot subtract two clamped slice "
                             "bounds; give the start as a number", code="unsupported_slice")


@layer_class
class Pad(OnnxLayer):
    """ONNX ``Pad`` with ``(before, after)`` per axis (without the batch; negative crops)."""

    pads: Any
    mode: str = "constant"
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """``n + before + after`` per axis; reflect needs each side below ``n``."""
        if len(self.pads) != len(shape):
            raise self.config_error("pads", tuple(self.pads), f"needs {len(shape)} (before, "
                                    "after) pairs", code="wrong_tuple_length")
        out: list[QExpr] = []
        steps: list[AxisStep] = []
        conditions: list[Condition] = []
        for a, (n, (before, after)) in enumerate(zip(shape, self.pads)):
            b, e = _signed(self, before), _signed(self, after)
            size = add(n, b + e)
            if as_int(b) == 0 and as_int(e) == 0:
                out.append(n)
                continue
            steps.append(AxisStep(_AXES[a], "pad", {"n": n, "p_l": b, "p_r": e}, size))
            if self.mode == "reflect":
                for side in (b, e):
                    conditions += check_room(self, _AXES[a], add(n, -(side + QPoly.const(1))),
                                             rule="reflect padding needs each side below n",
                                             what=lambda: f"padding {_t(side)} "
                                             f"is not smaller than the input {_t(n)}")
            conditions += check_room(self, _AXES[a], add(size, QPoly.const(-1)),
                                     rule="at least one cell must remain",
                                     what=lambda: f"the padded size {_t(size)} is "
                                     "not positive")
            out.append(size)
        return self.with_initializers(Inference(tuple(out), [], conditions, steps))


def _signed(layer: Layer, value: object) -> QPoly:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return QPoly.const(value)
    return to_size(layer, "pads", value, minimum=0)


@layer_class
class Resize(_Named):
    """ONNX ``Resize``/``Upsample``: per axis (without the batch) a ``scale`` (a number: the
    output is ``floor(n * scale)``) or a given ``size``; ``None`` keeps the axis."""

    op: str
    scales: Any = None
    sizes: Any = None
    initializers: Any = ()

    def infer_one(self, shape: Shape) -> Inference:
        """``floor(n * scale)`` (exact for integer and dyadic scales) or the given sizes."""
        out: list[QExpr] = []
        steps: list[AxisStep] = []
        given = self.sizes if self.sizes is not None else self.scales
        if not isinstance(given, (list, tuple)) or len(given) != len(shape):
            raise self.config_error("scales", given, f"needs one entry per axis ({len(shape)})",
                                    code="wrong_tuple_length")
        for a, (n, v) in enumerate(zip(shape, given)):
            if v is None:
                out.append(n)
                continue
            if self.sizes is not None:
                # a size computed in the graph may be 0 for some inputs: a condition below
                size: QExpr = to_size(self, f"sizes[{a}]", v, minimum=0)
                steps.append(AxisStep(_AXES[a], "resize_to", {"n": n, "o": size}, size))
            else:
                frac = Fraction(str(v)) if isinstance(v, str) else Fraction(v)
                if frac <= 0 or frac.denominator > 1024:
                    raise self.config_error("scales", v, "convsym takes positive scales that "
                                            "are exact binary fractions (2, 0.5, 1.5 ...)",
                                            code="unsupported_scale")
                size = div_floor(scale(n, QPoly.const(frac.numerator)),
                                 QPoly.const(frac.denominator))
                if frac.denominator == 1:
                    steps.append(AxisStep(_AXES[a], "upsample",
                                          {"n": n, "s": QPoly.const(frac.numerator)}, size))
                else:
                    steps.append(AxisStep(_AXES[a], "resize_scale_onnx",
                                          {"n": n, "a": QPoly.const(frac.numerator),
                                           "b": QPoly.const(frac.denominator)}, size))
            out.append(size)
        conditions: list[Condition] = []
        for a, size in enumerate(out):
            conditions += check_room(self, _AXES[a], add(size, QPoly.const(-1)),
                                     rule="the resized axis must keep at least one cell",
                                     what=lambda: f"the output size {_t(size)} is "
                                     "not positive")
        return self.with_initializers(Inference(tuple(out), [], conditions, steps))


def _t(e: QExpr) -> str:
    return str(to_sympy(e))


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Unary, Elementwise, Concat, BatchNormalization, Gemm, MatMul, Reshape, Flatten, Transpose,
    Squeeze, Unsqueeze, Reduce, Slice, Pad, Resize)}
"""The ONNX layers of this module, by class name."""
