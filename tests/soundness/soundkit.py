"""Generated statements and an independent brute-force evaluator for the soundness campaign.

A generated term is a small tree (:class:`T`) that renders to the safe parser's syntax and
evaluates itself in plain Python integers: neither SymPy nor convsym is involved, so the
evaluator cannot share a bug with the code it checks.

Domain semantics (the documented ones, see docs/proofs.md), written out here independently:

* prove: every symbol is an integer ``>= 1``.  An assumption that is a bound on one symbol
  (``x >= c``, ``x > c``, ``x <= c``, ``x < c``, ``x == c``, in any linear spelling) sets that
  end of its domain, also below 1; with an upper bound below 1 and no lower bound the symbol
  has no lower end.  Every other assumption only restricts the domain.
* solve: every unknown is an integer ``>= 1`` unless ``bounds`` gives another lower end;
  ``bounds`` may also give an upper end.
* a point where a divisor is zero is undefined: neither a counterexample nor evidence
  (generated divisors are constants >= 2 or the symbol ``s``, which never goes below 1).

Generated assumptions are either such bounds (:class:`Bound`) or relations that no spelling
makes a one-symbol linear bound (an ``abs``/``mod``/``min``/``max``/``floor`` of a linear
form with a coefficient the divisor does not divide, or a linear form in two symbols), so the
evaluator knows which is which without imitating SymPy.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

SCALE = float(os.environ.get("CONVSYM_SOUNDNESS_SCALE", "1"))
"""Multiplies the number of generated statements (``CONVSYM_SOUNDNESS_SCALE=20`` to hunt)."""

NAMES = ("x", "y", "s")
"""``s`` may be a divisor, so no bound ever takes it below 1."""

WIDTH = 12
"""Each symbol ranges over at most ``WIDTH + 1`` values of its domain in the box."""

OPS = ("==", "!=", "<=", "<", ">=", ">")
_CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}


@dataclass(frozen=True)
class T:
    """A term: ``op`` is var, const, add, sub, mul, floor, ceil, mod, abs, min or max."""

    op: str
    args: tuple[object, ...]

    def text(self) -> str:
        a = self.args
        if self.op == "var":
            return str(a[0])
        if self.op == "const":
            return f"({a[0]})" if int(a[0]) < 0 else str(a[0])  # type: ignore[call-overload]
        parts = [x.text() if isinstance(x, T) else str(x) for x in a]
        if self.op in ("add", "sub", "mul"):
            sign = {"add": "+", "sub": "-", "mul": "*"}[self.op]
            return f"({parts[0]} {sign} {parts[1]})"
        if self.op == "floor":
            return f"floor({parts[0]}/{parts[1]})"
        if self.op == "ceil":
            return f"ceiling({parts[0]}/{parts[1]})"
        if self.op == "mod":
            return f"(({parts[0]}) % {parts[1]})"
        return f"{self.op}({', '.join(parts)})"  # abs, min, max

    def value(self, env: Mapping[str, int]) -> int:
        """The integer value; raises ZeroDivisionError where a divisor is zero."""
        a = self.args
        if self.op == "var":
            return env[str(a[0])]
        if self.op == "const":
            return int(a[0])  # type: ignore[call-overload]
        vals = [x.value(env) if isinstance(x, T) else int(x)  # type: ignore[call-overload]
                for x in a]
        if self.op == "add":
            return vals[0] + vals[1]
        if self.op == "sub":
            return vals[0] - vals[1]
        if self.op == "mul":
            return vals[0] * vals[1]
        if self.op in ("floor", "ceil", "mod"):
            num, den = vals
            if den == 0:
                raise ZeroDivisionError
            if self.op == "floor":
                return num // den
            if self.op == "ceil":
                return -((-num) // den)
            return num - den * (num // den)  # SymPy's Mod: the sign of the divisor
        if self.op == "abs":
            return abs(vals[0])
        return min(vals) if self.op == "min" else max(vals)

    def sympy(self) -> Any:
        """The term as a SymPy expression over integer symbols of no sign, built with every
        floor, ceiling, Mod, Min, Max and Abs unevaluated (as a careful user would)."""
        import sympy

        a = self.args
        if self.op == "var":
            return sympy.Symbol(str(a[0]), integer=True)
        if self.op == "const":
            return sympy.Integer(int(a[0]))  # type: ignore[call-overload]
        vals = [x.sympy() if isinstance(x, T) else sympy.Integer(x) for x in a]
        if self.op == "add":
            return vals[0] + vals[1]
        if self.op == "sub":
            return vals[0] - vals[1]
        if self.op == "mul":
            return vals[0] * vals[1]
        if self.op in ("floor", "ceil"):
            cls = sympy.floor if self.op == "floor" else sympy.ceiling
            return cls(vals[0] / vals[1], evaluate=False)
        if self.op == "mod":
            return sympy.Mod(vals[0], vals[1], evaluate=False)
        if self.op == "abs":
            return sympy.Abs(vals[0], evaluate=False)
        return (sympy.Min if self.op == "min" else sympy.Max)(*vals, evaluate=False)

    def names(self) -> set[str]:
        if self.op == "var":
            return {str(self.args[0])}
        return set().union(*(x.names() for x in self.args if isinstance(x, T)))


def var(name: str) -> T:
    return T("var", (name,))


def const(c: int) -> T:
    return T("const", (c,))


@dataclass(frozen=True)
class Rel:
    """``lhs op rhs``."""

    lhs: T
    op: str
    rhs: T

    def text(self) -> str:
        return f"{self.lhs.text()} {self.op} {self.rhs.text()}"

    def holds(self, env: Mapping[str, int]) -> bool | None:
        """True/False, or None where undefined."""
        try:
            return _CMP[self.op](self.lhs.value(env), self.rhs.value(env))
        except ZeroDivisionError:
            return None

    def names(self) -> set[str]:
        return self.lhs.names() | self.rhs.names()

    def sympy(self) -> Any:
        import sympy

        return sympy.Rel(self.lhs.sympy(), self.rhs.sympy(), self.op, evaluate=False)


@dataclass(frozen=True)
class Bound:
    """``name op c`` written as ``a*name + b op a*c + b`` (a spelling convsym must see
    through); ``lo``/``hi`` is what it says about the domain."""

    name: str
    op: str
    c: int
    a: int = 1
    b: int = 0

    def text(self) -> str:
        left = self.name if (self.a, self.b) == (1, 0) else f"{self.a}*{self.name} + ({self.b})"
        right = self.a * self.c + self.b
        if self.a < 0:  # multiplying by a negative flips the comparison
            flip = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "==": "=="}[self.op]
            return f"{left} {flip} {right}"
        return f"{left} {self.op} {right}"

    def ends(self) -> tuple[int | None, int | None]:
        c = self.c
        return {">=": (c, None), ">": (c + 1, None), "<=": (None, c), "<": (None, c - 1),
                "==": (c, c)}[self.op]


Assumption = Rel | Bound


@dataclass
class Domain:
    """Each name's ends (None: no end); ``lo`` None only with a ``hi``."""

    lo: dict[str, int | None]
    hi: dict[str, int | None]

    def box(self) -> Iterator[dict[str, int]]:
        """Every point of the box: ``WIDTH + 1`` values per name from its lower end (or up
        to its upper end when it has none)."""
        ranges = []
        for name in sorted(self.lo):
            lo, hi = self.lo[name], self.hi[name]
            if lo is None:
                assert hi is not None
                ranges.append(range(hi - WIDTH, hi + 1))
            else:
                top = lo + WIDTH if hi is None else min(hi, lo + WIDTH)
                ranges.append(range(lo, top + 1))
        for values in itertools.product(*ranges):
            yield dict(zip(sorted(self.lo), values))

    def contains(self, point: Mapping[str, int]) -> bool:
        for name in self.lo:
            lo, hi, v = self.lo[name], self.hi[name], point.get(name)
            if v is None or (lo is not None and v < lo) or (hi is not None and v > hi):
                return False
        return True


