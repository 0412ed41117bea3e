"""Cores of the layers that resize spatial axes without weights: padding, cropping, upsampling.

``pad`` adds ``(before, after)`` cells per axis (Keras ZeroPadding*D, PyTorch ZeroPad*d,
ConstantPad*d, ReflectionPad*d, ...); ``crop`` removes them (Keras Cropping*D; the result
must keep at least one cell); ``upsample`` multiplies each size by an integer factor (Keras
UpSampling*D, PyTorch Upsample with an integer ``scale_factor``); ``resize_to`` sets sizes
(PyTorch Upsample with ``size``).

>>> from convsym.layers.keras import Cropping1D
>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> out = Cropping1D((1, 2)).infer([(QPoly.sym(symbol("n")), QPoly.const(3))])
>>> [to_sympy(s) for s in out.shape], [str(c.relation()) for c in out.conditions]
([n - 3, 3], ['n >= 4'])
"""

# Messages are built by lambdas that check_room/require_equal call before returning, inside
# the loop iteration that made them, so late binding of loop variables cannot bite.
# ruff: noqa: B023

from __future__ import annotations

from collections.abc import Callable, Sequence

from convsym import formulas as F
from convsym.intdiv import QExpr, QPoly, add, to_sympy
from convsym.layers.base import AxisStep, Condition, Inference, Layer, Shape, check_room
from convsym.layers.conv import AXIS_NAMES, join_channels, split_channels

Pairs = Sequence[tuple[QPoly, QPoly]]


def infer_pad(layer: Layer, shape: Shape, pads: Pairs, channels_first: bool, *,
              mode: str = "zeros", names: Sequence[str] | None = None) -> Inference:
    """Pad every spatial axis; ``mode`` ``reflect`` needs ``p < n``, ``circular`` ``p <= n``.

    Negative pads (PyTorch's constant padding allows them) crop; the result must keep a cell.
    ``names`` names the padded axes (``H``, ``W`` ... by default).
    """
    channels, spatial = split_channels(layer, shape, len(pads), channels_first)
    names = names or AXIS_NAMES[len(pads)]
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    conditions: list[Condition] = []
    for axis, n, (before, after) in zip(names, spatial, pads):
        size = F.pad_out(n, before=before, after=after)
        steps.append(AxisStep(axis, "pad", {"n": n, "p_l": before, "p_r": after}, size))
        if mode in ("reflect", "circular"):
            limit = QPoly.const(1 if mode == "reflect" else 0)
            for side in {before, after}:
                if side.as_int() == 0:
                    continue
                conditions += check_room(
                    layer, axis, add(n, -(side + limit)),
                    rule=f"{mode} padding needs padding {'<' if mode == 'reflect' else '<='} "
                         "the input size",
                    what=lambda: f"padding {_t(side)} is too large for an input of {_t(n)} "
                         f"({mode} padding)")
        negative = [p for p in (before, after) if (p.as_int() or 0) < 0]
        if negative:
            # PyTorch first narrows the input by the negative pads, then pads
            conditions += check_room(
                layer, axis, add(n, sum(negative, QPoly.const(0))),
                rule="negative padding may remove at most the whole input",
                what=lambda: f"negative padding ({_t(before)}, {_t(after)}) removes more than the "
                     f"input's {_t(n)} cells")
            conditions += _keep_one(layer, axis, size,
                                    lambda: f"padding ({_t(before)}, {_t(after)})")
        out.append(size)
    return Inference(join_channels(channels, out, channels_first), [], conditions, steps)


def infer_crop(layer: Layer, shape: Shape, crops: Pairs, channels_first: bool) -> Inference:
    """Crop every spatial axis; at least one cell must remain."""
    channels, spatial = split_channels(layer, shape, len(crops), channels_first)
    names = AXIS_NAMES[len(crops)]
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    conditions: list[Condition] = []
    for axis, n, (before, after) in zip(names, spatial, crops):
        size = F.crop_out(n, before=before, after=after)
        steps.append(AxisStep(axis, "crop", {"n": n, "c_l": before, "c_r": after}, size))
        conditions += _keep_one(layer, axis, size,
                                lambda: f"cropping {_t(before)} + {_t(after)} from {_t(n)}")
        out.append(size)
    return Inference(join_channels(channels, out, channels_first), [], conditions, steps)


def infer_upsample(layer: Layer, shape: Shape, factors: Sequence[QPoly],
                   channels_first: bool) -> Inference:
    """Multiply every spatial size by its integer factor."""
    channels, spatial = split_channels(layer, shape, len(factors), channels_first)
    names = AXIS_NAMES[len(factors)]
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    for axis, n, s in zip(names, spatial, factors):
        size = F.upsample_out(n, factor=s)
        steps.append(AxisStep(axis, "upsample", {"n": n, "s": s}, size))
        out.append(size)
    return Inference(join_channels(channels, out, channels_first), [], [], steps)


def infer_resize_to(layer: Layer, shape: Shape, sizes: Sequence[QPoly],
                    channels_first: bool) -> Inference:
    """Set every spatial size (``nn.Upsample(size=...)``)."""
    channels, spatial = split_channels(layer, shape, len(sizes), channels_first)
    names = AXIS_NAMES[len(sizes)]
    steps = [AxisStep(axis, "resize_to", {"n": n, "o": o}, o)
             for axis, n, o in zip(names, spatial, sizes)]
    return Inference(join_channels(channels, list(sizes), channels_first), [], [], steps)


def _keep_one(layer: Layer, axis: str, size: QExpr, what: Callable[[], str]
              ) -> list[Condition]:
    return check_room(layer, axis, add(size, QPoly.const(-1)),
                      rule="at least one cell must remain",
                      what=lambda: f"{what()} leaves {_t(size)} cells")


def _t(e: QExpr) -> str:
    return str(to_sympy(e))
