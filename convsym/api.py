"""The public API's bounded calls: prove, solve and admissible_inputs in a killable worker.

They run in the worker of :func:`convsym.budget.run_bounded`, so they answer within
``timeout`` seconds plus at most :data:`GRACE` (the worker is killed then, and the answer is
"unknown" with the reason), whatever SymPy or Z3 do inside.  ``convsym.prove``,
``convsym.solve`` and ``convsym.admissible_inputs`` are these, wrapped by
:func:`convsym.guarded.public`.

>>> prove("n // 2 + ceil(n/2) == n", timeout=5).status
'proved'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convsym.budget import Deadline, current, run_bounded
from convsym.errors import BudgetExceeded, ConvsymTypeError
from convsym.expr import as_relation
from convsym.guarded import check_timeout
from convsym.intdiv import to_sympy
from convsym.network import require_network
from convsym.proof import DEFAULT_TIMEOUT, Proof, ProofStep
from convsym.proof import prove as prove_inner
from convsym.whatif import Admissible, Solution
from convsym.whatif import admissible_inputs as inner
from convsym.whatif import solve as solve_inner
from convsym.whatif.inputs import input_symbols
from convsym.whatif.solve import _names
from convsym.whatif.univariate import Limits

__all__ = ["GRACE", "admissible_inputs", "prove", "solve"]


GRACE = 1.0
"""Seconds past ``timeout`` before the worker of a bounded call is killed."""


_STOPPED = ("time_limit", "memory_limit", "worker_died")


def _check_deadline_limits(name: str, deadline: object, limits: object) -> None:
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
