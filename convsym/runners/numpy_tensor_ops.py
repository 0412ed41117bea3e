"""PyTorch's tensor operations, as the PyTorch importer records them, on NumPy arrays.

The NumPy reference keeps arrays without the batch axis, while the importer's operations
(``Permute``, ``Reshape``, ``Slice``, ... in :mod:`convsym.layers.torch_tensor`) count
their ``dim`` with it, as PyTorch does: each is applied to the array with a batch axis of 1
put back, then taken off again.

>>> import numpy as np
>>> from convsym.layers.torch_tensor import Permute, Slice
>>> x = np.zeros((3, 5, 7))
>>> apply_tensor_op(Permute((0, 2, 3, 1)), [x]).shape
(5, 7, 3)
>>> apply_tensor_op(Slice(2, 1, None, 2), [x]).shape
(3, 2, 7)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convsym.layers.base import Layer
from convsym.runners import Unsupported

_REDUCE: dict[str, Any] = {
    "mean": np.mean, "sum": np.sum, "amax": np.amax, "amin": np.amin, "max": np.amax,
    "min": np.amin, "prod": np.prod, "std": np.std, "var": np.var, "any": np.any, "all": np.all}
"""Reductions NumPy has under another name or the same one (``keepdims`` for ``keepdim``)."""


def apply_tensor_op(layer: Layer, args: Sequence[Any]) -> Any:
    """``layer`` (a tensor operation of an imported forward) on arrays without the batch."""
    kind = type(layer).__name__
    lay: Any = layer
    if kind == "MatMul":
        return np.matmul(*args)
    if kind == "Einsum":  # (with a batch axis of 1 put back on each operand)
        return np.einsum(lay.equation.replace(" ", ""), *[a[None] for a in args])[0]
    if kind == "InPlace":
        return _into(args[0], args[1])
    if kind == "ScaledDotProductAttention":  # the shapes of softmax(q k^T) v
        q, k, v = args
        scores = np.matmul(q[None], np.swapaxes(k[None], -1, -2))  # (with the batch)
        if lay.mask is not None:  # PyTorch adds it: it broadcasts into the scores
            scores = _into(scores, np.zeros(tuple(int(n) for n in lay.mask)))
        return np.matmul(scores, v[None])[0]
    if kind == "MultiheadAttention":  # the shapes: (L, E), or the weights (heads?, L, S)
        q, k, v = args
        e = lay.embed_dim
        if (q.shape[-1], k.shape[-1], v.shape[-1]) != (e, lay.kdim or e, lay.vdim or e) or \
                k.shape[0] != v.shape[0] or not q.ndim == k.ndim == v.ndim == 2:
            raise ValueError(f"attention on {q.shape}, {k.shape}, {v.shape}")
        keys = k.shape[0] + int(lay.add_bias_kv) + int(lay.add_zero_attn)
        if lay.output == "out":
            return np.zeros((q.shape[0], lay.embed_dim))
        heads = (lay.num_heads,) if lay.output == "weights_per_head" else ()
        return np.zeros((*heads, q.shape[0], keys))
    if kind == "Stack":
        return np.stack(list(args), axis=_axis(lay.dim, args[0].ndim + 2) - 1)
    (x,) = args
    xb = x[None]
    if kind == "Permute":
        return np.transpose(xb, [_axis(d, xb.ndim) for d in lay.dims])[0]
    if kind == "Reshape":
        shape = lay.shape if isinstance(lay.shape, (list, tuple)) else (lay.shape,)
        return x.reshape(tuple(int(v) for v in shape))
    if kind == "Slice":
        cut = slice(*(None if v is None else int(v) for v in (lay.start, lay.stop, lay.step)))
        return xb[(slice(None),) * _axis(lay.dim, xb.ndim) + (cut,)][0]
    if kind == "Require":  # a condition on sizes: the array passes unchanged
        return x
    if kind == "BatchExpanded":  # (the input gives the batch size only)
        return np.ones(tuple(int(v) for v in lay.shape))
    if kind == "MatMulFixed":
        w = np.ones(tuple(int(v) for v in lay.operand_shape))
        return np.matmul(w, x) if lay.left else np.matmul(x, w)
    if kind == "Gather":
        axis = _axis(lay.dim, xb.ndim)
        n = xb.shape[axis]
        if not -n <= int(lay.lowest) <= int(lay.highest) < n:
            raise ValueError(f"indices {lay.lowest}..{lay.highest} of an axis of {n}")
        return np.take(xb, np.arange(int(lay.count)) % n, axis=axis)[0]
    if kind == "Repeat":
        return np.tile(x, tuple(int(v) for v in lay.counts))
    if kind == "PadAxes":  # (before, after) from the last axis back; negative crops
        pads = [int(v) for v in lay.pads]
        for j in range(len(pads) // 2):
            axis, before, after = x.ndim - 1 - j, pads[2 * j], pads[2 * j + 1]
            widths = [(0, 0)] * x.ndim
            widths[axis] = (max(before, 0), max(after, 0))
            x = np.pad(x, widths)
            cut = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
            x = x[(slice(None),) * axis + (cut,)]
        return x
    if kind == "Narrow":  # (no clamping: past the end is an error, as in PyTorch)
        n = xb.shape[_axis(lay.dim, xb.ndim)]
        start, length = int(lay.start), int(lay.length)
        start += n if start < 0 else 0
        if not 0 <= start <= start + length <= n:
            raise ValueError(f"narrow({start}, {length}) of an axis of {n}")
        cut = slice(start, start + length)
        return xb[(slice(None),) * _axis(lay.dim, xb.ndim) + (cut,)][0]
    if kind == "Select":
        return np.take(xb, int(lay.index), axis=_axis(lay.dim, xb.ndim))[0]
    if kind == "Unsqueeze":
        return np.expand_dims(xb, _axis(lay.dim, xb.ndim + 1))[0]
    if kind == "Expand":
        target = [int(v) for v in lay.shape]
        for back in range(1, min(len(target), x.ndim) + 1):
            if target[-back] == -1:
                target[-back] = x.shape[-back]
        return np.broadcast_to(x, tuple(target))
    if kind == "Reduce" and lay.op in _REDUCE:
        dims = lay.dim if isinstance(lay.dim, (list, tuple)) else (lay.dim,)
        axes = tuple(_axis(d, xb.ndim) for d in dims)
        return _REDUCE[lay.op](xb, axis=axes, keepdims=bool(lay.keepdim))[0]
    if kind == "TensorOperand":
        operand = np.ones(tuple(int(v) for v in lay.operand_shape))
        return _into(xb, operand)[0] if lay.inplace else (xb * operand)[0]
    raise Unsupported(f"the NumPy reference does not model the tensor operation {kind}"
                      + (f" ({lay.op})" if kind == "Reduce" else ""))


def _into(target: Any, operand: Any) -> Any:
    """``target += operand`` as PyTorch does it in place: the result keeps ``target``'s
    shape, and an operand that would grow it is an error."""
    if np.broadcast_shapes(target.shape, operand.shape) != target.shape:
        raise ValueError(f"an in-place result of shape {target.shape} cannot take the "
                         f"broadcast with {operand.shape}")
    return target + operand


def _axis(dim: Any, rank: int) -> int:
    """A PyTorch ``dim`` (batch axis included, negative from the end) as a NumPy axis."""
    d = int(dim)
    return d + rank if d < 0 else d


__all__ = ["apply_tensor_op"]
