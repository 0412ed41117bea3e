"""Side-condition reduction: every rewrite and every dropped condition is exact.

The property tests build conditions directly (floors of random linear forms over symbolic
and constant divisors, with symbolic kernels and strides from real layer stacks) and check
that the reduced set holds at exactly the same positive integer points as the original.
"""

from __future__ import annotations

import itertools
from typing import Any

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.conditions import reduce, reduced_conditions, relation, simplify
from convsym.expr import symbol
from convsym.intdiv import QExpr, QPoly, ceildiv, evaluate, floordiv
from convsym.spec import load

NAMES = ("n", "k", "s")
SYMS = {name: symbol(name) for name in NAMES}
POLY = {name: QPoly.sym(sym) for name, sym in SYMS.items()}


def _holds(conditions: list[QExpr], env: dict[sympy.Symbol, int]) -> bool:
    return all(evaluate(e, env) >= 0 for e in conditions)


def _records_hold(records: list[Any], env: dict[sympy.Symbol, int]) -> bool:
    return all(evaluate(c.expr, env) >= 0 if c.kind == "ge" else evaluate(c.expr, env) == 0
               for c in records)


def _points(syms: set[sympy.Symbol], data: st.DataObject, count: int = 40
            ) -> list[dict[sympy.Symbol, int]]:
    ordered = sorted(syms, key=lambda s: s.name)
    return [{s: data.draw(st.integers(1, 40)) for s in ordered} for _ in range(count)]


@st.composite
def linear(draw: st.DrawFn) -> QPoly:
    out = QPoly.const(draw(st.integers(-12, 12)))
    for name in NAMES:
        out = out + POLY[name] * draw(st.integers(-3, 3))
    return out


@st.composite
def condition(draw: st.DrawFn) -> QExpr:
    """``floor(X/D) + P``, ``ceil(X/D) + P`` or ``P`` with ``D`` a constant or a symbol
    product: the shapes a network's conditions take."""
    base = draw(linear())
    form = draw(st.sampled_from(["plain", "floor", "ceil", "scaled"]))
    if form == "plain":
        return base
    if form == "scaled":
        return base * draw(st.integers(2, 4)) + QPoly.const(draw(st.integers(-5, 5)))
    den = QPoly.const(draw(st.integers(1, 4)))
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=2)):
        den = den * POLY[name]
    part = floordiv(base, den) if form == "floor" else ceildiv(base, den)
    return part + draw(linear())


@settings(max_examples=100, deadline=None)
@given(st.lists(condition(), min_size=1, max_size=4), st.data())
def test_reduced_set_is_equivalent_on_integer_points(conds: list[QExpr],
                                                     data: st.DataObject) -> None:
    reduced = reduce(conds)
    assert len(reduced) <= len(conds)
    syms = set().union(*(SYMS.values(),))
    for env in _points(syms, data):
        assert _holds(conds, env) == _holds(reduced, env), (env, conds, reduced)


@settings(max_examples=100, deadline=None)
@given(condition(), st.data())
def test_simplify_is_exact(e: QExpr, data: st.DataObject) -> None:
    simple = simplify(e)
    for env in _points(set(SYMS.values()), data, 25):
        assert (evaluate(e, env) >= 0) == (evaluate(simple, env) >= 0), (env, e, simple)


@st.composite
def stacks(draw: st.DrawFn) -> dict[str, Any]:
    """A Keras stack with symbolic kernels, strides and paddings where it can have them."""
    layers: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "pool"]))
        k = draw(st.sampled_from(["k", 1, 2, 3]))
        s = draw(st.sampled_from(["s", 1, 2]))
        if kind == "conv":
            layers.append({"Conv2D": {"filters": 2, "kernel_size": k, "strides": s,
                                      "padding": draw(st.sampled_from(["valid", "same"]))}})
        else:
            layers.append({"MaxPooling2D": {"pool_size": draw(st.sampled_from([2, 3, "k"])),
                                            "strides": s}})
    return {"input": ["n", "n", 1], "layers": layers}


