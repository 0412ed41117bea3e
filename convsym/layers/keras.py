"""Keras layers (channels_last by default), with Keras's names, arguments and defaults.

>>> from convsym import Sequential
>>> net = Sequential([Input((28, 28, 1)), Conv2D(32, 3), Conv2D(64, 3)])
>>> [row.params for row in net.rows]
[320, 18496]
"""

# The re-exports of the other front-end modules are listed compactly, not one per line.
# ruff: noqa: I001

from __future__ import annotations

import dataclasses
from dataclasses import field
from functools import cached_property
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import Inference, Layer, Shape, to_choice, to_flag, to_size, to_tuple
from convsym.sizes import mul_sizes
from convsym.layers.conv import ConvConfig, infer_conv
from convsym.layers.core import infer_batchnorm, infer_dense, infer_flatten, infer_identity
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class
from convsym.layers.keras_conv import stride_dilation_condition
from convsym.layers.pool import PoolConfig, infer_pool


@layer_class
class Input(KerasLayer):
    """``keras.Input(shape)``: the input, without the batch axis; symbols allowed.

    In the functional style an ``Input`` is also the tensor that feeds the first layer:
    ``y = Conv2D(8, 3)(Input((28, 28, 1)))``.
    """

    is_input: ClassVar[bool] = True

    shape: Any = None
    batch_size: Any = None
    dtype: Any = None
    sparse: Any = None
    ragged: Any = None
    batch_shape: Any = None
    name: str | None = None
    tensor: Any = None
    optional: bool = False

    def validate(self) -> None:
        """Check the shape eagerly."""
        self.sizes  # noqa: B018

    @cached_property
    def sizes(self) -> tuple[QPoly, ...]:
        """The shape as canonical sizes (``batch_shape`` without its batch entry)."""
        shape = self.shape
        fld = "shape"
        if shape is None and isinstance(self.batch_shape, (tuple, list)) and self.batch_shape:
            shape, fld = tuple(self.batch_shape)[1:], "batch_shape"
        if shape is None:
            raise self.config_error("shape", None, "is required (the input shape without the "
                                    "batch axis)", code="bad_input_shape")
        if not isinstance(shape, (tuple, list)):
            raise self.config_error(fld, shape, "must be a tuple of sizes",
                                    code="bad_input_shape")
        return tuple(to_size(self, f"{fld}[{i}]", v) for i, v in enumerate(shape))

    @property
    def base_name(self) -> str:
        """Keras names inputs ``input_layer``."""
        return "input_layer"

    def infer_one(self, shape: Shape) -> Inference:
        """An input layer outputs its own shape."""
        return Inference(self.sizes)


@layer_class
class InputLayer(Input):
    """``keras.layers.InputLayer``: the row a functional model shows for each input."""

    input_tensor: Any = None


