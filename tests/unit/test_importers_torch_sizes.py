"""The trace's symbolic sizes and fractions against Python's own integers and Fractions.

A forward computes with ``x.shape``; convsym's :class:`SymInt` / :class:`SymRatio` must give,
at every value of the symbol, exactly what Python computes with the concrete size.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.expr import symbol
from convsym.importers.torch_sizes import SymInt, SymRatio
from convsym.intdiv import QPoly, evaluate, floordiv
from convsym.period import decide_nonneg

H = symbol("H")


class Refused(Exception):
    """What the stand-in trace raises: the code and message of a refusal."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class Trace:
    """The three methods of the real trace that sizes use (decisions for every H >= 1)."""

    def floordiv(self, a: QPoly, d: QPoly) -> QPoly:
        if d.as_int() is not None and d.as_int() <= 0:  # type: ignore[operator]
            raise Refused(f"floor division by {d}", "size_arithmetic")  # as the real trace
        return floordiv(a, d)

    def fail(self, message: str, code: str = "") -> Refused:
        return Refused(message, code)

    def decide(self, left: QPoly, op: str, right: QPoly, text: str) -> bool:
        def always(e: QPoly) -> bool:
            return bool(decide_nonneg(e).holds)

        diff = left - right
        one = QPoly.const(1)
        neg = diff * QPoly.const(-1)
        facts = {">=": (always(diff), always(neg - one)), "<": (always(neg - one), always(diff)),
                 ">": (always(diff - one), always(neg)), "<=": (always(neg), always(diff - one)),
                 "==": (diff.as_int() == 0, always(diff - one) or always(neg - one))}
        facts["!="] = facts["=="][::-1]
        yes, no = facts[op]
        if yes or no:
            return yes
        raise Refused(text, "branches_on_size")


def _value(v: Any, h: int) -> Any:
    """A size or fraction at H = h, as Python's int or Fraction."""
    if isinstance(v, SymInt):
        return evaluate(v.q, {H: h})
    if isinstance(v, SymRatio):
        return Fraction(evaluate(v.num, {H: h}), v.den)
    return v


STEPS = st.lists(st.tuples(st.sampled_from(["+", "-", "*", "/", "//", "floor", "ceil", "trunc",
                                            "int"]),
                           st.integers(-6, 6)), max_size=6)
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
       "//": operator.floordiv, "floor": lambda a, _: math.floor(a),
       "ceil": lambda a, _: math.ceil(a), "trunc": lambda a, _: math.trunc(a),
       "int": lambda a, _: int(a)}


@settings(max_examples=150, deadline=None)
@given(STEPS, st.integers(1, 60))
def test_arithmetic_is_pythons_at_every_size(steps: list[tuple[str, int]], h: int) -> None:
    """Each step's result, evaluated at H = h, is what Python gives for the concrete size."""
    sym: Any = SymInt(QPoly.sym(H), Trace())
    real: Any = h
    for op, k in steps:
        if op in ("/", "//") and k == 0:
            continue
        try:
            sym = OPS[op](sym, k)
        except Refused as err:  # refused (a branch on the size): never a wrong value
            assert err.code in ("branches_on_size", "size_arithmetic", "size_not_concrete")
            return
        real = OPS[op](Fraction(real) if op == "/" else real, k)
        if isinstance(real, Fraction) and real.denominator == 1 and op != "/":
            real = int(real)
        assert _value(sym, h) == real, (steps, h)


def test_same_padding_of_a_strided_convolution_is_exact() -> None:
    """timm's ``get_same_padding``: ``max((ceil(x/s) - 1)*s + (k - 1)*d + 1 - x, 0)``."""
    x = SymInt(QPoly.sym(H), Trace())
    pad = max((math.ceil(x / 2) - 1) * 2 + (3 - 1) + 1 - x, 0)
    for h in range(1, 40):
        assert _value(pad, h) == max((math.ceil(h / 2) - 1) * 2 + 3 - h, 0)


@pytest.mark.parametrize(("make", "code"), [
    (lambda x: x / 2.0, "size_arithmetic"),
    (lambda x: 6 / x, "size_arithmetic"),
    (lambda x: round(x / 2), "size_arithmetic"),
    (lambda x: float(x / 3), "size_arithmetic"),
    (lambda x: range(x / 2), "size_arithmetic"),
    (lambda x: x / 2 < 3, "branches_on_size"),
    (lambda x: max(math.ceil(x / 2) * 2 - 1 - x, 0), "branches_on_size"),
])
def test_what_needs_a_float_or_a_branch_is_refused(make: Any, code: str) -> None:
    with pytest.raises(Refused) as info:
        make(SymInt(QPoly.sym(H), Trace()))
    assert info.value.code == code


def test_a_fraction_stays_a_fraction_until_rounded() -> None:
    """Python's ``h / 2 * 2`` is a float (PyTorch refuses it as a size); floor makes it one."""
    x = SymInt(QPoly.sym(H), Trace())
    assert isinstance((2 * x + 4) / 2, SymRatio) and isinstance(x / 1, SymRatio)
    assert isinstance(math.floor(x / 2 * 2), SymInt) and x / 2 * 2 == x
    assert math.floor(x) is x and round(x) is x
    for make in (lambda: x / 2 * 2 == 1.5, lambda: x == 3.0, lambda: x != 3.0,
                 lambda: range(x / 1)):
        with pytest.raises(Refused):
            make()
