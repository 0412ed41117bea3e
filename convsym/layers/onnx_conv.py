"""ONNX convolution and pooling (the ``onnx`` dialect): Conv, ConvTranspose, MaxPool, AveragePool.

Channels first, no batch axis here; hyperparameters are the ONNX attributes (``pads`` in ONNX
order ``(x1_begin, x2_begin, ..., x1_end, x2_end)``).  Convolution uses the one core
(:mod:`convsym.layers.conv`); the ONNX rules that core does not state are applied here and
recorded under their own rule names (docs/conventions-onnx.md):

* ``auto_pad`` SAME_UPPER / SAME_LOWER: ``ceil(n/s)``; the odd padding cell goes at the end
  (UPPER) or the start (LOWER).  onnxruntime refuses SAME with dilation in Conv, so does convsym;
  in pooling it sizes the padding for the undilated kernel (``onnx_same_pool_out``).
* pooling ``ceil_mode``: the last window must start inside the input or the left padding.
* ConvTranspose: ``s(n - 1) + op + k_e - p_begin - p_end``, SAME gives ``n s``, and an
  ``output_shape`` fixes the size outright.

Each layer's weights are the initializers the node reads (``initializers``: name, shape,
trainable), so totals equal the file's initializers.

>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> H = QPoly.sym(symbol("H"))
>>> out = Conv(8, 3, (3, 3), strides=(2, 2), auto_pad="SAME_LOWER").infer([(QPoly.const(3), H, H)])
>>> [to_sympy(s) for s in out.shape], [s.rule for s in out.steps]
([8, ceiling(H/2), ceiling(H/2)], ['same_lower_onnx', 'same_lower_onnx'])
"""

# Messages are built by lambdas that check_room calls before returning, inside the loop
# iteration that made them, so late binding of loop variables cannot bite.
# ruff: noqa: B023

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from convsym import formulas as F
from convsym.intdiv import QExpr, QPoly, add, as_int, floordiv, to_sympy
from convsym.layers.agree import require_equal
from convsym.layers.base import (
    AxisStep,
    Condition,
    Inference,
    Layer,
    Shape,
    Weight,
    check_room,
    to_choice,
    to_size,
    to_tuple,
)
from convsym.layers.conv import AXIS_NAMES, ConvConfig, infer_conv, join_channels, split_channels
from convsym.layers.frontend import layer_class
from convsym.layers.pool import window_room
from convsym.sizes import mul_sizes, settle

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


