"""Rewriting lemmas the prover applies on top of the canonical form of :mod:`convsym.intdiv`.

* **Hermite's identity** (n-ary): ``sum_{i<m} floor((Y + i D)/(m D)) = floor(Y/D)``, the
  integer form of ``sum_{i<m} floor(x + i/m) = floor(m x)``; it turns
  ``floor(n/2) + ceiling(n/2)`` into ``n``.
* **floor monotonicity**: ``floor(X/D) >= floor(Y/D)`` when ``X - Y >= 0``.
* **floor upper bound**: ``floor(X/D) <= X`` when ``X >= 0`` (``D >= 1``).
* **polynomial positivity**: after writing each symbol as its lower bound plus a
  non-negative integer, non-negative coefficients on non-negative atoms give ``>= 0``.
* **Max elimination**: a Max (Min) argument that another argument provably dominates is
  dropped; this removes the Max in TF 'same' padding.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, ceildiv, floordiv, to_sympy
>>> n = QPoly.sym(symbol("n"))
>>> two = QPoly.const(2)
>>> result, used = hermite(floordiv(n, two) + ceildiv(n, two) - n)
>>> to_sympy(result), len(used)
(0, 1)
>>> nonneg(n - floordiv(n, two), {})
True
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy

from convsym.intdiv import (
    Ext,
    Floor,
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    _mono_div,
    _split_den,
    ext,
    floordiv,
)

HERMITE = "Hermite's identity"
MONOTONE = "floor monotonicity"
UPPER = "floor upper bound"
POSITIVITY = "polynomial positivity"
MAX_ELIMINATION = "Max elimination"

Lower = Mapping[sympy.Symbol, "int | None"]
_SHIFTED: dict[sympy.Symbol, sympy.Symbol] = {}


def _unit_floors(p: QPoly) -> list[tuple[Floor, int]]:
    out = []
    for mono, c in p.terms.items():
        if len(mono) == 1 and mono[0][1] == 1 and isinstance(mono[0][0], Floor):
            out.append((mono[0][0], c))
    return out


def _lift(f: Floor, big: QPoly) -> QPoly | None:
    """``f.num * (big / f.den)`` when ``f.den`` divides ``big``, else None."""
    bc, bmono = _split_den(big)
    fc, fmono = _split_den(f.den)
    rest = _mono_div(bmono, fmono)
    if bc % fc or rest is None:
        return None
    return f.num * QPoly({rest: bc // fc})


def hermite(p: QPoly) -> tuple[QPoly, list[tuple[QPoly, QPoly]]]:
    """Apply Hermite's identity until it no longer applies; returns the result and each
    ``(replaced terms, replacement)``."""
    used: list[tuple[QPoly, QPoly]] = []
    for _ in range(100):
        found = _hermite_once(p)
        if found is None:
            break
        before, after = found
        p = p - before + after
        used.append((before, after))
    return p, used


def _hermite_once(p: QPoly) -> tuple[QPoly, QPoly] | None:
    floors = _unit_floors(p)
    dens = {f.den for f, _ in floors}
    for big in sorted(dens, key=lambda d: d.key):
        bc, bmono = _split_den(big)
        for m in range(2, min(bc, len(floors)) + 1):  # m floors are needed to combine
            if bc % m:
                continue
            step = QPoly({bmono: bc // m})
            groups: dict[QPoly, dict[int, tuple[Floor, int]]] = {}
            for f, c in floors:
                lifted = _lift(f, big)
                if lifted is None:
                    continue
                for i in range(m):
                    groups.setdefault(lifted - step * i, {})[i] = (f, c)
            for base, members in groups.items():
                if len(members) < m:
                    continue
                coeffs = [c for _, c in members.values()]
                if not (all(c > 0 for c in coeffs) or all(c < 0 for c in coeffs)):
                    continue
                k = min(abs(c) for c in coeffs) * (1 if coeffs[0] > 0 else -1)
                before = QPoly()
                for f, _ in members.values():
                    before = before + QPoly.atom(f) * k
                return before, floordiv(base, step) * k
    return None


def _shifted(s: sympy.Symbol) -> sympy.Symbol:
    found = _SHIFTED.get(s)
    if found is None:
        found = _SHIFTED.setdefault(
            s, sympy.Symbol(f"{s.name}_above_lower_bound", integer=True, nonnegative=True))
    return found


def _den_symbols(p: QPoly) -> set[sympy.Symbol]:
    out: set[sympy.Symbol] = set()
    for atom in p.atoms():
        if isinstance(atom, Floor):
            out |= atom.den.free_symbols() | _den_symbols(atom.num)
    return out


def _signs_ok(p: QPoly) -> bool:
    for mono, c in p.terms.items():
        if c < 0:
            return False
        for atom, _ in mono:
            if isinstance(atom, Floor):
                if not _signs_ok(atom.num):
                    return False
            elif not atom.is_nonnegative:
                return False
    return True


def positive_shift(p: QPoly, lower: Lower) -> bool:
    """Polynomial positivity: shift every symbol to its lower bound, then read the signs."""
    env: dict[sympy.Symbol, QPoly] = {}
    dens = _den_symbols(p)
    for s in p.free_symbols():
        lo = lower.get(s, 1 if s.is_positive else (0 if s.is_nonnegative else None))
        if s in dens:
            if not s.is_positive:
                return False
            continue
        if lo is None:
            return False
        env[s] = QPoly.const(lo) + QPoly.sym(_shifted(s))
    try:
        return _signs_ok(p.subs(env))
    except NotQuasiPolynomial:
        return False


def nonneg(p: QPoly, lower: Lower, depth: int = 0) -> bool:
    """True when ``p >= 0`` follows from floor monotonicity, the floor upper bound and
    polynomial positivity (never a false True; often False when it cannot tell)."""
    if depth > 4:
        return False
    if positive_shift(p, lower):
        return True
    q = p
    for f2, c2 in _unit_floors(p):
        if c2 >= 0:
            continue
        need = -c2
        for f1, c1 in _unit_floors(q):
            if c1 <= 0 or f1.den != f2.den or f1 == f2:
                continue
            if nonneg(f1.num - f2.num, lower, depth + 1):
                take = min(need, c1)
                q = q - (QPoly.atom(f1) - QPoly.atom(f2)) * take
                need -= take
                if not need:
                    break
        if need and nonneg(f2.num, lower, depth + 1):
            # floor(X/D) <= X for X >= 0 and D >= 1 (exact: D*floor(X/D) <= X)
            d = f2.den.as_int()
            if d is not None and need % d == 0:
                q = q + QPoly.atom(f2) * need - f2.num * (need // d)
            else:
                q = q + QPoly.atom(f2) * need - f2.num * need
    return q != p and positive_shift(q, lower)


def prune(e: QExpr, lower: Lower) -> tuple[QExpr, list[tuple[QExpr, QExpr]]]:
    """Drop Max/Min arguments another argument dominates (Max elimination)."""
    if not isinstance(e, Ext):
        return e, []
    args = list(e.args)
    notes: list[tuple[QExpr, QExpr]] = []
    changed = True
    while changed and len(args) > 1:
        changed = False
        for j, loser in enumerate(args):
            for winner in args:
                if winner is loser or not (isinstance(winner, QPoly) and
                                           isinstance(loser, QPoly)):
                    continue
                gap = winner - loser if e.kind == "max" else loser - winner
                if nonneg(gap, lower):
                    del args[j]
                    changed = True
                    break
            if changed:
                break
    result = ext(e.kind, args)
    if result != e:
        notes.append((e, result))
    return result, notes
