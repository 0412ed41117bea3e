"""Timing helpers: medians of repeated runs after a warm-up, each measurement in a killable child.

Every measurement runs in a forked child process (``run_capped``) so that a peer which takes
too long (naive SymPy at depth 1000, torch.export on a deep chain) is stopped at a time cap
and reported honestly as "did not finish", instead of hanging the benchmark.  The child
inherits the parent's warm state (imported modules, torch's one-time initialisation), then
runs the task once as a warm-up and ``repeats`` more times, sending each result back.

The repeat count adapts to the cost of one run (``adaptive_repeats``): cheap tasks are
repeated many times, a 20-second torch.export once; the count actually used is recorded
with every median.

Ratios are also measured side by side (:func:`interleaved`: two tasks in turn in one child;
:func:`alternating`: two tasks in alternating children), the median of the per-round ratios
being robust to what the machine does between measurements.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import statistics
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Run = Callable[[], Any]
Finish = Callable[[Any], Any]
Task = Callable[[Callable[[Any], None]], tuple[Run, Finish]]


@dataclass
class Measurement:
    """The outcome of timing one task: medians in seconds, or why there are none."""

    label: str
    times: list[float] = field(default_factory=list)
    warmup: float | None = None
    result: Any = None
    error: str | None = None
    timed_out: bool = False
    cap: float | None = None
    progress: Any = None
    warmup_only: bool = False

    @property
    def ok(self) -> bool:
        """True when at least one timed run finished."""
        return bool(self.times) and self.error is None

    @property
    def median(self) -> float | None:
        """Median of the timed runs (the warm-up excluded)."""
        return statistics.median(self.times) if self.times else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the task's result is reported separately by the caller)."""
        out: dict[str, Any] = {
            "median_s": self.median,
            "min_s": min(self.times) if self.times else None,
            "max_s": max(self.times) if self.times else None,
            "repeats": len(self.times),
            "warmup_s": self.warmup,
        }
        if self.error:
            out["error"] = self.error
        if self.warmup_only:
            out["note"] = "only the warm-up run finished within the cap; it is the measurement"
        if self.timed_out:
            out["timed_out_after_s"] = self.cap
            if self.progress is not None:
                out["progress_at_timeout"] = self.progress
        return out


def with_setup(run: Run, setup: Callable[[], None] | None) -> Run:
    """``run`` with ``setup`` called before each run, outside the timed region (a first run's
    clearing of caches: a fresh process starts without them and pays no clearing)."""
    if setup is not None:
        run.setup = setup  # type: ignore[attr-defined]
    return run


def adaptive_repeats(first: float, *, budget: float, lo: int, hi: int) -> int:
    """How many timed runs fit in ``budget`` seconds given one run took ``first`` seconds."""
    if first <= 0:
        return hi
    return max(lo, min(hi, int(budget / first)))


def _child(conn: Any, task: Task, budget: float, lo: int, hi: int) -> None:
    # Objects inherited from the benchmark process (torch, ONNX, earlier results) move to a
    # permanent generation, so the garbage collector scans only what the measured task
    # allocates, as in a user's process; the same for every contender.
    gc.freeze()
    try:
        def progress(info: Any) -> None:
            conn.send(("progress", info))

        run, finish = task(progress)
        setup = getattr(run, "setup", None)
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = run()
        first = time.perf_counter() - start
        conn.send(("warmup", first))
        conn.send(("result", finish(result)))
        # Runs shorter than ~2 ms are timed in loops of ``number`` (as timeit does).
        number = max(1, min(1000, int(0.002 / first))) if first > 0 else 1000
        for _ in range(adaptive_repeats(first * number, budget=budget, lo=lo, hi=hi)):
            if setup is None:
                start = time.perf_counter()
                for _ in range(number):
                    run()
                conn.send(("run", (time.perf_counter() - start) / number))
                continue
            spent = 0.0
            for _ in range(number):  # the setup before each run, untimed
                setup()
                start = time.perf_counter()
                run()
                spent += time.perf_counter() - start
            conn.send(("run", spent / number))
        conn.send(("done",))
    except BaseException as err:  # report every failure of a peer to the parent, then exit
        conn.send(("error", f"{type(err).__name__}: {err}"[:2000],
                   traceback.format_exc()[-4000:]))
    finally:
        conn.close()