@dataclasses.dataclass(frozen=True, repr=False)
class _ConvN(KerasLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "conv"

    filters: Any
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    groups: Any = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check every hyperparameter as Keras does on construction."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> ConvConfig:
        """The normalised configuration."""
        rank = self.rank
        options = ["valid", "same", "causal"] if rank == 1 else ["valid", "same"]
        padding = to_choice(self, "padding", self.padding, options)
        strides = to_tuple(self, "strides", self.strides, rank)
        dilation = to_tuple(self, "dilation_rate", self.dilation_rate, rank)
        if any(s.as_int() not in (None, 1) for s in strides) and \
                any(d.as_int() not in (None, 1) for d in dilation):
            raise self.config_error("strides", self.strides,
                                    "Keras does not allow strides > 1 together with "
                                    f"dilation_rate > 1 (dilation_rate = {self.dilation_rate})",
                                    code="stride_and_dilation")
        return ConvConfig(
            rank=rank,
            filters=to_size(self, "filters", self.filters),
            kernel=to_tuple(self, "kernel_size", self.kernel_size, rank),
            strides=strides,
            dilation=dilation,
            groups=to_size(self, "groups", self.groups),
            bias=to_flag(self, "use_bias", self.use_bias),
            padding={"same": "same_tf"}.get(padding, padding),
            pads=None,
            channels_first=self.channels_first(),
            dialect="keras",
        )

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the convolution core."""
        inference = infer_conv(self, shape, self.config)
        inference.conditions.extend(stride_dilation_condition(self.config.strides,
                                                              self.config.dilation))
        return inference


@layer_class
class Conv1D(_ConvN):
    """``keras.layers.Conv1D``; padding 'valid', 'same' or 'causal'."""

    rank: ClassVar[int] = 1


@layer_class
class Conv2D(_ConvN):
    """``keras.layers.Conv2D``."""

    rank: ClassVar[int] = 2


@layer_class
class Conv3D(_ConvN):
    """``keras.layers.Conv3D``."""

    rank: ClassVar[int] = 3


@dataclasses.dataclass(frozen=True, repr=False)
class _PoolN(KerasLayer):
    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "max"
    cost_kind: ClassVar[str] = "pool"

    pool_size: Any = 2
    strides: Any = None
    padding: str = "valid"
    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check every hyperparameter eagerly."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> PoolConfig:
        """The normalised configuration; ``strides=None`` means ``strides = pool_size``."""
        padding = to_choice(self, "padding", self.padding, ["valid", "same"])
        kernel = to_tuple(self, "pool_size", self.pool_size, self.rank)
        strides = kernel if self.strides is None else \
            to_tuple(self, "strides", self.strides, self.rank)
        return PoolConfig(self.rank, kernel, strides, f"keras_{padding}",
                          self.channels_first(), kind=self.kind)

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the pooling core."""
        return infer_pool(self, shape, self.config)


@layer_class
class MaxPooling1D(_PoolN):
    """``keras.layers.MaxPooling1D``."""

    rank: ClassVar[int] = 1


@layer_class
class MaxPooling2D(_PoolN):
    """``keras.layers.MaxPooling2D``."""

    rank: ClassVar[int] = 2


@layer_class
class MaxPooling3D(_PoolN):
    """``keras.layers.MaxPooling3D``."""

    rank: ClassVar[int] = 3


@layer_class
class AveragePooling1D(_PoolN):
    """``keras.layers.AveragePooling1D``."""

    rank: ClassVar[int] = 1
    kind: ClassVar[str] = "avg"


@layer_class
class AveragePooling2D(_PoolN):
    """``keras.layers.AveragePooling2D``."""

    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "avg"


@layer_class
class AveragePooling3D(_PoolN):
    """``keras.layers.AveragePooling3D``."""

    rank: ClassVar[int] = 3
    kind: ClassVar[str] = "avg"


@layer_class
class Dense(KerasLayer):
    """``keras.layers.Dense``: acts on the last axis; ``in * units + units`` parameters."""

    cost_kind: ClassVar[str] = "dense"

    units: Any
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "units", self.units)
        to_flag(self, "use_bias", self.use_bias)

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the dense core."""
        return infer_dense(self, shape, to_size(self, "units", self.units),
                           self.use_bias, "keras")


@layer_class
class Flatten(KerasLayer):
    """``keras.layers.Flatten``: all non-batch axes into one."""

    data_format: str | None = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Multiply the sizes."""
        return infer_flatten(self, shape)


@layer_class
class BatchNormalization(KerasLayer):
    """``keras.layers.BatchNormalization``: 4C parameters, 2C of them non-trainable."""

    cost_kind: ClassVar[str] = "norm"

    axis: int = -1
    center: bool = True
    scale: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        if isinstance(self.axis, bool) or not isinstance(self.axis, int):
            raise self.config_error("axis", self.axis, "must be an integer axis",
                                    code="bad_axis")
        to_flag(self, "center", self.center)
        to_flag(self, "scale", self.scale)

    def infer_one(self, shape: Shape) -> Inference:
        """gamma and beta trainable (when scale/center); moving mean and variance not."""
        axis = self.axis if self.axis < 0 else self.axis - 1  # Keras counts the batch axis
        out = infer_batchnorm(self, shape, axis, "keras")
        out.weights = [w for w in out.weights
                       if not (w.name == "gamma" and not self.scale)
                       and not (w.name == "beta" and not self.center)]
        return out


