"""Systems of constraints in several unknowns: the exact solution set as a union of products.

The answer is a list of *cells*, each a product of one exact :class:`IntSet` per unknown;
the solution set is their union.  Strategies, in order, each exact:

1. bounds: a condition linear in one unknown (``H >= 3``, ``k <= 9``) becomes a bound;
2. components: unknowns that share no condition are solved separately (a product);
3. one unknown: :func:`~convsym.whatif.univariate.solve_univariate`;
4. a box: when every unknown of a component is bounded, each point is checked (at most
   ``Limits.max_box``); when only some are, each point of theirs is fixed and the rest solved;
5. a separable product (``4*floor((H-1)/2)*floor((W-1)/2) == 3844``): each factor equals a
   divisor of the constant, so the divisor tuples split the problem into one-unknown ones.

Otherwise :class:`~convsym.whatif.univariate.Undecided` says which condition couples which
unbounded unknowns.

>>> from convsym.expr import parse_relation, symbols
>>> from convsym.whatif.constraints import from_relation
>>> H, W = symbols("H W")
>>> cons = [from_relation(parse_relation(t), origin="t") for t in
...         ("H >= 3", "W >= 3", "4*floor((H-1)/2)*floor((W-1)/2) == 3844")]
>>> answer = solve_system(cons, [H, W], {})
>>> sorted(sorted(c[H].values()) for c in answer.cells)
[[3, 4], [63, 64], [1923, 1924]]
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy

from convsym.budget import Deadline
from convsym.intdiv import QPoly, to_sympy
from convsym.period import decide_nonneg
from convsym.printing.text import sstr
from convsym.whatif.constraints import Constraint
from convsym.whatif.intset import IntSet
from convsym.whatif.product import signed_factorisations, split_product
from convsym.whatif.steps import Step
from convsym.whatif.univariate import DEFAULT_LIMITS, Limits, Undecided, solve_univariate

Cell = dict[sympy.Symbol, IntSet]
Bounds = dict[sympy.Symbol, tuple[int, int | None]]


@dataclass
class SystemAnswer:
    """The solution set as a union of product cells, and the steps that derived it."""

    cells: list[Cell]
    steps: list[Step] = field(default_factory=list)


@dataclass
class _Context:
    deadline: Deadline
    limits: Limits
    memo: dict[tuple[object, ...], IntSet] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    depth: int = 0

    def note(self, step: Step) -> None:
        if self.depth == 0:
            self.steps.append(step)


def solve_system(cons: Sequence[Constraint], variables: Sequence[sympy.Symbol],
                 bounds: Mapping[sympy.Symbol, tuple[int, int | None]], *,
                 deadline: Deadline | None = None, limits: Limits = DEFAULT_LIMITS
                 ) -> SystemAnswer:
    """Every integer point of ``variables`` (within ``bounds``; default ``>= 1``) meeting
    ``cons``; raises :class:`Undecided` when no exact strategy applies."""
    ctx = _Context(deadline or Deadline(None), limits)
    full = {v: bounds.get(v, (1, None)) for v in variables}
    cells = _solve(list(cons), list(variables), full, ctx)
    return SystemAnswer(cells, ctx.steps)


def _solve(cons: list[Constraint], variables: list[sympy.Symbol], bounds: Bounds,
           ctx: _Context) -> list[Cell]:
    ctx.deadline.check("solving")
    cons, bounds, feasible = absorb_bounds(cons, bounds, ctx)
    if not feasible:
        return []
    for c in cons:
        if c.constant_truth() is False:
            ctx.note(Step("case", "The condition {0} ({1}) never holds, so there is no "
                          "solution.", (c.shown, c.origin)))
            return []
    cons = [c for c in cons if c.symbols]
    groups = components(cons, variables)
    if ctx.depth == 0 and len(groups) > 1:
        ctx.note(Step("components", "The unknowns fall into independent groups (no condition "
                      "links them), solved separately: {0}.",
                      ("; ".join(", ".join(v.name for v in g) for g, _ in groups),)))
    result: list[Cell] = [{}]
    for group, group_cons in groups:
        cells = _component(group_cons, group, bounds, ctx)
        if not cells:
            return []
        result = [{**a, **b} for a, b in itertools.product(result, cells)]
        if len(result) > ctx.limits.max_cells:
            raise Undecided(f"the answer has more than {ctx.limits.max_cells} parts")
    return result


def absorb_bounds(cons: list[Constraint], bounds: Bounds, ctx: _Context | None = None
                  ) -> tuple[list[Constraint], Bounds, bool]:
    """Move conditions linear in one unknown into its bounds; False when they contradict."""
    bounds = dict(bounds)
    kept: list[Constraint] = []
    for c in cons:
        linear = _linear_one(c)
        if linear is None or c.kind == "ne":
            kept.append(c)
            continue
        x, a, b = linear
        lo, hi = bounds.get(x, (1, None))
        before = (lo, hi)
        if c.kind == "eq":
            if b % a:
                return kept, bounds, False
            value = -b // a
            lo, hi = max(lo, value), value if hi is None else min(hi, value)
        elif a > 0:
            lo = max(lo, -(b // a))
        else:
            top = b // (-a)
            hi = top if hi is None else min(hi, top)
        bounds[x] = (lo, hi)
        if ctx is not None and (lo, hi) != before:
            ctx.note(Step("bounds", "{0} ({1}) bounds {2}: now {3}.",
                          (c.shown, c.origin, x, _range_text(x, lo, hi))))
        if hi is not None and hi < lo:
            return kept, bounds, False
    return kept, bounds, True


def _range_text(x: sympy.Symbol, lo: int, hi: int | None) -> str:
    return f"{lo} <= {x.name}" + (f" <= {hi}" if hi is not None else "")


def _linear_one(c: Constraint) -> tuple[sympy.Symbol, int, int] | None:
    """``(x, a, b)`` when the constraint reads ``a*x + b (>= | ==) 0``."""
    e = c.expr
    if not isinstance(e, QPoly) or e.floors():
        return None
    syms = e.free_symbols()
    if len(syms) != 1:
        return None
    (x,) = syms
    a = e.terms.get(((x, 1),), 0)
    if not a or set(e.terms) - {(), ((x, 1),)}:
        return None
    return x, a, e.terms.get((), 0)


def components(cons: Sequence[Constraint], variables: Sequence[sympy.Symbol]
               ) -> list[tuple[list[sympy.Symbol], list[Constraint]]]:
    """Groups of unknowns linked by shared conditions, each with its conditions."""
    parent = {v: v for v in variables}

    def find(v: sympy.Symbol) -> sympy.Symbol:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for c in cons:
        syms = [s for s in c.symbols if s in parent]
        for s in syms[1:]:
            parent[find(s)] = find(syms[0])
    groups: dict[sympy.Symbol, list[sympy.Symbol]] = {}
    for v in variables:
        groups.setdefault(find(v), []).append(v)
    out = []
    for members in groups.values():
        mine = [c for c in cons if c.symbols & set(members)]
        out.append((members, mine))
    return out


def _component(cons: list[Constraint], group: list[sympy.Symbol], bounds: Bounds,
               ctx: _Context) -> list[Cell]:
    if len(group) == 1:
        (x,) = group
        lo, hi = bounds[x]
        key = (x, lo, hi, tuple(cons))
        if key not in ctx.memo:
            found, steps = solve_univariate(cons, x, lo, hi, deadline=ctx.deadline,
                                            limits=ctx.limits)
            ctx.memo[key] = found
            for s in steps:
                ctx.note(s)
        found = ctx.memo[key]
        return [{x: found}] if not found.is_empty else []
    bounded = [v for v in group if bounds[v][1] is not None]
    free = [v for v in group if bounds[v][1] is None]
    box = 1
    for v in bounded:
        lo, hi = bounds[v]
        box *= max(0, (hi or 0) - lo + 1)
    if bounded and box <= ctx.limits.max_box:
        if not free:
            return _enumerate_box(cons, group, bounds, box, ctx)
        return _fix_and_solve(cons, bounded, free, bounds, box, ctx)
    for c in cons:
        if c.kind != "eq" or not isinstance(c.expr, QPoly) or len(c.symbols) < 2:
            continue
        split = split_product(c.expr, sorted(c.symbols, key=lambda s: s.name))
        if split is not None:
            return _by_divisors(c, split.factors, split.target, cons, group, bounds, ctx)
    coupled = [sstr(c.shown) for c in cons if len(c.symbols) > 1]
    shown = "; ".join(coupled[:3]) + (" ..." if len(coupled) > 3 else "")
    names = ", ".join(v.name for v in free)
    raise Undecided(f"the unknowns {names} have no upper bound and are coupled by {shown} "
                    "(not a product of one-unknown factors); give bounds to get an exact "
                    "answer within them")


def _enumerate_box(cons: list[Constraint], group: list[sympy.Symbol], bounds: Bounds,
                   box: int, ctx: _Context) -> list[Cell]:
    ranges = [range(bounds[v][0], (bounds[v][1] or 0) + 1) for v in group]
    found: dict[tuple[int, ...], list[int]] = {}
    for i, point in enumerate(itertools.product(*ranges)):
        if i % 2048 == 0:
            ctx.deadline.check("checking a box of values")
        env = dict(zip(group, point))
        if all(c.holds(env) for c in cons):
            found.setdefault(point[:-1], []).append(point[-1])
    ctx.note(Step("enumerate", "Every point of the box {0} ({1} points) was checked "
                  "directly: {2} meet every condition.",
                  (", ".join(f"{bounds[v][0]} <= {v.name} <= {bounds[v][1]}" for v in group),
                   box, sum(len(v) for v in found.values()))))
    return [{**{v: IntSet.points([x]) for v, x in zip(group[:-1], head)},
             group[-1]: IntSet.points(tail)} for head, tail in found.items()]


def _fix_and_solve(cons: list[Constraint], bounded: list[sympy.Symbol],
                   free: list[sympy.Symbol], bounds: Bounds, box: int, ctx: _Context
                   ) -> list[Cell]:
    ctx.note(Step("case", "The bounded unknowns {0} take {1} value combinations; for each, "
                  "the conditions are solved exactly for {2}.",
                  (", ".join(v.name for v in bounded), box, ", ".join(v.name for v in free))))
    ranges = [range(bounds[v][0], (bounds[v][1] or 0) + 1) for v in bounded]
    cells: list[Cell] = []
    ctx.depth += 1
    try:
        for point in itertools.product(*ranges):
            env = dict(zip(bounded, point))
            fixed = [c.fix(env) for c in cons]
            if any(c.constant_truth() is False for c in fixed):
                continue
            for cell in _solve(fixed, free, {v: bounds[v] for v in free}, ctx):
                cells.append({**{v: IntSet.points([x]) for v, x in env.items()}, **cell})
                if len(cells) > ctx.limits.max_cells:
                    raise Undecided(f"the answer has more than {ctx.limits.max_cells} parts")
    finally:
        ctx.depth -= 1
    return cells


def _never_negative(factor: QPoly, x: sympy.Symbol, lo: int) -> bool:
    """True when ``factor >= 0`` for every ``x >= lo`` is proved (quasi-affine only)."""
    return decide_nonneg(factor, {x: lo}, budget=4096).holds is True


def _by_divisors(product: Constraint, factors: dict[sympy.Symbol, QPoly], target: int | None,
                 cons: list[Constraint], group: list[sympy.Symbol], bounds: Bounds,
                 ctx: _Context) -> list[Cell]:
    names = list(factors)
    shown = [sstr(to_sympy(factors[v])) for v in names]
    product_text = " * ".join(f"({s})" for s in shown)
    if target is None:
        ctx.note(Step("divisors", "{0} is {1} times a constant that is not an integer, so it "
                      "has no integer solution.", (product.shown, product_text)))
        return []
    rest = [c for c in cons if c is not product]
    if target == 0:
        tuples: list[tuple[int | None, ...]] = [
            tuple(0 if i == j else None for j in range(len(names))) for i in range(len(names))]
        ctx.note(Step("divisors", "{0} holds exactly when {1} = 0, so one factor is 0.",
                      (product.shown, product_text)))
    else:
        nonneg = [v for v in names if _never_negative(factors[v], v, bounds[v][0])]
        try:
            candidates = signed_factorisations(target, len(names))
        except OverflowError as err:
            raise Undecided(str(err)) from None
        tuples = [t for t in candidates
                  if all(d >= 0 for v, d in zip(names, t) if v in nonneg)]
        why = (f" ({', '.join(sstr(to_sympy(factors[v])) for v in nonneg)} >= 0 on the "
               "domain, by the period check, so negative values are left out)") if nonneg else ""
        ctx.note(Step("divisors", "{0} holds exactly when {1} = {2}; each factor is an "
                      "integer, so the factors are a signed factorisation of {2}: {3} "
                      "candidate tuples{4}.",
                      (product.shown, product_text, target, len(tuples), why)))
    cells: list[Cell] = []
    ctx.depth += 1
    try:
        for values in tuples:
            ctx.deadline.check("trying divisor tuples")
            extra = [Constraint(factors[v] - QPoly.const(d), "eq", "factor",
                                sympy.Eq(to_sympy(factors[v]), d))
                     for v, d in zip(names, values) if d is not None]
            found = _solve(rest + extra, group, bounds, ctx)
            if found and ctx.depth == 1:
                desc = ", ".join(f"{s} = {d}" for s, d in zip(shown, values) if d is not None)
                parts = "; ".join(
                    f"{v.name}: {IntSet.of(p for c in found for p in c[v].parts).describe(v.name)}"
                    for v in names)
                ctx.depth -= 1
                ctx.note(Step("divisors", "{0}: {1}.", (desc, parts)))
                ctx.depth += 1
            cells.extend(found)
    finally:
        ctx.depth -= 1
    return cells
