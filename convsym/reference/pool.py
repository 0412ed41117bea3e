"""Max and average pooling (windowed, global and adaptive), computed from first principles.

Windowed pooling loops over kernel offsets and reduces strided slices, as :func:`conv` does.
Output size per axis, with ``P = p_before + p_after`` and ``k_e = d(k-1) + 1``:

* floor mode: ``floor((n + P - k_e)/s) + 1``; every window fits in the padded input;
* ceil mode (PyTorch, ONNX): ``o = ceil((n + P - k_e)/s) + 1``, admitting a last partial
  window, then ``o -= 1`` if ``(o-1)*s >= n + p_before``: a window may not start in the right
  padding (pytorch issue 57178; the documented formula alone is wrong).

>>> import numpy as np
>>> x = np.arange(4.0).reshape(1, 4)
>>> pool(x, "max", kernel=(2,), stride=(3,), padding=((1, 1),), ceil_mode=True).tolist()
[[0.0, 3.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convsym.errors import LayerConfigError, ShapeError
from convsym.reference.conv import offset_slices, out_size_floor
from convsym.reference.resize import Pairs, pad_with, per_axis, per_axis_pairs, spatial_rank

__all__ = ["adaptive_avg_pool", "adaptive_max_pool", "global_pool", "pool"]

Array = NDArray[Any]
KINDS = ("max", "avg")


def _check_kind(where: str, kind: str) -> None:
    if kind not in KINDS:
        raise LayerConfigError(
            where, "kind", repr(kind), "must be 'max' or 'avg'", code="bad_pool_kind"
        )


def _lowest(dtype: np.dtype[Any]) -> object:
    """The value max pooling pads with: ``-inf``, or the smallest integer for integer arrays."""
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    return -np.inf


def out_size_ceil(
    where: str, n: tuple[int, ...], pads: Pairs, k_eff: tuple[int, ...], stride: tuple[int, ...]
) -> tuple[int, ...]:
    """Ceil-mode output sizes with the PyTorch/ONNX correction for windows starting too late.

    >>> out_size_ceil("reference pool", (4, 32), ((1, 1), (0, 0)), (2, 1), (3, 2))
    (2, 16)
    """
    out = []
    for axis, (size, (before, after), ke, s) in enumerate(zip(n, pads, k_eff, stride, strict=True)):
        o = -(-(size + before + after - ke) // s) + 1
        if (o - 1) * s >= size + before:
            o -= 1
        if o <= 0:
            raise ShapeError(
                where,
                f"axis {axis}",
                size,
                f"padded input {size} + {before + after} = {size + before + after} leaves no "
                f"window of effective size {ke} starting inside the input, so the output "
                f"would be {max(o, 0)}",
                code="empty_output",
            )
        out.append(o)
    return tuple(out)


def _counts(
    n: int, before: int, after: int, k: int, s: int, d: int, o: int, include_pad: bool
) -> Array:
    """Per-window cell counts along one axis: padding cells count only if ``include_pad``."""
    lo, hi = (0, n + before + after) if include_pad else (before, before + n)
    pos = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d
    counts: Array = np.count_nonzero((pos >= lo) & (pos < hi), axis=1)
    return counts


def pool(
    x: Array,
    kind: str,
    *,
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Pairs,
    dilation: Sequence[int] | None = None,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    pad_value: float | None = None,
) -> Array:
    """Max (``kind="max"``) or average (``kind="avg"``) pooling over windows of ``kernel``.

    Max pooling pads with ``-inf`` (the smallest integer for integer arrays), so padding never
    wins; average pooling pads with ``0``; ``pad_value`` overrides that fill.  Average pooling
    divides by the cells of the window inside the padded input (``count_include_pad``, as
    PyTorch's default) or inside the real input only.  Cells past the right padding, which
    only ceil mode reaches, never count: they hold ``-inf`` or ``0`` whatever ``pad_value``.

    >>> x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    >>> pool(x, "avg", kernel=(2,), stride=(2,), padding=((1, 0),)).tolist()
    [[0.5, 2.5, 4.5]]
    >>> pool(x, "avg", kernel=(2,), stride=(2,), padding=((1, 0),),
    ...      count_include_pad=False).tolist()
    [[1.0, 2.5, 4.5]]
    >>> pool(x, "max", kernel=(2,), stride=(2,), padding=((0, 0),), ceil_mode=True).tolist()
    [[2.0, 4.0, 5.0]]
    >>> pool(-x, "max", kernel=(2,), stride=(2,), padding=((0, 0),), ceil_mode=True,
    ...      pad_value=0.0).tolist()
    [[-1.0, -3.0, -5.0]]
    """
    where = "reference pool"
    _check_kind(where, kind)
    x = np.asarray(x)
    rank = spatial_rank(where, x)
    k = per_axis(where, "kernel", kernel, rank, 1)
    s = per_axis(where, "stride", stride, rank, 1)
    d = (1,) * rank if dilation is None else per_axis(where, "dilation", dilation, rank, 1)
    pads = per_axis_pairs(where, "padding", padding, rank)
    n = tuple(x.shape[1:])
    k_eff = tuple(di * (ki - 1) + 1 for di, ki in zip(d, k, strict=True))
    if ceil_mode:
        out = out_size_ceil(where, n, pads, k_eff, s)
    else:
        out = out_size_floor(where, n, pads, k_eff, s)
    # Ceil mode's last window may overhang the right padding.  The overhang cells are not
    # part of the input or its padding: fill them with the reduction's neutral value (-inf
    # for max, 0 for sums) and leave them out of every average's divisor.
    overhang = tuple(
        (0, max(0, (o - 1) * si + ke - (ni + b + a)))
        for (b, a), o, si, ke, ni in zip(pads, out, s, k_eff, n, strict=True)
    )
    if kind == "avg" and not np.issubdtype(x.dtype, np.inexact):
        x = x.astype(np.float64)
    neutral = _lowest(x.dtype) if kind == "max" else 0
    xp = pad_with(x, pads, neutral if pad_value is None else pad_value)
    xp = pad_with(xp, overhang, neutral)
    first, *rest = offset_slices(k, s, d, out)
    acc = xp[first].copy()
    if kind == "max":
        for sl in rest:
            np.maximum(acc, xp[sl], out=acc)
        return acc
    for sl in rest:
        acc += xp[sl]
    divisor: Array | int = 1
    for axis in range(rank):
        before, after = pads[axis]
        if not overhang[axis][1] and (count_include_pad or before == after == 0):
            divisor = divisor * k[axis]  # every window holds k cells, all of them counted
            continue
        counts = _counts(
            n[axis], before, after, k[axis], s[axis], d[axis], out[axis], count_include_pad
        )
        divisor = divisor * counts.reshape((-1,) + (1,) * (rank - 1 - axis))
    if isinstance(divisor, int):
        result: Array = acc / divisor
        return result
    with np.errstate(divide="ignore", invalid="ignore"):
        # A window of padding only (impossible when p <= k/2) averages to nan, as 0/0.
        result = acc / divisor
    return result


def global_pool(x: Array, kind: str, *, keepdims: bool = False) -> Array:
    """Max or average over all spatial axes: ``(C, *n) -> (C,)``, or ``(C, 1, ...)`` if kept.

    ``(C,)`` is Keras' ``GlobalAveragePooling`` output; PyTorch's ``AdaptiveAvgPool(1)``
    keeps the axes (``keepdims=True``).

    >>> global_pool(np.arange(8.0).reshape(2, 2, 2), "avg").tolist()
    [1.5, 5.5]
    >>> global_pool(np.arange(8.0).reshape(2, 2, 2), "max", keepdims=True).shape
    (2, 1, 1)
    """
    where = "reference global_pool"
    _check_kind(where, kind)
    x = np.asarray(x)
    axes = tuple(range(1, spatial_rank(where, x) + 1))
    reduce = np.max if kind == "max" else np.mean
    result: Array = np.asarray(reduce(x, axis=axes, keepdims=keepdims))
    return result


def _adaptive(where: str, kind: str, x: Array, output_size: Sequence[int]) -> Array:
    x = np.asarray(x)
    rank = spatial_rank(where, x)
    outs = per_axis(where, "output_size", output_size, rank, 1)
    if kind == "avg" and not np.issubdtype(x.dtype, np.inexact):
        x = x.astype(np.float64)
    # Bins are boxes, so pooling one axis at a time gives the box max or mean.
    for axis, o in enumerate(outs, start=1):
        n = x.shape[axis]
        i = np.arange(o)
        start, end = (i * n) // o, -((-(i + 1) * n) // o)
        width = end - start
        moved = np.moveaxis(x, axis, -1)
        acc = moved[..., start].copy()
        for t in range(1, int(width.max())):
            # Offset t of each bin, clamped to the bin's last cell (a repeat changes no max)
            # and masked out of the sum where the bin is shorter.
            cells = moved[..., np.minimum(start + t, end - 1)]
            if kind == "max":
                np.maximum(acc, cells, out=acc)
            else:
                acc += np.where(t < width, cells, 0)
        if kind == "avg":
            acc = acc / width
        x = np.moveaxis(acc, -1, axis)
    return x


def adaptive_avg_pool(x: Array, output_size: Sequence[int]) -> Array:
    """PyTorch adaptive average pooling: bin ``i`` spans ``[floor(i*n/o), ceil((i+1)*n/o))``.

    >>> adaptive_avg_pool(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), (3,)).tolist()
    [[1.5, 3.0, 4.5]]
    """
    return _adaptive("reference adaptive_avg_pool", "avg", x, output_size)


def adaptive_max_pool(x: Array, output_size: Sequence[int]) -> Array:
    """PyTorch adaptive max pooling over the same bins as :func:`adaptive_avg_pool`.

    >>> adaptive_max_pool(np.array([[1.0, 5.0, 3.0, 4.0, 2.0]]), (3,)).tolist()
    [[5.0, 5.0, 4.0]]
    """
    return _adaptive("reference adaptive_max_pool", "max", x, output_size)