@layer_class
class Activation(KerasLayer):
    """``keras.layers.Activation``: the shape passes through."""

    cost_kind: ClassVar[str] = "activation"

    activation: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through; one operation per element."""
        return _activation(shape)


@layer_class
class ReLU(KerasLayer):
    """``keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``."""

    cost_kind: ClassVar[str] = "activation"

    max_value: Any = None
    negative_slope: Any = 0.0
    threshold: Any = 0.0
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through; one operation per element."""
        return _activation(shape)

    @property
    def base_name(self) -> str:
        """Keras names it ``re_lu``."""
        return "re_lu"


@layer_class
class Dropout(KerasLayer):
    """``keras.layers.Dropout(rate)``: the shape passes through."""

    rate: Any = 0.5
    noise_shape: Any = None
    seed: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)


def _activation(shape: Shape) -> Inference:
    out = infer_identity(shape)
    out.ops = mul_sizes(*shape)
    return out


from convsym.layers.keras_apps import LAYERS as _APPS  # noqa: E402
from convsym.layers.keras_apps import CustomScaleLayer, LayerScale  # noqa: E402
from convsym.layers.keras_conv import LAYERS as _CONV  # noqa: E402
from convsym.layers.keras_conv import (  # noqa: E402
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose, DepthwiseConv1D, DepthwiseConv2D,
    SeparableConv1D, SeparableConv2D,
)
from convsym.layers.keras_misc import (  # noqa: E402
    ELU, Add, Average, Concatenate, GaussianDropout, GaussianNoise, GroupNormalization,
    Identity, LayerNormalization, LeakyReLU, Maximum, Minimum, Multiply, PReLU, Softmax,
    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, Subtract,
)
from convsym.layers.keras_misc import LAYERS as _MISC  # noqa: E402
from convsym.layers.keras_prep import LAYERS as _PREP  # noqa: E402
from convsym.layers.keras_prep import CenterCrop, Normalization, Rescaling, Resizing  # noqa: E402
from convsym.layers.keras_shape import LAYERS as _SHAPE  # noqa: E402
from convsym.layers.keras_shape import (  # noqa: E402
    AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D, Cropping1D, Cropping2D,
    Cropping3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, Permute, Reshape, UpSampling1D,
    UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D,
)

LAYERS: dict[str, type[Layer]] = {
    **{cls.__name__: cls
       for cls in (Input, InputLayer, Conv1D, Conv2D, Conv3D, MaxPooling1D, MaxPooling2D,
                   MaxPooling3D, AveragePooling1D, AveragePooling2D, AveragePooling3D, Dense,
                   Flatten, BatchNormalization, Activation, ReLU, Dropout)},
    **_CONV, **_SHAPE, **_MISC, **_PREP, **_APPS,
}
"""Every Keras layer convsym knows, by Keras class name."""

__all__ = [
    "Activation", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D", "Add", "Average", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "BatchNormalization", "CenterCrop", "Concatenate", "Conv1D",
    "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Cropping1D",
    "Cropping2D", "Cropping3D", "CustomScaleLayer", "Dense", "DepthwiseConv1D", "DepthwiseConv2D",
    "Dropout", "ELU", "Flatten", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D", "GroupNormalization", "Identity", "Input", "InputLayer", "KerasLayer",
    "LAYERS", "LayerNormalization", "LayerScale", "LeakyReLU", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "Maximum", "Minimum", "Multiply", "Normalization", "PReLU", "Permute", "ReLU",
    "Rescaling", "Reshape", "Resizing", "SeparableConv1D", "SeparableConv2D", "Softmax",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Subtract", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
]
