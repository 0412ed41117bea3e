"""Verification throughput: random single-layer configurations checked per second.

What "verified" means here (and nothing less): for each random configuration of a 1-D or 2-D
layer (input size and kernel, stride, padding, dilation per axis; ceil mode for pooling), a
REAL convolution or pooling is computed on an array of that size, by the NumPy reference
(:mod:`convsym.reference`, first principles) or by PyTorch (one thread), and the shape of
the result is compared with convsym's closed form for that layer, evaluated at the
configuration.  One configuration = one real computation = one comparison of every axis.

The closed form is derived once per layer kind and rank by convsym itself, with every
hyperparameter symbolic (``Conv2d(1, 1, ("k1", "k2"), stride=("s1", "s2"), ...)`` on
``(1, n1, n2)``), then evaluated for all configurations at once with NumPy integer arithmetic
(:func:`compile_numpy`; exact, sizes here are tiny).  The derivation, drawing the
configurations, every real computation and the comparisons are inside the timed region.
Configurations are valid by construction (the window fits the padded input; pooling padding
at most half the kernel), so each one produces a real output.

The reference can run in several worker processes (``workers``): the rate is then per second
of wall-clock time on the whole machine, and is reported with the worker count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

KINDS = ("conv", "maxpool", "maxpool_ceil", "avgpool_ceil")
Row = tuple[int, ...]  # per axis: n, k, s, p, d


def compile_numpy(e: Any, names: dict[Any, str]) -> Callable[[dict[str, Any]], Any]:
    """A function of NumPy int64 arrays (keyed by symbol name) computing canonical size ``e``."""
    import numpy as np

    from convsym.intdiv import Ext, Floor, QPoly

    def poly(p: QPoly) -> Callable[[dict[str, Any]], Any]:
        parts = [(coeff, [(atom_fn(a), power) for a, power in mono])
                 for mono, coeff in p.terms.items()]

        def f(env: dict[str, Any]) -> Any:
            total: Any = 0
            for coeff, factors in parts:
                term: Any = coeff
                for fn, power in factors:
                    term = term * fn(env) ** power
                total = total + term
            return total

        return f

    def atom_fn(a: Any) -> Callable[[dict[str, Any]], Any]:
        if isinstance(a, Floor):
            num, den = poly(a.num), poly(a.den)
            return lambda env: np.floor_divide(num(env), den(env))
        name = names[a]
        return lambda env: env[name]

    def build(x: Any) -> Callable[[dict[str, Any]], Any]:
        if isinstance(x, Ext):
            fns = [build(arg) for arg in x.args]
            pick = np.minimum if x.kind == "min" else np.maximum

            def g(env: dict[str, Any]) -> Any:
                value = fns[0](env)
                for fn in fns[1:]:
                    value = pick(value, fn(env))
                return value

            return g
        return poly(x)

    return build(e)


def _axes(rank: int) -> list[str]:
    return [str(i + 1) for i in range(rank)]


def closed_forms(kind: str, rank: int) -> tuple[list[Any], dict[Any, str]]:
    """convsym's derived output sizes (one per axis) for a layer kind, every value symbolic."""
    from convsym import Sequential
    from convsym.layers import torch as T

    ax = _axes(rank)
    k, s, p, d = (tuple(f"{v}{a}" for a in ax) for v in "kspd")
    suffix = f"{rank}d"
    layer: Any
    if kind == "conv":
        layer = getattr(T, f"Conv{suffix}")(1, 1, k, stride=s, padding=p, dilation=d)
    elif kind.startswith("max"):
        layer = getattr(T, f"MaxPool{suffix}")(k, stride=s, padding=p, dilation=d,
                                               ceil_mode=kind.endswith("ceil"))
    else:
        layer = getattr(T, f"AvgPool{suffix}")(k, stride=s, padding=p, ceil_mode=True)
    net = Sequential([layer], input_shape=(1, *(f"n{a}" for a in ax)))
    names = {sym: sym.name for sym in net.all_symbols()}
    return list(net.shapes[-1][1:]), names


