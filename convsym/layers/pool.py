"""The pooling core behind Keras ``MaxPooling*D``/``AveragePooling*D`` and PyTorch ``*Pool*d``.

>>> from convsym.layers.torch import MaxPool1d
>>> from convsym.intdiv import QPoly, to_sympy
>>> out = MaxPool1d(2, stride=3, padding=1, ceil_mode=True).infer([(QPoly.const(1),
...                                                                  QPoly.const(4))])
>>> [to_sympy(s) for s in out.shape]
[1, 2]
"""

# Messages are built by lambdas that check_room/require_equal call before returning, inside
# the loop iteration that made them, so late binding of loop variables cannot bite.
# ruff: noqa: B023

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from convsym import formulas as F
from convsym.intdiv import Ext, QExpr, QPoly, add, as_int, div_floor, to_sympy
from convsym.layers.base import AxisStep, Condition, Inference, Layer, Shape, check_room
from convsym.layers.conv import AXIS_NAMES, join_channels, split_channels
from convsym.period import decide_nonneg
from convsym.sizes import mul_sizes


@dataclass(frozen=True)
class PoolConfig:
    """A pooling layer's hyperparameters, normalised.

    ``mode`` is ``"keras_valid"``, ``"keras_same"`` or ``"torch"`` (explicit symmetric
    ``padding`` with ``dilation`` and ``ceil_mode``).
    """

    rank: int
    kernel: tuple[QPoly, ...]
    strides: tuple[QPoly, ...]
    mode: str
    channels_first: bool
    padding: tuple[QPoly, ...] = ()
    dilation: tuple[QPoly, ...] = ()
    ceil_mode: bool = False
    kind: str = "max"


def infer_pool(layer: Layer, shape: Shape, cfg: PoolConfig) -> Inference:
    """Output shape, conditions and derivation steps of a pooling layer (no weights)."""
    channels, spatial = split_channels(layer, shape, cfg.rank, cfg.channels_first)
    names = AXIS_NAMES[cfg.rank]
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    conditions: list[Condition] = []
    for i, n in enumerate(spatial):
        axis, k, s = names[i], cfg.kernel[i], cfg.strides[i]
        values: dict[str, QExpr] = {"n": n, "k": k, "s": s}
        if cfg.mode == "keras_same":
            size = F.keras_pool_out(n, k=k, s=s, same=True)
            steps.append(AxisStep(axis, "pool_same_keras", values, size))
            out.append(size)
            continue
        if cfg.mode == "keras_valid":
            conditions += check_room(
                layer, axis, add(n, -k),
                rule="the input must be at least the pool size",
                what=lambda: f"input {_t(n)} is smaller than the pool size {_t(k)}, so the output "
                     "would be empty")
            size = F.keras_pool_out(n, k=k, s=s, same=False)
            steps.append(AxisStep(axis, "pool_valid_keras", values, size))
            out.append(size)
            continue
        p, d = cfg.padding[i], cfg.dilation[i]
        pi = p.as_int()
        pad = QPoly.const(2 * pi) if pi is not None else p * QPoly.const(2)
        values.update({"p": p, "d": d, "P": pad})
        # PyTorch checks the padding against the kernel size itself, even when dilated:
        # MaxPool1d(3, padding=2, dilation=2) raises although 2 <= floor(k_e/2) = 2
        conditions += _check_half_pad(layer, axis, p, k)
        if cfg.kind == "avg" and cfg.rank == 3:
            # avg_pool3d (unlike 1-D/2-D) also needs the unpadded input to hold the kernel
            conditions += check_room(
                layer, axis, add(n, -k),
                rule="PyTorch's avg_pool3d needs the input (without padding) to be at least "
                     "the kernel",
                what=lambda: f"input {_t(n)} is smaller than the kernel {_t(k)} (PyTorch's "
                     "avg_pool3d checks the unpadded input)")
        room = F.conv_room(n, k=k, d=d, pad=pad)
        conditions += window_room(layer, axis, n, k=k, s=s, d=d, pad=pad,
                                  ceil_mode=cfg.ceil_mode, pad_name="2p",
                                  show_pad=lambda: f"2*{_t(p)}", room=room)
        if cfg.ceil_mode:
            size = F.torch_pool_ceil_out(n, k=k, s=s, d=d, p=p)
            size = _settle_min(size)
            steps.append(AxisStep(axis, "pool_ceil_torch", values, size))
        else:
            size = F.windows(room, s=s)  # F.conv_out from the room already made
            steps.append(AxisStep(axis, "pool_floor_torch", values, size))
        out.append(size)
    window = mul_sizes(*cfg.kernel)
    ops = mul_sizes(window, channels, *out)
    return Inference(join_channels(channels, out, cfg.channels_first), [], conditions, steps,
                     ops=ops)


