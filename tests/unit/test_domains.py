"""convsym.domains: text is decided on its domain, never in a parse made under a stronger
assumption; SymPy symbols with assumptions convsym does not model are refused."""

from __future__ import annotations

import pytest
import sympy

from convsym.domains import (
    check_declared,
    declared_low,
    domain_symbol,
    neutral,
    neutral_relation,
    relation_on,
)
from convsym.errors import ConvsymError
from convsym.expr import as_expr, as_relation, symbol, unmodeled


def test_the_neutral_reading_simplifies_nothing_with_a_sign() -> None:
    assert neutral_relation("abs(p) >= 2").lhs == sympy.Abs(neutral("p"))
    assert neutral_relation("floor(p/(p + 1)) == 0").lhs != 0
    # on the default domain (p >= 1) SymPy may and does simplify
    assert relation_on("abs(p) >= 2", {}).lhs == symbol("p")


@pytest.mark.parametrize(("low", "positive", "nonnegative"), [
    (5, True, True), (1, True, True), (0, None, True), (-3, None, None), (None, None, None)])
def test_domain_symbols_claim_no_more_than_the_domain(low: int | None, positive: bool | None,
                                                     nonnegative: bool | None) -> None:
    s = domain_symbol("p", low)
    assert s.is_integer and s.is_positive == positive and s.is_nonnegative == nonnegative


def test_relation_on_a_wide_domain_keeps_abs() -> None:
    rel = relation_on("abs(p - 1) == p - 1", {"p": 0})
    assert rel.lhs.has(sympy.Abs)
    assert declared_low(symbol("p")) == 1 and declared_low(neutral("p")) is None


@pytest.mark.parametrize("kw", [{"even": True}, {"odd": True}, {"prime": True},
                                {"real": True}, {"rational": True}, {"negative": True},
                                {"integer": True, "nonzero": True}, {"positive": True},
                                {"noninteger": True}])
def test_unmodeled_symbols_are_refused(kw: dict[str, bool]) -> None:
    x = sympy.Symbol("x", **kw)
    assert unmodeled(x)
    with pytest.raises(ConvsymError) as info:
        as_relation(sympy.Ge(x, 2, evaluate=False))
    assert info.value.code == "symbol_assumptions" and "x" in str(info.value)
    with pytest.raises(ConvsymError):
        as_expr(x + 1)


@pytest.mark.parametrize("kw", [{}, {"integer": True}, {"integer": True, "positive": True},
                                {"integer": True, "nonnegative": True}])
def test_modeled_symbols_are_accepted(kw: dict[str, bool]) -> None:
    x = sympy.Symbol("x", **kw)
    assert unmodeled(x) == ""
    assert as_relation(sympy.Ge(x, 2, evaluate=False)).lhs == x


def test_a_declaration_narrower_than_the_domain_is_refused() -> None:
    rel = sympy.Ge(symbol("p"), 0, evaluate=False)
    check_declared(rel, {"p": 1}, "condition")
    with pytest.raises(ConvsymError) as info:
        check_declared(rel, {"p": -5}, "condition")
    assert info.value.code == "symbol_domain"
    with pytest.raises(ConvsymError):
        check_declared(rel, {"p": None}, "condition")
