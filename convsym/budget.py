"""Budgets for all work on user input: size caps, a killable worker, a cooperative deadline.

:class:`Budgets` holds every cap with its documented default (``docs/budgets.md``): terms and
degree of one expanded size, layers of one network (Keras nested models inlined), values of
one spec document, elements of one tensor and seconds of one ``verify``, and the seconds and
memory of one bounded API call.  :func:`current` is the budget in force; :func:`raised`
changes it for a ``with`` block; ``CONVSYM_MAX_TERMS=50000`` (the field name in upper case
after ``CONVSYM_``) changes a default for the process.  Work over a cap raises
:func:`exceeded`: one short line with code ``budget_exceeded``, the limit and how to raise it.

>>> current().max_terms
5000
>>> with raised(max_terms=50_000):
...     current().max_terms
50000
>>> print(exceeded("Flatten 'f' at layers[0]: the size", "max_terms", "over 5000 terms"))
... # doctest: +NORMALIZE_WHITESPACE
Flatten 'f' at layers[0]: the size: over 5000 terms; the limit is max_terms = 5000
(raise it with CONVSYM_MAX_TERMS=N or convsym.budget.raised(max_terms=N))

:func:`run_bounded` runs one call in a worker process under a wall-clock limit and an
address-space limit; when a solver or SymPy does not return in time the worker is killed and
:class:`~convsym.errors.BudgetExceeded` is raised (``code`` ``"time_limit"``,
``"memory_limit"`` or ``"worker_died"``), so the caller can answer "unknown" with the reason
(``str(err)``).  :class:`Deadline` is the in-process counterpart for loops that can check the
clock themselves.  :func:`timed` puts a wall-clock budget (``build_seconds``,
``derive_seconds``, ``compare_seconds``) on a block: loops below it call :func:`checkpoint`,
and on the main thread an alarm stops work that never reaches one (``docs/budgets.md``).

>>> run_bounded(pow, 2, 10, timeout=30)
1024
>>> d = Deadline(0.0, what="the period check")
>>> d.expired()
True
>>> d.check()
Traceback (most recent call last):
convsym.errors.BudgetExceeded: the period check: out of time (the budget is 0 s)
>>> Deadline(None).expired()
False

A worker is forked (``fork`` start method where the platform has it), so ``fn`` may be any
callable, including a closure; the result (and any exception) must be picklable.  Errors
raised by ``fn`` come back unchanged: convsym errors stay convsym errors, and a bug stays a
bug (it is never turned into "unknown").
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

from convsym.collector import collector_paused
from convsym.errors import BudgetExceeded, ConvsymError, OutOfTime, UsageError, did_you_mean

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "Budgets",
    "Deadline",
    "WorkerCrashed",
    "building",
    "checkpoint",
    "current",
    "exceeded",
    "raised",
    "run_bounded",
    "timed",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
"""Seconds a bounded call may take unless the caller says otherwise."""

DEFAULT_MEMORY_MB = 2048
"""Extra address space (MiB) a worker may map beyond what it inherited."""

_KILL_GRACE = 2.0
_SLICE = 3600.0


@dataclass(frozen=True)
class Budgets:
    """Every cap on work done for user input, with its default (see ``docs/budgets.md``).

    >>> Budgets(max_terms=5).max_terms
    5
    >>> Budgets(max_terms=0)
    Traceback (most recent call last):
    convsym.errors.UsageError: budget max_terms = 0: must be a positive integer
    """

    max_terms: int = 5_000
    """Terms of one expanded size polynomial (shapes, parameter counts, substitutions)."""
    max_degree: int = 256
    """Total degree of a term produced by expanding a product of sums."""
    max_exponent: int = 100_000
    """Total degree of any term (a single term times a size only adds exponents)."""
    max_layers: int = 100_000
    """Layers of one network, counting every call of an inlined Keras nested model."""
    max_document_values: int = 250_000
    """Values (mappings, lists, scalars) visited in one spec document, shared ones each time."""
    verify_elements: int = 1 << 24
    """Elements of one tensor ``verify`` builds (16 Mi: 64 MiB of float32)."""
    verify_macs: int = 1 << 32
    """Multiply-accumulates of one layer ``verify`` runs (4 Gi: seconds in PyTorch)."""
    verify_seconds: float = 120.0
    """Seconds one ``verify`` may run before it stops with ``budget_exceeded``."""
    api_memory_mb: int = DEFAULT_MEMORY_MB
    """Extra memory (MiB) of the worker running a bounded API call (prove, solve, ...)."""
    build_seconds: float = 60.0
    """Seconds building one network may take (reading, inlining, every layer's inference,
    substitutions), checked before each layer and inside long decisions."""
    derive_seconds: float = 60.0
    """Seconds deriving one network may take (each step's sizes simplified by the period
    check), checked before each layer and inside long decisions."""
    compare_seconds: float = 60.0
    """Seconds comparing two built networks may take (row differences), checked per row."""

    def __hash__(self) -> int:
        # made once per object: the budgets in force key the memos of every layer's checks
        # (a room, a text size, a threshold), and the generated hash reads every field
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = hash(dataclasses.astuple(self))
            object.__setattr__(self, "_hash", found)
        return found

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            number = (int, float) if item.type in ("float", float) else (int,)
            if isinstance(value, bool) or not isinstance(value, number) or \
                    not math.isfinite(value) or value <= 0:
                kind = "number" if float in number else "integer"
                raise UsageError(f"budget {item.name} = {value!r:.60}: must be a positive "
                                 f"{kind}", code="bad_budget")


def _from_environment() -> Budgets:
    """The defaults, changed by ``CONVSYM_<FIELD>`` environment variables."""
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(Budgets):
        text = os.environ.get(f"CONVSYM_{item.name.upper()}")
        if text is None:
            continue
        try:
            changes[item.name] = float(text) if item.type in ("float", float) else int(text)
        except ValueError:
            raise UsageError(f"CONVSYM_{item.name.upper()} = {text!r:.60}: must be a "
                             "positive number", code="bad_budget") from None
    return Budgets(**changes)


_CURRENT: ContextVar[Budgets | None] = ContextVar("convsym_budgets", default=None)


def current() -> Budgets:
    """The budgets in force (the environment's defaults unless :func:`raised` changed them)."""
    found = _CURRENT.get()
    if found is None:
        found = _from_environment()
        _CURRENT.set(found)
    return found


@contextlib.contextmanager
def raised(**changes: Any) -> Iterator[Budgets]:
    """Change some budgets for the ``with`` block (raise or lower them).

    >>> with raised(verify_seconds=600) as b:
    ...     b.verify_seconds
    600
    >>> with raised(max_term=1):
    ...     pass
    Traceback (most recent call last):
    convsym.errors.UsageError: raised: no budget 'max_term' (did you mean 'max_terms'?)
    """
    names = [item.name for item in dataclasses.fields(Budgets)]
    for name in changes:
        if name not in names:
            raise UsageError(f"raised: no budget {name!r}{did_you_mean(name, names)}",
                             code="bad_budget")
    budgets = dataclasses.replace(current(), **changes)
    token = _CURRENT.set(budgets)
    try:
        yield budgets
    finally:
        _CURRENT.reset(token)


def exceeded(what: str, name: str, detail: str) -> BudgetExceeded:
    """The error for work over the budget ``name``: what, why, the limit, how to raise it."""
    limit = getattr(current(), name)
    shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
    kind = OutOfTime if name.endswith("_seconds") else BudgetExceeded
    return kind(f"{what}: {detail}; the limit is {name} = {shown} (raise it with "
                          f"CONVSYM_{name.upper()}=N or convsym.budget.raised({name}=N))",
                          code="budget_exceeded")


Doing = str | Callable[[], str]
"""What a check is about to do, for its message: text, or a function making it."""


@dataclass(frozen=True)
class _Clock:
    """A wall-clock budget in force: the field ``name`` of :class:`Budgets`, for ``what``."""

    name: str
    what: str
    start: float
    seconds: float

    def check(self, doing: Doing = "") -> None:
        spent = time.monotonic() - self.start
        if spent > self.seconds:
            if not isinstance(doing, str):
                doing = doing()  # (a text made only when needed: a network's every layer)
            before = f" before {doing}" if doing else ""
            raise exceeded(self.what, self.name, f"out of time{before} (after {spent:.3g} s)")


_CLOCKS: ContextVar[tuple[_Clock, ...]] = ContextVar("convsym_clocks", default=())


@contextlib.contextmanager
def timed(name: str, what: str) -> Iterator[Callable[[Doing], None]]:
    """A wall-clock budget, the ``*_seconds`` field ``name``, for ``what``; yields a check.

    Nested blocks of the same budget (a Keras nested model, ``subs``, the CLI reading a file
    then building and substituting) share the outermost one's clock; blocks of different
    budgets (a layer's network built while deriving) each keep theirs.  ``check(doing)``,
    and :func:`checkpoint` anywhere below the block, raise
    :class:`~convsym.errors.OutOfTime` (code ``budget_exceeded``) once the time is up.

    >>> with raised(derive_seconds=1e-9), timed("derive_seconds", "deriving 'net'") as check:
    ...     check("layer 'conv' at layers[0]")
    Traceback (most recent call last):
    convsym.errors.OutOfTime: deriving 'net': out of time before layer 'conv' at \
layers[0] (after ... s); the limit is derive_seconds = 1e-09 (raise it with \
CONVSYM_DERIVE_SECONDS=N or convsym.budget.raised(derive_seconds=N))
    """
    clocks = _CLOCKS.get()
    clock = next((c for c in clocks if c.name == name), None)
    if clock is not None:  # the outer block of this budget keeps the time
        yield clock.check
        return
    clock = _Clock(name, what, time.monotonic(), getattr(current(), name))
    token = _CLOCKS.set((*clocks, clock))
    armed = _arm(clock)
    try:
        yield clock.check
    except _Expired as stop:
        if stop.clock is not clock:
            raise  # an outer clock's: its own block says so
        raise exceeded(what, name, f"out of time (after {time.monotonic() - clock.start:.3g} "
                       "s, stopped by the alarm)") from None
    finally:
        if armed:
            _disarm(clock)
        _CLOCKS.reset(token)


class _Expired(BaseException):
    """Raised by the alarm inside work that never reaches a check (a pure-Python loop in a
    torch ``forward``, one long SymPy call); :func:`timed` turns it into ``OutOfTime``.

    A ``BaseException`` (like ``KeyboardInterrupt``), so the ``except Exception`` of the
    code it interrupts (SymPy's, a user's ``forward``) does not swallow it.
    """

    def __init__(self, clock: _Clock) -> None:
        super().__init__(clock.what)
        self.clock = clock


_ALARMED: list[_Clock] = []
"""Clocks with the alarm armed for them, outermost first (main thread only)."""
_PREVIOUS: list[Any] = []
"""The SIGALRM handler found when the first clock armed the alarm (restored after the last)."""
_RETRY = 0.01
"""Seconds after which the alarm tries again when it lands in a block's exit (see below)."""


_RAW_SIGNAL: Any = sys.modules.get("_signal", signal)
"""The C functions behind ``signal.signal`` and ``signal.getsignal`` where there are (CPython's
``_signal``): the same calls without turning each handler into an enum member, which for a
function handler costs a ValueError raised and caught, a share of every network's build."""


def _arm(clock: _Clock) -> bool:
    """Arm ``ITIMER_REAL`` for ``clock``, when that is safe; True when armed.

    Only on the main thread (where Python runs signal handlers), with SIGALRM's default
    disposition and no timer running (a user's own alarm, a test runner's timeout: never
    touched), or the alarm already ours for an outer clock.
    """
    itimer = getattr(signal, "ITIMER_REAL", None)
    if itimer is None or not hasattr(signal, "SIGALRM"):
        return False  # not POSIX: the cooperative checks still hold
    # why: threading is already loaded by any program that could call this off the main thread
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    if not _ALARMED:
        if _RAW_SIGNAL.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None) or \
                signal.getitimer(itimer) != (0.0, 0.0):
            return False
        _PREVIOUS[:] = [_RAW_SIGNAL.signal(signal.SIGALRM, _on_alarm)]
    _ALARMED.append(clock)
    _reset_timer()
    return True


