"""The NumPy reference runner: every layer computed from first principles on random data.

Convolutions, transposed convolutions, pooling, padding, cropping and upsampling go through
:mod:`convsym.reference`, which computes real numbers with explicit windows; the padding each
convention implies ("same" in Keras/TF, PyTorch's ``padding='same'``, Keras 'causal') is
derived here from the convention's definition, so the output size is *measured*, not copied
from :mod:`convsym.formulas`.  Layouts follow the layer (Keras channels_last unless
``data_format='channels_first'``; PyTorch channels_first).

>>> from convsym import Sequential
>>> from convsym.layers.keras import Input, Conv1D
>>> net = Sequential([Input((7, 2)), Conv1D(3, 4, strides=2, padding="same")])
>>> NumpyRunner().run(net)[1]
(4, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from convsym import reference
from convsym.errors import ConvsymError
from convsym.layers.base import Layer
from convsym.layers.torch_tensor import TENSOR_OPS
from convsym.runners import Runner, Unsupported, ints
from convsym.runners.numpy_tensor_ops import apply_tensor_op

PASS_THROUGH = frozenset({
    "Activation", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "Identity",
})
_MERGE = {"Add", "Subtract", "Multiply", "Divide", "Average", "Maximum", "Minimum"}
_PAD_MODES = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect",
              "Replication": "edge", "Circular": "wrap"}


def _cf(layer: Layer) -> bool:
    fn = getattr(layer, "channels_first", None)
    return True if layer.dialect == "torch" else bool(fn()) if callable(fn) else False


def _to_cf(x: Any, cf: bool) -> Any:
    return x if cf else np.moveaxis(x, -1, 0)


def _from_cf(y: Any, cf: bool) -> Any:
    return y if cf else np.moveaxis(y, 0, -1)


class NumpyRunner(Runner):
    """Apply each layer with :mod:`convsym.reference` (float32, no batch axis)."""

    name = "reference"
    errors = (ConvsymError, ValueError)

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def make_input(self, shape: tuple[int, ...], layer: Layer) -> Any:
        """Uniform random float32 data."""
        return self.rng.random(shape, dtype=np.float32)

    def shape_of(self, value: Any) -> tuple[int, ...]:
        """The array's shape (there is no batch axis here)."""
        return tuple(int(s) for s in value.shape)

    def apply(self, layer: Layer, args: Sequence[Any], dialect: str) -> Any:
        """Dispatch on the layer's kind."""
        name = layer.type_name
        if name in _MERGE:
            return _broadcast(args)
        if dialect == "torch" and type(layer).__name__ in TENSOR_OPS:
            return apply_tensor_op(layer, args)  # an imported forward's x.permute, x @ y ...
        if name in ("Concatenate", "Concat"):
            axis = getattr(layer, "axis", getattr(layer, "dim", -1))
            return np.concatenate(list(args), axis=axis - 1 if axis > 0 else axis)
        (x,) = args
        cfg = getattr(layer, "config", None)
        kind = type(cfg).__name__
        if kind == "ConvConfig":
            return self.conv(layer, x, cfg)
        if kind == "TransposeConfig":
            return self.transpose(layer, x, cfg)
        if kind == "PoolConfig":
            return self.pool(layer, x, cfg)
        if name in PASS_THROUGH or getattr(layer, "cost_kind", "") in ("activation", "norm"):
            return x
        handler = getattr(self, "_" + _stem(name), None)
        if handler is None:
            raise Unsupported(f"the NumPy reference does not model {name}")
        return handler(layer, x)

    # --- windows ------------------------------------------------------------------------------
    def conv(self, layer: Layer, x: Any, cfg: Any) -> Any:
        cf = _cf(layer)
        xc = _to_cf(x, cf)
        k, s, d = ints(cfg.kernel), ints(cfg.strides), ints(cfg.dilation)
        pads = _conv_pads(cfg, xc.shape[1:], k, s, d)
        c_in = xc.shape[0]
        multiplier = getattr(layer, "multiplier", None)
        if multiplier is not None:  # Keras depthwise / separable
            m = ints([multiplier])[0]
            w = _weights((c_in * m, 1, *k))
            y = reference.depthwise_conv(xc, w, stride=s, padding=pads, dilation=d,
                                         depth_multiplier=m)
            if hasattr(layer, "filters"):
                filters = ints([cfg.filters])[0]
                point = _weights((filters, c_in * m) + (1,) * len(k))
                y = reference.conv(y, point, stride=(1,) * len(k), padding=((0, 0),) * len(k),
                                   dilation=(1,) * len(k))
            return _from_cf(y, cf)
        g = ints([cfg.groups])[0]
        filters = ints([cfg.filters])[0]
        if c_in % g:
            raise ValueError(f"groups {g} does not divide the {c_in} input channels")
        w = _weights((filters, c_in // g, *k))
        y = reference.conv(xc, w, stride=s, padding=pads, dilation=d, groups=g)
        return _from_cf(y, cf)

    def transpose(self, layer: Layer, x: Any, cfg: Any) -> Any:
        cf = _cf(layer)
        xc = _to_cf(x, cf)
        k, s, d = ints(cfg.kernel), ints(cfg.strides), ints(cfg.dilation)
        given = None if cfg.output_padding is None else ints(cfg.output_padding)
        pads, ops = [], []
        for i, (ki, si, di) in enumerate(zip(k, s, d)):
            ke = di * (ki - 1) + 1
            if cfg.mode == "torch":
                p = ints([cfg.pads[i]])[0]
                pads.append((p, p))
                wanted = getattr(cfg, "output_size", None)
                if wanted is not None:  # forward(x, output_size=...): op = size - smallest
                    n = xc.shape[1 + i]
                    ops.append(ints([wanted[i]])[0] - ((n - 1) * si - 2 * p + ke))
                else:
                    ops.append(given[i] if given else 0)
            elif cfg.mode == "keras_valid":  # no cropping; default op = max(k_e, s) - k_e
                pads.append((0, 0))
                ops.append(given[i] if given is not None else max(ke, si) - ke)
            else:  # keras 'same': crop k_e // 2 on both sides; default output n * s
                half = ke // 2
                pads.append((half, half))
                n = xc.shape[1 + i]
                ops.append(given[i] if given is not None else
                           n * si - ((n - 1) * si + ke - 2 * half))
        g = ints([cfg.groups])[0]
        filters = ints([cfg.filters])[0]
        c_in = xc.shape[0]
        if c_in % g or filters % g:
            raise ValueError(f"groups {g} must divide {c_in} and {filters} channels")
        w = _weights((c_in, filters // g, *k))
        y = reference.conv_transpose(xc, w, stride=s, padding=tuple(pads), output_padding=ops,
                                     dilation=d, groups=g)
        return _from_cf(y, cf)

    def pool(self, layer: Layer, x: Any, cfg: Any) -> Any:
        cf = _cf(layer)
        xc = _to_cf(x, cf)
        k, s = ints(cfg.kernel), ints(cfg.strides)
        if cfg.mode == "torch":
            p = ints(cfg.padding)
            return _from_cf(reference.pool(xc, cfg.kind, kernel=k, stride=s,
                                           padding=tuple((v, v) for v in p),
                                           dilation=ints(cfg.dilation),
                                           ceil_mode=cfg.ceil_mode), cf)
        if cfg.mode == "keras_same":
            pads = tuple(reference.same_padding(n, ki, si) for n, ki, si in
                         zip(xc.shape[1:], k, s))
        else:
            pads = ((0, 0),) * len(k)
        return _from_cf(reference.pool(xc, cfg.kind, kernel=k, stride=s, padding=pads), cf)

    # --- everything else, by class-name stem ------------------------------------------------
    def _dense(self, layer: Any, x: Any) -> Any:
        units = ints([getattr(layer, "units", getattr(layer, "out_features", None))])[0]
        return x @ _weights((units, x.shape[-1])).T

    _linear = _dense

    def _flatten(self, layer: Any, x: Any) -> Any:
        if layer.dialect == "keras":
            return x.reshape(-1)
        rank = x.ndim + 1  # torch dims count the batch axis
        start, end = layer.start_dim % rank, layer.end_dim % rank
        if not 1 <= start <= end:
            raise ValueError(f"flatten dims {layer.start_dim}..{layer.end_dim} do not fit")
        shape = x.shape
        return x.reshape(shape[:start - 1] + (-1,) + shape[end:])

    def _pad(self, layer: Any, x: Any) -> Any:
        cf = _cf(layer)
        xc = _to_cf(x, cf)
        raw = layer.pairs() if callable(layer.pairs) else layer.pairs
        pairs = [(int(a), int(b)) for a, b in (ints(p) for p in raw)]
        if getattr(layer, "crop", False):
            return _from_cf(reference.crop(xc, tuple(pairs)), cf)
        mode = next((m for prefix, m in _PAD_MODES.items()
                     if layer.type_name.startswith(prefix)), "constant")
        return _from_cf(_pad(xc, pairs, mode), cf)

    def _upsample(self, layer: Any, x: Any) -> Any:
        cf = _cf(layer)
        xc = _to_cf(x, cf)
        rank = xc.ndim - 1
        size = getattr(layer, "size", None)
        if layer.dialect == "torch" and size is not None:
            sizes = size if isinstance(size, (list, tuple)) else (size,) * rank
            return _from_cf(_resize_nearest(xc, ints(sizes)), cf)
        factor = getattr(layer, "scale_factor", size) if layer.dialect == "torch" else size
        factors = factor if isinstance(factor, (list, tuple)) else (factor,) * rank
        return _from_cf(reference.upsample_nearest(xc, [int(f) for f in factors]), cf)

    def _global(self, layer: Any, x: Any) -> Any:
        cf = _cf(layer)
        kind = "max" if "Max" in layer.type_name else "avg"
        y = reference.global_pool(_to_cf(x, cf), kind, keepdims=bool(layer.keepdims))
        return _from_cf(y, cf) if layer.keepdims else y

    def _adaptive(self, layer: Any, x: Any) -> Any:
        cf = _cf(layer)
        xc = _to_cf(x, cf)
        rank = xc.ndim - 1
        size = layer.output_size
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * rank
        sizes = [xc.shape[1 + i] if v is None else v for i, v in enumerate(sizes)]
        fn = reference.adaptive_max_pool if "Max" in layer.type_name else \
            reference.adaptive_avg_pool
        return _from_cf(fn(xc, ints(sizes)), cf)

    def _reshape(self, layer: Any, x: Any) -> Any:
        return x.reshape(tuple(int(v) for v in layer.target_shape))

    def _permute(self, layer: Any, x: Any) -> Any:
        return np.transpose(x, [int(d) - 1 for d in layer.dims])

    def _unflatten(self, layer: Any, x: Any) -> Any:
        dim = layer.dim - 1 if layer.dim > 0 else layer.dim
        dim %= x.ndim
        sizes = tuple(int(v) for v in layer.unflattened_size)
        return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1:])

    def _view(self, layer: Any, x: Any) -> Any:
        features = int(layer.features)
        y = x.reshape(-1, features)  # with the batch axis of one sample
        if y.shape[0] != 1:
            raise ValueError(f"view(-1, {features}) turns one sample into {y.shape[0]} rows")
        return y[0]


def _stem(name: str) -> str:
    """The handler for a class name: ``ZeroPadding2D`` -> ``pad``, ``Dense`` -> ``dense``."""
    for prefix, stem in (("ZeroPadding", "pad"), ("Cropping", "pad"), ("ZeroPad", "pad"),
                         ("ConstantPad", "pad"), ("ReflectionPad", "pad"),
                         ("ReplicationPad", "pad"), ("CircularPad", "pad"),
                         ("UpSampling", "upsample"), ("Upsampl", "upsample"),
                         ("Global", "global"), ("Adaptive", "adaptive")):
        if name.startswith(prefix):
            return stem
    return name.lower()


def _conv_pads(cfg: Any, sizes: Sequence[int], k: Sequence[int], s: Sequence[int],
               d: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """The padding each convention implies, from its definition."""
    out = []
    for i, (n, ki, si, di) in enumerate(zip(sizes, k, s, d)):
        if cfg.padding == "valid":
            out.append((0, 0))
        elif cfg.padding == "same_tf":  # TF SAME: output ceil(n/s), odd pixel at the end
            out.append(reference.same_padding(n, ki, si, di))
        elif cfg.padding == "same_torch":  # P = d(k-1), odd pixel at the end
            total = di * (ki - 1)
            out.append((total // 2, total - total // 2))
        elif cfg.padding == "causal":  # everything before the first sample
            out.append((di * (ki - 1), 0))
        else:
            before, after = cfg.pads[i]
            out.append((ints([before])[0], ints([after])[0]))
    return tuple(out)


def _weights(shape: tuple[int, ...]) -> Any:
    """Averaging weights (1 / fan-in): values stay in range through deep networks."""
    fan_in = int(np.prod(shape[1:])) or 1
    return np.full(shape, 1.0 / fan_in, dtype=np.float32)


def _broadcast(args: Sequence[Any]) -> Any:
    shape = np.broadcast_shapes(*(a.shape for a in args))
    return np.zeros(shape, dtype=np.float32)


def _pad(x: Any, pairs: Sequence[tuple[int, int]], mode: str) -> Any:
    """Pad (or, for negative amounts, crop) the spatial axes of a channels-first array."""
    index: list[slice] = [slice(None)]
    for n, (before, after) in zip(x.shape[1:], pairs):
        lo, hi = max(-before, 0), n - max(-after, 0)
        if hi <= lo:
            raise ValueError(f"negative padding ({before}, {after}) removes all {n} cells")
        index.append(slice(lo, hi))
    x = x[tuple(index)]
    widths = [(0, 0)] + [(max(b, 0), max(a, 0)) for b, a in pairs]
    return np.pad(x, widths, mode=mode)  # type: ignore[call-overload]


def _resize_nearest(x: Any, sizes: Sequence[int]) -> Any:
    """Nearest resize to ``sizes``: output cell i reads input cell floor(i * n / out)."""
    for axis, out in enumerate(sizes, start=1):
        n = x.shape[axis]
        x = np.take(x, (np.arange(out) * n) // out, axis=axis)
    return x


__all__ = ["NumpyRunner"]
