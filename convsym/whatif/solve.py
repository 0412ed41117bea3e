"""``solve``: every integer value of unknowns meeting a network's conditions and targets.

The system is every layer's side condition plus the targets (``where``), written with the
names of :mod:`convsym.whatif.quantities` (``out_H == 8``, ``params <= 100000``) or as plain
expressions.  The answer is an exact :class:`~convsym.whatif.solution.Solution` (finite sets
listed, infinite ones as residue classes with bounds) or "unknown" with the reason; it is
never a guess.  Symbols that are neither unknowns nor fixed are *projected*: the answer is
the set of unknowns for which some value of them works.

>>> from convsym.layers.torch import Conv2d
>>> from convsym import Sequential
>>> net = Sequential([Conv2d(3, 8, 3, stride="s")], input_shape=(3, 32, 32))
>>> print(solve(net, "s", where="out_H == 8").describe())
s in {4}
>>> print(solve("floor((n - 3)/2) + 1 == 8", "n").describe())
n in {17, 18}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import sympy
from sympy.core.relational import Relational

from convsym.budget import Deadline
from convsym.domains import (
    DEFAULT_LOW,
    check_declared,
    declared_low,
    domain_symbol,
    neutral,
    neutral_relation,
    rebuild,
)
from convsym.errors import (
    BudgetExceeded,
    ExpressionError,
    LayerError,
    UsageError,
    did_you_mean,
    said,
)
from convsym.expr import as_relation
from convsym.network import Network
from convsym.whatif.constraints import Constraint, from_relation
from convsym.whatif.intset import IntSet
from convsym.whatif.quantities import as_condition, resolve
from convsym.whatif.solution import Solution
from convsym.whatif.steps import Step
from convsym.whatif.system import Cell, solve_system
from convsym.whatif.univariate import DEFAULT_LIMITS, Limits, Undecided

if TYPE_CHECKING:
    from convsym.network import Network

DEFAULT_TIMEOUT = 10.0
"""Seconds a solve may take before it answers "unknown"."""

Bound = tuple[int | None, int | None]


def solve(target: object, unknowns: str | sympy.Symbol | Iterable[str | sympy.Symbol],
          where: object = (), bounds: object = None, *, timeout: float | None = DEFAULT_TIMEOUT,
          deadline: Deadline | None = None, limits: Limits | None = None) -> Solution:
    """Every integer value of ``unknowns`` meeting the conditions, exactly.

    ``target`` is a :class:`~convsym.network.Network` (its side conditions join the system)
    or one or more conditions (text or SymPy relations).  ``where`` adds conditions;
    ``bounds`` limits unknowns: ``{"k": (1, 9)}`` or text such as ``"1 <= k <= 9"``.
    Unknowns default to their symbol's domain (sizes >= 1; nonnegative symbols >= 0).
    """
    names = _names(unknowns)
    limits = limits or DEFAULT_LIMITS
    deadline = deadline or Deadline(timeout, what="solve")
    given = parse_bounds(bounds)
    wheres = [(w, said(f"where[{i}]", "--where")) for i, w in enumerate(_listed(where))]
    lows: dict[str, int | None] = {}
    if isinstance(target, Network):
        lows = {s.name: declared_low(s) for s in target.all_symbols()}
        lows.update({k: lo for k, (lo, _) in given.items() if lo is not None})
        # text is read with no sign (valid for every integer): the network's own symbols
        # replace those names later, and values below their domain are substituted
        relations = [_read(w, field, lows, None) for w, field in wheres]
        return _solve_network(target, names, relations, given, deadline, limits)
    targets = [(t, f"condition[{i}]") for i, t in enumerate(_listed(target))]
    for value, _ in targets + wheres:
        for s in value.free_symbols if isinstance(value, sympy.Basic) else ():
            low = declared_low(s) if isinstance(s, sympy.Symbol) else None
            if low is not None:
                lows[s.name] = max(low, lows.get(s.name) or low)
    lows.update({k: lo for k, (lo, _) in given.items() if lo is not None})
    conditions = [_read(t, field, lows, domain_symbol) for t, field in targets]
    relations = [_read(w, field, lows, domain_symbol) for w, field in wheres]
    _check_divisors(conditions + relations, given)
    cons = [from_relation(r, origin=f"condition {i + 1}") for i, r in
            enumerate(conditions + relations)]
    known = {s.name: s for c in cons for s in c.symbols}
    syms = [_symbol_for(n, known) for n in names]
    return _finish(cons, syms, given, deadline, limits, [], title="")


def _read(value: object, field: str, lows: Mapping[str, int | None],
          typed: Callable[[str, int | None], sympy.Symbol] | None) -> Relational:
    """One condition, read on its domain (``lows``; see :mod:`convsym.domains`): text with
    ``typed(name, low)`` symbols (None: no sign at all); a SymPy relation is refused when a
    symbol declares a narrower domain, and its symbols are swapped for ``typed`` ones."""
    def namer(name: str) -> sympy.Symbol:
        return neutral(name) if typed is None else typed(name, lows.get(name, DEFAULT_LOW))

    if isinstance(value, str):
        return as_condition(value, field=field, symbols=namer)
    rel = as_condition(value, field=field)
    check_declared(rel, lows, field)
    if typed is None:
        return rel
    return rebuild(rel, {s: namer(s.name) for s in rel.free_symbols
                         if isinstance(s, sympy.Symbol)})


def _check_divisors(relations: list[Relational], given: Mapping[str, Bound]) -> None:
    """A symbol in a divisor may not go below 1 (the canonical form divides by positives)."""
    for name, (lo, _) in given.items():
        if lo is None or lo >= 1:
            continue
        for rel in relations:
            for power in rel.atoms(sympy.Pow):
                if power.exp.is_negative and name in {s.name for s in power.base.free_symbols}:
                    raise UsageError(f"{_bounds()}: {name} appears in a divisor ({rel}), so "
                                     "it must be >= 1", code="divisor_below_one")


def parse_bounds(bounds: object) -> dict[str, Bound]:
    """Bounds as ``{name: (lo, hi)}`` from a mapping or text (``"1 <= k <= 9"``, ``"p >= 0"``).

    >>> parse_bounds(["1 <= k <= 9", "p >= 0"])
    {'k': (1, 9), 'p': (0, None)}
    """
    if bounds is None:
        return {}
    out: dict[str, list[int | None]] = {}
    if isinstance(bounds, Mapping):
        for name, value in bounds.items():
            lo: int | None
            hi: int | None
            if isinstance(value, int) and not isinstance(value, bool):
                lo, hi = value, value
            elif isinstance(value, (tuple, list)) and len(value) == 2:
                lo, hi = value
            else:
                raise UsageError(f"bounds[{name!r}] = {value!r}: give (lo, hi) with hi None "
                                 "for no upper end, or one integer", code="bad_bounds")
            if not isinstance(lo, int) or isinstance(lo, bool) or not (
                    hi is None or (isinstance(hi, int) and not isinstance(hi, bool))):
                raise UsageError(f"bounds[{name!r}] = {value!r}: the ends must be integers",
                                 code="bad_bounds")
            _tighten(out, str(name), lo, hi)
        return {k: (v[0], v[1]) for k, v in out.items()}
    for item in _listed(bounds):
        for rel in _bound_relations(item):
            name, lo, hi = _one_bound(rel)
            _tighten(out, name, lo, hi)
    return {k: (v[0], v[1]) for k, v in out.items()}


def _tighten(out: dict[str, list[int | None]], name: str, lo: int | None, hi: int | None
             ) -> None:
    have = out.setdefault(name, [None, None])
    if lo is not None:
        have[0] = lo if have[0] is None else max(have[0], lo)
    if hi is not None:
        have[1] = hi if have[1] is None else min(have[1], hi)


_COMPARE = re.compile(r"(<=|>=|==|<|>)")


def _bound_relations(item: object) -> list[Relational]:
    if not isinstance(item, str):
        return [as_relation(item, field=_bounds())]
    try:  # with no sign: a positive p would turn abs(p) >= 2 into the bound p >= 2
        return [neutral_relation(item, field=_bounds())]
    except ExpressionError as err:
        if "chained comparison" not in str(err):
            raise
    parts = _COMPARE.split(item)
    if len(parts) != 5:
        raise ExpressionError(f"bounds: {item!r}: write LO <= NAME <= HI", code="bad_bounds")
    a, op1, b, op2, c = parts
    return [neutral_relation(f"{a} {op1} {b}", field=_bounds()),
            neutral_relation(f"{b} {op2} {c}", field=_bounds())]


def _one_bound(rel: Relational) -> tuple[str, int | None, int | None]:
    lhs, rhs, op = rel.lhs, rel.rhs, rel.rel_op
    if isinstance(lhs, sympy.Integer) and isinstance(rhs, sympy.Symbol):
        lhs, rhs = rhs, lhs
        op = {"<=": ">=", ">=": "<=", "<": ">", ">": "<"}.get(op, op)
    if not (isinstance(lhs, sympy.Symbol) and isinstance(rhs, sympy.Integer)):
        raise UsageError(f"{_bounds()}: {rel}: a bound compares one unknown with an integer, e.g. "
                         "k <= 9 or 1 <= k <= 9", code="bad_bounds")
    v = int(rhs)
    table: dict[str, tuple[int | None, int | None]] = {
        "<=": (None, v), "<": (None, v - 1), ">=": (v, None), ">": (v + 1, None),
        "==": (v, v)}
    if op not in table:
        raise UsageError(f"{_bounds()}: {rel}: use <=, <, >=, > or ==", code="bad_bounds")
    lo, hi = table[op]
    return lhs.name, lo, hi


def domain_lo(sym: sympy.Symbol) -> int:
    """The smallest value of a symbol by default: 0 for nonnegative ones, else 1."""
    low = declared_low(sym)
    return DEFAULT_LOW if low is None else low


# --- networks ------------------------------------------------------------------------------


def network_constraints(net: Network) -> list[Constraint]:
    """The side conditions of every layer, as constraints."""
    return [Constraint(c.expr, c.kind, f"layer {c.layer!r} ({c.axis}): {c.rule}",
                       c.relation())
            for c in net.condition_records]


def _solve_network(net: Network, names: list[str], relations: list[Relational],
                   given: dict[str, Bound], deadline: Deadline, limits: Limits) -> Solution:
    targets = [resolve(net, r, field=said(f"where[{i}]", "--where"), allowed=set(names))
               for i, r in enumerate(relations)]
    cons = network_constraints(net) + targets
    known = {s.name: s for s in net.all_symbols()}
    known.update({s.name: s for c in targets for s in c.symbols if s.name not in known})
    syms = [_symbol_for(n, known) for n in names]
    pieces: list[Cell] = []
    steps: list[Step] = []
    in_network = net.all_symbols()
    lowered: dict[str, int] = {}
    original_given = dict(given)
    for sym in syms:
        lo, hi = given.get(sym.name, (None, None))
        bottom = domain_lo(sym)
        if lo is None or lo >= bottom or sym not in in_network:
            continue
        rest = [n for n in names if n != sym.name]
        for v in range(lo, bottom if hi is None else min(bottom, hi + 1)):
            part = _at_value(net, sym, v, rest, relations, given, deadline, limits, steps)
            if not part.exact:
                return Solution(tuple(names), "unknown", reason=part.reason,
                                steps=tuple(steps))
            pieces.extend({**c, sym.name: IntSet.points([v])} for c in part.cells)
        lowered[sym.name] = bottom
        given = {**given, sym.name: (bottom, hi)}
    original = original_given
    answer = _finish(cons, syms, given, deadline, limits, steps, title=f"{net.name}")
    if not lowered:
        return answer
    shown: dict[str, tuple[int, int | None]] = {}
    for n, (lo, hi) in answer.bounds.items():
        first = original[n][0] if n in lowered else None
        shown[n] = (lo if first is None else first, hi)
    cells = tuple(pieces) + answer.cells if answer.exact else ()
    return Solution(answer.unknowns, answer.status, cells, answer.reason, answer.steps,
                    answer.conditions, shown, answer.projected, answer.title)


def _at_value(net: Network, sym: sympy.Symbol, v: int, rest: list[str],
              relations: list[Relational], given: dict[str, Bound], deadline: Deadline,
              limits: Limits, steps: list[Step]) -> Solution:
    """The case ``sym = v`` below the symbol's domain: substitute and solve the rest."""
    try:
        fixed = net.subs({sym.name: v})
    except LayerError as err:
        steps.append(Step("case", "Case {0}: the network is invalid ({1}).",
                          (sympy.Eq(sym, v, evaluate=False), str(err))))
        return Solution(tuple(rest), "exact", ())
    swapped = [sympy.Rel(r.lhs.xreplace({sym: v}), r.rhs.xreplace({sym: v}), r.rel_op,
                         evaluate=False) for r in relations]
    part = _solve_network(fixed, rest, swapped, {k: b for k, b in given.items()
                                                 if k != sym.name}, deadline, limits)
    found = part.describe() if part.exact else f"unknown ({part.reason})"
    steps.append(Step("case", "Case {0} (below the symbol's domain, so the network is rebuilt "
                      "with it): {1}.", (sympy.Eq(sym, v, evaluate=False), found if rest else
                                         ("valid" if part.cells else "no solution"))))
    return part


