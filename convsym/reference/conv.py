"""Direct N-D convolution (cross-correlation, as in every framework) from first principles.

The computation loops over kernel offsets, never over output pixels: for each offset the
inputs it meets form one strided slice of the padded input, and the slices stacked along a
new axis are multiplied by the flattened weights in a single matrix product per group.

Layout: ``x`` is ``(C_in, *n)`` (no batch axis), ``w`` is PyTorch's ``(C_out, C_in/g, *k)``.

>>> import numpy as np
>>> x = np.array([[1, 2, 3, 4]])
>>> w = np.array([[[1, 10]]])
>>> conv(x, w, stride=(1,), padding=((0, 0),), dilation=(1,)).tolist()
[[21, 32, 43]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convsym.errors import LayerConfigError, ShapeError
from convsym.reference.resize import Pairs, pad_with, per_axis, per_axis_pairs, spatial_rank

__all__ = ["conv", "depthwise_conv", "same_padding"]

Array = NDArray[Any]
_ALL = slice(None)


def offset_slices(
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    out: tuple[int, ...],
) -> list[tuple[slice, ...]]:
    """For each kernel offset (C order), the strided slice of the padded input it reads.

    Window ``j`` along an axis starts at ``j*s``; offset ``t`` reads ``j*s + t*d``.

    >>> offset_slices((2,), (3,), (1,), (2,))
    [(slice(None, None, None), slice(0, 4, 3)), (slice(None, None, None), slice(1, 5, 3))]
    """
    per_axis_slices = [
        [slice(t * d, t * d + (o - 1) * s + 1, s) for t in range(k)]
        for k, s, d, o in zip(kernel, stride, dilation, out, strict=True)
    ]
    return [(_ALL,) + combo for combo in itertools.product(*per_axis_slices)]


def out_size_floor(
    kind: str, n: tuple[int, ...], pads: Pairs, k_eff: tuple[int, ...], stride: tuple[int, ...]
) -> tuple[int, ...]:
    """``floor((n + P - k_e)/s) + 1`` per axis; ShapeError if the padded input is too small.

    >>> out_size_floor("reference conv", (5,), ((1, 1),), (3,), (2,))
    (3,)
    """
    out = []
    for axis, (size, (before, after), ke, s) in enumerate(zip(n, pads, k_eff, stride, strict=True)):
        padded = size + before + after
        if padded < ke:
            raise ShapeError(
                kind,
                f"axis {axis}",
                size,
                f"padded input {size} + {before + after} = {padded} is smaller than the "
                f"effective kernel {ke}, so the output would be 0",
                code="empty_output",
            )
        out.append((padded - ke) // s + 1)
    return tuple(out)


def add_bias(kind: str, out: Array, b: Array | None) -> Array:
    """Add a per-output-channel bias (shape ``(C_out,)``) to a channels-first array.

    >>> add_bias("reference conv", np.zeros((2, 1)), np.array([1.0, 2.0])).tolist()
    [[1.0], [2.0]]
    """
    if b is None:
        return out
    b = np.asarray(b)
    if b.shape != (out.shape[0],):
        raise ShapeError(
            kind, "b.shape", tuple(b.shape), f"must be ({out.shape[0]},)", code="bad_bias"
        )
    return out + b.reshape((-1,) + (1,) * (out.ndim - 1))


def check_groups(kind: str, groups: int, c_in: int, c_out: int) -> int:
    """Check that ``groups`` is a positive integer dividing both channel counts.

    >>> check_groups("reference conv", 2, 4, 6)
    2
    """
    (g,) = per_axis(kind, "groups", (groups,), 1, 1)
    if c_in % g or c_out % g:
        raise LayerConfigError(
            kind,
            "groups",
            g,
            f"must divide C_in = {c_in} and C_out = {c_out}",
            code="groups_not_dividing",
        )
    return g


def conv(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    stride: Sequence[int],
    padding: Pairs,
    dilation: Sequence[int],
    groups: int = 1,
) -> Array:
    """Zero-padded strided, dilated, grouped convolution; ``w`` is ``(C_out, C_in/g, *k)``.

    Output size per axis: ``floor((n + p_before + p_after - d(k-1) - 1)/s) + 1``.

    >>> x = np.arange(6.0).reshape(1, 6)
    >>> w = np.ones((1, 1, 2))
    >>> conv(x, w, stride=(2,), padding=((1, 0),), dilation=(1,)).tolist()
    [[0.0, 3.0, 7.0]]
    >>> conv(x, np.ones((1, 1, 4)), stride=(1,), padding=((0, 0),), dilation=(3,))
    Traceback (most recent call last):
    ...
    convsym.errors.ShapeError: reference conv: axis 0 = 6: padded input 6 + 0 = 6 is smaller \
