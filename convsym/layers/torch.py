"""PyTorch layers (channels_first, no batch axis here), with torch.nn's names and defaults.

Importing this module never imports torch.

>>> from convsym import Sequential
>>> net = Sequential([Conv2d(3, 4, 3, stride=2), Flatten(), Linear(3844, 10)],
...                  input_shape=(3, 64, 64))
>>> net.rows[-1].output_shape
(10,)
"""

# The re-exports of the other front-end modules are listed compactly, not one per line.
# ruff: noqa: I001

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import Any, ClassVar

from convsym.intdiv import QPoly
from convsym.layers.base import (
    Inference,
    Layer,
    Shape,
    is_padding_mode,
    remembered,
    to_choice,
    to_flag,
    to_size,
    to_tuple,
)
from convsym.sizes import mul_sizes
from convsym.layers.conv import ConvConfig, infer_conv
from convsym.layers.core import infer_batchnorm, infer_dense, infer_flatten, infer_identity
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.pool import PoolConfig, infer_pool


@dataclasses.dataclass(frozen=True, repr=False)
class _ConvN(TorchLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "conv"

    in_channels: Any
    out_channels: Any
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: Any = 1
    bias: bool = True
    padding_mode: str = "zeros"

    def validate(self) -> None:
        """Check every hyperparameter as torch.nn does on construction."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> ConvConfig:
        """The normalised configuration (the same for the same arguments)."""
        return remembered(self, _ConvN._configure)

    def _configure(self) -> ConvConfig:
        rank = self.rank
        strides = to_tuple(self, "stride", self.stride, rank)
        pads: tuple[tuple[QPoly, QPoly], ...] | None = None
        if isinstance(self.padding, str) and is_padding_mode(self.padding):
            padding = to_choice(self, "padding", self.padding, ["valid", "same"])
            if padding == "same":
                for s in strides:
                    if s.as_int() != 1:
                        raise self.config_error(
                            "padding", "same",
                            f"PyTorch allows padding='same' only with stride 1 "
                            f"(stride = {self.stride}); Keras's 'same' (ceil(n/s)) needs "
                            "explicit padding in PyTorch",
                            code="same_with_stride")
                padding = "same_torch"
        else:
            per_axis = to_tuple(self, "padding", self.padding, rank, minimum=0)
            pads = tuple((p, p) for p in per_axis)
            padding = "explicit"
        groups = to_size(self, "groups", self.groups)
        in_channels = to_size(self, "in_channels", self.in_channels)
        out_channels = to_size(self, "out_channels", self.out_channels)
        g = groups.as_int()
        for fld, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            v = value.as_int()
            if g is not None and v is not None and v % g:
                raise self.config_error(fld, v, f"must be divisible by groups ({g})",
                                        code="groups_not_dividing")
        return ConvConfig(
            rank=rank,
            filters=out_channels,
            kernel=to_tuple(self, "kernel_size", self.kernel_size, rank),
            strides=strides,
            dilation=to_tuple(self, "dilation", self.dilation, rank),
            groups=groups,
            bias=to_flag(self, "bias", self.bias),
            padding=padding,
            pads=pads,
            channels_first=True,
            dialect="torch",
            in_channels=in_channels,
            padding_mode=to_choice(self, "padding_mode", self.padding_mode,
                                   ["zeros", "reflect", "replicate", "circular"]),
        )

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the convolution core."""
        return infer_conv(self, shape, self.config)


@layer_class
class Conv1d(_ConvN):
    """``torch.nn.Conv1d``."""

    rank: ClassVar[int] = 1


@layer_class
class Conv2d(_ConvN):
    """``torch.nn.Conv2d``."""

    rank: ClassVar[int] = 2


@layer_class
class Conv3d(_ConvN):
    """``torch.nn.Conv3d``."""

    rank: ClassVar[int] = 3


@dataclasses.dataclass(frozen=True, repr=False)
class _PoolN(TorchLayer):
    rank: ClassVar[int] = 2
    kind: ClassVar[str] = "max"
    cost_kind: ClassVar[str] = "pool"

    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    def validate(self) -> None:
        """Check every hyperparameter eagerly."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> PoolConfig:
        """The normalised configuration; ``stride=None`` means ``stride = kernel_size``."""
        kernel = to_tuple(self, "kernel_size", self.kernel_size, self.rank)
        strides = kernel if self.stride is None else \
            to_tuple(self, "stride", self.stride, self.rank)
        return PoolConfig(
            self.rank, kernel, strides, "torch", True,
            padding=to_tuple(self, "padding", self.padding, self.rank, minimum=0),
            dilation=to_tuple(self, "dilation", getattr(self, "dilation", 1), self.rank),
            ceil_mode=to_flag(self, "ceil_mode", getattr(self, "ceil_mode", False)),
            kind=self.kind,
        )

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the pooling core."""
        return infer_pool(self, shape, self.config)


@dataclasses.dataclass(frozen=True, repr=False)
class _MaxPoolN(_PoolN):
    dilation: Any = 1
    return_indices: bool = False
    ceil_mode: bool = False


@dataclasses.dataclass(frozen=True, repr=False)
class _AvgPoolN(_PoolN):
    kind: ClassVar[str] = "avg"

    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: Any = None


@layer_class
class MaxPool1d(_MaxPoolN):
    """``torch.nn.MaxPool1d``."""

    rank: ClassVar[int] = 1


@layer_class
class MaxPool2d(_MaxPoolN):
    """``torch.nn.MaxPool2d``."""

    rank: ClassVar[int] = 2


@layer_class
class MaxPool3d(_MaxPoolN):
    """``torch.nn.MaxPool3d``."""

    rank: ClassVar[int] = 3


@layer_class
class AvgPool1d(_AvgPoolN):
    """``torch.nn.AvgPool1d``."""

    rank: ClassVar[int] = 1


@layer_class
class AvgPool2d(_AvgPoolN):
    """``torch.nn.AvgPool2d``."""

    rank: ClassVar[int] = 2


@layer_class
class AvgPool3d(_AvgPoolN):
    """``torch.nn.AvgPool3d``."""

    rank: ClassVar[int] = 3


@layer_class
class Linear(TorchLayer):
    """``torch.nn.Linear``: ``in_features`` must match the input's last axis."""

    cost_kind: ClassVar[str] = "dense"

    in_features: Any
    out_features: Any
    bias: bool = True

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "in_features", self.in_features)
        to_size(self, "out_features", self.out_features)
        to_flag(self, "bias", self.bias)

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the dense core."""
        return infer_dense(self, shape, to_size(self, "out_features", self.out_features),
                           self.bias, "torch",
                           in_features=to_size(self, "in_features", self.in_features))


@layer_class
class Flatten(TorchLayer):
    """``torch.nn.Flatten(start_dim=1, end_dim=-1)``; dims count the batch axis."""

    start_dim: int = 1
    end_dim: int = -1

    def validate(self) -> None:
        """Check eagerly."""
        for fld in ("start_dim", "end_dim"):
            value = getattr(self, fld)
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.config_error(fld, value, "must be an integer dimension",
                                        code="bad_axis")
        if self.start_dim == 0:
            raise self.config_error("start_dim", 0, "flattening the batch axis is not "
                                    "supported (convsym shapes have no batch axis)",
                                    code="bad_axis")

    def infer_one(self, shape: Shape) -> Inference:
        """Multiply the sizes from start_dim to end_dim."""
        rank = len(shape) + 1
        start = self.start_dim % rank
        end = self.end_dim % rank
        if not 1 <= start <= end < rank:
            raise self.config_error("start_dim", self.start_dim,
                                    f"and end_dim = {self.end_dim} do not select axes of a "
                                    f"rank-{rank} input (with batch)", code="bad_axis")
        head, middle, tail = shape[:start - 1], shape[start - 1:end], shape[end:]
        flat = infer_flatten(self, middle)
        return Inference((*head, *flat.shape, *tail))


class _BatchNormN(TorchLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "norm"


@dataclasses.dataclass(frozen=True, repr=False)
class _BN(_BatchNormN):
    num_features: Any
    eps: Any = 1e-05
    momentum: Any = 0.1
    affine: bool = True
    track_running_stats: bool = True

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "num_features", self.num_features)
        to_flag(self, "affine", self.affine)
        to_flag(self, "track_running_stats", self.track_running_stats)

    def infer_one(self, shape: Shape) -> Inference:
        """weight and bias (2C) when affine; running statistics are buffers, not parameters."""
        allowed = {1: (1, 2), 2: (3,), 3: (4,)}[self.rank]
        if len(shape) not in allowed:
            raise self.shape_error("input shape", len(shape),
                                   f"{self.type_name} expects an input of rank "
                                   f"{' or '.join(str(a) for a in allowed)} without the batch",
                                   code="wrong_rank")
        return infer_batchnorm(self, shape, 0, "torch", affine=self.affine,
                               expected=to_size(self, "num_features", self.num_features))


@layer_class
class BatchNorm1d(_BN):
    """``torch.nn.BatchNorm1d``."""

    rank: ClassVar[int] = 1


@layer_class
class BatchNorm2d(_BN):
    """``torch.nn.BatchNorm2d``."""

    rank: ClassVar[int] = 2


@layer_class
class BatchNorm3d(_BN):
    """``torch.nn.BatchNorm3d``."""

    rank: ClassVar[int] = 3


@layer_class
class ReLU(TorchLayer):
    """``torch.nn.ReLU``: the shape passes through."""

    cost_kind: ClassVar[str] = "activation"

    inplace: bool = False

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through; one operation per element."""
        out = infer_identity(shape)
        out.ops = mul_sizes(*shape)
        return out