def _messages(target: Callable[..., None], args: tuple[Any, ...], cap: float
              ) -> Iterator[tuple[Any, ...]]:
    """Run ``target(conn, *args)`` in a forked child and yield what it sends, then
    ``("timeout",)`` once ``cap`` seconds have passed or ``("exited", code)`` when it closes
    the pipe; the child is killed when the caller stops reading (close the generator)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    child.close()
    deadline = time.monotonic() + cap
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not parent.poll(left):
                if time.monotonic() >= deadline:
                    yield ("timeout",)
                    return
                continue
            try:
                msg = parent.recv()
            except EOFError:
                yield ("exited", proc.exitcode)
                return
            yield msg
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


def run_capped(label: str, task: Task, *, cap: float, budget: float, lo: int = 1,
               hi: int = 25) -> Measurement:
    """Time ``task`` in a forked child: a warm-up run, then adaptive repeats, all within ``cap``.

    ``task(progress)`` prepares (untimed) and returns ``(run, finish)``: ``run()`` is the
    zero-argument function timed; ``finish(last_result)`` turns the last run's result into
    something picklable (the expression, its size), untimed.  ``progress(info)`` may be called
    while running to report how far it got, which is shown if the cap is hit.
    """
    m = Measurement(label, cap=cap)
    with contextlib.closing(_messages(_child, (task, budget, lo, hi), cap)) as messages:
        for msg in messages:
            kind = msg[0]
            if kind == "timeout":
                m.timed_out = True
                break
            if kind == "exited":
                if m.error is None and not m.times:
                    m.error = f"child exited with code {msg[1]}"
                break
            if kind == "progress":
                m.progress = msg[1]
            elif kind == "warmup":
                m.warmup = msg[1]
            elif kind == "run":
                m.times.append(msg[1])
            elif kind == "result":
                m.result = msg[1]
            elif kind == "error":
                m.error = msg[1]
                break
            elif kind == "done":
                break
    if m.timed_out and m.warmup is not None and not m.times:
        # The warm-up finished but no timed run did: use the warm-up as the one measurement
        # rather than reporting nothing (flagged: it includes any first-run overhead).
        m.times = [m.warmup]
        m.error = None
        m.warmup_only = True
    return m


def _interleaved_child(conn: Any, tasks: list[Task], rounds: int) -> None:
    gc.freeze()  # (as in _child: only what the tasks allocate is scanned)
    try:
        prepared = []
        for task in tasks:
            run, _ = task(lambda info: None)
            setup = getattr(run, "setup", None)
            if setup is not None:
                setup()
            start = time.perf_counter()
            run()  # the warm-up, its result dropped at once
            first = time.perf_counter() - start
            number = max(1, min(1000, int(0.002 / first))) if first > 0 else 1000
            prepared.append((run, setup, number))
        for r in range(rounds):
            times = [0.0] * len(prepared)
            order = range(len(prepared)) if r % 2 == 0 else reversed(range(len(prepared)))
            for i in order:  # A B, B A, A B, ...: neither task always runs after the other
                run, setup, number = prepared[i]
                spent = 0.0
                for _ in range(number):
                    if setup is not None:
                        setup()
                    start = time.perf_counter()
                    run()
                    spent += time.perf_counter() - start
                times[i] = spent / number
            conn.send(("round", times))
        conn.send(("done",))
    except BaseException as err:  # reported to the parent, never fatal
        conn.send(("error", f"{type(err).__name__}: {err}"[:2000]))
    finally:
        conn.close()


def interleaved(label: str, tasks: list[Task], *, rounds: int, cap: float
                ) -> dict[str, Any]:
    """Time ``tasks`` in turn, ``rounds`` times, in one forked child, and the ratio of the
    last task's time to the first's in each round, with their median.

    A ratio of two medians measured minutes apart in separate children carries whatever the
    machine did in between (on a shared VM, a plain-integer loop ran 10 µs in one child and
    20 µs in the next); times taken side by side, alternating which goes first, share the
    machine's state, so their ratio is the quantity asked for.  Each task keeps its own
    ``setup`` (a first run clears the caches before every run, untimed); tasks whose runs
    share state (two warm builds of related networks) belong in separate children
    (:func:`alternating`).
    """
    out: dict[str, Any] = {"rounds": []}
    with contextlib.closing(_messages(_interleaved_child, (tasks, rounds), cap)) as messages:
        for msg in messages:
            if msg[0] == "round":
                out["rounds"].append(msg[1])
                continue
            if msg[0] == "timeout":
                out["timed_out_after_s"] = cap
            elif msg[0] == "exited":
                out["error"] = f"child exited with code {msg[1]}"
            elif msg[0] == "error":
                out["error"] = msg[1]
            break
    return _with_ratios(out, label)


def alternating(label: str, tasks: list[Task], *, rounds: int, cap: float, budget: float,
                hi: int) -> dict[str, Any]:
    """Like :func:`interleaved`, but each measurement in its own child
    (:func:`run_capped`, median of at least 3 repeats after the warm-up), the children
    alternating (A B, B A, ...):
    for tasks that must not share a process's caches, e.g. the same workload warm at two
    depths (the growth ``t(deep)/t(shallow)``)."""
    out: dict[str, Any] = {"rounds": []}
    for r in range(rounds):
        times: list[float] = [0.0] * len(tasks)
        order = range(len(tasks)) if r % 2 == 0 else reversed(range(len(tasks)))
        for i in order:
            m = run_capped(f"{label}/{i}", tasks[i], cap=cap, budget=budget, lo=3, hi=hi)
            if m.median is None or m.error:
                out["error"] = m.error or f"task {i} did not finish within {cap:.0f} s"
                return _with_ratios(out, label)
            times[i] = m.median
        out["rounds"].append(times)
    return _with_ratios(out, label)


def _with_ratios(out: dict[str, Any], label: str) -> dict[str, Any]:
    ratios = [r[-1] / r[0] for r in out["rounds"] if r[0] > 0]
    out["label"] = label
    out["ratios"] = ratios
    out["median_ratio"] = statistics.median(ratios) if ratios else None
    return out


def fmt_time(seconds: float | None) -> str:
    """``1.23 s``, ``45.6 ms`` or ``789 µs``."""
    if seconds is None:
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"