than the effective kernel 10, so the output would be 0
    """
    kind = "reference conv"
    x, w = np.asarray(x), np.asarray(w)
    rank = spatial_rank(kind, x)
    if w.ndim != rank + 2:
        raise ShapeError(
            kind,
            "w.shape",
            tuple(w.shape),
            f"must be (C_out, C_in/groups, *k) with {rank} kernel axes",
            code="bad_weight",
        )
    c_in, c_out, kernel = x.shape[0], w.shape[0], tuple(w.shape[2:])
    g = check_groups(kind, groups, c_in, c_out)
    if w.shape[1] * g != c_in:
        raise ShapeError(
            kind,
            "w.shape",
            tuple(w.shape),
            f"axis 1 must be C_in/groups = {c_in}/{g}",
            code="bad_weight",
        )
    s = per_axis(kind, "stride", stride, rank, 1)
    d = per_axis(kind, "dilation", dilation, rank, 1)
    pads = per_axis_pairs(kind, "padding", padding, rank)
    k_eff = tuple(di * (k - 1) + 1 for di, k in zip(d, kernel, strict=True))
    out = out_size_floor(kind, tuple(x.shape[1:]), pads, k_eff, s)
    xp = pad_with(x, pads, 0)
    # cols[c, t, *o]: input channel c seen through kernel offset t at every output pixel.
    slices = offset_slices(kernel, s, d, out)
    cols = np.empty((c_in, len(slices)) + out, dtype=xp.dtype)
    for t, sl in enumerate(slices):
        cols[:, t] = xp[sl]
    cols = cols.reshape(g, (c_in // g) * len(slices), math.prod(out))
    wmat = w.reshape(g, c_out // g, -1)
    y = np.matmul(wmat, cols).reshape((c_out,) + out)
    return add_bias(kind, y, b)


def same_padding(n: int, k: int, s: int, d: int = 1, *, lower: bool = False) -> tuple[int, int]:
    """TF/Keras/ONNX "same" padding ``(before, after)`` of one axis, output ``ceil(n/s)``.

    ``P = max((ceil(n/s) - 1)*s + d(k-1) + 1 - n, 0)``; ``before = P // 2`` and the odd pixel
    goes at the end (SAME_UPPER), or at the start with ``lower=True`` (ONNX SAME_LOWER).

    >>> same_padding(6, 4, 2), same_padding(7, 4, 2), same_padding(6, 3, 2)
    ((1, 1), (1, 2), (0, 1))
    >>> same_padding(7, 4, 2, lower=True)
    (2, 1)
    """
    kind = "reference same_padding"
    n, k, s, d = per_axis(kind, "(n, k, s, d)", (n, k, s, d), 4, 1)
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def depthwise_conv(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    stride: Sequence[int],
    padding: Pairs,
    dilation: Sequence[int],
    depth_multiplier: int,
) -> Array:
    """Depthwise convolution: ``w`` is ``(C_in*m, 1, *k)``, output channel ``c*m + j`` reads ``c``.

    This is PyTorch's ``Conv(C, m*C, k, groups=C)`` layout.  A Keras ``DepthwiseConv2D``
    kernel of shape ``(k_h, k_w, C_in, m)`` maps to it with
    ``kernel.transpose(2, 3, 0, 1).reshape(C_in*m, 1, k_h, k_w)``.

    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> w = np.array([1.0, -1.0, 10.0, 0.0]).reshape(4, 1, 1)
    >>> depthwise_conv(x, w, stride=(1,), padding=((0, 0),), dilation=(1,),
    ...                depth_multiplier=2).tolist()
    [[1.0, 2.0], [-1.0, -2.0], [30.0, 40.0], [0.0, 0.0]]
    """
    kind = "reference depthwise_conv"
    x, w = np.asarray(x), np.asarray(w)
    spatial_rank(kind, x)
    (m,) = per_axis(kind, "depth_multiplier", (depth_multiplier,), 1, 1)
    c_in = x.shape[0]
    if w.ndim < 2 or w.shape[:2] != (c_in * m, 1):
        raise ShapeError(
            kind,
            "w.shape",
            tuple(w.shape),
            f"must be (C_in*m, 1, *k) = ({c_in * m}, 1, ...)",
            code="bad_weight",
        )
    return conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=c_in)
