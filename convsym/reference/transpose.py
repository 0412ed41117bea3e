"""Transposed convolution (PyTorch semantics) as an explicit scatter-add.

Each input pixel adds a copy of the kernel, scaled by its value, to the output at stride
``s``; the full result has ``(n-1)s + d(k-1) + 1`` cells per axis.  Then ``p_before`` cells
are cropped at the start and ``p_after`` at the end, and ``output_padding`` extends the end
(with cells of the full result if cropping left some, else with zeros).  Output size:
``(n-1)s - (p_before + p_after) + d(k-1) + op + 1``.  It is the adjoint of :func:`conv` with
the same weight array and ``op = (n + P - k_e) mod s``.

The loop runs over kernel offsets: one matrix product gives every offset's contribution,
then each offset is added into one strided slice of the output.

>>> import numpy as np
>>> x = np.array([[1, 2]])
>>> w = np.array([[[1, 10, 100]]])
>>> conv_transpose(x, w, stride=(2,), padding=((0, 0),), output_padding=(0,),
...                dilation=(1,)).tolist()
[[1, 10, 102, 20, 200]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convsym.errors import ShapeError
from convsym.reference.conv import add_bias, check_groups, offset_slices
from convsym.reference.resize import Pairs, per_axis, per_axis_pairs, spatial_rank

__all__ = ["conv_transpose"]

Array = NDArray[Any]


def conv_transpose(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    stride: Sequence[int],
    padding: Pairs,
    output_padding: Sequence[int],
    dilation: Sequence[int],
    groups: int = 1,
) -> Array:
    """Transposed convolution; ``w`` is PyTorch's ``(C_in, C_out/g, *k)``.

    PyTorch accepts only ``output_padding < max(s, d)``; the reference computes any
    ``output_padding >= 0``, so tests can probe the rule.

    >>> x = np.ones((1, 5))
    >>> w = np.ones((1, 1, 3))
    >>> conv_transpose(x, w, stride=(1,), padding=((0, 0),), output_padding=(1,),
    ...                dilation=(2,)).tolist()
    [[1.0, 1.0, 2.0, 2.0, 3.0, 2.0, 2.0, 1.0, 1.0, 0.0]]
    >>> conv_transpose(np.ones((1, 1)), w, stride=(1,), padding=((2, 1),),
    ...                output_padding=(0,), dilation=(1,))
    Traceback (most recent call last):
    ...
    convsym.errors.ShapeError: reference conv_transpose: axis 0 = 1: (1-1)*1 - (2 + 1) + \
1*(3-1) + 0 + 1 = 0, so the output would be empty
    """
    kind = "reference conv_transpose"
    x, w = np.asarray(x), np.asarray(w)
    rank = spatial_rank(kind, x)
    if w.ndim != rank + 2:
        raise ShapeError(
            kind,
            "w.shape",
            tuple(w.shape),
            f"must be (C_in, C_out/groups, *k) with {rank} kernel axes",
            code="bad_weight",
        )
    c_in, kernel = x.shape[0], tuple(w.shape[2:])
    if w.shape[0] != c_in:
        raise ShapeError(
            kind, "w.shape", tuple(w.shape), f"axis 0 must be C_in = {c_in}", code="bad_weight"
        )
    (g,) = per_axis(kind, "groups", (groups,), 1, 1)
    c_out = w.shape[1] * g
    check_groups(kind, g, c_in, c_out)
    s = per_axis(kind, "stride", stride, rank, 1)
    d = per_axis(kind, "dilation", dilation, rank, 1)
    op = per_axis(kind, "output_padding", output_padding, rank, 0)
    pads = per_axis_pairs(kind, "padding", padding, rank)
    n = tuple(x.shape[1:])

    full, out = [], []
    for axis in range(rank):
        (before, after), k_e = pads[axis], d[axis] * (kernel[axis] - 1) + 1
        f = (n[axis] - 1) * s[axis] + k_e
        o = f - before - after + op[axis]
        if o <= 0:
            raise ShapeError(
                kind,
                f"axis {axis}",
                n[axis],
                f"({n[axis]}-1)*{s[axis]} - ({before} + {after}) + "
                f"{d[axis]}*({kernel[axis]}-1) + {op[axis]} + 1 = {o}, "
                "so the output would be empty",
                code="empty_output",
            )
        full.append(f)
        out.append(o)

    # contrib[c_out, t, *n]: what kernel offset t sends from every input pixel.
    cg_in, cg_out = c_in // g, c_out // g
    size = math.prod(n)
    wt = w.reshape(g, cg_in, cg_out * math.prod(kernel)).transpose(0, 2, 1)
    contrib = np.matmul(wt, x.reshape(g, cg_in, size))
    contrib = contrib.reshape((c_out, -1) + n)

    # The buffer holds the full scatter plus any output_padding cells past its end.
    extent = tuple(max(f, before + o) for f, (before, _), o in zip(full, pads, out, strict=True))
    y = np.zeros((c_out,) + extent, dtype=contrib.dtype)
    # Offset t of the kernel lands input pixel j at j*s + t*d: a strided slice of length n.
    for t, region in enumerate(offset_slices(kernel, s, d, n)):
        y[region] += contrib[:, t]
    keep = (slice(None),) + tuple(
        slice(before, before + o) for (before, _), o in zip(pads, out, strict=True)
    )
    return add_bias(kind, y[keep], b)
