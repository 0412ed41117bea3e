"""Cores of LayerNorm and GroupNorm (and InstanceNorm), in both dialects.

LayerNorm has a scale and an offset per element of the normalised axes: ``2 prod(sizes)``
parameters (Keras ``gamma``/``beta``; PyTorch ``weight``/``bias``).  GroupNorm has one per
channel, ``2C``, and its groups must divide the channels.  The shape passes through.

>>> from convsym.layers.torch import GroupNorm
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = GroupNorm(32, 64).infer([(QPoly.const(64), QPoly.const(7), QPoly.const(7))])
>>> to_sympy(out.trainable)
128
"""

# Messages are built by lambdas that check_room/require_equal call before returning, inside
# the loop iteration that made them, so late binding of loop variables cannot bite.
# ruff: noqa: B023

from __future__ import annotations

from collections.abc import Sequence

from convsym.intdiv import QExpr, QPoly, as_int, floordiv, to_sympy
from convsym.layers.agree import require_equal
from convsym.layers.base import Condition, Inference, Layer, Shape, Weight
from convsym.sizes import mul_sizes


def _poly(layer: Layer, e: QExpr, what: str) -> QPoly:
    if not isinstance(e, QPoly):
        raise layer.shape_error(what, str(to_sympy(e)), "must not be a Min/Max",
                                code="bad_channels")
    return e


def _affine(names: tuple[str, str], shape: tuple[QPoly, ...], scale: bool, center: bool
            ) -> list[Weight]:
    weights = []
    if scale:
        weights.append(Weight(names[0], shape))
    if center:
        weights.append(Weight(names[1], shape))
    return weights


def infer_layer_norm(layer: Layer, shape: Shape, axes: Sequence[int], dialect: str, *,
                     scale: bool = True, center: bool = True,
                     expected: Sequence[QPoly] | None = None) -> Inference:
    """Normalise over ``axes`` (indices into the shape without the batch).

    ``expected`` (PyTorch ``normalized_shape``) must equal the trailing sizes.
    """
    conditions: list[Condition] = []
    if expected is not None:
        if len(expected) > len(shape):
            raise layer.shape_error("normalized_shape", len(expected),
                                    f"has more axes than the input ({len(shape)})",
                                    code="wrong_rank")
        tail = shape[len(shape) - len(expected):]
        for pos, (have, want) in enumerate(zip(tail, expected)):
            conditions += require_equal(
                layer, f"normalized_shape[{pos}]", have, want,
                rule="normalized_shape must equal the input's trailing sizes",
                what=lambda: f"the input's size {_t(have)} differs from normalized_shape's "
                             f"{_t(want)}")
        sizes = tuple(expected)
    else:
        sizes = tuple(_poly(layer, shape[a], "normalised axis") for a in axes)
    names = ("gamma", "beta") if dialect == "keras" else ("weight", "bias")
    return Inference(tuple(shape), _affine(names, sizes, scale, center), conditions,
                     ops=mul_sizes(*shape))


def infer_group_norm(layer: Layer, shape: Shape, channel_axis: int, groups: QPoly | None,
                     dialect: str, *, scale: bool = True, center: bool = True,
                     expected: QPoly | None = None, fld: str = "groups") -> Inference:
    """Normalise groups of channels; ``groups=None`` means one per channel (instance norm)."""
    if not shape:
        raise layer.shape_error("input shape", "()", "needs a channel axis", code="wrong_rank")
    try:
        channels = _poly(layer, shape[channel_axis], "channels")
    except IndexError:
        raise layer.config_error("axis", channel_axis,
                                 f"is out of range for a rank-{len(shape)} input",
                                 code="bad_axis") from None
    conditions: list[Condition] = []
    if expected is not None:
        conditions += require_equal(
            layer, "num_channels", channels, expected,
            rule="num_channels must equal the input's channels",
            what=lambda: f"the input has {_t(channels)} channels, the layer expects {_t(expected)}")
    if groups is not None:
        g, c = as_int(groups), as_int(channels)
        if g is not None and c is not None:
            if c % g:
                raise layer.config_error(fld, g, f"must divide the number of channels ({c})",
                                         code="groups_not_dividing")
        else:
            conditions += require_equal(
                layer, fld, channels, groups * floordiv(channels, groups),
                rule="the groups must divide the channels",
                what=lambda: f"{_t(groups)} groups do not divide {_t(channels)} channels")
    names = ("gamma", "beta") if dialect == "keras" else ("weight", "bias")
    return Inference(tuple(shape), _affine(names, (channels,), scale, center), conditions,
                     ops=mul_sizes(*shape))


def _t(e: QExpr) -> str:
    return str(to_sympy(e))