@layer_class
class Dropout(TorchLayer):
    """``torch.nn.Dropout``: the shape passes through."""

    p: Any = 0.5
    inplace: bool = False

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)


@layer_class
class Identity(TorchLayer):
    """``torch.nn.Identity``: the shape passes through."""

    def infer_one(self, shape: Shape) -> Inference:
        """Pass through."""
        return infer_identity(shape)


from convsym.layers.torch_act import (  # noqa: E402
    ELU, GELU, AlphaDropout, Dropout1d, Dropout2d, Dropout3d, Hardsigmoid, Hardswish, LeakyReLU,
    LogSoftmax, Mish, PReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Tanh,
)
from convsym.layers.torch_act import LAYERS as _ACT  # noqa: E402
from convsym.layers.torch_conv import LAYERS as _CONV  # noqa: E402
from convsym.layers.torch_conv import (  # noqa: E402
    ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
)
from convsym.layers.torch_misc import LAYERS as _MISC  # noqa: E402
from convsym.layers.torch_misc import (  # noqa: E402
    Add, Concat, Divide, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm,
    Multiply, RMSNorm, Subtract,
)
from convsym.layers.torch_shape import LAYERS as _SHAPE  # noqa: E402
from convsym.layers.torch_shape import (  # noqa: E402
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
    AdaptiveMaxPool2d, AdaptiveMaxPool3d, CircularPad1d, CircularPad2d, CircularPad3d,
    ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
    ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, Unflatten, Upsample,
    UpsamplingBilinear2d, UpsamplingNearest2d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
)

LAYERS: dict[str, type[Layer]] = {
    **{cls.__name__: cls
       for cls in (Conv1d, Conv2d, Conv3d, MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d,
                   AvgPool2d, AvgPool3d, Linear, Flatten, BatchNorm1d, BatchNorm2d,
                   BatchNorm3d, ReLU, Dropout, Identity)},
    **_CONV, **_SHAPE, **_MISC, **_ACT,
}
"""Every PyTorch layer convsym knows, by torch.nn class name."""

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "Add", "AlphaDropout", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "CircularPad1d", "CircularPad2d",
    "CircularPad3d", "Concat", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "Conv1d",
    "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Dropout",
    "Dropout1d", "Dropout2d", "Dropout3d", "Divide", "ELU", "Flatten", "GELU", "GroupNorm",
    "Hardsigmoid", "Hardswish", "Identity", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d", "LAYERS", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MaxPool1d",
    "MaxPool2d", "MaxPool3d", "Mish", "Multiply", "PReLU", "ReLU", "ReLU6", "ReflectionPad1d",
    "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "RMSNorm", "SiLU", "Subtract", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "TorchLayer", "Unflatten", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]