def _disarm(clock: _Clock) -> None:
    """Remove ``clock``; the last one stops the timer and restores the previous handler."""
    if clock in _ALARMED:
        _ALARMED.remove(clock)  # first: an alarm from now on finds nothing of this clock
    if _ALARMED:
        _reset_timer()
        return
    signal.setitimer(signal.ITIMER_REAL, 0.0)
    if _PREVIOUS:
        _RAW_SIGNAL.signal(signal.SIGALRM, _PREVIOUS.pop())


def _reset_timer() -> None:
    left = min(c.start + c.seconds - time.monotonic() for c in _ALARMED)
    signal.setitimer(signal.ITIMER_REAL, max(left, 1e-4))


def _on_alarm(signum: int, frame: Any) -> None:
    """The SIGALRM handler: stop the work of the first expired clock."""
    expired = [c for c in _ALARMED if time.monotonic() - c.start > c.seconds]
    if not expired:
        if _ALARMED:  # early (a clock's start moved): wait for the earliest end
            _reset_timer()
        return
    # never inside a block's exit or this module (a ContextVar reset, SymPy's global
    # `evaluate` flag restored, the timer itself): leaving one half done could change later
    # results in this process; try again a moment later instead
    here = frame
    for _ in range(12):
        if here is None:
            break
        code = here.f_code
        if code.co_filename in (__file__, contextlib.__file__) or \
                code.co_name in ("__exit__", "__aexit__", "__del__"):
            signal.setitimer(signal.ITIMER_REAL, _RETRY)
            return
        here = here.f_back
    raise _Expired(expired[0])


