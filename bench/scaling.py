"""convsym on its own where no peer runs the network: ceil_mode pooling stacks, Keras
'same' stride-2 stacks, per-layer symbolic kernels, a symbolic stride, and a symbolic
kernel and stride per layer at depth; and start-up time.

Each workload is timed at two depths, four ways (build; build + ``summary().to_dict()``;
each warm and as a first run with SymPy's cache and convsym's memos cleared), in a killable
child (:func:`bench.timing.run_capped`); the record keeps the final size, its
``count_ops`` size and the growth ``t(deep)/t(shallow)``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.timing import alternating, run_capped


def ceil_pools(blocks: int) -> Any:
    """``MaxPool2d(3, 3, padding=1, ceil_mode=True)`` blocks after a 3x3 convolution: the
    ceil_mode correction's Min of candidates (issue 19: exponential before)."""
    from convsym import Sequential
    from convsym.layers.torch import Conv2d, MaxPool2d

    layers: list[Any] = []
    for _ in range(blocks):
        layers += [Conv2d(4, 4, 3, padding=1), MaxPool2d(3, stride=3, padding=1,
                                                         ceil_mode=True)]
    return Sequential(layers, input_shape=(4, "H", "W"), name=f"ceilpool_{blocks}")


def keras_same(depth: int) -> Any:
    """Keras ``Conv2D(4, 3, strides=2, padding='same')`` stack, channels last."""
    from convsym import Sequential
    from convsym.layers.keras import Conv2D, Input

    return Sequential([Input(("H", "W", 4))] +
                      [Conv2D(4, 3, strides=2, padding="same") for _ in range(depth)],
                      name=f"keras_same_{depth}")


def symbolic_kernels(depth: int) -> Any:
    """``Conv2d(4, 4, "k<i>")``: every layer its own symbolic kernel size (issue 14)."""
    from convsym import load

    return load({"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": f"k{i}"}}
        for i in range(depth)]})


def symbolic_stride(depth: int) -> Any:
    """``Conv2d(4, 4, 3, stride="s", padding=1)``: one symbolic stride at every layer."""
    from convsym import load

    return load({"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "stride": "s",
                    "padding": 1}} for _ in range(depth)]})


def symbolic_ks(depth: int) -> Any:
    """``Conv2d(4, 4, "k<i>", stride="s<i>")``: every layer its own symbolic kernel size and
    stride (issue 19: layer i's size had i terms of degree i, stored expanded)."""
    from convsym import load

    return load({"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": f"k{i}",
                    "stride": f"s{i}"}} for i in range(depth)]})


WORKLOADS: dict[str, tuple[Callable[[int], Any], tuple[int, int]]] = {
    "ceil_pools": (ceil_pools, (24, 40)),
    "keras_same_s2": (keras_same, (100, 1000)),
    "symbolic_kernels": (symbolic_kernels, (12, 120)),
    "symbolic_stride": (symbolic_stride, (100, 1000)),
    "symbolic_ks": (symbolic_ks, (10, 100)),
}
"""Name -> (builder, (shallow depth, deep depth))."""

WAYS = {"build": (False, False), "build_first": (True, False),
        "summary": (False, True), "summary_first": (True, True)}


def _task(build: Callable[[int], Any], depth: int, first: bool, summary: bool
          ) -> Callable[[Any], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    def task(progress: Any) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        import sympy

        from bench.peers import clear_caches
        from bench.timing import with_setup
        from convsym.printing.text import sstr

        def run() -> Any:
            net = build(depth)
            shape = net.output_shape
            if summary:
                net.summary().to_dict()
            return shape

        with_setup(run, clear_caches if first else None)

        def finish(shape: Any) -> dict[str, Any]:
            axis = shape[1] if net_is_channels_first(shape) else shape[0]
            text = sstr(axis)  # convsym's own printer: 2**500, not 151 digits
            return {"expr": text if len(text) < 120 else text[:117] + "...",
                    "size": int(sympy.count_ops(axis))}

        return run, finish

    return task


def net_is_channels_first(shape: tuple[Any, ...]) -> bool:
    """True when the first axis is a constant channel count."""
    return bool(getattr(shape[0], "is_Integer", False))


def run_workloads(*, cap: float, budget: float, max_repeats: int, rounds_of_growth: int = 5,
                  say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every workload at both depths, four ways; growth between the depths, as the ratio
    of the two medians and as the median ratio of ``rounds_of_growth`` rounds measured side
    by side (:func:`bench.timing.alternating`)."""
    from bench.timing import fmt_time

    out: dict[str, Any] = {}
    for name, (build, depths) in WORKLOADS.items():
        rec: dict[str, Any] = {"depths": list(depths)}
        for depth in depths:
            for way, (first, summary) in WAYS.items():
                m = run_capped(f"{name}{depth}/{way}", _task(build, depth, first, summary),
                               cap=cap, budget=budget, lo=1, hi=max_repeats)
                entry = m.to_dict()
                entry.update(m.result or {})
                rec.setdefault(way, {})[str(depth)] = entry
                t = entry.get("median_s")
                shown = fmt_time(t) if t else f"> {entry.get('timed_out_after_s', cap):.0f} s"
                say(f"  {name + str(depth):<22} {way:<14} {shown:>12}  size "
                    f"{entry.get('size', '-')!s:>5}  {entry.get('expr', '')[:60]}")
        shallow, deep = (str(d) for d in depths)
        rec["growth"], rec["growth_rounds"] = {}, {}
        for way, (first, summary) in WAYS.items():
            a = rec[way][shallow].get("median_s")
            b = rec[way][deep].get("median_s")
            rec["growth"][way] = b / a if a and b else None
            if a and b:  # again, the two depths side by side (alternating children)
                rounds = alternating(f"{name}/{way}", [_task(build, d, first, summary)
                                                       for d in depths],
                                     rounds=rounds_of_growth, cap=cap,
                                     budget=budget / rounds_of_growth, hi=max_repeats)
                rec["growth_rounds"][way] = rounds
                if rounds["median_ratio"]:
                    say(f"  {name:<22} {way:<14} t({deep})/t({shallow}) = "
                        f"{rounds['median_ratio']:.1f}x, median of "
                        f"{', '.join(f'{r:.1f}' for r in rounds['ratios'])}")
        out[name] = rec
    return out


def startup(repeats: int = 7) -> dict[str, Any]:
    """Wall time of a bare Python, ``import convsym``, ``convsym --version``, ``--help`` and
    the first ``convsym.Sequential`` (medians over fresh processes), and the ten slowest
    imports of ``import convsym; convsym.Sequential`` from ``python -X importtime``."""
    runs = {
        "python": [sys.executable, "-c", "pass"],
        "import convsym": [sys.executable, "-c", "import convsym"],
        "convsym --version": [sys.executable, "-m", "convsym", "--version"],
        "convsym --help": [sys.executable, "-m", "convsym", "--help"],
        "import convsym + Sequential": [sys.executable, "-c",
                                        "import convsym; convsym.Sequential"],
    }
    out: dict[str, Any] = {}
    for label, cmd in runs.items():
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False)
            times.append(time.perf_counter() - t0)
        out[label] = statistics.median(times)
    out["version_over_python_s"] = out["convsym --version"] - out["python"]
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import convsym; convsym.Sequential"],
                          capture_output=True, text=True, check=False)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            raw = parts[2].rstrip()
            if len(raw) - len(raw.lstrip()) == 1:  # a top-level import
                rows.append((int(parts[1]), raw.strip()))
    top = sorted(rows, reverse=True)[:10]
    out["importtime_cumulative_us"] = {name: us for us, name in top}
    return out
