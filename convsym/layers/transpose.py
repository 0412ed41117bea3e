"""The transposed-convolution core behind PyTorch ``ConvTranspose*d`` and Keras ``Conv*DTranspose``.

Rules (CONVENTIONS.md): PyTorch gives ``(n - 1)s - 2p + d(k - 1) + op + 1`` and requires
``op < max(s, d)``; Keras 'valid' gives ``(n - 1)s + k_e + op`` (default
``op = max(k_e, s) - k_e``), Keras 'same' gives ``n s`` (op None) or
``(n - 1)s + (k_e mod 2) + op``, and requires ``op < s``.  An output of size 0 or less is an
error (concrete) or a side condition (symbolic).  MACs are costed on the INPUT size.

>>> from convsym.layers.torch import ConvTranspose1d
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = ConvTranspose1d(1, 1, 3, dilation=2, output_padding=1).infer(
...     [(QPoly.const(1), QPoly.const(5))])
>>> [to_sympy(s) for s in out.shape]
[1, 10]
"""

from __future__ import annotations

from dataclasses import dataclass

from convsym import formulas as F
from convsym.intdiv import QExpr, QPoly, add, as_int, ext, floordiv, to_sympy
from convsym.layers.base import (
    AxisStep,
    Condition,
    Inference,
    Layer,
    Shape,
    Weight,
    check_room,
    mul_sizes,
)
from convsym.layers.conv import AXIS_NAMES, check_groups, join_channels, split_channels


@dataclass(frozen=True)
class TransposeConfig:
    """A transposed convolution's hyperparameters, normalised.

    ``mode`` is ``"torch"`` (symmetric ``pads``), ``"keras_valid"`` or ``"keras_same"``;
    ``output_padding`` is None only for Keras's default.
    """

    rank: int
    filters: QPoly
    kernel: tuple[QPoly, ...]
    strides: tuple[QPoly, ...]
    dilation: tuple[QPoly, ...]
    groups: QPoly
    bias: bool
    mode: str
    pads: tuple[QPoly, ...]
    output_padding: tuple[QPoly, ...] | None
    channels_first: bool
    dialect: str
    in_channels: QPoly | None = None


def infer_conv_transpose(layer: Layer, shape: Shape, cfg: TransposeConfig) -> Inference:
    """Output shape, weights, conditions, steps and MACs of a transposed convolution."""
    c_in, spatial = split_channels(layer, shape, cfg.rank, cfg.channels_first)
    if not isinstance(c_in, QPoly):
        raise layer.shape_error("channels", str(to_sympy(c_in)), "must not be a Min/Max",
                                code="bad_channels")
    conditions = check_groups(layer, c_in, cfg.groups, cfg.filters)
    if cfg.in_channels is not None:
        conditions += _check_in_channels(layer, c_in, cfg.in_channels)
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    for i, n in enumerate(spatial):
        size, step, conds = _axis(layer, cfg, AXIS_NAMES[cfg.rank][i], n, i)
        out.append(size)
        steps.append(step)
        conditions += conds
    grouped = as_int(cfg.groups) != 1
    if cfg.dialect == "keras":
        weights = [Weight("kernel", (*cfg.kernel, cfg.filters, c_in))]
        out_per_group: QPoly = cfg.filters
    else:
        out_per_group = floordiv(cfg.filters, cfg.groups) if grouped else cfg.filters
        weights = [Weight("weight", (c_in, out_per_group, *cfg.kernel))]
    if cfg.bias:
        weights.append(Weight("bias", (cfg.filters,)))
    macs = F.conv_transpose_macs(spatial, kernel=list(cfg.kernel), c_in=c_in,
                                 c_out_per_group=out_per_group)
    bias_macs = mul_sizes(*out, cfg.filters) if cfg.bias else QPoly.const(0)
    return Inference(join_channels(cfg.filters, out, cfg.channels_first), weights, conditions,
                     steps, macs, bias_macs=bias_macs)


def _check_in_channels(layer: Layer, c_in: QPoly, declared: QPoly) -> list[Condition]:
    a, b = as_int(c_in), as_int(declared)
    if a is not None and b is not None:
        if a != b:
            raise layer.shape_error("in_channels", b,
                                    f"does not match the input, which has {a} channels",
                                    code="channel_mismatch")
        return []
    if c_in == declared:
        return []
    return [Condition.equal(c_in, declared, "channels",
                            "in_channels must equal the input's channels")]


def _axis(layer: Layer, cfg: TransposeConfig, axis: str, n: QExpr, i: int
          ) -> tuple[QExpr, AxisStep, list[Condition]]:
    k, s, d = cfg.kernel[i], cfg.strides[i], cfg.dilation[i]
    values: dict[str, QExpr] = {"n": n, "k": k, "s": s, "d": d}
    conditions: list[Condition] = []
    op = None if cfg.output_padding is None else cfg.output_padding[i]
    if cfg.mode == "torch":
        p = cfg.pads[i]
        assert op is not None
        values.update({"p": p, "P": p * QPoly.const(2), "op": op})
        conditions += check_room(
            layer, axis, add(ext("max", [s, d]), -(op + QPoly.const(1))),
            rule="output_padding must be smaller than max(stride, dilation)",
            what=lambda: f"output_padding {_t(op)} is not smaller than max(stride, dilation) = "
                 f"max({_t(s)}, {_t(d)})")
        size = F.conv_transpose_out_torch(n, k=k, s=s, d=d, pad=p * QPoly.const(2),
                                          output_padding=op)
        rule = "conv_transpose_torch"
    else:
        same = cfg.mode == "keras_same"
        if op is not None:
            conditions += check_room(
                layer, axis, s - op - QPoly.const(1),
                rule="output_padding must be smaller than strides",
                what=lambda: f"output_padding {_t(op)} is not smaller than strides {_t(s)}")
            values["op"] = op
        elif not same:
            values["op"] = F.keras_transpose_default_op(k=k, s=s, d=d)
        size = F.conv_transpose_out_keras(n, k=k, s=s, d=d, same=same, output_padding=op)
        rule = ("conv_transpose_keras_same" if same else "conv_transpose_keras_valid") + \
            ("" if op is not None else "_default")
    conditions += check_room(
        layer, axis, add(size, QPoly.const(-1)),
        rule="the transposed convolution's output must have at least one cell",
        what=lambda: f"the output size {_t(size)} is not positive, so the output would be empty")
    return size, AxisStep(axis, rule, values, size), conditions


def _t(e: QExpr) -> str:
    return str(to_sympy(e))