def building() -> contextlib.AbstractContextManager[Callable[[Doing], None]]:
    """The wall-clock budget ``build_seconds`` for building a network (see :func:`timed`).

    >>> with raised(build_seconds=1e-9), building() as check:
    ...     check("layer 'conv' at layers[0]")
    Traceback (most recent call last):
    convsym.errors.OutOfTime: building the network: out of time before layer 'conv' at \
layers[0] (after ... s); the limit is build_seconds = 1e-09 (raise it with \
CONVSYM_BUILD_SECONDS=N or convsym.budget.raised(build_seconds=N))
    """
    return _building()


@contextlib.contextmanager
def _building() -> Iterator[Callable[[Doing], None]]:
    # (everything a build makes survives it: the collector's rescans are waste, see collector)
    with timed("build_seconds", "building the network") as check, collector_paused():
        yield check


def checkpoint(doing: str = "") -> None:
    """Raise :class:`~convsym.errors.OutOfTime` when a wall-clock budget in force is spent.

    Cheap (a context lookup and a clock read): loops that may run long on user input call
    it (the period check's residue classes, expanding a large product), so one long step of
    a build or a derivation stops within its budget, not only the next layer.

    >>> checkpoint()  # no budget in force: nothing to check
    >>> with raised(build_seconds=1e-9), building():
    ...     checkpoint("the residue classes")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convsym.errors.OutOfTime: building the network: out of time before the residue classes ...
    """
    for clock in _CLOCKS.get():
        clock.check(doing)


