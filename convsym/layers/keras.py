"""Keras layers (channels_last by default), with Keras's names, arguments and defaults.

>>> from convsym import Sequential
>>> net = Sequential([Input((28, 28, 1)), Conv2D(32, 3), Conv2D(64, 3)])
>>> [row.params for row in net.rows]
[320, 18496]
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from functools import cached_property
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import (
    Inference,
    Layer,
    Shape,
    to_choice,
    to_flag,
    to_size,
    to_tuple,
)
from convsym.layers.conv import ConvConfig, infer_conv
from convsym.layers.core import infer_batchnorm, infer_dense, infer_flatten, infer_identity
from convsym.layers.frontend import layer_class
from convsym.layers.pool import PoolConfig, infer_pool


class KerasLayer(Layer):
    """Base of the Keras front ends."""

    dialect: ClassVar[str] = "keras"

    def channels_first(self) -> bool:
        """Whether this layer reads channels first (``data_format='channels_first'``)."""
        fmt = getattr(self, "data_format", None)
        if fmt is None:
            return False
        return to_choice(self, "data_format", fmt, ["channels_last", "channels_first"]) == \
            "channels_first"


@layer_class
class Input(KerasLayer):
    """``keras.Input(shape)``: the input, without the batch axis; symbols allowed."""

    shape: Any
    name: str | None = None

    def validate(self) -> None:
        """Check the shape eagerly."""
        self.sizes  # noqa: B018

    @cached_property
    def sizes(self) -> tuple[QPoly, ...]:
        """The shape as canonical sizes."""
        if not isinstance(self.shape, (tuple, list)):
            raise self.config_error("shape", self.shape, "must be a tuple of sizes",
                                    code="bad_input_shape")
        return tuple(to_size(self, f"shape[{i}]", v) for i, v in enumerate(self.shape))

    @property
    def base_name(self) -> str:
        """Keras names inputs ``input_layer``."""
        return "input_layer"

    def infer_one(self, shape: Shape) -> Inference:
        """An input layer outputs its own shape."""
        return Inference(self.sizes)


@dataclasses.dataclass(frozen=True, repr=False)
class _ConvN(KerasLayer):
    rank: ClassVar[int] = 2

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
        return infer_conv(self, shape, self.config)


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

    activation: Any = None
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)


@layer_class
class ReLU(KerasLayer):
    """``keras.layers.ReLU``: the shape passes through."""

    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)

    @property
    def base_name(self) -> str:
        """Keras names it ``re_lu``."""
        return "re_lu"


@layer_class
class Dropout(KerasLayer):
    """``keras.layers.Dropout``: the shape passes through."""

    rate: Any = 0.5
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)


LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Input, Conv1D, Conv2D, Conv3D, MaxPooling1D, MaxPooling2D, MaxPooling3D,
                AveragePooling1D, AveragePooling2D, AveragePooling3D, Dense, Flatten,
                BatchNormalization, Activation, ReLU, Dropout)
}
"""Every Keras layer convsym knows, by Keras class name."""