def draw(kind: str, rank: int, count: int, seed: int) -> dict[str, Any]:
    """``count`` valid configurations as int64 arrays ``n1, k1, s1, p1, d1, n2, ...``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    for axis in _axes(rank):
        k = rng.integers(1, 6, count)
        s = rng.integers(1, 5, count)
        d = rng.integers(1, 4, count) if kind != "avgpool_ceil" else np.ones(count, np.int64)
        ke = d * (k - 1) + 1
        if kind == "conv":
            p = rng.integers(0, 4, count)
        else:
            p = np.floor(rng.random(count) * (k // 2 + 1)).astype(np.int64)
        n = np.maximum(1, ke - 2 * p) + rng.integers(0, 24, count)
        out.update({f"n{axis}": n, f"k{axis}": k, f"s{axis}": s, f"p{axis}": p, f"d{axis}": d})
    return out


def _run_reference(kind: str, rank: int, rows: Sequence[Row]) -> list[tuple[int, ...]]:
    import numpy as np

    from convsym import reference

    cache: dict[tuple[int, ...], tuple[Any, Any]] = {}
    out = []
    for row in rows:
        axes = [row[5 * i:5 * i + 5] for i in range(rank)]
        key = tuple(a[0] for a in axes) + tuple(a[1] for a in axes)
        pair = cache.get(key)
        if pair is None:
            # zeros: only the shape is checked; every configuration still computes for real
            pair = cache[key] = (np.zeros((1, *key[:rank])), np.zeros((1, 1, *key[rank:])))
        stride = tuple(a[2] for a in axes)
        pads = tuple((a[3], a[3]) for a in axes)
        dilation = tuple(a[4] for a in axes)
        if kind == "conv":
            y = reference.conv(pair[0], pair[1], stride=stride, padding=pads, dilation=dilation)
        else:
            y = reference.pool(pair[0], "max" if kind.startswith("max") else "avg",
                               kernel=key[rank:], stride=stride, padding=pads,
                               dilation=dilation, ceil_mode=kind.endswith("ceil"))
        out.append(tuple(y.shape[1:]))
    return out


def _run_torch(kind: str, rank: int, rows: Sequence[Row]) -> list[tuple[int, ...]]:
    import torch
    import torch.nn.functional as F

    conv = {1: F.conv1d, 2: F.conv2d}[rank]
    maxpool = {1: F.max_pool1d, 2: F.max_pool2d}[rank]
    avgpool = {1: F.avg_pool1d, 2: F.avg_pool2d}[rank]
    cache: dict[tuple[int, ...], tuple[Any, Any]] = {}
    out = []
    for row in rows:
        axes = [row[5 * i:5 * i + 5] for i in range(rank)]
        key = tuple(a[0] for a in axes) + tuple(a[1] for a in axes)
        pair = cache.get(key)
        if pair is None:
            pair = cache[key] = (torch.zeros(1, 1, *key[:rank]), torch.zeros(1, 1, *key[rank:]))
        kernel = key[rank:]
        stride = tuple(a[2] for a in axes)
        pad = tuple(a[3] for a in axes)
        dilation = tuple(a[4] for a in axes)
        if kind == "conv":
            y = conv(pair[0], pair[1], stride=stride, padding=pad, dilation=dilation)
        elif kind.startswith("max"):
            y = maxpool(pair[0], kernel, stride, pad, dilation, ceil_mode=kind.endswith("ceil"))
        else:
            y = avgpool(pair[0], kernel, stride, pad, ceil_mode=True)
        out.append(tuple(y.shape[2:]))
    return out


def _chunked(fn: Callable[[str, int, Sequence[Row]], list[tuple[int, ...]]], kind: str,
             rank: int, rows: list[Row], pool: Any, workers: int) -> list[tuple[int, ...]]:
    if pool is None:
        return fn(kind, rank, rows)
    size = -(-len(rows) // workers)  # one batch per worker: few, large messages
    chunks = [rows[i:i + size] for i in range(0, len(rows), size)]
    parts = pool.starmap(fn, [(kind, rank, chunk) for chunk in chunks])
    return [shape for part in parts for shape in part]


def measure(backend: str, count: int, *, ranks: Sequence[int] = (1, 2), workers: int = 1,
            seed: int = 0) -> dict[str, Any]:
    """Verify ``count`` random configurations per kind and rank; rates and mismatches.

    With ``workers > 1`` one pool of processes serves every kind and rank (started once,
    inside the timed total; a pool per kind cost more than the work it shared), each worker
    receiving one batch of configurations per kind.
    """
    import multiprocessing as mp

    import numpy as np

    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    fn = _run_torch if backend == "torch" else _run_reference
    per_kind: dict[str, Any] = {}
    total_n, mismatches = 0, 0
    begin = time.perf_counter()
    pool = mp.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        for rank in ranks:
            for j, kind in enumerate(KINDS):
                start = time.perf_counter()
                forms, names = closed_forms(kind, rank)
                fns = [compile_numpy(f, names) for f in forms]
                derived = time.perf_counter()
                c = draw(kind, rank, count, seed + 10 * rank + j)
                expected = np.stack([f(c) for f in fns], axis=1)
                rows = list(zip(*(c[f"{v}{a}"].tolist() for a in _axes(rank)
                                  for v in "nkspd")))
                got = np.asarray(_chunked(fn, kind, rank, rows, pool, workers),
                                 dtype=np.int64)
                bad = int(np.count_nonzero((got != expected).any(axis=1)))
                elapsed = time.perf_counter() - start
                per_kind[f"{kind}_{rank}d"] = {
                    "configs": count, "seconds": elapsed, "rate": count / elapsed,
                    "derive_s": derived - start, "mismatches": bad,
                    "closed_form": str(_show(forms[0]))}
                mismatches += bad
                total_n += count
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    total_t = time.perf_counter() - begin
    return {"backend": backend, "workers": workers, "configs": total_n, "seconds": total_t,
            "rate_per_s": total_n / total_t, "mismatches": mismatches, "kinds": per_kind}


def scalar_rate(count: int = 300, seed: int = 7) -> dict[str, Any]:
    """For comparison: a concrete convsym network built per configuration (no reference)."""
    from convsym import Sequential
    from convsym.layers.torch import Conv2d

    c = draw("conv", 2, count, seed)
    rows = list(zip(*(c[f"{v}{a}"].tolist() for a in "12" for v in "nkspd")))
    start = time.perf_counter()
    for n1, k1, s1, p1, d1, n2, k2, s2, p2, d2 in rows:
        layer = Conv2d(1, 1, (k1, k2), stride=(s1, s2), padding=(p1, p2), dilation=(d1, d2))
        Sequential([layer], input_shape=(1, n1, n2))
    elapsed = time.perf_counter() - start
    return {"configs": count, "seconds": elapsed, "rate_per_s": count / elapsed,
            "what": "a concrete convsym Conv2d network built per configuration, no reference"}


def _show(e: Any) -> Any:
    from convsym.intdiv import to_sympy

    return to_sympy(e)
