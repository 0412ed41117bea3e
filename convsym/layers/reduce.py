"""Cores of global and adaptive pooling.

Global pooling (Keras ``Global{Average,Max}Pooling*D``) reduces every spatial axis: the
output is ``(C,)``, or keeps size-1 axes with ``keepdims=True``.  Adaptive pooling (PyTorch
``Adaptive{Avg,Max}Pool*d``, Keras 3 ``Adaptive{Average,Max}Pooling*D``) outputs the requested
size ``o`` for any input ``n >= 1`` (bin ``i`` spans ``[floor(i n/o), ceil((i+1) n/o))``);
``None`` keeps the input size.  Cost convention: one operation per input element read.

>>> from convsym.layers.torch import AdaptiveAvgPool2d
>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> H = QPoly.sym(symbol("H"))
>>> out = AdaptiveAvgPool2d((None, 7)).infer([(QPoly.const(512), H, H)])
>>> [to_sympy(s) for s in out.shape]
[512, H, 7]
"""

from __future__ import annotations

from collections.abc import Sequence

from convsym.intdiv import QExpr, QPoly
from convsym.layers.base import AxisStep, Inference, Layer, Shape
from convsym.layers.conv import AXIS_NAMES, join_channels, split_channels
from convsym.sizes import mul_sizes


def infer_global_pool(layer: Layer, shape: Shape, rank: int, channels_first: bool,
                      keepdims: bool) -> Inference:
    """Reduce all ``rank`` spatial axes."""
    channels, spatial = split_channels(layer, shape, rank, channels_first)
    names = AXIS_NAMES[rank]
    one = QPoly.const(1)
    steps = [AxisStep(axis, "global_pool", {"n": n}, one) for axis, n in zip(names, spatial)]
    out: Shape = join_channels(channels, [one] * rank, channels_first) if keepdims \
        else (channels,)
    return Inference(out, [], [], steps, ops=mul_sizes(*shape))


def infer_adaptive_pool(layer: Layer, shape: Shape, sizes: Sequence[QPoly | None],
                        channels_first: bool) -> Inference:
    """Pool to the requested output sizes (``None`` keeps an axis)."""
    channels, spatial = split_channels(layer, shape, len(sizes), channels_first)
    names = AXIS_NAMES[len(sizes)]
    out: list[QExpr] = []
    steps: list[AxisStep] = []
    for axis, n, o in zip(names, spatial, sizes):
        size: QExpr = n if o is None else o
        steps.append(AxisStep(axis, "adaptive_pool", {"n": n, "o": size}, size))
        out.append(size)
    return Inference(join_channels(channels, out, channels_first), [], [], steps,
                     ops=mul_sizes(*shape))