# --- the common part -------------------------------------------------------------------------


def _finish(cons: list[Constraint], syms: list[sympy.Symbol], given: dict[str, Bound],
            deadline: Deadline, limits: Limits, steps: list[Step], *, title: str) -> Solution:
    names = tuple(s.name for s in syms)
    others = sorted({s for c in cons for s in c.symbols} - set(syms), key=lambda s: s.name)
    variables = syms + others
    bounds: dict[sympy.Symbol, tuple[int, int | None]] = {}
    for s in variables:
        lo, hi = given.get(s.name, (None, None))
        bounds[s] = (domain_lo(s) if lo is None else lo, hi)
    for key in given:
        if key not in {s.name for s in variables}:
            raise UsageError(f"{_bounds()}: {key!r} is not a symbol of the system"
                             f"{did_you_mean(key, [s.name for s in variables])}",
                             code="unknown_symbol")
    conditions = tuple((c.shown, c.origin) for c in cons)
    shown_bounds = {s.name: bounds[s] for s in syms}
    steps = list(steps)
    steps.append(Step("system", "The system: {0} condition(s) (every layer's side conditions "
                      "and the targets), unknowns {1}{2}.",
                      (len(cons), ", ".join(names) or "none",
                       f"; {', '.join(s.name for s in others)} not fixed (projected)"
                       if others else "")))
    for rel, origin in conditions:
        steps.append(Step("condition", "Condition {0}: from {1}.", (rel, origin)))
    for s in syms:
        lo, hi = bounds[s]
        steps.append(Step("bounds", "Domain of {0}: {1}.",
                          (s, f"{lo} <= {s.name}" + (f" <= {hi}" if hi is not None else ""))))
    try:
        answer = solve_system(cons, variables, bounds, deadline=deadline, limits=limits)
    except Undecided as why:
        steps.append(Step("result", "Unknown: {0}.", (why.reason,)))
        return Solution(names, "unknown", (), why.reason, tuple(steps), conditions,
                        shown_bounds, tuple(s.name for s in others), title)
    except BudgetExceeded as err:
        steps.append(Step("result", "Unknown: {0}.", (str(err),)))
        return Solution(names, "unknown", (), str(err), tuple(steps), conditions,
                        shown_bounds, tuple(s.name for s in others), title)
    cells: list[dict[str, IntSet]] = []
    seen: set[tuple[object, ...]] = set()
    for cell in answer.cells:
        projected = {s.name: cell[s] for s in syms}
        parts = tuple(tuple(projected[n].parts) for n in names)
        if parts not in seen:
            seen.add(parts)
            cells.append(projected)
    steps.extend(answer.steps)
    result = Solution(names, "exact", tuple(cells), "", (), conditions, shown_bounds,
                      tuple(s.name for s in others), title)
    steps.append(Step("result", "Answer: {0}.", (result.describe(),)))
    return Solution(names, "exact", tuple(cells), "", tuple(steps), conditions, shown_bounds,
                    tuple(s.name for s in others), title)