def prove_domain(names: set[str], assume: Sequence[Assumption]) -> Domain:
    """The domain of a prove problem (see the module docstring)."""
    lo: dict[str, int | None] = {}
    hi: dict[str, int | None] = {}
    explicit: dict[str, int] = {}
    for a in assume:
        if isinstance(a, Bound):
            low, high = a.ends()
            if low is not None:
                explicit[a.name] = max(low, explicit.get(a.name, low))
            known = hi.get(a.name)
            if high is not None:
                hi[a.name] = high if known is None else min(high, known)
    for name in names:
        top = hi.get(name)
        if name in explicit:
            lo[name] = explicit[name]
        else:
            lo[name] = None if top is not None and top < 1 else 1
        hi.setdefault(name, None)
    return Domain(lo, {n: hi[n] for n in names})


def satisfied(assume: Sequence[Assumption], point: Mapping[str, int]) -> bool | None:
    """Whether every general assumption holds (None: one is undefined there)."""
    for a in assume:
        if isinstance(a, Rel):
            ok = a.holds(point)
            if ok is not True:
                return ok
    return True


@dataclass
class Tally:
    """What the campaign saw."""

    kinds: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)

    def summary(self, what: str) -> str:
        total = sum(self.kinds.values())
        unknown = self.kinds.get("unknown", 0)
        rate = f"{unknown / total:.1%}" if total else "n/a"
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.kinds.items()))
        return (f"soundness ({what}): {total} generated, {kinds}; unknown rate {rate}; "
                f"wrong {len(self.wrong)}")