def window_room(layer: Layer, axis: str, n: QExpr, *, k: QPoly, s: QPoly, d: QPoly,
                pad: QPoly, ceil_mode: bool, pad_name: str, show_pad: Callable[[], str],
                room: QExpr | None = None) -> list[Condition]:
    """The padded input must hold one window (PyTorch's and ONNX's pooling alike).

    Without ``ceil_mode``: ``n + P >= k_e`` (``k_e = d(k-1)+1``).  With it, a last window that
    overhangs the padded input is kept, so one output exists as soon as
    ``ceil((n + P - k_e)/s) >= 0``, i.e. ``n + P + s - 1 >= k_e``.  ``pad_name`` names the
    total padding in the rule (``2p``, ``P``); ``show_pad`` prints it in the message;
    ``room`` is :func:`convsym.formulas.conv_room` when the caller has made it already.
    """
    if room is None:
        room = F.conv_room(n, k=k, d=d, pad=pad)
    ke = F.effective_kernel(k, d)
    if ceil_mode:
        return check_room(
            layer, axis, add(room, s - QPoly.const(1)),
            rule=f"with ceil_mode, n + {pad_name} + s - 1 must be at least the effective "
                 "kernel d(k-1)+1",
            what=lambda: f"padded input {_t(n)} + {show_pad()} plus stride - 1 = "
                         f"{_t(s - QPoly.const(1))} is smaller than the effective kernel "
                         f"{_t(ke)}, so the output would be empty")
    return check_room(
        layer, axis, room,
        rule=f"the padded input n + {pad_name} must be at least the effective kernel d(k-1)+1",
        what=lambda: f"padded input {_t(n)} + {show_pad()} is smaller than the effective "
                     f"kernel {_t(ke)}, so the output would be empty")


def _check_half_pad(layer: Layer, axis: str, p: QPoly, k: QPoly) -> list[Condition]:
    """PyTorch: padding at most half the kernel size ``p <= floor(k/2)`` (not the dilated
    kernel: that is what ATen's pool shape checks test)."""
    pi, ki = p.as_int(), k.as_int()
    if pi is not None and ki is not None:  # integers (nearly every pool): no size algebra
        _half_pad_fits(layer, axis, pi, ki // 2, k)
        return []
    limit = div_floor(k, QPoly.const(2))
    room = add(limit, -p)
    pi, li = as_int(p), as_int(limit)
    if pi is not None and li is not None:
        _half_pad_fits(layer, axis, pi, li, k)
        return []
    return [Condition(room, "ge", "", axis, "padding must be at most half the kernel size")]


def _half_pad_fits(layer: Layer, axis: str, p: int, limit: int, k: QPoly) -> None:
    if p > limit:
        raise layer.config_error(f"padding (axis {axis})", p,
                                 f"must be at most half the kernel size, floor({_t(k)}/2) = "
                                 f"{limit}", code="pool_padding_too_large")


def _settle_min(size: QExpr) -> QExpr:
    """Drop the ceil_mode correction when the period check proves it never (or always) bites."""
    if not isinstance(size, Ext) or size.kind != "min" or len(size.args) != 2:
        return size
    a, b = size.args
    if isinstance(a, QPoly) and isinstance(b, QPoly):
        if decide_nonneg(b - a).holds:
            return a
        if decide_nonneg(a - b).holds:
            return b
    return size


def _t(e: QExpr) -> str:
    return str(to_sympy(e))