@settings(max_examples=60, deadline=None)
@given(stacks(), st.data())
def test_network_conditions_reduce_exactly(spec: dict[str, Any], data: st.DataObject) -> None:
    net = load(spec)
    records = net.condition_records
    kept = [c for c, _ in reduced_conditions(records)]
    shown = [r for _, r in reduced_conditions(records)]
    syms = {s for c in records for s in c.relation().free_symbols}
    for env in _points(syms, data, 25):
        original = _records_hold(records, env)
        assert original == all(bool(r.subs(env)) for r in shown), (env, records, shown)
    assert all(c in records for c in kept)


def test_issue_15_side_conditions_read_n_at_least_k_plus_s() -> None:
    """``k - n <= 0`` next to an implied ``floor((n - k - s)/s) >= 0`` becomes ``n >= k + s``."""
    n, k, s = POLY["n"], POLY["k"], POLY["s"]
    assert [str(relation(e)) for e in reduce([k * -1 + n, floordiv(n - k - s, s)])] == \
        ["n >= k + s"]


def test_relation_puts_terms_on_their_positive_side() -> None:
    n, k, s = POLY["n"], POLY["k"], POLY["s"]
    assert str(relation(k - n)) == "k >= n"
    assert str(relation(n - k * s - QPoly.const(1))) == "n >= k*s + 1"
    assert str(relation(QPoly.const(7) - n)) == "n <= 7"


def test_a_condition_that_is_not_implied_stays() -> None:
    n, k, s = POLY["n"], POLY["k"], POLY["s"]
    # n >= 2k and n >= k + s: neither implies the other (k = 1, s = 5 / k = 5, s = 1)
    both = reduce([n - k * 2, n - k - s])
    assert len(both) == 2


def test_an_always_true_condition_goes() -> None:
    n, s = POLY["n"], POLY["s"]
    assert reduce([ceildiv(n, s)]) == []
    assert reduce([n + s - QPoly.const(2)]) == []


def test_equations_and_displayed_conditions_are_kept_as_they_are() -> None:
    net = load({"dialect": "torch", "input": [1, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 1, "out_channels": 2, "kernel_size": 5}},
        {"Flatten": {}}, {"Linear": {"in_features": 200, "out_features": 3}}]})
    pairs = reduced_conditions(net.condition_records)
    eqs = [r for c, r in pairs if c.kind == "eq"]
    assert eqs and all(isinstance(r, sympy.Eq) for r in eqs)


def test_grid_equivalence_for_the_readme_style_stack() -> None:
    """Exhaustively on a grid, for a stack whose conditions chain through two layers."""
    net = load({"input": ["n", "n", 1], "layers": [
        {"Conv2D": {"filters": 1, "kernel_size": "k", "strides": "s"}},
        {"Conv2D": {"filters": 1, "kernel_size": "k", "strides": "s"}},
        {"MaxPooling2D": {"pool_size": 2}}]})
    records = net.condition_records
    shown = [r for _, r in reduced_conditions(records)]
    assert len(shown) == 1
    n, k, s = (SYMS[x] for x in NAMES)
    for a, b, c in itertools.product(range(1, 25), range(1, 5), range(1, 4)):
        env = {n: a, k: b, s: c}
        assert _records_hold(records, env) == bool(shown[0].subs(env)), env


def test_many_conditions_are_simplified_but_not_compared() -> None:
    from convsym.conditions import MAX_COMPARED

    n = POLY["n"]
    many = [n * 2 - QPoly.const(2 * i) for i in range(2, MAX_COMPARED + 3)]  # n >= i
    reduced = reduce(many)
    assert len(reduced) == len(many) == MAX_COMPARED + 1  # too many to compare: all stay
    assert str(relation(reduced[-1])) == f"n >= {MAX_COMPARED + 2}"  # simplified (2n - 2i)
    assert [str(relation(e)) for e in reduce(many[:MAX_COMPARED])] == [
        f"n >= {MAX_COMPARED + 1}"]  # compared: the strongest stays
