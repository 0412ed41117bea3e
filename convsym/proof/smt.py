"""Rung 3: Z3 with integer division, for symbolic divisors, under a time limit.

Every value is encoded as a pair ``N/D`` of Z3 integers (``D`` a positive Python integer
whenever it can be).  ``floor(N/D)`` is Z3's integer ``div``: for ``D > 0`` SMT-LIB's
Euclidean division equals floor division for every sign of ``N``; a divisor whose sign is not
known is split as ``If(D > 0, N div D, (-N) div (-D))``.  Every divisor is asserted non-zero
(the statement is claimed where it is defined), every symbol's domain and every assumption is
asserted, and the negation of the statement is checked: ``unsat`` proves it, and a ``sat``
model is a counterexample that must pass the plain-integer re-check before it is reported.
(The ``ToInt(real/real)`` encoding timed out on most identities; it is not used.)

>>> from convsym.proof.problem import build
>>> by_z3(build("floor(n/(a*b)) == floor(floor(n/a)/b)"), 5.0).status
'proved'
"""

from __future__ import annotations

import math
import time
from typing import Any

import sympy

from convsym.proof.goal import Outcome
from convsym.proof.problem import Problem
from convsym.proof.result import ProofStep


class _Unsupported(Exception):
    pass


class _Encoder:
    """SymPy expressions to pairs ``(N, D, d_pos, v_pos)``: the value is N/D, D > 0 is known
    when ``d_pos`` and the value > 0 is known when ``v_pos``."""

    def __init__(self, z3: Any, ctx: Any, p: Problem) -> None:
        self.z3, self.ctx, self.p = z3, ctx, p
        self.vars = {n: z3.Int(n, ctx) for n in p.names}
        self.defined: list[Any] = []
        self.memo: dict[sympy.Basic, tuple[Any, Any, bool, bool]] = {}

    def int_(self, v: int) -> Any:
        return self.z3.IntVal(v, self.ctx)

    def encode(self, root: sympy.Basic) -> tuple[Any, Any, bool, bool]:
        stack: list[tuple[sympy.Basic, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node in self.memo:
                continue
            if not ready:
                stack.append((node, True))
                if not node.is_Atom:
                    stack.extend((a, False) for a in node.args)
                continue
            self.memo[node] = self._node(node)
        return self.memo[root]

    def _node(self, node: sympy.Basic) -> tuple[Any, Any, bool, bool]:
        z3 = self.z3
        if isinstance(node, sympy.Rational):
            return self.int_(int(node.p)), int(node.q), True, bool(node > 0)
        if isinstance(node, sympy.Symbol):
            lo = self.p.lower.get(node.name)
            return self.vars[node.name], 1, True, lo is not None and lo >= 1
        args = [self.memo[a] for a in node.args]
        if isinstance(node, sympy.Add):
            out = args[0]
            for a in args[1:]:
                out = self._add(out, a)
            return out
        if isinstance(node, sympy.Mul):
            out = args[0]
            for a in args[1:]:
                out = (out[0] * a[0], _mul(out[1], a[1]), out[2] and a[2], out[3] and a[3])
            return out
        if isinstance(node, sympy.Pow):
            n, d, dp, vp = args[0]
            k = int(node.args[1])
            if k < 0:
                # (N/D)**-k = D**k / N**k; N > 0 is known when the value and D are positive
                n, d, dp, k = _term(self, d), n, vp and dp, -k
                if not dp:
                    self.defined.append(d != 0)
            if k > 4:
                rd = d**k if isinstance(d, int) else d ** self.int_(k)
                return n ** self.int_(k), rd, dp or k % 2 == 0, vp
            rn, rd = self.int_(1), 1
            for _ in range(k):
                rn, rd = rn * n, _mul(rd, d)
            return rn, rd, dp or k % 2 == 0, vp
        if isinstance(node, sympy.floor):
            return self._floor(args[0]), 1, True, False
        if isinstance(node, sympy.ceiling):
            n, d, dp, vp = args[0]
            return -self._floor((-n, d, dp, False)), 1, True, vp
        if isinstance(node, sympy.Mod):
            (na, da, pa, _), (nb, db, pb, vb) = args
            if not (vb and pb):
                self.defined.append(nb != 0)
            # a - b*floor(a/b); a/b = (na*db)/(da*nb)
            q = self._floor((na * _term(self, db), _mul(da, nb), pa and pb and vb, False))
            return self._add(args[0], (-(nb * q), db, pb, False))
        if isinstance(node, (sympy.Min, sympy.Max)):
            return self._extreme(args, isinstance(node, sympy.Max))
        if isinstance(node, sympy.Abs):
            n, d, dp, vp = args[0]
            if not dp:
                raise _Unsupported("abs of a quotient with a divisor of unknown sign")
            return z3.If(n >= 0, n, -n), d, True, vp
        raise _Unsupported(f"{type(node).__name__}")

    def _add(self, a: tuple[Any, Any, bool, bool], b: tuple[Any, Any, bool, bool]
             ) -> tuple[Any, Any, bool, bool]:
        (n1, d1, p1, v1), (n2, d2, p2, v2) = a, b
        if isinstance(d1, int) and isinstance(d2, int):
            g = math.lcm(d1, d2)
            return n1 * (g // d1) + n2 * (g // d2), g, True, v1 and v2
        if d1 is d2:
            return n1 + n2, d1, p1, v1 and v2
        return n1 * _term(self, d2) + n2 * _term(self, d1), _mul(d1, d2), p1 and p2, v1 and v2

    def _floor(self, pair: tuple[Any, Any, bool, bool]) -> Any:
        n, d, dp, _ = pair
        if isinstance(d, int):
            return n if d == 1 else n / self.int_(d)
        if dp:
            return n / d
        return self.z3.If(d > 0, n / d, (-n) / (-d))

    def _extreme(self, args: list[tuple[Any, Any, bool, bool]], biggest: bool
                 ) -> tuple[Any, Any, bool, bool]:
        if not all(a[2] for a in args):
            raise _Unsupported("Min/Max of quotients with divisors of unknown sign")
        dens = [a[1] for a in args]
        nums: list[Any] = []
        den: Any
        if all(isinstance(d, int) for d in dens):
            den = math.lcm(*dens)
            nums = [n * (den // d) for n, d, _, _ in args]
        else:
            den = 1
            for d in dens:
                den = _mul(den, d)
            for i, (n, _, _, _) in enumerate(args):
                scale: Any = 1
                for j, d in enumerate(dens):
                    if j != i:
                        scale = _mul(scale, d)
                nums.append(n * _term(self, scale))
        best = nums[0]
        for n in nums[1:]:
            best = self.z3.If((n > best) if biggest else (n < best), n, best)
        positive = any(a[3] for a in args) if biggest else all(a[3] for a in args)
        return best, den, True, positive

    def relation(self, op: str, a: sympy.Expr, b: sympy.Expr) -> Any:
        na, da, pa, _ = self.encode(a)
        nb, db, pb, _ = self.encode(b)
        if pa and pb:
            left, right = na * _term(self, db), nb * _term(self, da)
        else:
            left = (na * _term(self, db) - nb * _term(self, da)) * _term(self, da) * \
                _term(self, db)
            right = self.int_(0)
        return {"==": left == right, "!=": left != right, "<": left < right,
                "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and a == 1:
        return b
    if isinstance(b, int) and b == 1:
        return a
    return a * b


def _term(enc: _Encoder, x: Any) -> Any:
    return enc.int_(x) if isinstance(x, int) else x


def by_z3(p: Problem, timeout: float) -> Outcome:
    """Prove (unsat) or refute (sat, re-checked) the problem with Z3 within ``timeout`` s."""
    if timeout <= 0.01:
        return Outcome(None, reason="no time was left for Z3")
    try:
        # why: Z3 loads only when the SMT step runs
        import z3
    except ImportError:  # pragma: no cover - z3-solver is a dependency
        return Outcome(None, reason="the z3-solver package is not installed")
    ctx = z3.Context()
    enc = _Encoder(z3, ctx, p)
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    try:
        for name, x in enc.vars.items():
            lo, hi = p.lower[name], p.upper[name]
            if lo is not None:
                solver.add(x >= lo)
            if hi is not None:
                solver.add(x <= hi)
        for op, a, b in p.conds:
            solver.add(enc.relation(op, a, b))
        claim = enc.relation(p.op, p.lhs, p.rhs)
    except _Unsupported as err:
        return Outcome(None, reason=f"Z3 encoding does not cover {err}")
    for c in enc.defined:
        solver.add(c)
    solver.add(z3.Not(claim))
    start = time.monotonic()
    verdict = solver.check()
    ms = (time.monotonic() - start) * 1000
    if verdict == z3.unsat:
        step = ProofStep("z3", f"Z3 finds no integer point in the domain where the statement "
                         f"fails (unsat in {ms:.0f} ms; floor(X/D) is integer division with "
                         "D >= 1 asserted)", p.statement, sympy.true)
        return Outcome("proved", [step], f"Z3: unsat in {ms:.0f} ms")
    if verdict == z3.sat:
        model = solver.model()
        point = {n: model.eval(x, model_completion=True).as_long()
                 for n, x in enc.vars.items()}
        if p.check(point) == "counterexample":
            return Outcome("refuted", [], f"Z3 model, re-checked in {ms:.0f} ms", point)
        return Outcome(None, reason="Z3's model did not pass the plain-integer re-check")
    why = solver.reason_unknown()
    return Outcome(None, reason=f"Z3 gave up after {ms / 1000:.1f} s ({why})")
