"""Keras transposed, depthwise and separable convolutions, with Keras's names and defaults.

>>> from convsym import Sequential
>>> from convsym.layers.keras import Input
>>> net = Sequential([Input((5, 5, 2)), Conv2DTranspose(4, 3, strides=2)])
>>> net.output_shape, net.total_params
((11, 11, 4), 76)
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from functools import cached_property
from typing import Any, ClassVar

import sympy

from convsym.intdiv import QPoly, to_sympy
from convsym.layers.base import (
    Condition,
    Inference,
    Layer,
    Shape,
    to_choice,
    to_flag,
    to_size,
    to_tuple,
)
from convsym.layers.conv import ConvConfig
from convsym.layers.depthwise import infer_depthwise, infer_separable
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class
from convsym.layers.transpose import TransposeConfig, infer_conv_transpose


def _no_stride_with_dilation(layer: Any, strides: tuple[QPoly, ...],
                             dilation: tuple[QPoly, ...]) -> None:
    if any(s.as_int() not in (None, 1) for s in strides) and \
            any(d.as_int() not in (None, 1) for d in dilation):
        raise layer.config_error("strides", layer.strides,
                                 "Keras does not allow strides > 1 together with "
                                 f"dilation_rate > 1 (dilation_rate = "
                                 f"{layer.dilation_rate})",
                                 code="stride_and_dilation")


def stride_dilation_condition(strides: tuple[QPoly, ...],
                              dilation: tuple[QPoly, ...]) -> list[Condition]:
    """Keras's rule "all strides 1 or all dilations 1" as side conditions, when symbolic.

    Strides and dilations are at least 1, so ``sum(s - 1)`` is 0 exactly when every stride
    is 1, and the product of the two sums is 0 exactly when one of them is.

    >>> from convsym.expr import symbol
    >>> s, d = QPoly.sym(symbol("s")), QPoly.sym(symbol("d"))
    >>> [str(c.relation()) for c in stride_dilation_condition(
    ...     (s, QPoly.const(1)), (QPoly.const(2), QPoly.const(2)))]
    ['Eq(s, 1)']
    >>> [str(c.relation()) for c in stride_dilation_condition((s, s), (d, d))]
    ['Eq(d, 1) | Eq(s, 1)']
    >>> stride_dilation_condition((s,), (QPoly.const(1),))
    []
    """
    rule = "Keras does not allow strides > 1 together with dilation_rate > 1"
    above = [[v for v in dict.fromkeys(values) if v.as_int() != 1]
             for values in (strides, dilation)]
    if not above[0] or not above[1]:
        return []  # every stride or every dilation is 1
    if all(v.as_int() is not None for v in above[1]):  # a concrete dilation > 1
        return [Condition.equal(v, QPoly.const(1), "strides", rule) for v in above[0]]
    if all(v.as_int() is not None for v in above[0]):  # a concrete stride > 1
        return [Condition.equal(v, QPoly.const(1), "dilation_rate", rule) for v in above[1]]
    excess = [sum((v - 1 for v in values), QPoly.const(0)) for values in above]
    shown = sympy.Or(*(sympy.And(*(sympy.Eq(to_sympy(v), 1) for v in values))
                       for values in above))
    return [Condition(excess[0] * excess[1], "eq", "", "strides", rule, shown=shown)]


class _TransposeMixin(KerasLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "conv"

    def validate(self) -> None:
        """Check every hyperparameter as Keras does on construction."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> TransposeConfig:
        """The normalised configuration."""
        rank = self.rank
        a: Any = self
        padding = to_choice(self, "padding", a.padding, ["valid", "same"])
        strides = to_tuple(self, "strides", a.strides, rank)
        dilation = to_tuple(self, "dilation_rate", a.dilation_rate, rank)
        _no_stride_with_dilation(self, strides, dilation)
        op = None
        if a.output_padding is not None:
            op = to_tuple(self, "output_padding", a.output_padding, rank, minimum=0)
            for o, s in zip(op, strides):
                oi, si = o.as_int(), s.as_int()
                if oi is not None and si is not None and oi >= si:
                    raise self.config_error("output_padding", a.output_padding,
                                            f"must be strictly less than strides "
                                            f"({a.strides}) on every axis",
                                            code="output_padding_too_large")
        return TransposeConfig(
            rank=rank, filters=to_size(self, "filters", a.filters),
            kernel=to_tuple(self, "kernel_size", a.kernel_size, rank), strides=strides,
            dilation=dilation, groups=QPoly.const(1), bias=to_flag(self, "use_bias", a.use_bias),
            mode=f"keras_{padding}", pads=(), output_padding=op,
            channels_first=self.channels_first(), dialect="keras")

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the transposed-convolution core."""
        inference = infer_conv_transpose(self, shape, self.config)
        inference.conditions.extend(stride_dilation_condition(self.config.strides,
                                                              self.config.dilation))
        return inference


@dataclasses.dataclass(frozen=True, repr=False)
class _TransposeN(_TransposeMixin):
    filters: Any
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    output_padding: Any = None
    data_format: str | None = None
    dilation_rate: Any = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


@layer_class
class Conv1DTranspose(_TransposeN):
    """``keras.layers.Conv1DTranspose``."""

    rank: ClassVar[int] = 1


@layer_class
class Conv2DTranspose(_TransposeN):
    """``keras.layers.Conv2DTranspose``: kernel ``(k_h, k_w, filters, C_in)``."""

    rank: ClassVar[int] = 2


@layer_class
class Conv3DTranspose(_TransposeMixin):
    """``keras.layers.Conv3DTranspose`` (its ``data_format`` comes before ``output_padding``)."""

    rank: ClassVar[int] = 3

    filters: Any
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    output_padding: Any = None
    dilation_rate: Any = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)


class _DepthMixin(KerasLayer):
    rank: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "conv"

    def validate(self) -> None:
        """Check every hyperparameter eagerly."""
        self.config  # noqa: B018

    @cached_property
    def multiplier(self) -> QPoly:
        """The depth multiplier."""
        a: Any = self
        return to_size(self, "depth_multiplier", a.depth_multiplier)

    @cached_property
    def config(self) -> ConvConfig:
        """The normalised configuration (filters and groups are set per input)."""
        rank = self.rank
        a: Any = self
        padding = to_choice(self, "padding", a.padding, ["valid", "same"])
        self.multiplier  # noqa: B018
        filters = to_size(self, "filters", a.filters) if hasattr(a, "filters") \
            else QPoly.const(1)
        return ConvConfig(
            rank=rank, filters=filters,
            kernel=to_tuple(self, "kernel_size", a.kernel_size, rank),
            strides=to_tuple(self, "strides", a.strides, rank),
            dilation=to_tuple(self, "dilation_rate", a.dilation_rate, rank),
            groups=QPoly.const(1), bias=to_flag(self, "use_bias", a.use_bias),
            padding={"same": "same_tf"}.get(padding, padding), pads=None,
            channels_first=self.channels_first(), dialect="keras")


@dataclasses.dataclass(frozen=True, repr=False)
class _DepthwiseN(_DepthMixin):
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    depth_multiplier: Any = 1
    data_format: str | None = None
    dilation_rate: Any = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the depthwise core: ``prod(k) C m + C m`` parameters."""
        return infer_depthwise(self, shape, self.config, self.multiplier)


