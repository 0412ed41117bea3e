"""The public API's guard: every exception a convsym error, ``timeout=`` a true upper bound.

:func:`public` wraps each function ``convsym`` exports: a call with arguments the function
does not take (a keyword typo) raises :class:`~convsym.errors.UsageError` (code
``bad_call``) naming the closest keyword, and any other exception that is not a convsym
error becomes :class:`~convsym.errors.InternalError` (code ``internal_error``; the original
is its ``__cause__``).  :func:`prove`, :func:`solve` and :func:`admissible_inputs` run in the
killable worker of :func:`convsym.budget.run_bounded`, so they answer within ``timeout``
seconds plus at most :data:`GRACE` (the worker is killed then, and the answer is
"unknown" with the reason), whatever SymPy or Z3 do inside.

>>> prove("n // 2 + ceil(n/2) == n", timeout=5).status
'proved'
>>> import convsym
>>> convsym.prove("n >= 1", timout=1)
Traceback (most recent call last):
convsym.errors.UsageError: prove: no keyword argument 'timout' (did you mean 'timeout'?)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from convsym.budget import Deadline, current, run_bounded
from convsym.errors import (
    BudgetExceeded,
    ConvsymError,
    ConvsymTypeError,
    InternalError,
    UsageError,
    did_you_mean,
)

if TYPE_CHECKING:
    from convsym.proof import Proof
    from convsym.whatif import Admissible, Solution

__all__ = ["GRACE", "admissible_inputs", "check_timeout", "prove", "public", "solve"]

F = TypeVar("F", bound=Callable[..., Any])

GRACE = 1.0
"""Seconds past ``timeout`` before the worker of a bounded call is killed."""

_STOPPED = ("time_limit", "memory_limit", "worker_died")


def public(fn: F) -> F:
    """``fn`` with the public API's error contract (see the module docstring).

    >>> public(lambda: 1 // 0)()
    Traceback (most recent call last):
    convsym.errors.InternalError: <lambda>: internal error (ZeroDivisionError: integer \
division or modulo by zero); please report it at the convsym issue tracker
    """
    if getattr(fn, "__convsym_public__", False):
        return fn
    name = getattr(fn, "__name__", "convsym")

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConvsymError:
            raise
        except MemoryError:
            raise BudgetExceeded(f"{name}: ran out of memory", code="memory_limit") from None
        except TypeError as err:
            problem = _call_problem(fn, name, args, kwargs)
            if problem:
                raise UsageError(problem, code="bad_call") from None
            raise InternalError(_internal(name, err)) from err
        except Exception as err:
            raise InternalError(_internal(name, err)) from err

    guarded.__convsym_public__ = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def _internal(name: str, err: BaseException) -> str:
    return (f"{name}: internal error ({type(err).__name__}: {err}); please report it at the "
            "convsym issue tracker")


def _call_problem(fn: Callable[..., Any], name: str, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> str:
    """Why ``fn`` does not take these arguments, or ``""`` when it does."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as err:
        keywords = [p.name for p in signature.parameters.values()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for key in kwargs:
            if key not in keywords:
                return f"{name}: no keyword argument {key!r}{did_you_mean(key, keywords)}"
        return f"{name}: {err}"
    return ""


def check_timeout(value: object, *, optional: bool, name: str = "timeout") -> float | None:
    """``value`` as seconds: a number more than 0 and at most 3600 (or None if optional).

    >>> check_timeout(-5, optional=False, name="--timeout")
    Traceback (most recent call last):
    convsym.errors.UsageError: --timeout = -5: must be more than 0 and at most 3600 seconds
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConvsymTypeError(f"{name} = {value!r:.60}: expected a number of seconds")
    if not 0 < value <= 3600:  # also refuses NaN
        raise UsageError(f"{name} = {value!r}: must be more than 0 and at most 3600 seconds",
                         code="bad_timeout")
    return float(value)


def _check_deadline_limits(name: str, deadline: object, limits: object) -> None:
    from convsym.whatif.univariate import Limits

    if deadline is not None and not isinstance(deadline, Deadline):
        raise ConvsymTypeError(f"{name}: deadline = {deadline!r:.60}: expected a "
                               "convsym.budget.Deadline or None")
    if limits is not None and not isinstance(limits, Limits):
        raise ConvsymTypeError(f"{name}: limits = {limits!r:.60}: expected a "
                               "convsym.whatif.univariate.Limits or None")


def _seconds_left(timeout: float | None, deadline: Deadline | None) -> float | None:
    left = [x for x in (timeout, None if deadline is None else deadline.remaining())
            if x is not None]
    return min(left) if left else None


def prove(statement: object, assume: object = (), *, timeout: float | None = None) -> Proof:
    """:func:`convsym.proof.prove` in a killable worker: done within ``timeout + GRACE`` s.

    ``timeout`` defaults to the prover's (3 s).  When the worker is stopped (time, memory)
    the proof is "unknown" with the reason.
    """
    from convsym.expr import as_relation
    from convsym.proof import DEFAULT_TIMEOUT
    from convsym.proof import prove as prove_inner

    seconds = check_timeout(DEFAULT_TIMEOUT if timeout is None else timeout, optional=False)
    assert seconds is not None
    try:
        proof: Proof = run_bounded(_with_timeout, prove_inner, seconds, statement, assume,
                                   timeout=seconds + GRACE, memory_mb=current().api_memory_mb,
                                   what="prove")
        return proof
    except BudgetExceeded as err:
        return stopped_proof(as_relation(statement, field="statement"), err, seconds)


def stopped_proof(relation: Any, err: BudgetExceeded, seconds: float) -> Proof:
    """The "unknown" :class:`~convsym.proof.Proof` of a proof stopped by a budget (time,
    memory, or a statement too large to expand: max_terms, max_degree), with the reason as
    its one step; the API and ``convsym prove`` answer alike.  Other errors are re-raised.
    """
    from convsym.proof import Proof, ProofStep

    # a statement too large to work on (max_terms, max_degree) is honestly undecided too
    if err.code not in _STOPPED and err.code != "budget_exceeded":
        raise err
    reason = _stopped("prove", err, seconds)
    kind = {"time_limit": "time limit", "budget_exceeded": "size limit"}
    step = ProofStep(kind.get(err.code, "memory limit"), reason, relation, relation)
    return Proof("unknown", "bounded", relation, steps=(step,), reason=reason)


def solve(target: object, unknowns: Any, where: object = (), bounds: object = None, *,
          timeout: float | None = 10.0, deadline: Deadline | None = None,
          limits: Any = None) -> Solution:
    """:func:`convsym.whatif.solve` in a killable worker when a time limit is given.

    With ``timeout`` (or ``deadline``) the answer comes within that many seconds plus
    :data:`GRACE`; ``timeout=None`` and no deadline run in this process without a limit.
    """
    from convsym.whatif import Solution
    from convsym.whatif import solve as solve_inner
    from convsym.whatif.solve import _names

    seconds = check_timeout(timeout, optional=True)
    _check_deadline_limits("solve", deadline, limits)
    left = _seconds_left(seconds, deadline)
    if left is None:
        return solve_inner(target, unknowns, where, bounds, timeout=None, limits=limits)
    try:
        answer: Solution = run_bounded(_with_timeout, solve_inner, left, target, unknowns,
                                       where, bounds, limits=limits, timeout=left + GRACE,
                                       memory_mb=current().api_memory_mb, what="solve")
        return answer
    except BudgetExceeded as err:
        if err.code not in _STOPPED:
            raise
        return Solution(tuple(_names(unknowns)), "unknown", reason=_stopped("solve", err, left))


def _stopped(name: str, err: BudgetExceeded, seconds: float) -> str:
    """Why a bounded call answers unknown, in the caller's terms (not the worker's)."""
    if err.code == "time_limit":
        return f"{name}: out of time (timeout = {seconds:g} s)"
    return str(err)


def _with_timeout(fn: Callable[..., Any], seconds: float, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, timeout=seconds, **kwargs)``: run_bounded keeps ``timeout`` for itself."""
    return fn(*args, timeout=seconds, **kwargs)


def admissible_inputs(net: Any, *, timeout: float | None = 10.0,
                      deadline: Deadline | None = None, limits: Any = None) -> Admissible:
    """:func:`convsym.whatif.admissible_inputs` in a killable worker (see :func:`solve`)."""
    from convsym.intdiv import to_sympy
    from convsym.network import require_network
    from convsym.whatif import Admissible, Solution
    from convsym.whatif import admissible_inputs as inner
    from convsym.whatif.inputs import input_symbols

    seconds = check_timeout(timeout, optional=True)
    _check_deadline_limits("admissible_inputs", deadline, limits)
    left = _seconds_left(seconds, deadline)
    if left is None:
        return inner(net, timeout=None, limits=limits)
    try:
        found: Admissible = run_bounded(_with_timeout, inner, left, net, limits=limits,
                                        timeout=left + GRACE,
                                        memory_mb=current().api_memory_mb,
                                        what="admissible_inputs")
        return found
    except BudgetExceeded as err:
        if err.code not in _STOPPED:
            raise
        net = require_network(net, "admissible_inputs")
        names = tuple(s.name for s in input_symbols(net))
        inputs = tuple((net.nodes[i].name, tuple(to_sympy(s) for s in shape))
                       for i, shape in sorted(net.input_shapes.items()))
        reason = _stopped("admissible_inputs", err, left)
        return Admissible(net.name, names, Solution(names, "unknown", reason=reason),
                          inputs, tuple(net.output_shape))