# --- strategies ------------------------------------------------------------------------------


@st.composite
def terms(draw: st.DrawFn, names: Sequence[str], depth: int = 3, lattice: list[int] | None = None
          ) -> T:
    """A term over ``names`` with floor, ceiling, Mod, abs, min, max and products."""
    lattice = [0] if lattice is None else lattice  # min/max arguments used (parser: <= 8)
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        if draw(st.integers(0, 2)) == 0:
            return const(draw(st.integers(-4, 6)))
        return var(draw(st.sampled_from(list(names))))
    kinds = ["add", "sub", "mul", "floor", "ceil", "mod", "abs", "poly"]
    if lattice[0] <= 4:
        kinds += ["min", "max"]
    kind = draw(st.sampled_from(kinds))
    a = draw(terms(names, depth - 1, lattice))
    if kind in ("add", "sub"):
        return T(kind, (a, draw(terms(names, depth - 1, lattice))))
    if kind == "mul":
        return T("mul", (const(draw(st.integers(-3, 3))), a))
    if kind == "poly":  # a product of two symbols or a square: a polynomial numerator
        return T("mul", (var(draw(st.sampled_from(list(names)))), a))
    if kind in ("floor", "ceil", "mod"):
        divisors = [const(d) for d in (1, 2, 3, 4, 5, 6)]
        if "s" in names:
            divisors.append(var("s"))
        return T(kind, (a, draw(st.sampled_from(divisors))))
    if kind == "abs":
        return T("abs", (a,))
    lattice[0] += 2
    return T(kind, (a, draw(terms(names, depth - 1, lattice))))


@st.composite
def relations(draw: st.DrawFn, names: Sequence[str]) -> Rel:
    lattice = [0]
    lhs = draw(terms(names, 3, lattice))
    rhs = draw(terms(names, 2, lattice))
    return Rel(lhs, draw(st.sampled_from(OPS)), rhs)


@st.composite
def bounds(draw: st.DrawFn, name: str) -> Bound:
    low = 1 if name == "s" else -6
    op = draw(st.sampled_from(("<=", "<", ">=", ">", "==") if name != "s" else (">=", ">")))
    c = draw(st.integers(low, 4))
    a, b = draw(st.sampled_from([(1, 0), (1, 0), (2, 1), (-1, 0), (3, -2)]))
    return Bound(name, op, c, a, b)


@st.composite
def linear_forms(draw: st.DrawFn, names: Sequence[str]) -> tuple[T, list[tuple[str, int]]]:
    """``sum(a_i * x_i) + b`` with every ``a_i != 0``; returns the term and its coefficients."""
    chosen = draw(st.lists(st.sampled_from(list(names)), min_size=1, max_size=2, unique=True))
    coeffs = [(n, draw(st.sampled_from([-2, -1, 1, 2, 3]))) for n in chosen]
    term: T = const(draw(st.integers(-3, 3)))
    for n, a in coeffs:
        term = T("add", (T("mul", (const(a), var(n))), term))
    return term, coeffs


@st.composite
def general_assumptions(draw: st.DrawFn, names: Sequence[str]) -> Rel:
    """A relation that is never a one-symbol linear bound, however it is simplified."""
    form, coeffs = draw(linear_forms(names))
    kind = draw(st.sampled_from(["abs", "mod", "min", "max", "floor", "two", "ne"]))
    c = const(draw(st.integers(-3, 4)))
    op = draw(st.sampled_from(OPS))
    if kind == "abs":
        return Rel(T("abs", (form,)), op, c)
    if kind == "mod":
        return Rel(T("mod", (form, const(draw(st.integers(2, 4))))), op, c)
    if kind in ("min", "max"):
        other, _ = draw(linear_forms(names))
        if other == form:  # min(a, a) is a, which may be a bound
            other = T("add", (const(1), form))
        return Rel(T(kind, (form, other)), op, c)
    if kind == "floor":
        d = draw(st.integers(2, 4))
        if all(a % d == 0 for _, a in coeffs):  # SymPy would take the floor apart
            form = T("add", (var(coeffs[0][0]), form))
            if all(a % d == 0 for _, a in [(coeffs[0][0], coeffs[0][1] + 1), *coeffs[1:]]):
                return Rel(T("abs", (form,)), op, c)
        return Rel(T("floor", (form, const(d))), op, c)
    if kind == "ne":  # x != c is not a bound
        return Rel(var(coeffs[0][0]), "!=", c)
    if len(coeffs) < 2:
        other = [n for n in names if n != coeffs[0][0]]
        if not other:
            return Rel(T("abs", (form,)), op, c)
        form = T("add", (var(other[0]), form))
    return Rel(form, op if op != "!=" else ">=", c)