@layer_class
class DepthwiseConv1D(_DepthwiseN):
    """``keras.layers.DepthwiseConv1D``."""

    rank: ClassVar[int] = 1


@layer_class
class DepthwiseConv2D(_DepthwiseN):
    """``keras.layers.DepthwiseConv2D``: kernel ``(k_h, k_w, C, m)``, bias ``(C m,)``."""

    rank: ClassVar[int] = 2


@dataclasses.dataclass(frozen=True, repr=False)
class _SeparableN(_DepthMixin):
    filters: Any
    kernel_size: Any
    strides: Any = 1
    padding: str = "valid"
    data_format: str | None = None
    dilation_rate: Any = 1
    depth_multiplier: Any = 1
    activation: str | None = None
    use_bias: bool = True
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer_one(self, shape: Shape) -> Inference:
        """Apply the separable core: ``prod(k) C m + C m C_out + C_out`` (one bias)."""
        return infer_separable(self, shape, self.config, self.multiplier)


@layer_class
class SeparableConv1D(_SeparableN):
    """``keras.layers.SeparableConv1D``."""

    rank: ClassVar[int] = 1


@layer_class
class SeparableConv2D(_SeparableN):
    """``keras.layers.SeparableConv2D``."""

    rank: ClassVar[int] = 2


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose, DepthwiseConv1D, DepthwiseConv2D,
    SeparableConv1D, SeparableConv2D)}
"""The Keras layers of this module, by class name."""
