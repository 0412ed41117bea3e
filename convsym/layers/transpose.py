"""The transposed-convolution core behind PyTorch ``ConvTranspose*d`` and Keras ``Conv*DTranspose``.

Rules (CONVENTIONS.md): PyTorch gives ``(n - 1)s - 2p + d(k - 1) + op + 1`` and requires
``op < max(s, d)``; Keras 'valid' gives ``(n - 1)s + k_e + op`` (default
``op = max(k_e, s) - k_e``), Keras 'same' gives ``n s`` (op None) or
``(n - 1)s + (k_e mod 2) + op``, and requires ``op < s``.

Empty outputs, as measured (torch 2.13, Keras 3.15): PyTorch refuses an output of size 0 or
less ("Output size is too small"), so convsym raises (concrete) or keeps a side condition
(symbolic).  Keras answers 0, in the symbolic build and in a real forward alike ('same' with
an explicit ``output_padding``, ``n = 1``, an even effective kernel: ``0 s + 0 + 0``), so
convsym answers 0 too, with a warning on the row.

PyTorch's ``forward(x, output_size=...)`` picks the output size itself: it must lie between
``m = (n - 1)s - 2p + d(k - 1) + 1`` and ``m + s - 1`` (the stride alone, not the dilation),
and PyTorch then uses ``op = output_size - m`` (``_output_padding`` in torch/nn/modules/conv.py).
convsym records exactly that ``op``; a symbolic ``output_size`` keeps the range as side
conditions.  MACs are costed on the INPUT size.

>>> from convsym.layers.torch import ConvTranspose1d
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = ConvTranspose1d(1, 1, 3, dilation=2, output_padding=1).infer(
...     [(QPoly.const(1), QPoly.const(5))])
>>> [to_sympy(s) for s in out.shape]
[1, 10]
>>> from convsym.layers.keras import Conv1DTranspose
>>> out = Conv1DTranspose(1, 2, padding="same", output_padding=0).infer([(QPoly.const(1),
...                                                                       QPoly.const(1))])
>>> [to_sympy(s) for s in out.shape], out.warnings[0][:36]
([0, 1], 'axis L: the output is empty (size 0)')
"""

from __future__ import annotations

from dataclasses import dataclass

from convsym import formulas as F
from convsym.intdiv import QExpr, QPoly, add, as_int, ext, floordiv, to_sympy
from convsym.layers.base import AxisStep, Condition, Inference, Layer, Shape, Weight, check_room
from convsym.layers.conv import AXIS_NAMES, check_groups, join_channels, split_channels
from convsym.period import decide_nonneg
from convsym.sizes import difference, mul_sizes


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
    output_size: tuple[QPoly, ...] | None = None
    """PyTorch's ``forward(x, output_size=...)``: the spatial sizes asked for."""


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
    warnings: list[str] = []
    for i, n in enumerate(spatial):
        size, step, conds = _axis(layer, cfg, AXIS_NAMES[cfg.rank][i], n, i)
        out.append(size)
        steps.append(step)
        conditions += conds
        if cfg.dialect == "keras":
            warnings += _empty_warning(AXIS_NAMES[cfg.rank][i], size)
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
                     steps, macs, notes=list(warnings), bias_macs=bias_macs, warnings=warnings)


def _empty_warning(axis: str, size: QExpr) -> list[str]:
    """Keras gives an empty axis where the size is 0; say so (sizes are never negative)."""
    value = as_int(size)
    if value is not None:
        return [] if value else [f"axis {axis}: the output is empty (size 0), as in Keras: "
                                 "'same' padding with an explicit output_padding leaves "
                                 "(n - 1)s + (k_e mod 2) + op = 0 cells"]
    if decide_nonneg(add(size, QPoly.const(-1))).holds:
        return []
    return [f"axis {axis}: the output is empty (size 0) for some inputs, as in Keras: "
            f"{_t(size)} can be 0"]


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
    if cfg.mode == "torch" and cfg.output_size is not None:
        size, conds, values["op"] = _torch_output_size(layer, cfg, axis, n, i)
        conditions += conds
        values.update({"p": cfg.pads[i], "P": cfg.pads[i] * QPoly.const(2)})
        rule = "conv_transpose_torch"
    elif cfg.mode == "torch":
        p = cfg.pads[i]
        assert op is not None
        pi = p.as_int()
        pad = QPoly.const(2 * pi) if pi is not None else p * QPoly.const(2)
        values.update({"p": p, "P": pad, "op": op})
        si, di, oi = s.as_int(), d.as_int(), op.as_int()
        conditions += check_room(
            layer, axis, QPoly.const(max(si, di) - oi - 1)
            if si is not None and di is not None and oi is not None  # integers: no Max
            else add(ext("max", [s, d]), -(op + QPoly.const(1))),
            rule="output_padding must be smaller than max(stride, dilation)",
            what=lambda: f"output_padding {_t(op)} is not smaller than max(stride, dilation) = "
                 f"max({_t(s)}, {_t(d)})")
        size = F.conv_transpose_out_torch(n, k=k, s=s, d=d, pad=pad, output_padding=op)
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
    if cfg.mode == "torch":  # PyTorch refuses an empty output; Keras gives one (a warning)
        conditions += check_room(
            layer, axis, add(size, QPoly.const(-1)),
            rule="the transposed convolution's output must have at least one cell (PyTorch: "
                 "'Output size is too small')",
            what=lambda: f"the output size {_t(size)} is not positive, so the output would be "
                 "empty, which PyTorch refuses ('Output size is too small')")
    return size, AxisStep(axis, rule, values, size), conditions


def _torch_output_size(layer: Layer, cfg: TransposeConfig, axis: str, n: QExpr, i: int
                       ) -> tuple[QExpr, list[Condition], QExpr]:
    """``forward(x, output_size=o)``: ``o`` itself, the range conditions and ``op = o - m``."""
    assert cfg.output_size is not None
    k, s, d, p = cfg.kernel[i], cfg.strides[i], cfg.dilation[i], cfg.pads[i]
    o = cfg.output_size[i]
    smallest = F.conv_transpose_out_torch(n, k=k, s=s, d=d, pad=p * QPoly.const(2),
                                          output_padding=QPoly.const(0))
    op = difference(o, smallest)  # what PyTorch passes on as output_padding

    def what() -> str:
        largest = add(smallest, s - QPoly.const(1))
        return (f"requested an output size of {_t(o)}, but valid sizes range from "
                f"{_t(smallest)} to {_t(largest)} (for an input of {_t(n)})")

    why = ("output_size must lie between (n - 1)s - 2p + d(k - 1) + 1 and that + s - 1 "
           "(PyTorch's range for forward(x, output_size=...))")
    conditions = check_room(layer, axis, op, rule=why, what=what)
    conditions += check_room(layer, axis, difference(s - QPoly.const(1), op), rule=why,
                             what=what)
    return o, conditions, op


def _t(e: QExpr) -> str:
    return str(to_sympy(e))
