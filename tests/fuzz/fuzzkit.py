"""Shared pieces of the fuzz tests: the error contract, a per-input budget, hostile text.

The contract every entry point keeps for bad input: it raises a
:class:`~convsym.errors.ConvsymError` that is also a ``ValueError`` or ``TypeError`` and
has a stable ``code`` slug and a message; nothing else.  The CLI returns 0-3 and, for bad
input, prints one line on stderr, never a traceback.

Each generated input runs under a budget (:func:`budget`): an interval timer that raises
:class:`Overrun` (not a convsym error, so it fails the test) if one input runs past
``EXAMPLE_BUDGET`` seconds.  Hypothesis's own wall-clock deadline is off (``deadline=None``)
because shared CI machines are noisy; the budget is far above any honest run and only
catches a hang.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from convsym.errors import ConvsymError

EXAMPLE_BUDGET = float(os.environ.get("CONVSYM_FUZZ_BUDGET", "60"))
"""Seconds one generated input may take before the test fails as a hang."""

SCALE = float(os.environ.get("CONVSYM_FUZZ_SCALE", "1"))
"""Multiplies every test's number of examples (``CONVSYM_FUZZ_SCALE=10`` for a long hunt)."""


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: ``examples`` inputs, no wall-clock deadline, no database."""
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

_CODE = re.compile(r"[a-z][a-z0-9_]*")


class Overrun(AssertionError):
    """One generated input ran past its budget (a hang); Hypothesis shrinks and reports it."""


@contextlib.contextmanager
def budget(seconds: float = EXAMPLE_BUDGET, what: str = "one generated input") -> Iterator[None]:
    """Fail with :class:`Overrun` when the body runs longer than ``seconds``."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise Overrun(f"{what} ran past its budget of {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_error(err: ConvsymError) -> None:
    """The contract of a convsym error: ValueError/TypeError, a code slug, a message.

    (A message may echo a lone surrogate from the input: the CLI prints errors on stderr,
    whose ``backslashreplace`` error handler shows it escaped.)
    """
    assert isinstance(err, (ValueError, TypeError)), f"{type(err).__name__} is neither"
    assert isinstance(err.code, str) and _CODE.fullmatch(err.code), repr(err.code)
    assert str(err).strip(), "an empty message"


COUNTS: dict[str, int] = {}
"""Generated inputs run, by test (reported at the end of the session by ``conftest.py``)."""


def batch(strategy: st.SearchStrategy[Any], size: int = 8) -> st.SearchStrategy[list[Any]]:
    """Several inputs per Hypothesis example: generation overhead is per example."""
    return st.lists(strategy, min_size=max(1, size // 2), max_size=size)


def count(n: int = 1) -> None:
    """Record ``n`` generated inputs for the test that is running."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]
    COUNTS[test] = COUNTS.get(test, 0) + n


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` under the budget: its result or the convsym error it raised.

    Any other exception propagates and fails the test (Hypothesis then shrinks the input).
    """
    count()
    try:
        with budget():
            try:
                return fn(*args, **kwargs)
            except ConvsymError as err:
                check_error(err)
                return err
    except Overrun as err:
        shown = ", ".join([repr(a)[:2000] for a in args] +
                          [f"{k}={v!r:.2000}" for k, v in kwargs.items()])
        raise Overrun(f"{err}: {getattr(fn, '__name__', fn)}({shown})") from None


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``convsym.cli.main(argv)`` with stdout and stderr captured, under the budget."""
    from convsym.cli import main

    count()
    out, err = io.StringIO(), io.StringIO()
    with budget(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    stdout, stderr = out.getvalue(), err.getvalue()
    assert isinstance(status, int) and status in (0, 1, 2, 3), status
    assert "Traceback" not in stderr, stderr
    stdout.encode("utf-8")
    stderr.encode("utf-8")
    if status == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) <= 1, f"bad input must give one line, got {lines}"
        assert not lines or lines[0].startswith("convsym"), lines
        assert lines or "usage" in stdout.lower(), (stdout, stderr)
    return status, stdout, stderr


@contextlib.contextmanager
def scratch_dir() -> Iterator[str]:
    """Run in a fresh temporary working directory (the CLI may write ``-o FILE``)."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="convsym-fuzz-") as path:
        os.chdir(path)
        try:
            yield path
        finally:
            os.chdir(old)


# --- hostile text ------------------------------------------------------------------------------

NAMES = ["n", "m", "k", "p", "s", "d", "H", "W", "c", "N", "S", "E", "I", "Q", "pi", "oo",
         "zoo", "nan", "x_1", "Symbol", "True", "None", "lambda", "__import__", "__class__",
         "_", "rate", "out_H", "params", "macs"]

TOKENS = NAMES + [
    "0", "1", "2", "3", "7", "64", "65", "-1", "2**62", "2**63", "4611686018427387904",
    "99999999999999999999", "10**10**10", "9" * 40, "1.5", "2.0", "1e9", "1e400", "0x1f",
    "0b11", "0o7", "1_000", "1j", "007",
    "+", "-", "*", "/", "//", "%", "**", "^", "(", ")", ",", " ", "  ",
    "floor(", "ceiling(", "ceil(", "min(", "max(", "abs(", "mod(", "Mod(", "Max(", "sqrt(",
    "exp(", "log(", "factorial(", "Integer(", "S(",
    "__import__('os').system('touch CANARY')", ".system", "lambda x: x", "[", "]", "{", "}",
    ":", "'", '"', "==", "=", "<=", ">=", "<", ">", "!=", "and", "or", "not", "if", "else",
    "is", "in", "@", "&", "|", "~", "<<", ">>", ";", "\n", "\t", "\x00", "\x1b[2J", "\u210c",
    "\u00e9", "\u221e", "\ud800", "\u202e", "#", "`", "$", "\\", "sympify('x')", "eval(",
    "exec(", "open(", "getattr(", "().__class__.__bases__[0].__subclasses__()", ".", "...",
    "*args", "**kw", ":=", "yield", "await", "f'{1}'", "b'x'",
]


JUNK_TEXT = TOKENS + ["&a ", "*a", "!!python/object/apply:os.system ", "!!str ", "<<: ",
                      "---\n", "\n  ", ": ", "- ", '"', "'", "{", "}", "[", "]", ",", "#",
                      "\ufeff", "\x85", "NaN", "Infinity", "1e999", "9" * 40, "true", "null"]
"""Pieces inserted into document text (expression tokens and YAML/JSON syntax)."""

LEAVES = NAMES[:16] + ["0", "1", "2", "3", "7", "64", "-1", "2**62", "4611686018427387904",
                       "9223372036854775808", "99999999999999999999", "1.5", "2.0"]
BINARY = ["+", "-", "*", "/", "//", "%", "**", " + ", " - ", "^", "@", "==", "<="]
CALLS = ["floor", "ceiling", "ceil", "min", "max", "abs", "mod", "Max", "sqrt", "eval",
         "__import__", "getattr", "Symbol"]


class _Bytes:
    """Choices read from generated bytes (zero once they run out)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, n: int) -> int:
        byte = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return byte % n


def _tree(b: _Bytes, depth: int) -> str:
    kind = b.take(9) if depth < 7 else 0
    if kind <= 2:
        return LEAVES[b.take(len(LEAVES))]
    if kind <= 4:
        return f"{_tree(b, depth + 1)}{BINARY[b.take(len(BINARY))]}{_tree(b, depth + 1)}"
    if kind == 5:
        args = [_tree(b, depth + 1) for _ in range(1 + b.take(3))]
        return f"{CALLS[b.take(len(CALLS))]}({', '.join(args)})"
    if kind == 6:
        return f"-{_tree(b, depth + 1)}"
    if kind == 7:
        return f"({_tree(b, depth + 1)})"
    return f"({_tree(b, depth + 1)})**{b.take(70)}"


def decode_expression(data: bytes) -> str:
    """Expression text from bytes: a grammar tree, token soup, deep nesting or long chains.

    Decoding bytes keeps generation cheap (a fuzz input costs well under a millisecond to
    make) while Hypothesis still shrinks failures to short byte strings.
    """
    b = _Bytes(data)
    mode = b.take(8)
    if mode <= 3:
        return _tree(b, 0)
    if mode <= 5:
        return "".join(TOKENS[byte % len(TOKENS)] for byte in data[1:])
    if mode == 6:
        depth = b.take(256) // 2
        return "(" * depth + LEAVES[b.take(len(LEAVES))] + ")" * depth
    unit = ["n+", "1*", "-", "2**", "n//", "n%", "n/", "max(n,"][b.take(8)]
    count = 10 * b.take(80) + b.take(10)
    return unit * count + "1" + (")" * count if unit.endswith(",") else "")


def expression_text() -> st.SearchStrategy[str]:
    """Text for an expression entry point (see :func:`decode_expression`), or raw text."""
    return st.one_of(st.binary(min_size=1, max_size=48).map(decode_expression),
                     st.text(max_size=40))


def relation_text() -> st.SearchStrategy[str]:
    """Text for a condition entry point (``--where``, ``--bounds``, ``assume``)."""
    op = st.sampled_from(["==", "=", "<=", ">=", "<", ">", "!=", " ", "=>", "in"])
    return st.one_of(
        st.tuples(expression_text(), op, expression_text()).map(" ".join),
        expression_text(),
    )


# --- inputs run in a worker, with time and memory measured --------------------------------------

MEMORY_MB = float(os.environ.get("CONVSYM_FUZZ_MEMORY_MB", "1024"))
"""Extra memory (MiB) one measured input may map in its worker before it counts as a blow-up."""

MEASURED: dict[str, list[tuple[float, float]]] = {}
"""Per test: (seconds, peak MiB of the worker) of every measured input (see :func:`measured`)."""


def _measure(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, float, float]:
    """Body of the worker: the outcome (result text or convsym error), seconds, peak MiB."""
    import resource
    import time

    start = time.perf_counter()
    try:
        outcome: Any = str(fn(*args))[:200]
    except ConvsymError as err:
        check_error(err)
        outcome = err
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return outcome, seconds, peak


def measured(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a killable worker capped at :data:`MEMORY_MB` and the per-input budget.

    Returns the result's text (cut to 200 characters) or the convsym error raised; the time
    and the worker's peak memory are recorded in :data:`MEASURED`.  Running out of time or
    memory fails the test (:class:`Overrun`), as does any other exception (a bug).
    """
    from convsym.budget import run_bounded
    from convsym.errors import BudgetExceeded

    count()
    try:
        outcome, seconds, peak = run_bounded(_measure, fn, args, timeout=EXAMPLE_BUDGET,
                                             memory_mb=MEMORY_MB, what="one fuzz input")
    except BudgetExceeded as err:
        if err.code in ("time_limit", "memory_limit", "worker_died"):
            shown = ", ".join(repr(a)[:300] for a in args)
            raise Overrun(f"{err}: {getattr(fn, '__name__', fn)}({shown})") from None
        raise
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]
    MEASURED.setdefault(test, []).append((seconds, peak))
    return outcome