class WorkerCrashed(RuntimeError):
    """A worker raised an exception that could not be sent back; carries its traceback text.

    This is a bug (not bad input), so it is deliberately not a convsym error.
    """


@dataclass
class Deadline:
    """A point in time after which cooperative work stops; ``seconds=None`` never expires.

    >>> d = Deadline(60, what="solve")
    >>> d.expired(), 59 < d.remaining() <= 60
    (False, True)
    >>> d.within(5).remaining() <= 5
    True
    """

    seconds: float | None
    what: str = "the work"
    start: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.seconds is not None:
            if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) \
                    or math.isnan(self.seconds) or self.seconds < 0:
                raise UsageError(f"Deadline: seconds = {self.seconds!r}: must be a number "
                                 ">= 0 or None", code="bad_budget")

    def remaining(self) -> float:
        """Seconds left (``math.inf`` without a limit, ``0.0`` once expired)."""
        if self.seconds is None:
            return math.inf
        return max(0.0, self.start + self.seconds - time.monotonic())

    def expired(self) -> bool:
        """Whether the time is up."""
        return self.seconds is not None and time.monotonic() >= self.start + self.seconds

    def check(self, doing: str = "") -> None:
        """Raise :class:`BudgetExceeded` (code ``time_limit``) once the time is up."""
        if self.expired():
            during = f" during {doing}" if doing else ""
            raise BudgetExceeded(f"{self.what}: out of time{during} (the budget is "
                                 f"{_seconds(self.seconds)} s)", code="time_limit")

    def within(self, seconds: float | None, what: str | None = None) -> Deadline:
        """A deadline that ends at ``seconds`` from now or at this one, whichever is first."""
        limits = [x for x in (seconds, None if self.seconds is None else self.remaining())
                  if x is not None]
        return Deadline(min(limits) if limits else None, what or self.what)


