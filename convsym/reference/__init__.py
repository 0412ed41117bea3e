"""A NumPy reference for convolution, pooling and resizing, used to verify closed forms.

Everything here computes real numbers from first principles (explicit windows, loops over
kernel offsets with strided slicing), so that a derived output size can be checked against
the shape of an actual result.  Only tests and ``verify`` import this package; importing
:mod:`convsym` never loads NumPy.

Layout: channels-first without a batch axis, ``x.shape == (C, *spatial)`` with 1, 2 or 3
spatial axes.  Per-axis arguments are sequences with one entry per spatial axis; paddings and
croppings are ``(before, after)`` pairs.  Weights use PyTorch's layouts.  :func:`windows_many`
computes thousands of convolutions or poolings, each with its own sizes, in a few vectorised
passes (what checking many closed-form sizes per second needs).

>>> import numpy as np
>>> from convsym import reference
>>> x = np.zeros((3, 32, 32))
>>> w = np.zeros((10, 3, 4, 4))
>>> pads = tuple(reference.same_padding(32, 4, 2) for _ in range(2))
>>> reference.conv(x, w, stride=(2, 2), padding=pads, dilation=(1, 1)).shape
(10, 16, 16)
"""

from __future__ import annotations

from convsym.reference.conv import conv, depthwise_conv, same_padding
from convsym.reference.many import windows_many
from convsym.reference.pool import adaptive_avg_pool, adaptive_max_pool, global_pool, pool
from convsym.reference.resize import crop, upsample_nearest, zero_pad
from convsym.reference.transpose import conv_transpose

__all__ = [
    "adaptive_avg_pool",
    "adaptive_max_pool",
    "conv",
    "conv_transpose",
    "crop",
    "depthwise_conv",
    "global_pool",
    "pool",
    "same_padding",
    "upsample_nearest",
    "windows_many",
    "zero_pad",
]
