"""The geometry of one sliding-window layer on concrete sizes: cells, padding, windows.

Every number comes from the layer itself: its derivation steps (:class:`AxisStep`) carry
the input size, kernel, stride, dilation and padding the closed forms used, and the output
size; the transposed convolution's equivalent direct convolution and Keras pooling's "same"
padding come from :mod:`convsym.formulas`.  Drawing code only places what is here.

>>> from convsym.keras import Conv1D
>>> from convsym.intdiv import QPoly
>>> c = QPoly.const
>>> [ax] = window_axes(Conv1D(1, 3, strides=2, padding="same"), (c(6), c(1)))
>>> ax.n, ax.before, ax.after, ax.out, ax.starts
(6, 0, 1, 3, (0, 2, 4))
>>> [ax.kind(x) for x in ax.positions()]
['input', 'input', 'input', 'input', 'input', 'input', 'pad']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convsym import formulas as F
from convsym.errors import UsageError
from convsym.intdiv import QExpr, QPoly, as_int, to_sympy
from convsym.layers.base import AxisStep, Layer, Shape

CONV_RULES = {"valid", "explicit", "same_tf", "same_torch", "causal"}
POOL_RULES = {"pool_valid_keras", "pool_same_keras", "pool_floor_torch", "pool_ceil_torch"}
TRANSPOSE_PREFIX = "conv_transpose_"


def has_window(step: AxisStep) -> bool:
    """True when the step slides a window (convolution, pooling, transposed convolution)."""
    return (step.rule in CONV_RULES or step.rule in POOL_RULES
            or step.rule.startswith(TRANSPOSE_PREFIX))


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a sliding window, in integers.

    Positions count cells of the (stretched) input: input cell ``j`` sits at ``j*spacing``
    (``spacing`` is the stride of a transposed convolution, whose zeros sit in between, and
    1 otherwise).  ``before``/``after`` pad the stretched input (negative: crop it).  Window
    ``i`` covers ``starts[i] + t*d`` for ``t < k``.
    """

    name: str
    rule: str
    n: int
    spacing: int
    before: int
    after: int
    k: int
    d: int
    stride: int
    out: int
    starts: tuple[int, ...]

    @property
    def stretched(self) -> int:
        """Cells of the input with the zeros inserted: ``(n - 1) spacing + 1``."""
        return (self.n - 1) * self.spacing + 1

    @property
    def padded(self) -> tuple[int, int]:
        """``[lo, hi)``: the positions the windows may read (input plus padding)."""
        return -self.before, self.stretched + self.after

    def taps(self, i: int) -> list[int]:
        """The positions window ``i`` reads."""
        return [self.starts[i] + t * self.d for t in range(self.k)]

    def positions(self) -> range:
        """Every position drawn: the stretched input, its padding and any overhang."""
        lo = min(0, -self.before)
        hi = max(self.stretched, self.stretched + self.after,
                 max(self.taps(len(self.starts) - 1)) + 1 if self.starts else 0)
        return range(lo, hi)

    def kind(self, x: int) -> str:
        """``input``, ``zero`` (inserted), ``pad``, ``cropped`` or ``overhang`` (past the
        padding: only ceil_mode's last window reaches there, and it reads nothing)."""
        lo, hi = self.padded
        inside = 0 <= x < self.stretched
        if x < lo or x >= hi:
            return "cropped" if inside else "overhang"
        if not inside:
            return "pad"
        return "zero" if x % self.spacing else "input"


def _int(step: AxisStep, key: str, what: str) -> int:
    value = step.values[key] if key in step.values else None
    number = None if value is None else as_int(value)
    if number is None:
        shown = "?" if value is None else str(to_sympy(value))
        raise UsageError(f"axis {step.axis}: {what} is {shown}, not a number; give concrete "
                         "sizes (--set NAME=VALUE) to draw the layer", code="symbolic_size")
    return number


def _result(step: AxisStep) -> int:
    number = as_int(step.result)
    if number is None:
        raise UsageError(f"axis {step.axis}: the output size is {to_sympy(step.result)}, not a "
                         "number; give concrete sizes (--set NAME=VALUE)",
                         code="symbolic_size")
    return number


def _pair(pair: tuple[QExpr, QExpr], axis: str) -> tuple[int, int]:
    a, b = as_int(pair[0]), as_int(pair[1])
    if a is None or b is None:
        raise UsageError(f"axis {axis}: the padding is not a number; give concrete sizes "
                         "(--set NAME=VALUE)", code="symbolic_size")
    return a, b


def axis_of(step: AxisStep) -> Axis:
    """The integer geometry of one derivation step."""
    n, k, s = _int(step, "n", "the input size"), _int(step, "k", "the kernel"), \
        _int(step, "s", "the stride")
    d = _int(step, "d", "the dilation") if "d" in step.values else 1
    out = _result(step)
    q = QPoly.const
    if step.rule in CONV_RULES or step.rule in ("pool_floor_torch", "pool_ceil_torch"):
        if "p_l" in step.values:
            before, after = _int(step, "p_l", "p_l"), _int(step, "p_r", "p_r")
        elif "p" in step.values:
            before = after = _int(step, "p", "the padding")
        else:
            before = after = 0
        return Axis(step.axis, step.rule, n, 1, before, after, k, d, s, out,
                    tuple(i * s - before for i in range(out)))
    if step.rule in POOL_RULES:
        if step.rule == "pool_same_keras":
            total = F.same_pad_total(q(n), k=q(k), s=q(s), d=q(1))
            before, after = _pair(F.split_pad(total), step.axis)
        else:
            before = after = 0
        return Axis(step.axis, step.rule, n, 1, before, after, k, 1, s, out,
                    tuple(i * s - before for i in range(out)))
    if step.rule.startswith(TRANSPOSE_PREFIX):
        if step.rule == "conv_transpose_torch":
            crop = q(_int(step, "p", "the padding"))
        elif step.rule.startswith("conv_transpose_keras_same"):
            crop = F.keras_transpose_same_crop(k=q(k), d=q(d))
        else:
            crop = q(0)
        before, after = _pair(F.transpose_as_conv_pads(q(n), q(out), k=q(k), s=q(s), d=q(d),
                                                       crop=crop), step.axis)
        return Axis(step.axis, step.rule, n, s, before, after, k, d, 1, out,
                    tuple(i - before for i in range(out)))
    raise UsageError(f"axis {step.axis}: rule {step.rule!r} has no sliding window to draw",
                     code="nothing_to_draw")


def window_axes(layer: Layer, shape: Shape, names: Sequence[str] = ("input",)) -> list[Axis]:
    """The geometry of ``layer`` applied to ``shape`` (one input), axis by axis."""
    inference = layer.infer_checked([shape], list(names)[:1])
    steps = [step for step in inference.steps if has_window(step)]
    if not steps:
        raise UsageError(f"{layer.type_name} has no sliding window to draw (convolutions, "
                         "pooling and transposed convolutions have one)",
                         code="nothing_to_draw")
    return [axis_of(step) for step in steps]