def _bounds() -> str:
    """What an error calls the bounds: ``bounds`` in Python, ``--bounds`` in the CLI."""
    return said("bounds", "--bounds")


def _symbol_for(name: str, known: Mapping[str, sympy.Symbol]) -> sympy.Symbol:
    if name in known:
        return known[name]
    hint = did_you_mean(name, known)
    raise UsageError(f"{said('solve', '--for')}: {name!r} is not a symbol of the system{hint}; "
                     f"its symbols are {', '.join(sorted(known)) or 'none'}",
                     code="unknown_symbol")


def _names(unknowns: object) -> list[str]:
    if not isinstance(unknowns, (str, sympy.Symbol, list, tuple, set, frozenset)):
        raise UsageError(f"solve: unknowns must be a name or a list of names, not "
                         f"{type(unknowns).__name__}", code="bad_usage")
    items = [unknowns] if isinstance(unknowns, (str, sympy.Symbol)) else list(unknowns)
    out = []
    for u in items:
        if isinstance(u, sympy.Symbol):
            out.append(u.name)
        elif isinstance(u, str) and u.isidentifier():
            out.append(u)
        else:
            raise UsageError(f"solve: unknown {u!r} must be a symbol name", code="bad_unknown")
    if not out:
        raise UsageError("solve: give at least one unknown", code="bad_unknown")
    if len(set(out)) != len(out):
        raise UsageError("solve: an unknown is listed twice", code="bad_unknown")
    return out


def _listed(value: object) -> Sequence[object]:
    if value is None:
        return []
    if isinstance(value, (str, sympy.Basic)):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]
