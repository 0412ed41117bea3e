"""A statement to prove, with its domain made explicit, in two views.

*View A* is the statement as written: each symbol has a box domain ``lo <= x <= hi`` and
every other assumption is a constraint.  Z3, the bounded search and every re-check of a
counterexample use it.

*View B* changes variables where an assumption allows it exactly, so that rewriting and the
period check see a plain box: ``n >= k`` becomes ``n = k + t`` with ``t >= 0`` (when ``n``'s
own lower bound then holds automatically) and ``n % 4 == 1`` becomes ``n = 4 t + 1``.
Assumptions that allow no such change stay as constraints that those rungs may not use for
proofs (a proof on the larger box still holds; a counterexample is re-checked in view A).

>>> p = build("floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)", ["n >= k"])
>>> p.b_lhs, p.subst
(floor(t/s) + 1, {'n': k + t})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy
from sympy.core.relational import Relational

from convsym.domains import DEFAULT_LOW, domain_symbol, neutral_relation
from convsym.errors import ConvsymTypeError
from convsym.expr import as_relation, divisors
from convsym.proof.domain import (
    default_low,
    linear,
    lower_bound,
    plain,
    read_relation,
    substitute,
    text_names,
    typed_symbol,
)
from convsym.proof.evaluate import Program, Undefined, holds

Cond = tuple[str, sympy.Expr, sympy.Expr]


@dataclass
class Problem:
    """A statement ``lhs op rhs`` under assumptions, ready for the rungs of the ladder."""

    statement: Relational
    assumptions: tuple[Relational, ...]
    op: str
    lhs: sympy.Expr
    rhs: sympy.Expr
    lower: dict[str, int | None]
    upper: dict[str, int | None]
    conds: list[Cond]
    symbols: dict[str, sympy.Symbol]
    b_lhs: sympy.Expr = sympy.Integer(0)
    b_rhs: sympy.Expr = sympy.Integer(0)
    b_lower: dict[str, int | None] = field(default_factory=dict)
    b_upper: dict[str, int | None] = field(default_factory=dict)
    b_symbols: dict[str, sympy.Symbol] = field(default_factory=dict)
    b_general: list[Cond] = field(default_factory=list)
    subst: dict[str, sympy.Expr] = field(default_factory=dict)
    notes: list[tuple[Relational, Relational, str]] = field(default_factory=list)
    empty: str = ""
    program: Program | None = None
    canon: tuple[object, ...] | None = None
    """The canonical sides, once computed (see :func:`convsym.proof.goal.sides`)."""

    @property
    def names(self) -> list[str]:
        """Every symbol name, sorted."""
        return sorted(self.lower)

    def domain_text(self) -> str:
        """``n, s >= 1; p >= 0`` style description of the box domain."""
        groups: dict[tuple[int | None, int | None], list[str]] = {}
        for name in self.names:
            groups.setdefault((self.lower[name], self.upper[name]), []).append(name)
        parts = []
        for (lo, hi), names in groups.items():
            who = ", ".join(names)
            if lo is not None and hi is not None:
                parts.append(f"{lo} <= {who} <= {hi}")
            elif lo is not None:
                parts.append(f"{who} >= {lo}")
            elif hi is not None:
                parts.append(f"{who} <= {hi}")
            else:
                parts.append(f"{who} any integer")
        return "; ".join(parts)

    def check(self, point: Mapping[str, int]) -> str:
        """``"counterexample"``, ``"holds"``, ``"outside"`` (domain or an assumption fails)
        or ``"undefined"`` (a division by zero) at a view-A point."""
        for name in self.names:
            lo, hi, v = self.lower[name], self.upper[name], point.get(name)
            if v is None or (lo is not None and v < lo) or (hi is not None and v > hi):
                return "outside"
        if self.program is None:
            roots: list[sympy.Basic] = [self.lhs, self.rhs]
            for _, a, b in self.conds:
                roots += [a, b]
            self.program = Program(roots)
        try:
            values = self.program.run(point)
        except Undefined:
            return "undefined"
        for i, (op, _, _) in enumerate(self.conds):
            if not holds(op, values[2 + 2 * i], values[3 + 2 * i]):
                return "outside"
        return "holds" if holds(self.op, values[0], values[1]) else "counterexample"

    def from_b(self, point: Mapping[str, int]) -> dict[str, int]:
        """The view-A point for a view-B point (unmentioned symbols at their lowest value)."""
        out: dict[str, int] = {}
        for name in self.names:
            if name in self.subst:
                expr = self.subst[name]
                env = {s.name: point.get(s.name, _start(self.b_lower.get(s.name),
                                                         self.b_upper.get(s.name)))
                       for s in expr.free_symbols}
                out[name] = int(Program([expr]).run(env)[0])
            else:
                out[name] = point.get(name, _start(self.lower[name], self.upper[name]))
        return out


def _start(lo: int | None, hi: int | None) -> int:
    if lo is not None:
        return lo
    return hi if hi is not None and hi < 0 else 0


def build(statement: object, assume: Sequence[object] | object = ()) -> Problem:
    """Read the statement and assumptions and make every domain explicit (rung 0)."""
    if isinstance(assume, (str, sympy.Basic)):
        assume = [assume]
    if not isinstance(assume, Iterable) or isinstance(assume, (bytes, Mapping)):
        raise ConvsymTypeError(f"assume = {assume!r:.60}: expected a list of conditions")
    values = [statement, *assume]
    fields = ["statement" if i == 0 else f"assumption {i}" for i in range(len(values))]
    # bounds come from a reading where no name has a sign (see convsym.domains)
    first = [neutral_relation(v, f) if isinstance(v, str) else as_relation(v, field=f)
             for v, f in zip(values, fields)]
    lows: dict[str, int] = default_low(values)
    explicit_lo: dict[str, int] = {}
    upper: dict[str, int | None] = {}
    for rel in first[1:]:
        bound = lower_bound(rel) if plain(rel) else None
        if bound is None:
            continue
        name, lo, hi = bound
        if lo is not None:
            explicit_lo[name] = max(lo, explicit_lo.get(name, lo))
        if hi is not None:
            known = upper.get(name)
            upper[name] = hi if known is None else min(hi, known)
    names = sorted({s.name for rel in first for s in rel.free_symbols} | set(explicit_lo) |
                   set(upper) | {n for v in values if isinstance(v, str) for n in text_names(v)})
    lows_or_none: dict[str, int | None] = {}
    for name in names:
        low = explicit_lo.get(name, lows.get(name, 1))
        hi = upper.get(name)
        # an upper bound below the default lower bound and no lower bound: the symbol is
        # simply not positive (q <= -1); that is not an empty domain
        lows_or_none[name] = None if name not in explicit_lo and hi is not None and \
            hi < low else low
    rels = [read_relation(v, lows_or_none, f) for v, f in zip(values, fields)]
    # a name may vanish in the correct reading too (0*n): keep only the names still there
    present = {s.name for rel in rels for s in rel.free_symbols}
    names = [n for n in names if n in present]
    stmt = rels[0]
    conds: list[Cond] = []
    for neutral, rel in zip(first[1:], rels[1:]):
        # a bound is one in the reading with no signs; on its domain a relation may look
        # like one (abs(2*x) == 2 is 2*x == 2 for x >= 1) and must still be checked
        if not (plain(neutral) and lower_bound(neutral) is not None):
            conds.append((rel.rel_op, rel.lhs, rel.rhs))
    conds += _cancelled_divisors(values, fields, rels, names, lows_or_none)
    problem = Problem(
        statement=stmt, assumptions=tuple(rels[1:]), op=stmt.rel_op, lhs=stmt.lhs,
        rhs=stmt.rhs, lower={n: lows_or_none[n] for n in names},
        upper={n: upper.get(n) for n in names}, conds=conds,
        symbols={n: typed_symbol(n, lows_or_none[n]) for n in names})
    for name in names:
        lo, hi = problem.lower[name], problem.upper[name]
        if lo is not None and hi is not None and lo > hi:
            problem.empty = f"no integer {name} satisfies the assumptions ({lo} > {hi})"
    Program([stmt.lhs, stmt.rhs, *(x for c in conds for x in c[1:])])  # validates
    _view_b(problem)
    return problem


def _cancelled_divisors(values: Sequence[object], fields: Sequence[str],
                        rels: Sequence[Relational], names: Sequence[str],
                        lows: Mapping[str, int | None]) -> list[Cond]:
    """``d != 0`` for each divisor ``d`` written in the text that SymPy cancelled while
    building it (``0*floor(n/(k - 3))``): a point where it is zero is undefined, so it is
    neither a counterexample nor evidence there (docs/proofs.md)."""
    kept = {d for rel in rels for d in _denominators(rel)}
    symbols = {n: typed_symbol(n, lows[n]) for n in names}
    out: list[Cond] = []
    for value, name in zip(values, fields):
        if not isinstance(value, str):
            continue
        for d in divisors(value, field=name,
                          symbols=lambda n: domain_symbol(n, lows.get(n, DEFAULT_LOW))):
            if d.is_Number or d in kept or -d in kept:
                continue
            if not all(s.name in symbols for s in d.free_symbols):
                continue  # a name that vanished altogether: some value of it is defined
            d = d.xreplace({s: symbols[s.name] for s in d.free_symbols})
            out.append(("!=", d, sympy.Integer(0)))
            kept.add(d)
    return out


def _denominators(expr: sympy.Basic) -> set[sympy.Basic]:
    out: set[sympy.Basic] = set()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.args[1].is_negative:
            out.add(node.args[0])
        elif isinstance(node, sympy.Mod):
            out.add(node.args[1])
    return out


def _divisor_names(exprs: Sequence[sympy.Basic]) -> set[str]:
    out: set[str] = set()
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            if isinstance(node, sympy.Pow) and node.args[1].is_negative:
                out |= {s.name for s in node.args[0].free_symbols}
            elif isinstance(node, sympy.Mod):
                out |= {s.name for s in node.args[1].free_symbols}
    return out


def _fresh(taken: set[str]) -> str:
    for i in range(1, 1000):
        name = "t" if i == 1 else f"t{i}"
        if name not in taken:
            taken.add(name)
            return name
    raise AssertionError("no fresh name")  # pragma: no cover


def _view_b(p: Problem) -> None:
    """Change variables along the assumptions that allow it exactly."""
    p.b_lhs, p.b_rhs = p.lhs, p.rhs
    p.b_lower, p.b_upper = dict(p.lower), dict(p.upper)
    p.b_symbols = dict(p.symbols)
    taken = set(p.names)
    blocked = _divisor_names([p.lhs, p.rhs, *(x for c in p.conds for x in c[1:])])
    for op, a0, b0 in p.conds:
        current = {p.symbols[k]: v for k, v in p.subst.items()}
        a, b = substitute(a0, current), substitute(b0, current)
        rule = _substitution(p, op, a, b, blocked, taken)
        if rule is None:
            p.b_general.append((op, a, b))
            continue
        name, expr, fresh, lo, hi, why = rule
        x = p.b_symbols.pop(name)
        del p.b_lower[name], p.b_upper[name]
        if fresh:
            p.b_symbols[fresh] = typed_symbol(fresh, lo)
            expr = substitute(expr, {sympy.Symbol(fresh): p.b_symbols[fresh]})
            p.b_lower[fresh], p.b_upper[fresh] = lo, hi
        before: Relational = sympy.Rel(p.b_lhs, p.b_rhs, p.op, evaluate=False)
        p.b_lhs, p.b_rhs = substitute(p.b_lhs, {x: expr}), substitute(p.b_rhs, {x: expr})
        p.subst = {k: substitute(v, {x: expr}) for k, v in p.subst.items()}
        p.subst[name] = expr
        p.b_general = [(o, substitute(u, {x: expr}), substitute(w, {x: expr}))
                       for o, u, w in p.b_general]
        blocked.add(name)
        after: Relational = sympy.Rel(p.b_lhs, p.b_rhs, p.op, evaluate=False)
        p.notes.append((before, after, why))


def _substitution(p: Problem, op: str, a: sympy.Expr, b: sympy.Expr, blocked: set[str],
                  taken: set[str]
                  ) -> tuple[str, sympy.Expr, str, int | None, int | None, str] | None:
    """``(name, expression, fresh name, fresh lo, fresh hi, why)`` for one assumption."""
    if op == "==" and isinstance(a, sympy.Mod) != isinstance(b, sympy.Mod):
        mod, value = (a, b) if isinstance(a, sympy.Mod) else (b, a)
        x, m = mod.args
        if isinstance(x, sympy.Symbol) and isinstance(m, sympy.Integer) and m > 0 and \
                isinstance(value, sympy.Integer) and x.name in p.b_symbols and \
                x.name not in blocked:
            r, mm = int(value), int(m)
            lo, hi = p.b_lower[x.name], p.b_upper[x.name]
            if not 0 <= r < mm:
                p.empty = f"{x} mod {mm} is never {r}"
                return None
            t = _fresh(taken)
            t_lo = None if lo is None else -((r - lo) // mm)
            t_hi = None if hi is None else (hi - r) // mm
            expr = mm * sympy.Symbol(t) + r
            return (x.name, expr, t, t_lo, t_hi,
                    f"{x} mod {mm} = {r}: write {x} = {mm}*{t} + {r}")
        return None
    if op not in (">=", ">", "<=", "<", "=="):
        return None
    form = linear(a - b)
    if form is None or len(form[0]) < 2:
        return None
    coeffs, c = form
    if op in ("<=", "<"):
        coeffs, c = {s: -v for s, v in coeffs.items()}, -c
    if op in (">", "<"):
        c -= 1
    for x_sym, sign in sorted(coeffs.items(), key=lambda kv: kv[0].name):
        # ``sign*x + sum(c_i y_i) + c (>= or ==) 0``: x is the larger side when every other
        # coefficient is <= 0 (after making x's coefficient +1); for == either sign works
        if abs(sign) != 1 or (op != "==" and sign != 1):
            continue
        others = {s: -v * sign for s, v in coeffs.items() if s != x_sym}  # x >= or == this
        g = -c * sign
        x = x_sym.name
        if x not in p.b_symbols or x in blocked or p.b_upper[x] is not None:
            continue
        lows = {s: p.b_lower.get(s.name) for s in others}
        if any(v < 0 or s.name not in p.b_symbols for s, v in others.items()):
            continue
        low = g
        for s, v in others.items():
            known = lows[s]
            if known is None:
                break
            low += v * known
        else:
            known = 0
        if known is None:
            continue
        lo_x = p.b_lower[x]
        if lo_x is not None and low < lo_x:
            continue
        rhs = sum((v * p.b_symbols[s.name] for s, v in others.items()), sympy.Integer(g))
        if op == "==":
            return (x, rhs, "", None, None, f"{x} = {rhs}: substitute it")
        t = _fresh(taken)
        return (x, rhs + sympy.Symbol(t), t, 0, None,
                f"{x} >= {rhs}: write {x} = {rhs} + {t} with {t} >= 0")
    return None