def _seconds(value: float | None) -> str:
    if value is None:
        return "unlimited"
    return f"{value:g}"


def _check_limits(timeout: float | None, memory_mb: float | None) -> None:
    for name, value in (("timeout", timeout), ("memory_mb", memory_mb)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value <= 0:
            raise UsageError(f"{name} = {value!r:.60}: must be a positive number or None",
                             code="bad_budget")


def _mapped_bytes() -> int:
    """The address space this process maps now (Linux ``/proc``; 0 when unknown)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(memory_mb: float | None) -> None:
    """Cap the worker's address space at what it maps now plus ``memory_mb``."""
    if memory_mb is None:
        return
    try:
        # why: POSIX only (the except below)
        import resource
    except ImportError:  # not on POSIX: the time limit still holds
        return
    cap = _mapped_bytes() + int(memory_mb * 1024 * 1024)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):
        pass


def _worker(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...],
            kwargs: dict[str, Any], memory_mb: float | None) -> None:
    """Body of the worker: run, then send one pickled ``(tag, ...)`` message through ``conn``."""
    try:
        _limit_memory(memory_mb)
        try:
            message: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
        except MemoryError:
            message = ("memory",)
        except BaseException as err:  # noqa: BLE001 - every outcome goes back to the parent
            message = ("raised", err, traceback.format_exc())
        try:
            data = _dumps(message)
        except MemoryError:
            data = _dumps(("memory",))
        except Exception as err:  # noqa: BLE001 - an unpicklable result or exception
            text = message[-1] if message[0] == "raised" else ""
            data = _dumps(("unpicklable", f"{type(err).__name__}: {err}", text))
        conn.send_bytes(data)
    finally:
        conn.close()