class OnnxLayer(Layer):
    """Base of the ONNX front ends: channels first, weights from the node's initializers."""

    dialect: ClassVar[str] = "onnx"

    @property
    def base_name(self) -> str:
        """ONNX nodes are named by the file; the importer supplies the name."""
        return ""

    def infer_checked(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """The inference, remembered for the last input shapes: the importer derives each node
        once to follow shape computations, and the network derives it again."""
        key = tuple(tuple(shape) for shape in inputs)
        memo = self.__dict__.get("_memo")
        if memo is not None and memo[0] == key:
            cached: Inference = memo[1]
            return cached
        out = super().infer_checked(inputs, names)
        object.__setattr__(self, "_memo", (key, out))  # frozen dataclass: not a field
        return out

    def with_initializers(self, out: Inference) -> Inference:
        """``out`` with its weights replaced by the initializers this node reads."""
        given: Any = getattr(self, "initializers", ())
        out.weights = [Weight(str(name), tuple(QPoly.const(int(d)) for d in shape),
                              bool(trainable)) for name, shape, trainable in given]
        return out


def spatial_tuple(layer: Layer, fld: str, value: object, rank: int, *, minimum: int = 1
                  ) -> tuple[QPoly, ...]:
    """An ONNX per-axis attribute (``strides``, ``dilations``), or one value for all axes."""
    return to_tuple(layer, fld, value, rank, minimum=minimum)


def pad_pairs(layer: Layer, value: object, rank: int) -> tuple[tuple[QPoly, QPoly], ...]:
    """ONNX ``pads`` ``(x1_begin, ..., xn_begin, x1_end, ..., xn_end)`` as (begin, end) pairs."""
    if not isinstance(value, (list, tuple)):
        one = to_size(layer, "pads", value, minimum=0)
        return ((one, one),) * rank
    if len(value) != 2 * rank:
        raise layer.config_error("pads", tuple(value), f"needs {2 * rank} values (begin and "
                                 f"end for each of {rank} spatial axes)",
                                 code="wrong_tuple_length")
    sides = [to_size(layer, f"pads[{i}]", v, minimum=0) for i, v in enumerate(value)]
    return tuple((sides[i], sides[i + rank]) for i in range(rank))


def _rank(layer: Layer, kernel: object) -> int:
    if not isinstance(kernel, (list, tuple)) or not 1 <= len(kernel) <= 3:
        raise layer.config_error("kernel_shape", kernel, "must list 1, 2 or 3 kernel sizes "
                                 "(convsym knows 1-D, 2-D and 3-D convolution)",
                                 code="bad_kernel_shape")
    return len(kernel)


def conv_config(layer: Any) -> ConvConfig:
    """The attributes ``Conv`` and ``ConvTranspose`` share, normalised and checked: kernel,
    strides, dilations, group, channels, and the padding (``auto_pad`` SAME_* as the core's
    ``"same_tf"``, VALID as ``"valid"``, NOTSET as ``"explicit"`` with the ``pads`` pairs)."""
    rank = _rank(layer, layer.kernel_shape)
    auto = to_choice(layer, "auto_pad", layer.auto_pad, AUTO_PADS)
    padding = {"NOTSET": "explicit", "VALID": "valid"}.get(auto, "same_tf")
    return ConvConfig(
        rank=rank, filters=to_size(layer, "out_channels", layer.out_channels),
        kernel=to_tuple(layer, "kernel_shape", tuple(layer.kernel_shape), rank),
        strides=spatial_tuple(layer, "strides", layer.strides, rank),
        dilation=spatial_tuple(layer, "dilations", layer.dilations, rank),
        groups=to_size(layer, "group", layer.group), bias=bool(layer.bias), padding=padding,
        pads=pad_pairs(layer, layer.pads, rank) if padding == "explicit" else None,
        channels_first=True, dialect="onnx",
        in_channels=to_size(layer, "in_channels", layer.in_channels))


@layer_class
class Conv(OnnxLayer):
    """ONNX ``Conv``: ``out_channels``/``in_channels`` read off the weight ``W``."""

    cost_kind: ClassVar[str] = "conv"

    out_channels: Any
    in_channels: Any
    kernel_shape: Any
    strides: Any = 1
    pads: Any = 0
    dilations: Any = 1
    group: Any = 1
    auto_pad: str = "NOTSET"
    bias: bool = False
    initializers: Any = ()

    def validate(self) -> None:
        """Check the attributes as onnxruntime does when it builds the kernel."""
        self.config  # noqa: B018

    @cached_property
    def config(self) -> ConvConfig:
        """The normalised configuration (SAME_* as the core's ceil(n/s) rule)."""
        cfg = conv_config(self)
        if cfg.padding == "same_tf" and any(as_int(d) != 1 for d in cfg.dilation):
            raise self.config_error("dilations", self.dilations,
                                    f"onnxruntime refuses auto_pad={self.auto_pad} with "
                                    "dilation in Conv ('Dilation not supported for "
                                    "AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER')",
                                    code="same_with_dilation")
        return cfg

    def infer_one(self, shape: Shape) -> Inference:
        """The convolution core; SAME_* steps renamed to the ONNX rule they follow."""
        out = infer_conv(self, shape, self.config)
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            lower = self.auto_pad == "SAME_LOWER"
            out.steps = [_same_step(step, lower) for step in out.steps]
        return self.with_initializers(out)


def _same_step(step: AxisStep, lower: bool) -> AxisStep:
    """The core's TF 'same' step as ONNX SAME_UPPER (same split) or SAME_LOWER (mirrored)."""
    values = dict(step.values)
    if lower:
        values["p_l"], values["p_r"] = values["p_r"], values["p_l"]
    return AxisStep(step.axis, "same_lower_onnx" if lower else "same_upper_onnx", values,
                    step.result)


@layer_class
class ConvTranspose(OnnxLayer):
    """ONNX ``ConvTranspose``: weight ``W`` is ``(C_in, C_out/group, *kernel)``."""

    cost_kind: ClassVar[str] = "conv"

    out_channels: Any
    in_channels: Any
    kernel_shape: Any
    strides: Any = 1
    pads: Any = 0
    dilations: Any = 1
    group: Any = 1
    output_padding: Any = 0
    output_shape: Any = None
    auto_pad: str = "NOTSET"
    bias: bool = False
    initializers: Any = ()

    def validate(self) -> None:
        """Check the attributes eagerly."""
        rank = self.config.rank
        spatial_tuple(self, "output_padding", self.output_padding, rank, minimum=0)
        if self.output_shape is not None:
            spatial_tuple(self, "output_shape", self.output_shape, rank)

    @cached_property
    def config(self) -> ConvConfig:
        """The attributes shared with ``Conv``, normalised."""
        return conv_config(self)

    def infer_one(self, shape: Shape) -> Inference:
        """``s(n - 1) + op + k_e - p_begin - p_end`` per axis, or SAME's, or output_shape."""
        cfg = self.config
        rank, kernel, strides, dilation = cfg.rank, cfg.kernel, cfg.strides, cfg.dilation
        filters, groups = cfg.filters, cfg.groups
        c_in, spatial = split_channels(self, shape, rank, True)
        conditions = _same_channels(self, c_in, to_size(self, "in_channels", self.in_channels))
        ops = spatial_tuple(self, "output_padding", self.output_padding, rank, minimum=0)
        zero = (QPoly.const(0), QPoly.const(0))
        pairs = cfg.pads or (zero,) * rank
        fixed = None if self.output_shape is None else \
            spatial_tuple(self, "output_shape", self.output_shape, rank)
        out: list[QExpr] = []
        steps: list[AxisStep] = []
        for i, n in enumerate(spatial):
            axis, k, s, d, op = AXIS_NAMES[rank][i], kernel[i], strides[i], dilation[i], ops[i]
            values: dict[str, QExpr] = {"n": n, "k": k, "s": s, "d": d, "op": op}
            # the spec allows op < max(s, d), but onnxruntime also checks that a convolution
            # of the output gives back n, which holds only for op < s
            conditions += check_room(
                self, axis, add(s, -(op + QPoly.const(1))),
                rule="onnxruntime needs output_padding smaller than the stride",
                what=lambda: f"output_padding {_t(op)} is not smaller than strides {_t(s)} "
                     "('output_padding may be too large for stride')")
            full = F.conv_transpose_out_onnx(n, k=k, s=s, d=d, p_l=QPoly.const(0),
                                             p_r=QPoly.const(0), output_padding=op)
            if fixed is not None:
                size: QExpr = fixed[i]
                values["o"] = size
                rule = "conv_transpose_onnx_output_shape"
                conditions += check_room(
                    self, axis, add(full, -fixed[i]),
                    rule="output_shape must not exceed the unpadded output s(n - 1) + op + k_e",
                    what=lambda: f"output_shape {_t(fixed[i])} is larger than the unpadded "
                         f"output {_t(full)}")
            elif self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                size = F.conv_transpose_same_onnx(n, k=k, s=s, d=d, output_padding=op)
                rule = "conv_transpose_onnx_same"
            else:
                p_l, p_r = pairs[i]
                values.update({"p_l": p_l, "p_r": p_r})
                size = F.conv_transpose_out_onnx(n, k=k, s=s, d=d, p_l=p_l, p_r=p_r,
                                                 output_padding=op)
                rule = "conv_transpose_onnx"
            conditions += check_room(
                self, axis, add(size, QPoly.const(-1)),
                rule="the transposed convolution's output must have at least one cell",
                what=lambda: f"the output size {_t(size)} is not positive")
            out.append(size)
            steps.append(AxisStep(axis, rule, values, size))
        per_group = floordiv(filters, groups) if as_int(groups) != 1 else filters
        result = Inference(join_channels(filters, out, True), [], conditions, steps,
                           F.conv_transpose_macs(spatial, kernel=list(kernel), c_in=c_in,
                                                 c_out_per_group=per_group),
                           bias_macs=mul_sizes(*out, filters) if self.bias else QPoly.const(0))
        return self.with_initializers(result)


def _same_channels(layer: Layer, c_in: QExpr, declared: QPoly) -> list[Condition]:
    return require_equal(layer, "in_channels", c_in, declared,
                         rule="the input's channels must match the weight W",
                         what=lambda: f"the input has {_t(c_in)} channels but W expects "
                              f"{_t(declared)}")


@dataclasses.dataclass(frozen=True, repr=False)
class _Pool(OnnxLayer):
    cost_kind: ClassVar[str] = "pool"

    kernel_shape: Any
    strides: Any = 1
    pads: Any = 0
    dilations: Any = 1
    ceil_mode: int = 0
    auto_pad: str = "NOTSET"
    initializers: Any = ()

    def validate(self) -> None:
        """Check the attributes eagerly."""
        rank = _rank(self, self.kernel_shape)
        to_choice(self, "auto_pad", self.auto_pad, AUTO_PADS)
        pad_pairs(self, self.pads, rank)
        if self.ceil_mode not in (0, 1):
            raise self.config_error("ceil_mode", self.ceil_mode, "must be 0 or 1",
                                    code="bad_choice")

    def infer_one(self, shape: Shape) -> Inference:
        """Count the windows per axis by the ONNX rule for ``auto_pad`` and ``ceil_mode``."""
        rank = _rank(self, self.kernel_shape)
        channels, spatial = split_channels(self, shape, rank, True)
        kernel = to_tuple(self, "kernel_shape", tuple(self.kernel_shape), rank)
        strides = spatial_tuple(self, "strides", self.strides, rank)
        dilation = spatial_tuple(self, "dilations", self.dilations, rank)
        pairs = pad_pairs(self, self.pads, rank)
        out: list[QExpr] = []
        steps: list[AxisStep] = []
        conditions: list[Condition] = []
        for i, n in enumerate(spatial):
            axis, k, s, d = AXIS_NAMES[rank][i], kernel[i], strides[i], dilation[i]
            size, step, conds = self._axis(axis, n, k, s, d, pairs[i])
            out.append(size)
            steps.append(step)
            conditions += conds
            conditions += check_room(
                self, axis, add(size, QPoly.const(-1)),
                rule="the pooled output must have at least one cell",
                what=lambda: f"the output size {_t(size)} is not positive (onnxruntime "
                     "returns an empty tensor or refuses)")
        ops = mul_sizes(mul_sizes(*kernel), channels, *out)
        return self.with_initializers(Inference(join_channels(channels, out, True), [],
                                                conditions, steps, ops=ops))

    def _axis(self, axis: str, n: QExpr, k: QPoly, s: QPoly, d: QPoly,
              pair: tuple[QPoly, QPoly]) -> tuple[QExpr, AxisStep, list[Condition]]:
        values: dict[str, QExpr] = {"n": n, "k": k, "s": s, "d": d}
        conditions: list[Condition] = []
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            total = F.onnx_same_pad_total(n, k=k, s=s)
            lower = self.auto_pad == "SAME_LOWER"
            p_l, p_r = F.split_pad(total, odd_at_end=not lower)
            values.update({"P": total, "p_l": p_l, "p_r": p_r})
            if as_int(d) == 1:  # onnxruntime checks the padding only without dilation
                conditions += check_room(
                    self, axis, total,
                    rule="onnxruntime's SAME pooling needs a padding (ceil(n/s) - 1)s + k - n "
                         ">= 0",
                    what=lambda: f"the SAME padding (ceil(n/s) - 1)s + k - n = {_t(total)} is "
                         "negative ('padding values must be non-negative')")
            if self.ceil_mode and as_int(d) != 1:
                # the padding is sized for the undilated kernel, so the dilated windows are
                # counted by the ceil_mode rule on it (onnxruntime; without dilation that
                # count is ceil(n/s) whatever ceil_mode says)
                if not isinstance(p_l, QPoly) or not isinstance(p_r, QPoly):
                    raise self.config_error(
                        "ceil_mode", self.ceil_mode, "with auto_pad SAME and a dilation, "
                        "convsym reads an input size that is one expression (not a min or "
                        "max of broadcast sizes)", code="unsupported_combination")
                size = settle(F.pool_ceil_out(n, k=k, s=s, d=d, p_l=p_l, p_r=p_r))
                return size, AxisStep(axis, "pool_ceil_onnx", values, size), conditions
            size = F.onnx_same_pool_out(n, k=k, s=s, d=d)
            return size, AxisStep(axis, "pool_same_onnx", values, size), conditions
        p_l, p_r = pair if self.auto_pad == "NOTSET" else (QPoly.const(0),) * 2
        pad = p_l + p_r
        values.update({"P": pad, "p_l": p_l, "p_r": p_r})
        for side in (p_l, p_r):
            if as_int(side) != 0:
                conditions += check_room(
                    self, axis, add(k, -(side + QPoly.const(1))),
                    rule="onnxruntime's pooling needs each pad smaller than the kernel",
                    what=lambda: f"pad {_t(side)} is not smaller than the kernel {_t(k)} "
                         "('Pad should be smaller than kernel')")
        # onnxruntime's C++ division would give one window for -s < n + P - k_e < 0 without
        # ceil_mode, where none fits; convsym (like PyTorch) refuses those inputs
        # (docs/conventions-onnx.md)
        conditions += window_room(self, axis, n, k=k, s=s, d=d, pad=pad,
                                  ceil_mode=bool(self.ceil_mode), pad_name="P",
                                  show_pad=lambda: _t(pad))
        if self.ceil_mode:
            size = settle(F.pool_ceil_out(n, k=k, s=s, d=d, p_l=p_l, p_r=p_r))
            return size, AxisStep(axis, "pool_ceil_onnx", values, size), conditions
        size = F.conv_out(n, k=k, s=s, d=d, pad=pad)
        return size, AxisStep(axis, "explicit", values, size), conditions


@layer_class
class MaxPool(_Pool):
    """ONNX ``MaxPool`` (one output; the Indices output is refused by the importer)."""


@layer_class
class AveragePool(_Pool):
    """ONNX ``AveragePool`` (``count_include_pad`` changes values, not the shape)."""


@layer_class
class LpPool(_Pool):
    """ONNX ``LpPool``."""


def _t(e: QExpr) -> str:
    return str(to_sympy(e))


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (
    Conv, ConvTranspose, MaxPool, AveragePool, LpPool)}
"""The ONNX layers of this module, by operator name."""
