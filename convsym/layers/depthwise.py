"""Depthwise and separable convolutions (Keras ``DepthwiseConv*D``, ``SeparableConv*D``).

A depthwise convolution with multiplier ``m`` on ``C`` channels is the convolution core with
``groups = C`` and ``C m`` filters: same output sizes and validity rules, parameters
``prod(k) C m + C m``.  A separable convolution follows it with a pointwise (1x1)
convolution to ``C_out`` filters and has ONE bias: ``prod(k) C m + C m C_out + C_out``.

>>> from convsym.layers.keras import SeparableConv2D
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = SeparableConv2D(16, 3).infer([(QPoly.const(9), QPoly.const(9), QPoly.const(128))])
>>> [to_sympy(s) for s in out.shape], to_sympy(out.trainable)
([7, 7, 16], 3216)
"""

from __future__ import annotations

import dataclasses

from convsym.intdiv import QPoly, to_sympy
from convsym.layers.base import Inference, Layer, Shape, Weight
from convsym.layers.conv import ConvConfig, infer_conv, split_channels
from convsym.sizes import add_sizes, mul_sizes


def _channels(layer: Layer, shape: Shape, cfg: ConvConfig) -> QPoly:
    c_in, _ = split_channels(layer, shape, cfg.rank, cfg.channels_first)
    if not isinstance(c_in, QPoly):
        raise layer.shape_error("channels", str(to_sympy(c_in)), "must not be a Min/Max",
                                code="bad_channels")
    return c_in


def infer_depthwise(layer: Layer, shape: Shape, cfg: ConvConfig, multiplier: QPoly
                    ) -> Inference:
    """Depthwise convolution: ``cfg`` as for a convolution; filters and groups are derived.

    Keras layout: kernel ``(*k, C, m)``, bias ``(C m,)``.
    """
    c_in = _channels(layer, shape, cfg)
    grouped = dataclasses.replace(cfg, filters=c_in * multiplier, groups=c_in)
    out = infer_conv(layer, shape, grouped)
    out.conditions = [c for c in out.conditions if c.axis != "channels"]  # C divides C*m
    out.weights = [Weight("kernel", (*cfg.kernel, c_in, multiplier))]
    if cfg.bias:
        out.weights.append(Weight("bias", (c_in * multiplier,)))
        out.bias_macs = mul_sizes(*_spatial(out.shape, cfg), c_in * multiplier)
    return out


def infer_separable(layer: Layer, shape: Shape, cfg: ConvConfig, multiplier: QPoly
                    ) -> Inference:
    """Separable convolution: depthwise (no bias) then pointwise to ``cfg.filters``, one bias.

    Keras layout: depthwise_kernel ``(*k, C, m)``, pointwise_kernel ``(1, ..., C m, C_out)``,
    bias ``(C_out,)``.
    """
    c_in = _channels(layer, shape, cfg)
    depth = infer_depthwise(layer, shape, dataclasses.replace(cfg, bias=False), multiplier)
    spatial = _spatial(depth.shape, cfg)
    ones = (QPoly.const(1),) * cfg.rank
    weights = [Weight("depthwise_kernel", (*cfg.kernel, c_in, multiplier)),
               Weight("pointwise_kernel", (*ones, c_in * multiplier, cfg.filters))]
    if cfg.bias:
        weights.append(Weight("bias", (cfg.filters,)))
    shape_out = (cfg.filters, *spatial) if cfg.channels_first else (*spatial, cfg.filters)
    pointwise = mul_sizes(*spatial, c_in * multiplier, cfg.filters)
    macs = add_sizes(depth.macs, pointwise)
    bias_macs = mul_sizes(*spatial, cfg.filters) if cfg.bias else QPoly.const(0)
    return Inference(shape_out, weights, depth.conditions, depth.steps, macs,
                     bias_macs=bias_macs)


def _spatial(shape: Shape, cfg: ConvConfig) -> Shape:
    return shape[1:] if cfg.channels_first else shape[:-1]