class _Pickler(pickle.Pickler):
    """Pickles exceptions by class, args and attributes, wherever they sit in a result.

    Exceptions with their own ``__init__`` (every :class:`LayerError`) do not survive plain
    ``pickle``: unpickling calls ``cls(*args)``.  They are rebuilt without ``__init__``.
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseException):
            return _rebuild, _portable(obj)
        if _is_sympy_tree(obj):
            return _rebuild_sympy, (type(obj), obj.args)
        return NotImplemented


def _is_sympy_tree(obj: Any) -> bool:
    """A SymPy expression or relation with sub-expressions (not a symbol or a number).

    SymPy pickles these as ``cls(*args)``, which evaluates again: ``Eq(n, n)`` would come
    back as ``True`` and an unevaluated ``Max`` would be simplified.  They are rebuilt as
    they were, without evaluation.
    """
    module = type(obj).__module__
    if not module.startswith("sympy.") or not hasattr(obj, "is_Atom") or obj.is_Atom:
        return False
    # why: `convsym --help` imports this module; SymPy loads only when the work needs it
    import sympy
    from sympy.core.function import Application
    from sympy.core.relational import Relational
    from sympy.logic.boolalg import BooleanFunction

    return isinstance(obj, (sympy.Add, sympy.Mul, sympy.Pow, sympy.Min, sympy.Max, sympy.Tuple,
                            Relational, Application, BooleanFunction))


def _rebuild_sympy(cls: type[Any], args: tuple[Any, ...]) -> Any:
    # why: `convsym --help` imports this module; SymPy loads only when the work needs it
    import sympy
    from sympy.core.function import Application
    from sympy.core.operations import AssocOp
    from sympy.core.relational import Relational

    if issubclass(cls, (sympy.Min, sympy.Max, sympy.Pow, Application, Relational)):
        return cls(*args, evaluate=False)
    if issubclass(cls, AssocOp):  # Add, Mul: the constructor that sets their flags
        return cls._from_args(args)
    return sympy.Basic.__new__(cls, *args)


def _dumps(message: tuple[Any, ...]) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    return buffer.getvalue()


def _portable(err: BaseException) -> tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]:
    """An exception as (class, args, attributes), each attribute picklable or its repr."""
    state: dict[str, Any] = {}
    for key, value in vars(err).items():
        if key.startswith("__"):
            continue
        state[key] = value if _picklable(value) else repr(value)
    args = tuple(a if _picklable(a) else repr(a) for a in err.args)
    return type(err), args, state


def _picklable(value: object) -> bool:
    try:
        _Pickler(io.BytesIO()).dump(value)
    except Exception:  # noqa: BLE001
        return False
    return True


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
             ) -> BaseException:
    err = cls.__new__(cls, *args)
    err.args = args
    for key, value in state.items():
        try:
            setattr(err, key, value)
        except AttributeError:
            pass
    return err


def run_bounded(fn: Callable[..., T], *args: Any, timeout: float | None = DEFAULT_TIMEOUT,
                memory_mb: float | None = DEFAULT_MEMORY_MB, what: str = "",
                **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker process, killed after ``timeout`` seconds.

    ``memory_mb`` caps the extra address space of the worker (``RLIMIT_AS``).  Returns what
    ``fn`` returns; raises what ``fn`` raises; raises :class:`BudgetExceeded` with code
    ``time_limit`` (killed after the timeout), ``memory_limit`` (``MemoryError`` in the
    worker) or ``worker_died`` (the worker ended without an answer, e.g. a crash in a
    C extension).  ``what`` names the work in the message.

    >>> run_bounded(sorted, [3, 1, 2], what="sorting")
    [1, 2, 3]
    >>> import time
    >>> run_bounded(time.sleep, 30, timeout=0.2, what="a nap")
    Traceback (most recent call last):
    convsym.errors.BudgetExceeded: a nap: stopped after 0.2 s (the time budget)
    """
    # why: the worker machinery loads only for a bounded call
    import multiprocessing

    _check_limits(timeout, memory_mb)
    name = what or getattr(fn, "__name__", "the work")
    methods = multiprocessing.get_all_start_methods()
    ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(send, fn, args, kwargs, memory_mb),
                          name=f"convsym-bounded:{name}"[:60])
    process.start()
    send.close()
    try:
        ready = _wait(receive, timeout)
        if not ready:
            raise BudgetExceeded(f"{name}: stopped after {_seconds(timeout)} s (the time "
                                 "budget)", code="time_limit")
        try:
            data = receive.recv_bytes()
        except (EOFError, OSError):
            process.join(_KILL_GRACE)
            raise BudgetExceeded(f"{name}: the worker process ended without an answer "
                                 f"({_exit_text(process.exitcode)})",
                                 code="worker_died") from None
    finally:
        receive.close()
        _stop(process)
    try:
        message = pickle.loads(data)  # noqa: S301 - bytes from our own worker
    except Exception as err:  # noqa: BLE001 - a result that pickles but does not unpickle
        raise WorkerCrashed(f"{name}: cannot read the worker's answer: "
                            f"{type(err).__name__}: {err}") from None
    tag = message[0]
    if tag == "ok":
        return message[1]  # type: ignore[no-any-return]
    if tag == "memory":
        raise BudgetExceeded(f"{name}: ran out of memory (the budget is "
                             f"{_seconds(memory_mb)} MiB)", code="memory_limit")
    if tag == "raised":
        _, failure, text = message
        note = getattr(failure, "add_note", None)  # Python 3.11+
        if not isinstance(failure, ConvsymError) and note is not None:  # a bug: keep its trace
            note(f"raised in the worker process of run_bounded:\n{text}")
        raise failure
    raise WorkerCrashed(f"{name}: {message[1]}\n{message[2]}")


def _wait(conn: Connection, timeout: float | None) -> bool:
    """Wait for the worker's answer, in slices (``poll`` overflows on huge timeouts)."""
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        left = _SLICE if end is None else min(_SLICE, end - time.monotonic())
        if conn.poll(max(left, 0.0)):
            return True
        if end is not None and time.monotonic() >= end:
            return False


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _stop(process: Any) -> None:
    """Make sure the worker is gone: join briefly, then terminate, then kill."""
    process.join(0.05 if process.is_alive() else None)
    if process.is_alive():
        process.terminate()
        process.join(_KILL_GRACE)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()
