"""Verification throughput: random single-layer configurations checked per second.

What "verified" means here (and nothing less): for each random configuration of a 1-D or 2-D
layer (input size and kernel, stride, padding, dilation per axis; ceil mode for pooling), a
REAL convolution or pooling is computed on random data of that size, by the NumPy reference
(:func:`convsym.reference.many.windows_many`, first principles: every configuration's windows
computed, its output size counted from the windows that read only its padded input) or by
PyTorch (one thread, one call per configuration), and the size of the result is compared with
convsym's closed form for that layer, evaluated at the configuration.  One configuration = one
real computation = one comparison of every axis.

The closed form is derived once per layer kind and rank by convsym itself, with every
hyperparameter symbolic (``Conv2d(1, 1, ("k1", "k2"), stride=("s1", "s2"), ...)`` on
``(1, n1, n2)``), then evaluated for all configurations at once with NumPy integer arithmetic
(:func:`compile_numpy`; exact, sizes here are tiny).  The derivation, drawing the
configurations, every real computation and the comparisons are inside the timed region.
Configurations are valid by construction (the window fits the padded input; pooling padding
at most half the kernel), so each one produces a real output.

The reference computes a whole layer kind's configurations in one vectorised call (batch
work, not per case).  With ``workers`` processes the layer kinds are shared out by a rough
cost: ``workers - 1`` forked processes (one pool, started inside the timed total) each
receive their kinds as integer arrays (one message per kind, no per-case pickling), all sent
before the measuring process derives anything, and the measuring process computes the rest
itself, so that ``workers`` processes compute.  The rate is per second of wall-clock time on
the whole machine; ``cpu_s`` adds up the CPU seconds of every process.
:func:`compare_workers` times 1 and ``workers`` processes in interleaved repeats (other work
on the machine hits both alike), reports the medians and a pure-CPU control of what the
machine gave the extra processes.
"""

from __future__ import annotations

import gc
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


def reference_sizes(kind: str, rank: int, c: dict[str, Any], seed: int = 0) -> Any:
    """Output sizes ``(count, rank)`` the NumPy reference measures for configurations ``c``."""
    import numpy as np

    from convsym.reference.many import windows_many

    ax = _axes(rank)
    n, k, s, p, d = (np.stack([c[f"{v}{a}"] for a in ax], axis=1) for v in "nkspd")
    op = "conv" if kind == "conv" else "max" if kind.startswith("max") else "avg"
    return windows_many(op, n, k, s, np.stack([p, p], axis=-1), d,
                        ceil_mode=kind.endswith("ceil"), seed=seed).sizes


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


def _torch_sizes(kind: str, rank: int, c: dict[str, Any], seed: int = 0) -> Any:
    """Output sizes ``(count, rank)`` of real PyTorch calls, one per configuration (zeros:
    torch's sizes do not depend on the data; ``seed`` is unused)."""
    import numpy as np

    rows = list(zip(*(c[f"{v}{a}"].tolist() for a in _axes(rank) for v in "nkspd")))
    return np.asarray(_run_torch(kind, rank, rows), dtype=np.int64)


def _effort(kind: str, rank: int, c: dict[str, Any]) -> float:
    """A rough cost in milliseconds of computing configurations ``c`` (measured on 2 cores
    in 2026): about 3 ms per call, and 0.09 us per padded input cell, 1.7 times that for a
    convolution (its kernel is contracted, a pool's is a running max or sum)."""
    import numpy as np

    cells = np.ones(len(c["n1"]))
    for a in _axes(rank):
        cells = cells * (c[f"n{a}"] + 2 * c[f"p{a}"])
    return 3.0 + float(cells.sum()) * 9e-5 * (1.7 if kind == "conv" else 1.0)


def _assign(efforts: list[float], workers: int) -> list[int]:
    """Which process computes each kind (the measuring process is the last, ``workers - 1``):
    largest first, each to the least loaded process; the measuring process starts with 3 ms
    per kind, for deriving every closed form and comparing."""
    load = [0.0] * workers
    load[-1] = 3.0 * len(efforts)
    owner = [0] * len(efforts)
    for i in sorted(range(len(efforts)), key=lambda i: -efforts[i]):
        p = min(range(workers), key=lambda w: load[w])
        owner[i] = p
        load[p] += efforts[i]
    return owner


_WORKER_CPU = [0.0]
"""CPU seconds the pool's processes spent on their parts (added up by the measuring process)."""


def _cpu_timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.process_time()
    out = fn(*args)
    return out, time.process_time() - start


