"""The named lemmas the prover uses, each stated so that the prover itself can prove it.

Each :class:`Lemma` has the name that appears in proof steps, a statement and assumptions in
the safe parser's syntax, and one sentence.  ``tests/proofs/test_lemmas.py`` proves every
one with :func:`~convsym.proof.prove` and checks it numerically over a grid.

>>> [lemma.name for lemma in LEMMAS][:3]
['ceiling as floor', 'integer-term extraction', 'nested floor collapse']
>>> lemma("Hermite's identity").statement
'floor(x/d) + floor(x/d + 1/2) == floor(2*x/d)'
"""

from __future__ import annotations

from dataclasses import dataclass

from convsym.errors import UsageError, did_you_mean


@dataclass(frozen=True)
class Lemma:
    """A named identity or inequality about floor and ceiling of integer quotients."""

    name: str
    statement: str
    assumptions: tuple[str, ...] = ()
    summary: str = ""


LEMMAS: tuple[Lemma, ...] = (
    Lemma("ceiling as floor", "ceiling(x/d) == floor((x + d - 1)/d)", (),
          "A ceiling of an integer quotient is a floor with the numerator raised by D - 1."),
    Lemma("integer-term extraction", "floor((d*q + r)/d) == q + floor(r/d)", ("r >= -20",),
          "A multiple of the divisor leaves the floor as an integer term."),
    Lemma("nested floor collapse", "floor((floor(x/a) + m)/b) == floor((x + a*m)/(a*b))",
          ("m >= -20",), "Two floors in a row are one floor of the product of the divisors."),
    Lemma("nested ceiling collapse", "ceiling(ceiling(x/a)/b) == ceiling(x/(a*b))", (),
          "Ceiling as floor, then nested floor collapse."),
    Lemma("gcd cancellation", "floor((g*y + r)/(g*d)) == floor((y + floor(r/g))/d)",
          ("r >= -20",), "A common factor of the divisor and the non-constant terms "
          "cancels; the constant is floored."),
    Lemma("gcd cancellation (symbolic factor)", "floor(t*y/(t*d)) == floor(y/d)", (),
          "A positive common factor of numerator and divisor cancels."),
    Lemma("mod as floor", "x % d == x - d*floor(x/d)", (),
          "The remainder is what the floor leaves."),
    Lemma("floor is monotone", "floor(max(x, y)/d) == max(floor(x/d), floor(y/d))", (),
          "Floor of a quotient by a positive divisor is non-decreasing."),
    Lemma("Hermite's identity", "floor(x/d) + floor(x/d + 1/2) == floor(2*x/d)", (),
          "floor(y) + floor(y + 1/2) = floor(2y)."),
    Lemma("Hermite's identity (n-ary)",
          "floor(x/d) + floor(x/d + 1/3) + floor(x/d + 2/3) == floor(3*x/d)", (),
          "The sum of floor(y + i/m) over i < m is floor(m y); here m = 3."),
    Lemma("floor plus ceiling", "floor(x/2) + ceiling(x/2) == x", (),
          "Hermite's identity with y = x/2."),
    Lemma("floor monotonicity", "floor((x - k)/s) <= floor((x - 1)/s)", (),
          "A smaller numerator never gives a larger floor (k >= 1)."),
    Lemma("floor upper bound", "floor(x/d) <= x", (),
          "floor(X/D) <= X for X >= 0 and D >= 1."),
    Lemma("polynomial positivity", "(k - 1)*(d - 1) + k*d >= 1", (),
          "Shifting each symbol to its lower bound leaves non-negative coefficients."),
    Lemma("Max elimination", "floor((n + max((ceiling(n/s) - 1)*s + k - n, 0) - k)/s) + 1 "
          "== ceiling(n/s)", (),
          "In TF 'same' padding the Max never picks 0 over its other argument's effect: "
          "the output is ceiling(n/s) for every kernel size."),
)
"""Every named lemma, in the order the canonical form applies them."""


def lemma(name: str) -> Lemma:
    """The lemma called ``name``."""
    for item in LEMMAS:
        if item.name == name:
            return item
    raise UsageError(f"no lemma named {name!r}" + did_you_mean(name, [x.name for x in LEMMAS]),
                     code="unknown_lemma")
