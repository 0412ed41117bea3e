"""Keras preprocessing layers that real models start with: ``Rescaling`` and ``Normalization``.

``keras.applications`` models (EfficientNet, ConvNeXt, ...) begin with them.  Both keep the
shape.  Rescaling has no weights; Normalization adapted from data (``mean=None``) keeps a
non-trainable mean and variance over the ``axis`` sizes plus a scalar count, as Keras
counts them; with ``mean`` and ``variance`` given it has no weights.  The importer's table
looks here after :data:`convsym.layers.keras.LAYERS`.

>>> from convsym import Sequential
>>> from convsym.layers.keras import Input
>>> net = Sequential([Input((5, 6, 3)), Normalization(axis=(1, 3))])
>>> net.rows[0].params, net.rows[0].non_trainable
(31, 31)
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Shape, Weight
from convsym.layers.core import infer_identity
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class


@layer_class
class Rescaling(KerasLayer):
    """``keras.layers.Rescaling(scale, offset=0.0)``: the shape passes through."""

    scale: Any
    offset: Any = 0.0
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    cost_kind: ClassVar[str] = "activation"

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)


@layer_class
class Normalization(KerasLayer):
    """``keras.layers.Normalization(axis=-1, mean=None, variance=None, invert=False)``."""

    axis: Any = -1
    mean: Any = None
    variance: Any = None
    invert: bool = False
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    cost_kind: ClassVar[str] = "norm"

    def validate(self) -> None:
        """``axis`` is an int or a tuple of ints (counting the batch axis as 0)."""
        for a in self.axes():
            if isinstance(a, bool) or not isinstance(a, int) or a == 0:
                raise self.config_error("axis", self.axis, "must be integer axes other than "
                                        "the batch axis 0", code="bad_axis")

    def axes(self) -> tuple[Any, ...]:
        """The normalised axes as given."""
        if self.axis is None:
            return ()
        return tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through; adapted statistics are non-trainable weights."""
        out = infer_identity(shape)
        if self.mean is not None:
            return out
        size = QPoly.const(1)
        rank = len(shape) + 1
        for a in self.axes():
            index = (a % rank) - 1
            if not 0 <= index < len(shape):
                raise self.config_error("axis", self.axis, f"is out of range for a "
                                        f"rank-{rank} input (with batch)", code="bad_axis")
            s = shape[index]
            if not isinstance(s, QPoly):
                raise self.shape_error("axis", None, "a normalised axis must not be a Min/Max",
                                       code="bad_axis")
            size = size * s
        out.weights = [Weight("mean", (size,), trainable=False),
                       Weight("variance", (size,), trainable=False),
                       Weight("count", (), trainable=False)]
        return out


LAYERS = {cls.__name__: cls for cls in (Rescaling, Normalization)}
"""Extra Keras layers the importer accepts, by class name."""