def measure(backend: str, count: int, *, ranks: Sequence[int] = (1, 2), workers: int = 1,
            seed: int = 0) -> dict[str, Any]:
    """Verify ``count`` random configurations per kind and rank; rates and mismatches.

    With ``workers > 1`` one pool of ``workers - 1`` processes serves every kind and rank
    (started once, inside the timed total; a pool per kind cost more than the work it
    shared): every kind's configurations are drawn first, whole kinds are shared out by a
    rough cost (:func:`_assign`) and the pool's are sent at once; then the measuring process
    derives every closed form, computes its own kinds, and collects the pool's.  Per-kind
    times then overlap (``process`` says who computed a kind).
    """
    import multiprocessing as mp

    import numpy as np

    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    per_kind: dict[str, Any] = {}
    total_n, mismatches = 0, 0
    begin, cpu_begin = time.perf_counter(), time.process_time()
    _WORKER_CPU[0] = 0.0
    pool = None
    if workers > 1:
        # the forked processes' collector must not walk (and so copy) the inherited heap
        gc.freeze()
        pool = mp.get_context("fork").Pool(workers - 1)
    try:
        plan = [(rank, j, kind) for rank in ranks for j, kind in enumerate(KINDS)]
        drawn = [draw(kind, rank, count, seed + 10 * rank + j) for rank, j, kind in plan]
        fn = _torch_sizes if backend == "torch" else reference_sizes
        # whole kinds per process (a kind split in parts pays its fixed costs in each part);
        # the pool's kinds are sent first, one message each: it computes while this process
        # derives, and this process computes its own kinds before it waits for the pool's
        owner = _assign([_effort(kind, rank, c) for (rank, _, kind), c in zip(plan, drawn)],
                        workers) if pool is not None else [0] * len(plan)
        sent = {i: pool.apply_async(_cpu_timed, (fn, kind, rank, drawn[i], seed))
                for i, (rank, _, kind) in enumerate(plan)
                if pool is not None and owner[i] < workers - 1}
        for i in sorted(range(len(plan)), key=lambda i: i in sent):
            rank, _, kind = plan[i]
            start = time.perf_counter()
            forms, names = closed_forms(kind, rank)
            fns = [compile_numpy(f, names) for f in forms]
            derived = time.perf_counter()
            c = drawn[i]
            expected = np.stack([f(c) for f in fns], axis=1)
            if i in sent:
                got, cpu = sent[i].get()
                _WORKER_CPU[0] += cpu
            else:
                got = fn(kind, rank, c, seed)
            bad = int(np.count_nonzero((got != expected).any(axis=1)))
            elapsed = time.perf_counter() - start
            per_kind[f"{kind}_{rank}d"] = {
                "configs": count, "seconds": elapsed, "rate": count / elapsed,
                "derive_s": derived - start, "mismatches": bad, "process": owner[i],
                "closed_form": str(_show(forms[0]))}
            mismatches += bad
            total_n += count
    finally:
        if pool is not None:
            pool.close()
            pool.join()
            gc.unfreeze()
    total_t = time.perf_counter() - begin
    # CPU seconds of every process (the pool's start included in the measuring process's):
    # what the work costs whatever else the machine runs; wall time is what users wait for
    cpu = time.process_time() - cpu_begin + _WORKER_CPU[0]
    return {"backend": backend, "workers": workers, "configs": total_n, "seconds": total_t,
            "cpu_s": cpu,
            "rate_per_s": total_n / total_t, "mismatches": mismatches, "kinds": per_kind}


def compare_workers(count: int, workers: int = 2, repeats: int = 5,
                    **kw: Any) -> dict[str, Any]:
    """The reference with 1 and with ``workers`` processes, timed in interleaved repeats.

    Other processes on a shared machine take CPU from whichever run happens to be going:
    alternating the two (1, n, n, 1, ...) exposes both to the same load, and the medians
    (and the ratio of medians) are reported, with every repeat's rate.  After each run a
    pure-Python task is timed the same way (1 or n processes): ``machine_speedup`` is what
    the machine gave n processes at that moment (below 1 when other work holds every core),
    the ceiling of what verification could gain.  ``cpu_s`` (CPU seconds of all processes,
    median) shows what the split itself costs, whatever the load.
    """
    import statistics

    runs: dict[int, list[dict[str, Any]]] = {1: [], workers: []}
    control: dict[int, list[float]] = {1: [], workers: []}
    for i in range(repeats):
        for w in ((1, workers) if i % 2 == 0 else (workers, 1)):
            runs[w].append(measure("reference", count, workers=w, **kw))
            control[w].append(_control(w))
    out: dict[str, Any] = {}
    for w, records in runs.items():
        median = statistics.median(r["rate_per_s"] for r in records)
        chosen = min(records, key=lambda r: abs(r["rate_per_s"] - median))
        out[w] = {**chosen, "rate_per_s": median, "repeats": len(records),
                  "rates": [round(r["rate_per_s"]) for r in records],
                  "cpu_s": statistics.median(r["cpu_s"] for r in records),
                  "mismatches": sum(r["mismatches"] for r in records)}
    # the same split for a pure CPU task: what the machine itself gave a second process
    spare = statistics.median(control[1]) / statistics.median(control[workers])
    return {"one": out[1], "many": {**out[workers], "machine_speedup": spare},
            "ratio": out[workers]["rate_per_s"] / out[1]["rate_per_s"],
            "machine_speedup": spare}


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def _control(workers: int, work: int = 2_000_000) -> float:
    """Seconds for a fixed pure-Python task split over ``workers`` processes (pool included)."""
    import multiprocessing as mp

    start = time.perf_counter()
    if workers == 1:
        _burn(work)
    else:
        with mp.get_context("fork").Pool(workers - 1) as pool:
            sent = [pool.apply_async(_burn, (work // workers,)) for _ in range(workers - 1)]
            _burn(work // workers)
            for r in sent:
                r.get()
    return time.perf_counter() - start


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
