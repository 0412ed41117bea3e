"""Prove, refute, or honestly not know statements about floor and ceiling shape formulas.

The ladder (see ``DESIGN.md``, idea 2): (0) domains made explicit, (1) canonical rewriting
with named lemmas, (2) the quasi-affine period check for concrete divisors, (3) Z3 with
integer division for symbolic divisors, (4) a bounded search whose success alone is
"unknown", never "proved".  Every refutation carries a counterexample re-checked in plain
integer arithmetic.

>>> proof = prove("floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)", assume=["n >= k"])
>>> proof.status, proof.method
('proved', 'rewriting')
>>> quick_decide("ceiling(n/2) - floor(n/2)")
True
"""

from __future__ import annotations

from convsym.expr import as_expr
from convsym.intdiv import Ext, NotQuasiPolynomial, QPoly, from_sympy
from convsym.period import decide_nonneg
from convsym.proof.engine import DEFAULT_TIMEOUT, prove
from convsym.proof.library import LEMMAS, Lemma, lemma
from convsym.proof.result import METHODS, STATUSES, Proof, ProofStep

__all__ = [
    "DEFAULT_TIMEOUT",
    "LEMMAS",
    "METHODS",
    "STATUSES",
    "Lemma",
    "Proof",
    "ProofStep",
    "lemma",
    "prove",
    "quick_decide",
]


def quick_decide(e_nonneg: object, *, budget: int = 20_000) -> bool | None:
    """Is ``e >= 0`` for every value of its (positive-integer) symbols?  True, False or None.

    Cheap: only the period check (concrete divisors), within ``budget`` evaluations.
    ``e_nonneg`` is a canonical size (:data:`~convsym.intdiv.QExpr`), SymPy expression or
    text.
    """
    if isinstance(e_nonneg, (QPoly, Ext)):
        e = e_nonneg
    else:
        try:
            e = from_sympy(as_expr(e_nonneg, field="expression"))
        except NotQuasiPolynomial:
            return None
    return decide_nonneg(e, budget=budget).holds
