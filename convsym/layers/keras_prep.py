"""Keras preprocessing layers that real models start with: ``Rescaling``, ``Normalization``,
``Resizing`` and ``CenterCrop``.

``keras.applications`` models (EfficientNet, ConvNeXt, MobileNetV3, ...) begin with the first
two; both keep the shape.  Rescaling has no weights; Normalization adapted from data
(``mean=None``) keeps a non-trainable mean and variance over the ``axis`` sizes plus a scalar
count, as Keras counts them; with ``mean`` and ``variance`` given it has no weights.
``Resizing`` and ``CenterCrop`` set the two spatial sizes to ``(height, width)`` for any input
size (Keras's CenterCrop resizes an input smaller than the target up to it), without weights;
like Keras they take images (rank 3 without the batch axis).

>>> from convsym import Sequential
>>> from convsym.layers.keras import Input
>>> net = Sequential([Input((5, 6, 3)), Normalization(axis=(1, 3))])
>>> net.rows[0].params, net.rows[0].non_trainable
(31, 31)
>>> Sequential([Input(("H", "W", 3)), CenterCrop(4, 7)]).output_shape
(4, 7, 3)
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, Weight, to_flag, to_size
from convsym.layers.core import infer_identity
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class
from convsym.layers.resize import infer_resize_to


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


class _ToSize(KerasLayer):
    """Shared by Resizing and CenterCrop: images to ``(height, width)``."""

    height: Any  # declared again by each layer class, in Keras's argument order
    width: Any

    def validate(self) -> None:
        """Check eagerly, as Keras does."""
        to_size(self, "height", self.height)
        to_size(self, "width", self.width)
        self.channels_first()

    def infer_one(self, shape: Shape) -> Inference:
        """``(height, width)`` on the two spatial axes, channels unchanged."""
        if len(shape) != 3:
            raise self.shape_error("input shape", None, f"{self.type_name} takes images: "
                                   "rank 3 without the batch axis (height, width and "
                                   f"channels), got rank {len(shape)}", code="wrong_rank")
        sizes = (to_size(self, "height", self.height),
                 to_size(self, "width", self.width))
        return infer_resize_to(self, shape, sizes, self.channels_first())


@layer_class
class Resizing(_ToSize):
    """``keras.layers.Resizing(height, width, ...)``: every option keeps the target size."""

    height: Any
    width: Any
    interpolation: str = "bilinear"
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False
    fill_mode: str = "constant"
    fill_value: Any = 0.0
    antialias: bool = False
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly, as Keras does."""
        super().validate()
        to_flag(self, "crop_to_aspect_ratio", self.crop_to_aspect_ratio)
        to_flag(self, "pad_to_aspect_ratio", self.pad_to_aspect_ratio)


@layer_class
class CenterCrop(_ToSize):
    """``keras.layers.CenterCrop(height, width)``: a larger input is cropped, a smaller one
    resized up, so the output is ``(height, width)`` for any input."""

    height: Any
    width: Any
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Rescaling, Normalization, Resizing, CenterCrop)}
"""The Keras preprocessing layers of this module, by class name."""
