"""The canonical integer-division algebra: canonical forms evaluate like naive floor arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.expr import parse_expr, symbol
from convsym.intdiv import (
    Ext,
    Floor,
    NotQuasiPolynomial,
    QExpr,
    QPoly,
    ceildiv,
    evaluate,
    exact_quotient,
    ext,
    floordiv,
    from_sympy,
    iter_floors,
    scale,
    to_sympy,
    tracing,
)
from convsym.proof.evaluate import Program

N, M, S, T = (symbol(x) for x in ("n", "m", "s", "t"))
POSITIVE = (N, M, S, T)


@dataclass(frozen=True)
class Tree:
    """A random expression three ways: SymPy, the algebra, and plain Python integers."""

    sym: sympy.Expr
    q: QExpr
    naive: Callable[[dict[str, int]], int]


def _leaf(draw: st.DrawFn) -> Tree:
    if draw(st.booleans()):
        value = draw(st.integers(-6, 6))
        return Tree(sympy.Integer(value), QPoly.const(value), lambda env: value)
    x = draw(st.sampled_from(POSITIVE))
    return Tree(x, QPoly.sym(x), lambda env: env[x.name])


@st.composite
def trees(draw: st.DrawFn, depth: int = 4) -> Tree:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return _leaf(draw)
    kind = draw(st.sampled_from(["add", "sub", "mul", "floor", "ceil", "mod", "minmax",
                                 "sdiv"]))
    a = draw(trees(depth - 1))
    if kind in ("add", "sub"):
        b = draw(trees(depth - 1))
        if isinstance(a.q, Ext) and isinstance(b.q, Ext):
            return a
        sign = 1 if kind == "add" else -1
        try:
            q = from_sympy(a.sym + sign * b.sym)
        except NotQuasiPolynomial:  # a sum of two Min/Max
            return a
        return Tree(a.sym + sign * b.sym, q, lambda env: a.naive(env) + sign * b.naive(env))
    if kind == "mul":
        c = draw(st.integers(-3, 3))
        return Tree(c * a.sym, scale(a.q, QPoly.const(c)), lambda env: c * a.naive(env))
    if kind == "minmax":
        b = draw(trees(depth - 1))
        big = draw(st.booleans())
        cls = sympy.Max if big else sympy.Min
        pick = max if big else min
        # unevaluated unless both are numbers: SymPy 1.14 decides Min(1, floor(1/(s*t)))
        # is 1 (wrongly, at s*t > 1)
        both = bool(a.sym.is_Number and b.sym.is_Number)
        return Tree(cls(a.sym, b.sym, evaluate=both), ext("max" if big else "min", [a.q, b.q]),
                    lambda env: pick(a.naive(env), b.naive(env)))
    if kind == "sdiv":
        d = draw(st.sampled_from([S, T, 2 * S, S * T]))
        f = sympy.floor(a.sym / d, evaluate=not a.sym.has(sympy.Min, sympy.Max))
        return Tree(f, from_sympy(f),
                    lambda env: a.naive(env) // int(d.subs({S: env["s"], T: env["t"]})))
    d_int = draw(st.integers(1, 7))
    # unevaluated around a Min/Max: SymPy 1.14 holds Min(2*m, 2*n)/6 an integer, so its
    # floor() returns the quotient as it is (convsym's parser never evaluates floors)
    evaluate = not a.sym.has(sympy.Min, sympy.Max)
    if kind == "floor":
        f = sympy.floor(a.sym / d_int, evaluate=evaluate)
        return Tree(f, from_sympy(f), lambda env: a.naive(env) // d_int)
    if kind == "ceil":
        c = sympy.ceiling(a.sym / d_int, evaluate=evaluate)
        return Tree(c, from_sympy(c), lambda env: -((-a.naive(env)) // d_int))
    if isinstance(a.q, Ext):
        return a
    # unevaluated: SymPy 1.14 turns Mod(2*Mod(n, 7), 3) into Mod(2*Mod(n, 7)**2, 3)
    mod = sympy.Mod(a.sym, d_int, evaluate=bool(a.sym.is_Number))
    return Tree(mod, from_sympy(mod), lambda env: a.naive(env) % d_int)


ENVS = st.fixed_dictionaries({x.name: st.integers(1, 40) for x in POSITIVE})


@settings(max_examples=300, deadline=None)
@given(trees(), ENVS)
def test_canonical_form_evaluates_like_naive_floor_arithmetic(tree: Tree,
                                                              env: dict[str, int]) -> None:
    values = {x: env[x.name] for x in POSITIVE}
    assert evaluate(tree.q, values) == tree.naive(env)


@settings(max_examples=300, deadline=None)
@given(trees(), ENVS)
def test_the_lower_bound_holds_at_every_point(tree: Tree, env: dict[str, int]) -> None:
    from convsym.intdiv import lower_bound

    bound = lower_bound(tree.q)
    if bound is not None:
        values = {x: env[x.name] for x in POSITIVE}
        assert evaluate(tree.q, values) >= bound
        ones = {x: 1 for x in POSITIVE}  # where a sum of positive terms is least
        assert evaluate(tree.q, ones) >= bound


def test_the_nested_collapse_shortcut_gives_the_lemma_by_lemma_form() -> None:
    # untraced, floor((floor(X/A) + m)/B) collapses at once; traced, lemma by lemma: the
    # same canonical form, term for term and in the same order
    n, m = QPoly.sym(N), QPoly.sym(M)
    for x in (n, n + m * QPoly.const(3) + QPoly.const(1), floordiv(n, QPoly.sym(S))):
        for a in (1, 2, 3, 4, 7):
            f = floordiv(x + QPoly.const(a - 1), QPoly.const(a))
            for shift in range(-9, 10):
                for b in (2, 3, 5, 8):
                    num = f + QPoly.const(shift)
                    fast = floordiv(num, QPoly.const(b))
                    with tracing():
                        slow = floordiv(num, QPoly.const(b))
                    assert list(fast.terms.items()) == list(slow.terms.items())


def test_the_symbolic_divisor_shortcut_gives_the_lemma_by_lemma_form() -> None:
    # floor((floor(X/A) + m)/B) with a symbolic B (a stride "s") takes the nested collapse
    # at once (or keeps the floor nested, as _collapses says); the general steps give the
    # same canonical form, term for term and in the same order
    from convsym.intdiv import _split_den, _steps

    n, m, s, t = (QPoly.sym(x) for x in (N, M, S, T))
    inners = (n, n + m * QPoly.const(3) + QPoly.const(1), floordiv(n, s), n - t)
    for x in inners:
        for a in (QPoly.const(1), QPoly.const(4), s, s * s, QPoly.const(2) * t):
            f = floordiv(x + a - QPoly.const(1), a)
            for shift in (-7, -1, 0, 1, 5):
                for b in (s, t, QPoly.const(2) * s, s * t):
                    num = f + QPoly.const(shift)
                    fast = floordiv(num, b)
                    slow = _steps(num, b, *_split_den(b), None)
                    assert list(fast.terms.items()) == list(slow.terms.items())
                    env = {N: 23, M: 5, S: 3, T: 2}
                    assert fast.evaluate(env) == (num.evaluate(env)) // b.evaluate(env)


@settings(max_examples=100, deadline=None)
@given(trees(), trees(), ENVS)
def test_a_product_of_one_term_by_one_term_is_the_expanded_product(
        a: Tree, b: Tree, env: dict[str, int]) -> None:
    # single terms multiply directly; through a sum (x*b + a*b - x*b) the general expansion
    x = QPoly.sym(symbol("x"))
    if not (isinstance(a.q, QPoly) and isinstance(b.q, QPoly)):
        return
    for p, q in ((a.q, b.q), (QPoly(dict(list(a.q.terms.items())[:1])),
                              QPoly(dict(list(b.q.terms.items())[:1])))):
        direct = p * q
        general = (x + p) * q - x * q
        assert direct == general
        values = {v: env[v.name] for v in POSITIVE}
        assert direct.evaluate(values) == p.evaluate(values) * q.evaluate(values)


def test_the_lower_bound_is_tight_on_window_rooms() -> None:
    from convsym.intdiv import lower_bound

    x = QPoly.sym(N)
    for stride in (2, 1, 2, 3, 1):  # ceiling(n/2**i): at least 1, so its room n + 2 - 3 >= 0
        x = floordiv(x + QPoly.const(2 - 3), QPoly.const(stride)) + QPoly.const(1)
        assert lower_bound(x - QPoly.const(1)) == 0
    assert lower_bound(x - QPoly.const(2)) == -1
    assert lower_bound(QPoly.sym(N) - QPoly.sym(M)) is None
    assert lower_bound(ext("min", [QPoly.sym(N), QPoly.const(3)])) == 1


@settings(max_examples=300, deadline=None)
@given(trees(), ENVS)
def test_the_display_form_has_the_same_value(tree: Tree, env: dict[str, int]) -> None:
    shown = to_sympy(tree.q)
    assert Program([shown]).run(env)[0] == tree.naive(env)


@settings(max_examples=200, deadline=None)
@given(trees(), ENVS)
def test_the_canonical_form_is_stable(tree: Tree, env: dict[str, int]) -> None:
    again = from_sympy(to_sympy(tree.q))
    values = {x: env[x.name] for x in POSITIVE}
    assert evaluate(again, values) == tree.naive(env)


def test_a_quotient_whose_numerator_keeps_a_rational_is_read() -> None:
    # the display of floor(n/2 + floor(-2/s)/4) is ceiling((n*s - 2*s)/(2*s)); SymPy's
    # together() and fraction() split its argument into (n/2 - 1, 1)
    n, s = (sympy.Symbol(x, integer=True, positive=True) for x in "ns")
    shown = to_sympy(from_sympy(sympy.floor((2 * n + sympy.floor(-2 / s)) / 4)))
    again = from_sympy(shown)
    for nv in range(1, 9):
        for sv in range(1, 5):
            want = (2 * nv + (-2 // sv)) // 4
            assert evaluate(again, {N: nv, S: sv}) == want


@pytest.mark.parametrize(("text", "shown"), [
    ("ceiling(ceiling(ceiling(ceiling(ceiling(n/2)/2)/2)/2)/2)", "ceiling(n/32)"),
    ("floor((n + 2 - 3)/2) + 1", "ceiling(n/2)"),
    ("floor((n - 3)/1) + 1", "n - 2"),
    ("floor((2*n + 1)/4)", "floor(n/2)"),
    ("floor((2*n + 2)/(2*s))", "floor((n + 1)/s)"),
    ("floor((floor(n/s) + 3)/s)", "floor((n + 3*s)/s**2)"),
    ("ceiling(n/s)", "ceiling(n/s)"),
    ("n % 4 + 4*floor(n/4)", "n"),
    ("-n*max(a, b)", "Min(-a*n, -b*n)"),
])
def test_display(text: str, shown: str) -> None:
    assert str(to_sympy(from_sympy(parse_expr(text)))) == shown


def test_issue_3_scaling_a_max_by_a_factor_of_unknown_sign_is_refused() -> None:
    # (n - 3)*max(a, b) is max(...) for n >= 3 but min(...) for n < 3
    with pytest.raises(NotQuasiPolynomial, match="sign"):
        from_sympy(parse_expr("(n - 3)*max(a, b)"))
    a, b = QPoly.sym(symbol("a")), QPoly.sym(symbol("b"))
    e = scale(ext("max", [a, b]), QPoly.const(-2))
    assert isinstance(e, Ext) and e.kind == "min"


def test_tracing_records_each_lemma_once_per_call() -> None:
    n = QPoly.sym(N)
    with tracing() as log:
        floordiv(ceildiv(n, QPoly.const(2)) + QPoly.const(5), QPoly.const(3))
    assert [r.kind for r in log] == ["ceiling", "floor"]
    assert log[0].lemmas == ("ceiling as floor",)
    assert "nested floor collapse" in log[1].lemmas
    with tracing() as log:
        pass
    assert log == []
    floordiv(n, QPoly.const(2))  # outside tracing: nothing recorded, nothing raised


def test_gcd_cancellation_floors_the_constant() -> None:
    n = QPoly.sym(N)
    got = floordiv(QPoly.const(6) * n + QPoly.const(5), QPoly.const(4))
    want = floordiv(QPoly.const(3) * n + QPoly.const(2), QPoly.const(2))
    assert got == want
    for v in range(1, 30):
        assert evaluate(got, {N: v}) == (6 * v + 5) // 4


def test_large_powers_of_a_monomial() -> None:
    q = from_sympy(parse_expr("ceiling(n/s**2)") ** 1)
    assert str(to_sympy(q)) == "ceiling(n/s**2)"
    big = from_sympy(sympy.ceiling(N / S**200))
    assert isinstance(big, QPoly)
    with pytest.raises(NotQuasiPolynomial):
        from_sympy((N + 1) ** 65)


def _sympy_round(e: QExpr) -> None:
    """Every floor atom's fast display equals SymPy's own evaluation of the same winner."""
    from convsym.intdiv import Floor, _round, directions, iter_floors

    for f in iter_floors(e):
        assert isinstance(f, Floor)
        for cls in (sympy.floor, sympy.ceiling):
            for shift in (0, 1, -3):
                num = f.num + f.den * QPoly.const(shift)
                fast = _round(cls, num, f)
                # (_round reads num's directions off the floor's: alike but for den's symbols)
                rise, fall = directions(num + QPoly.const(shift))
                den = f.den.free_symbols()
                assert (rise - den, fall - den) == f.directions()
                slow = cls(to_sympy(num) / to_sympy(f.den))
                assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow)


@settings(max_examples=200, deadline=None)
@given(trees())
def test_the_display_builds_each_floor_as_sympy_evaluates_it(tree: Tree) -> None:
    _sympy_round(tree.q)


def test_deep_displays_are_built_as_sympy_evaluates_them() -> None:
    x = QPoly.sym(N)
    for stride in (2, 1, 3, 2, 2, 5):  # mixed strides and symbolic divisors
        x = ceildiv(x + QPoly.const(stride), QPoly.const(stride))
        y = floordiv(x * QPoly.sym(M) + QPoly.const(3), QPoly.sym(S) * QPoly.const(2))
        _sympy_round(y)
        _sympy_round(x)
    assert str(to_sympy(x)) == str(to_sympy(from_sympy(to_sympy(x))))


def test_the_display_is_memoised_per_size() -> None:
    x = QPoly.sym(N)
    for _ in range(40):
        x = ceildiv(x, QPoly.const(2))
    assert to_sympy(x) is to_sympy(x)
    assert to_sympy(x) == sympy.ceiling(N / 2**40)


@st.composite
def floor_sums(draw: st.DrawFn) -> QPoly:
    """Sums of floors that share numerators up to constants (as Min/Max arguments do)."""
    from convsym.intdiv import diff_bounds  # noqa: F401  (the function under test)

    x = QPoly.const(draw(st.integers(-5, 5)))
    for sym in (N, M):
        x = x + QPoly.sym(sym) * QPoly.const(draw(st.integers(-2, 3)))
    den = draw(st.sampled_from([QPoly.const(2), QPoly.const(3), QPoly.const(7),
                                QPoly.sym(S), QPoly.sym(S) * QPoly.const(2)]))
    total = QPoly.const(draw(st.integers(-4, 4)))
    for _ in range(draw(st.integers(1, 4))):
        shift = QPoly.const(draw(st.integers(-9, 9)))
        k = draw(st.sampled_from([-2, -1, 1, 2]))
        part = (ceildiv if draw(st.booleans()) else floordiv)(x + shift, den)
        if draw(st.booleans()) and den.is_const():  # a multiple of the divisor: D*floor(Y/D)
            k *= den.const_value()
        total = total + part * QPoly.const(k)
    if draw(st.booleans()):
        total = total - x * QPoly.const(draw(st.sampled_from([-1, 1])))
    if draw(st.booleans()):
        total = total + QPoly.sym(T) * QPoly.const(draw(st.sampled_from([-1, 1])))
    return total


@settings(max_examples=150, deadline=None)
@given(floor_sums())
def test_diff_bounds_hold_everywhere(d: QPoly) -> None:
    from convsym.intdiv import diff_bounds

    lo, hi = diff_bounds(d)
    for n in range(1, 13):
        for m in (1, 2, 5, 11):
            for s in (1, 2, 3, 7):
                for t in (1, 9):
                    v = d.evaluate({N: n, M: m, S: s, T: t})
                    assert lo is None or v >= lo
                    assert hi is None or v <= hi


@settings(max_examples=150, deadline=None)
@given(st.lists(floor_sums(), min_size=1, max_size=5), st.booleans())
def test_min_max_keep_their_value(args: list[QPoly], big: bool) -> None:
    e = ext("max" if big else "min", args)
    pick = max if big else min
    for n in range(1, 13):
        for s in (1, 2, 5):
            env = {N: n, M: 3, S: s, T: 2}
            assert evaluate(e, env) == pick(a.evaluate(env) for a in args)


def test_ceil_mode_candidates_with_one_divisor_collapse() -> None:
    n, d = QPoly.sym(N), QPoly.const(27)
    args = [ceildiv(n + QPoly.const(c), d) for c in (5, -3, 11, 0)]
    assert ext("min", args) == args[1]
    assert ext("max", args) == args[2]


def test_settle_drops_the_idle_same_padding_max_without_period_checks() -> None:
    """Keras 'same' stride 2: the padding Max(2*ceiling(n/2) - n + 1, 0) is never 0."""
    from convsym.sizes import settle

    n = QPoly.sym(N)
    for _ in range(30):
        n = ceildiv(n, QPoly.const(2))
    two = QPoly.const(2)
    pad = ext("max", [two * ceildiv(n, two) - n + QPoly.const(1), QPoly.const(0)])
    assert isinstance(pad, QPoly)
    assert settle(floordiv(pad, two)) == floordiv(pad, two)  # 0 or 1: not a constant
    assert settle(ext("max", [pad, QPoly.const(1)])) == pad  # pad >= 1 by exact bounds


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([N, M, S]), st.integers(1, 9), st.integers(-5, 9),
                          st.sampled_from(["floor", "ceil", "plain"]), st.integers(1, 3),
                          st.integers(-4, 4)), min_size=2, max_size=3,
                unique_by=lambda t: t[0]),
       st.sampled_from([1, -1, 4, -3, 576]))
def test_products_display_as_sympy_factor_list_does(
        factors: list[tuple[sympy.Symbol, int, int, str, int, int]], k: int) -> None:
    """A MAC count (a constant times sizes in distinct atoms) is factored without SymPy's
    factor_list, to the same expression."""
    from convsym.intdiv import _factor_list, _factored

    e = QPoly.const(k)
    for sym, d, shift, kind, scale_by, plus in factors:
        x = QPoly.sym(sym) + QPoly.const(shift)
        base = floordiv(x, QPoly.const(d)) if kind == "floor" else \
            ceildiv(x, QPoly.const(d)) if kind == "ceil" else QPoly.sym(sym)
        e = e * (base * QPoly.const(scale_by) + QPoly.const(plus))
    if len(e.terms) > 2:
        fast, slow = _factored(e), _factor_list(e)
        assert fast == slow and str(fast) == str(slow)


@st.composite
def long_sums(draw: st.DrawFn) -> QPoly:
    """A sum of up to 12 terms: symbols, floor atoms and a constant (a deep layer's size)."""
    from convsym.intdiv import product

    terms = draw(st.lists(trees(depth=2), min_size=2, max_size=10))
    total = QPoly.const(draw(st.integers(-6, 6)))
    for t in terms:
        if isinstance(t.q, QPoly):
            total = total + t.q * draw(st.sampled_from([-2, -1, 1, 3]))
    return product([total])


@settings(max_examples=40, deadline=None)
@given(st.lists(long_sums(), min_size=1, max_size=3), st.integers(-3, 3), ENVS)
def test_a_product_kept_factored_is_the_expanded_product(factors: list[QPoly], c: int,
                                                         env: dict[str, int]) -> None:
    from convsym.intdiv import product

    kept = product([QPoly.const(c), *factors])
    expanded = QPoly.const(c)
    for f in factors:
        expanded = QPoly(expanded.terms) * QPoly(f.terms)
    values = {x: env[x.name] for x in POSITIVE}
    assert kept.evaluate(values) == expanded.evaluate(values)
    assert to_sympy(kept).subs(values) == expanded.evaluate(values)
    assert kept.free_symbols() == expanded.free_symbols()
    assert kept.const_value() == expanded.const_value()
    moved = {N: QPoly.sym(M) + QPoly.const(2)}
    assert kept.subs(moved) == expanded.subs(moved)
    assert -kept == -expanded and kept == expanded and hash(kept) == hash(expanded)


def test_a_product_of_long_sums_is_shown_factored_and_expanded_only_on_demand() -> None:
    from convsym.intdiv import product

    ks = [QPoly.sym(symbol(f"k{i}")) for i in range(200)]
    h = QPoly.sym(symbol("H")) - sum(ks, QPoly())
    w = QPoly.sym(symbol("W")) - sum(ks, QPoly())
    macs = product([QPoly.const(16), ks[0] * ks[0], h, w])  # 40,401 terms expanded
    assert macs.factors is not None
    assert str(to_sympy(macs)).startswith("16*k0**2*(H - k0 - k1 - k10 - k100")
    env = {s: 1 for k in ks for s in k.free_symbols()} | {symbol("H"): 300, symbol("W"): 250}
    assert macs.evaluate(env) == 16 * 100 * 50
    from convsym.errors import BudgetExceeded

    with pytest.raises(BudgetExceeded, match="max_terms"):
        _ = macs.terms  # expanding it is over the term budget, as before


def test_degree_is_capped_where_a_product_of_sums_is_expanded() -> None:
    from convsym.budget import raised
    from convsym.errors import BudgetExceeded

    n, s = QPoly.sym(N), QPoly.sym(S)
    x = n
    for _ in range(1000):  # a 1,000-layer stride chain: the divisor s**1000 is one term
        x = floordiv(x + QPoly.const(2 - 3), s) + QPoly.const(1)
    assert str(to_sympy(x)) == "ceiling(n/s**1000)"
    with pytest.raises(BudgetExceeded, match="max_degree"):
        (n + s) ** 200 * (n + QPoly.const(1)) ** 100  # sums times sums: degree 300
    with raised(max_exponent=500), pytest.raises(BudgetExceeded, match="max_exponent"):
        for _ in range(600):
            x = x * s
    with raised(max_exponent=500), pytest.raises(BudgetExceeded, match="max_exponent"):
        from_sympy(parse_expr("s**50") ** 11)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([N, M, S, T, symbol("a"), symbol("H")]),
                       st.integers(1, 70), max_size=5),
       st.sampled_from([1, -1, 2, -7, 2**40, -(3**30)]))
def test_terms_are_built_as_sympy_evaluates_them(powers: dict[sympy.Symbol, int],
                                                  c: int) -> None:
    from convsym.intdiv import _akey, _term_sympy

    mono = tuple(sorted(powers.items(), key=lambda item: _akey(item[0])))
    fast = _term_sympy(mono, c)
    slow = sympy.Integer(c) * sympy.Mul(*(x**p for x, p in mono))
    assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow) and hash(fast) == hash(slow)
    assert fast.is_commutative is True


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([N, M, S, T, symbol("a")]), min_size=1, max_size=5,
                unique=True), st.lists(st.sampled_from([-3, -1, 1, 2]), min_size=5,
                                       max_size=5), st.integers(-2, 2), st.integers(2, 12))
def test_a_linear_power_is_refused_exactly_when_its_terms_are_over_the_budget(
        atoms: list[sympy.Symbol], coeffs: list[int], const: int, k: int) -> None:
    from convsym.budget import raised
    from convsym.errors import BudgetExceeded

    b = QPoly.const(const)
    for x, c in zip(atoms, coeffs):
        b = b + QPoly.sym(x) * c
    with raised(max_terms=100_000):  # 5 atoms to the 12th: 6,188 terms, over the default
        terms = len((b**k).terms)  # expanded term by term
    for limit in (terms, terms - 1):
        if limit < 1:
            continue
        with raised(max_terms=limit):
            try:
                from_sympy(to_sympy(b) ** k)
                refused = False
            except BudgetExceeded:
                refused = True
        assert refused == (limit < terms)


@pytest.mark.parametrize(("num", "den"), [
    ("H", "s**64"), ("3*H*t", "2*s**3"), ("-H*s", "4*s**2*t"),
    ("H**2*n", "n*s"), ("5*n", "7*s*t"), ("H", "4"), ("-3*H*t", "8"), ("H**2", "2"),
    ("6*H*s**2", "4"), ("H", "4096")])
def test_one_term_quotients_are_built_as_sympy_evaluates_them(num: str, den: str) -> None:
    from convsym.intdiv import _round

    n, d = from_sympy(parse_expr(num)), from_sympy(parse_expr(den))
    assert isinstance(n, QPoly) and isinstance(d, QPoly)
    for cls in (sympy.floor, sympy.ceiling):
        fast = _round(cls, n, Floor(n, d))  # (the atom as it is, not reduced)
        slow = cls(to_sympy(n) / to_sympy(d))
        assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow)


def test_products_of_distinct_floors_are_built_as_sympy_evaluates_them() -> None:
    x, y = QPoly.sym(N), QPoly.sym(M)
    built = 0
    for step in range(1, 30):  # MACs of a stride chain: k * ceiling(n/s**i) * ceiling(m/...)
        x = floordiv(x - QPoly.const(1), QPoly.sym(S)) + QPoly.const(1)
        y = floordiv(y + QPoly.const(step), QPoly.const(3)) + QPoly.const(1)
        for k in (1, -1, 144, -6):
            for e in (QPoly.const(k) * x * y, QPoly.const(k) * x * y * QPoly.sym(T)):
                shown = to_sympy(e)
                if shown.is_Mul:  # canonical: evaluating its own arguments again changes nothing
                    again = sympy.Mul(*shown.args)
                    assert shown == again and sympy.srepr(shown) == sympy.srepr(again)
                    built += 1
                env = {N: 1000 + step, M: 77, S: 2, T: 3}
                assert shown.subs(env) == e.evaluate(env)
    assert built > 100


def test_one_term_products_of_floors_are_built_as_sympy_multiplies() -> None:
    x, y = QPoly.sym(N), QPoly.sym(M)
    built = 0
    for step in range(1, 25):  # a layer's MACs in one term: 576*ceiling(n/2**i)*ceiling(m/2**i)
        fx = floordiv(x + QPoly.const(step), QPoly.const(2**step))
        fy = floordiv(y + QPoly.const(step), QPoly.sym(S) * QPoly.const(step + 1))
        for k in (1, -1, 576, -6):
            for e in (QPoly.const(k) * fx * fy, QPoly.const(k) * fx,
                      QPoly.const(k) * fx * QPoly.sym(T), fx * fx * QPoly.const(k)):
                assert len(e.terms) == 1
                shown = to_sympy(e)
                parts = [sympy.Integer(k)]
                for atom, p in next(iter(e.terms)):
                    parts.append((to_sympy(QPoly.atom(atom))) ** p)
                slow = sympy.Mul(*parts)
                assert shown == slow and sympy.srepr(shown) == sympy.srepr(slow)
                env = {N: 1000 + step, M: 77, S: 2, T: 3}
                assert shown.subs(env) == e.evaluate(env)
                built += 1
    assert built == 24 * 16


def test_unevaluated_floors_are_the_objects_sympy_builds() -> None:
    from convsym.intdiv import _unevaluated

    h, s, k = (parse_expr(x) for x in "Hsk")
    for cls in (sympy.floor, sympy.ceiling):
        for arg in (h / s**3, (h + 1) / 4, (h - k + s) / (s * k), h / 2 + sympy.Rational(1, 2)):
            fast, slow = _unevaluated(cls, arg), cls(arg, evaluate=False)
            assert fast == slow and hash(fast) == hash(slow)
            assert fast.nargs == slow.nargs and sympy.srepr(fast) == sympy.srepr(slow)
            assert str(fast) == str(slow) and fast.sort_key() == slow.sort_key()


def test_sums_over_symbolic_divisors_are_built_as_sympy_divides() -> None:
    import random

    from convsym.intdiv import _sum_quotient

    names = [symbol(x) for x in ("H", "k", "s", "t", "u")]
    rng = random.Random(3)
    for _ in range(500):
        num = QPoly.const(rng.randint(-5, 5))
        for _ in range(rng.randint(1, 4)):
            term = QPoly.const(rng.choice([-3, -2, -1, 1, 2, 5]))
            for _ in range(rng.randint(0, 3)):
                term = term * QPoly.sym(rng.choice(names))
            num = num + term
        if rng.random() < 0.3:
            num = num + floordiv(QPoly.sym(names[0]), QPoly.const(3))
        den = QPoly.const(rng.randint(1, 6))
        for _ in range(rng.randint(0, 3)):
            den = den * QPoly.sym(rng.choice(names[2:]))
        fast, slow = _sum_quotient(num, den), to_sympy(num) / to_sympy(den)
        assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow)


def test_a_chain_with_its_own_kernel_and_stride_per_layer_stays_nested_and_exact() -> None:
    # layer i of Conv(k_i, stride s_i): floor((x - k_i)/s_i) + 1.  Collapsed, layer i's size
    # has i terms of degree i; stored nested each numerator stays three terms, with the
    # same value as the collapsed (canonical) form
    import random

    from convsym.intdiv import collapsed

    h = symbol("H")
    x = QPoly.sym(h)
    ks = [symbol(f"k{i}") for i in range(8)]
    ss = [symbol(f"s{i}") for i in range(8)]
    for k, s in zip(ks, ss):
        x = floordiv(x - QPoly.sym(k), QPoly.sym(s)) + QPoly.const(1)
        assert all(len(f.num.terms) <= 3 for f in iter_floors(x))
    full = collapsed(x)
    assert isinstance(full, QPoly) and max(len(f.num.terms) for f in iter_floors(full)) > 8
    rng = random.Random(3)
    for _ in range(500):
        env = {h: rng.randint(1, 400), **{k: rng.randint(1, 4) for k in ks},
               **{s: rng.randint(1, 3) for s in ss}}
        assert evaluate(x, env) == evaluate(full, env)
    again = from_sympy(to_sympy(x))
    assert again == x  # the display reads back to the same stored form


def test_the_prover_sees_the_collapsed_form() -> None:
    # inside tracing (the prover's canonical form) nested floors are always collapsed
    n, s, k = (QPoly.sym(symbol(v)) for v in "nsk")
    with tracing() as log:
        traced = floordiv(floordiv(n - k, s) - k, s)
    plain = floordiv(floordiv(n - k, s) - k, s)
    assert any("nested floor collapse" in r.lemmas for r in log)
    assert max(f.depth for f in iter_floors(traced)) == 1
    assert max(f.depth for f in iter_floors(plain)) == 2
    from convsym.intdiv import collapsed

    assert collapsed(plain) == traced


@settings(max_examples=300, deadline=None)
@given(trees(), trees(), st.integers(-2, 2))
def test_falls_is_whether_directions_finds_a_falling_symbol(a: Tree, b: Tree, c: int) -> None:
    from convsym.intdiv import add, directions, falls, rises

    for q in (a.q, scale(a.q, QPoly.const(-1)), add(a.q, scale(b.q, QPoly.const(c)))
              if isinstance(a.q, QPoly) and isinstance(b.q, QPoly) else a.q):
        if isinstance(q, QPoly):
            assert falls(q) == bool(directions(q)[1])
            assert rises(q) == bool(directions(q)[0])
            assert directions(q) == _read_directions(q)


def _read_directions(p: QPoly) -> tuple[frozenset[sympy.Symbol], frozenset[sympy.Symbol]]:
    """directions(p) from every term, nothing remembered: the full computation."""
    from convsym.intdiv import _plain_directions, _with_floors

    rise: set[sympy.Symbol] = set()
    fall: set[sympy.Symbol] = set()
    mixed: set[sympy.Symbol] = set()
    return _with_floors(rise, fall, mixed, _plain_directions(p.terms.items(), rise, fall, mixed))


@st.composite
def chain_floors(draw: st.DrawFn) -> QPoly:
    """A size of a chain with its own kernel (and perhaps stride) per layer, kept nested:
    floor((x - k_i + c)/s_i) layer after layer, from H or W."""
    x = QPoly.sym(symbol(draw(st.sampled_from(["H", "W"]))))
    for i in range(draw(st.integers(1, 5))):
        den = draw(st.sampled_from([QPoly.sym(symbol(f"s{i}")), QPoly.const(2), QPoly.sym(S)]))
        x = floordiv(x - KS[i] + QPoly.const(draw(st.integers(-2, 2))), den) + \
            QPoly.const(draw(st.integers(0, 1)))
    return x


@settings(max_examples=300, deadline=None)
@given(st.lists(chain_floors(), min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 29), st.integers(-2, 2)), max_size=4),
       st.lists(st.integers(-2, 2), min_size=3, max_size=3), trees(depth=2))
def test_falls_and_rises_over_several_floors_are_what_directions_finds(
        sizes: list[QPoly], plain: list[tuple[int, int]], signs: list[int], tree: Tree
        ) -> None:
    # rooms and differences of rooms of a chain's nested sizes (two floors that share every
    # symbol but the last ones), with plain terms: k's of either sign, a random tree's
    from convsym.intdiv import directions, falls, rises

    p = sum((QPoly.const(c) * size for c, size in zip(signs, sizes)), QPoly())
    p = sum((QPoly.const(c) * KS[i] for i, c in plain), p)
    for q in (p, p + tree.q if isinstance(tree.q, QPoly) else p):
        rise, fall = _read_directions(q)
        assert directions(q) == (rise, fall)
        assert falls(q) == bool(fall) and rises(q) == bool(rise)


def test_a_long_expansion_checks_the_wall_clock() -> None:
    from convsym.budget import building, raised
    from convsym.errors import OutOfTime

    a = QPoly.sym(symbol("a")) + QPoly.sym(symbol("b")) + QPoly.sym(symbol("c"))
    big = a ** 12  # 91 terms: squaring it is 8,281 term products
    with pytest.raises(OutOfTime), raised(build_seconds=1e-9), building():
        _ = big * big
    assert len((a * a).terms) == 6  # small products skip the check


def test_display_does_not_factor_a_polynomial_of_many_atoms() -> None:
    """sympy.factor_list on a deep network's MAC difference (45 floors) took 40 s."""
    from convsym.intdiv import FACTOR_ATOMS

    ks = [QPoly.sym(symbol(f"k{i}")) for i in range(FACTOR_ATOMS + 4)]
    floors = [floordiv(QPoly.sym(symbol("H")) - k, QPoly.sym(symbol(f"s{i}")))
              for i, k in enumerate(ks)]
    total = QPoly.const(0)
    for k, f in zip(ks, floors):
        total = total + k * k * f
    shown = to_sympy(total)
    assert isinstance(shown, sympy.Add) and len(shown.args) == len(ks)  # term by term
    point = {s: 100 if s.name == "H" else 3 for s in shown.free_symbols}
    assert shown.xreplace(point) == evaluate(total, point) == 9 * 32 * 20


@settings(max_examples=100, deadline=None)
@given(trees(), trees())
def test_two_atoms_multiply_into_the_sorted_monomial(a: Tree, b: Tree) -> None:
    # the two-atom shortcut of _mono_mul orders atoms as the general merge-and-sort does
    from convsym.intdiv import _akey, _mono_mul

    atoms = [x for t in (a.q, b.q) if isinstance(t, QPoly) for m in t.terms for x, _ in m]
    for x in atoms[:4]:
        for y in atoms[:4]:
            got = _mono_mul(((x, 1),), ((y, 2),))
            powers: dict[object, int] = {x: 1}
            powers[y] = powers.get(y, 0) + 2
            assert got == tuple(sorted(powers.items(), key=lambda item: _akey(item[0])))


@settings(max_examples=150, deadline=None)
@given(trees(), st.integers(2, 40), ENVS)
def test_a_constant_divisor_over_a_plain_numerator_gives_the_general_steps(
        tree: Tree, d: int, env: dict[str, int]) -> None:
    # _plain_steps (no Floor in the numerator, a constant divisor) against _steps
    from convsym.intdiv import _plain_steps, _split_den, _steps

    if not isinstance(tree.q, QPoly) or tree.q.factors is not None:
        return
    num = QPoly({m: c for m, c in tree.q.terms.items()
                 if not any(isinstance(a, Floor) for a, _ in m)})
    values = {x: env[x.name] for x in POSITIVE}
    s, t = QPoly.sym(S), QPoly.sym(T)
    for p in (num, num * QPoly.const(d) + QPoly.const(d - 1), num * QPoly.const(6),
              num - QPoly.const(d), num * s + QPoly.const(1)):
        for den in (QPoly.const(d), s, QPoly.const(d) * s * t, s * s):
            dc, dmono = _split_den(den)
            fast = _plain_steps(p, den, dc, dmono)
            slow = _steps(p, den, dc, dmono, None)
            if fast is not None:
                assert list(fast.terms.items()) == list(slow.terms.items())
            assert floordiv(p, den).evaluate(values) == p.evaluate(values) // \
                den.evaluate(values)


def _display_by_candidates(f: object, outer: int) -> tuple[sympy.Expr, int]:
    """The simplest display of ``f + outer`` the slow way: every candidate built as a
    polynomial and scored on its terms (the rule :func:`_floor_display` scores without
    building them)."""
    from convsym.intdiv import Floor, _round, _split_den

    assert isinstance(f, Floor)
    x = f.num
    dc, dmono = _split_den(f.den)
    shifts = [0, outer]
    if not dmono:
        c0 = x.const_value()
        shifts += [-(c0 // dc), -(c0 // dc) + 1]
    best = None
    for t in dict.fromkeys(shifts):
        y = x + f.den * QPoly.const(t)
        yc = y - f.den + QPoly.const(1)
        for num, ceiling in ((y, False), (yc, True)):
            rest = outer - t
            score = (len(num.terms) + (1 if rest else 0), abs(num.const_value()) + abs(rest),
                     int(ceiling))
            if best is None or score < best[0]:
                best = (score, num, ceiling, rest)
    assert best is not None
    _, num, ceiling, rest = best
    return _round(sympy.ceiling if ceiling else sympy.floor, num, f), rest


@settings(max_examples=300, deadline=None)
@given(trees(), st.integers(-9, 9))
def test_floor_displays_scored_without_candidates_are_the_candidates_winners(
        tree: Tree, outer: int) -> None:
    from convsym.intdiv import _FLOOR_SHOWN, _floor_display

    for f in iter_floors(tree.q):
        _FLOOR_SHOWN.clear()
        fast, fast_rest = _floor_display(f, outer)
        slow, slow_rest = _display_by_candidates(f, outer)
        assert fast_rest == slow_rest
        assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow)


@st.composite
def linear_products(draw: st.DrawFn) -> tuple[QPoly, bool]:
    """``k * B * prod(q_i*A_i + p_i)`` over distinct atoms (symbols and floors), sometimes
    with one more term: products :func:`_linear_factors` must find, and near misses."""
    atoms = [QPoly.sym(x) for x in POSITIVE] + [
        floordiv(QPoly.sym(N) + QPoly.const(c), QPoly.const(d)) for c, d in ((1, 2), (-3, 4))]
    chosen = draw(st.lists(st.sampled_from(range(len(atoms))), min_size=1, max_size=4,
                           unique=True))
    e = QPoly.const(draw(st.sampled_from([1, -1, 2, 16, -6])))
    if draw(st.booleans()):
        e = e * QPoly.sym(S) * QPoly.sym(S)  # a common monomial (a kernel area)
    for i in chosen:
        q, p = draw(st.integers(1, 4)), draw(st.integers(-5, 5))
        e = e * (atoms[i] * QPoly.const(q) + QPoly.const(p))
    if draw(st.integers(0, 3)) == 0:
        e = e + QPoly.const(draw(st.integers(1, 3))) * atoms[draw(st.sampled_from(chosen))]
        return e, False
    return e, len(chosen) >= 2  # (one factor alone is not a product to find)


@settings(max_examples=400, deadline=None)
@given(linear_products())
def test_linear_factors_are_checked_as_the_expanded_product(case: tuple[QPoly, bool]
                                                             ) -> None:
    from convsym.intdiv import _linear_factors

    e, exact = case
    found = _linear_factors(e)
    if found is None:
        assert not exact  # every product of linear factors in distinct atoms is found
        return
    k, factors = found
    expanded = QPoly.const(k)
    for f in factors:
        expanded = expanded * f
    assert expanded == e  # (before: the check itself; now an independent one)
    for f in factors:
        assert len(f.atoms()) == 1


def test_linear_factors_find_every_product_of_linear_factors() -> None:
    from convsym.intdiv import _linear_factors

    h, w, s = QPoly.sym(N), QPoly.sym(M), QPoly.sym(S)
    fh = floordiv(h - QPoly.const(1), s)
    fw = floordiv(w - QPoly.const(1), s)
    found = _linear_factors(QPoly.const(144) * (fh + QPoly.const(1)) * (fw + QPoly.const(1)))
    assert found is not None and found[0] == 144
    assert set(found[1]) == {fh + QPoly.const(1), fw + QPoly.const(1)}
    near = QPoly.const(144) * (fh + QPoly.const(1)) * (fw + QPoly.const(1)) + fh
    assert _linear_factors(near) is None


@pytest.mark.parametrize("exp", [2, 3, 900, -1, -2, -1000])
def test_symbol_powers_are_the_powers_sympy_builds(exp: int) -> None:
    from convsym.expr import symbol_power

    for base in (S, sympy.Symbol("x"), sympy.Dummy("d")):
        fast, slow = symbol_power(base, exp), sympy.Pow(base, exp)
        assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow)
        assert hash(fast) == hash(slow) and fast.is_commutative is True
    q = sympy.Symbol("q", commutative=False)  # built directly too: its commutativity kept
    fast, slow = symbol_power(q, exp), sympy.Pow(q, sympy.Integer(exp), evaluate=False)
    assert fast == slow and fast.is_commutative is slow.is_commutative is False


@settings(max_examples=300, deadline=None)
@given(trees(), st.lists(st.sampled_from([N, M, S, T]), max_size=3), st.integers(-4, 4))
def test_sums_are_built_as_sympy_adds_their_terms(tree: Tree, extra: list[sympy.Symbol],
                                                  c: int) -> None:
    from convsym.intdiv import _SHOWN

    q = tree.q
    if isinstance(q, Ext):
        return
    for x in extra:  # more terms: products with the tree's floors, symbols, a constant
        q = q + q * QPoly.sym(x) + QPoly.sym(x) * QPoly.const(c)
    _SHOWN.clear()
    shown = to_sympy(q)
    for e in sympy.preorder_traversal(shown):
        if isinstance(e, sympy.Add):  # canonical: adding its own terms again changes nothing
            again = sympy.Add(*e.args)
            assert e == again and sympy.srepr(e) == sympy.srepr(again)


def test_a_size_with_a_floor_displayed_as_zero_is_the_symbol() -> None:
    # H + floor(-1/s) + 1: the floor's display floor((s - 1)/s) is 0, and the sum is H itself
    # (was the unevaluated H + 0, unequal to H)
    size = QPoly.sym(N) + floordiv(QPoly.const(-1), QPoly.sym(S)) + QPoly.const(1)
    shown = to_sympy(size)
    assert shown == N and sympy.srepr(shown) == sympy.srepr(N)


def test_sums_that_sympy_must_collect_or_flatten_are_left_to_it() -> None:
    from convsym.intdiv import _canonical_add

    n, m = N, M
    f = sympy.floor(n / 2, evaluate=False)
    a, b = sympy.Symbol("A", commutative=False), sympy.Symbol("B", commutative=False)
    cases = [[2 * n, 3 * n], [n + 1, m], [f, 2 * f, sympy.Integer(3)], [a, b],
             [sympy.Pow(2, n, evaluate=False), m], [m * n, -n * m, sympy.Integer(1)],
             [-m, 16 * n * m**2, f, sympy.Integer(-7)], [f * n, n, sympy.Integer(2)],
             [n, sympy.Integer(0)], [n, m, sympy.Integer(0)], [n, sympy.Float(0.5)]]
    for parts in cases:
        fast, slow = _canonical_add(list(parts)), sympy.Add(*parts)
        assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow)


def test_floor_hashes_of_a_stride_2_stack_do_not_repeat_with_the_digest() -> None:
    # the digest reduces 2**i modulo 2**61 - 1 (period 61): the hashes must not, else every
    # 61st floor of a deep 'same' stride-2 stack collides in every dict and memo
    sizes, floors = [QPoly.sym(N)], []
    for _ in range(200):
        sizes.append(ceildiv(sizes[-1], QPoly.const(2)))
        (atom,) = sizes[-1].atoms()
        assert isinstance(atom, Floor)
        floors.append(atom)
    assert len({f.digest for f in floors}) == 61  # the digest's period, kept: it orders sizes
    assert len({hash(f) for f in floors}) == 200
    again = ceildiv(sizes[150], QPoly.const(2))  # equal floors, built anew: equal hashes
    assert again == sizes[151] and hash(again) == hash(sizes[151])


def test_nested_floor_hashes_see_the_inner_floors_lengths() -> None:
    # floor((floor(n/2**i)**2 + 1)/3): outer coefficients alike, inner digests 61 apart alike
    outer = []
    for i in range(1, 131):
        inner = floordiv(QPoly.sym(N), QPoly.const(2**i))
        outer.append(floordiv(inner * inner + 1, QPoly.const(3)))
    atoms = [a for o in outer for a in o.atoms()]
    assert len(atoms) == 130 and all(isinstance(a, Floor) and a.depth == 2 for a in atoms)
    assert len({a.digest for a in atoms}) == 61  # the digest repeats: the hash must not
    assert len({hash(a) for a in atoms}) == 130


@settings(max_examples=200, deadline=None)
@given(trees(), st.lists(st.integers(1, 40), min_size=1, max_size=4))
def test_uniform_values_are_the_values_with_every_symbol_equal(tree: Tree,
                                                               ts: list[int]) -> None:
    # the floors' memoised values at t (asked twice: the memo's answer too) against evaluate
    from convsym.intdiv import uniform_value

    for t in ts + ts:
        assert uniform_value(tree.q, t) == evaluate(tree.q, {x: t for x in POSITIVE}) == \
            tree.naive({x.name: t for x in POSITIVE})


def test_a_floor_remembers_a_bounded_number_of_uniform_values() -> None:
    from convsym import intdiv

    f = floordiv(QPoly.sym(N) + QPoly.const(1), QPoly.const(3))
    (atom,) = f.floors()
    for t in range(1, 3 * intdiv._AT_HELD):
        assert atom.value_at(t) == (t + 1) // 3
    assert atom._at is not None and len(atom._at) == intdiv._AT_HELD


@settings(max_examples=150, deadline=None)
@given(trees(), trees())
def test_two_floors_multiply_in_the_order_of_their_keys(a: Tree, b: Tree) -> None:
    # the digest shortcut of _mono_mul (keys built lazily) against the keys' own order
    from convsym.intdiv import _akey, _mono_mul

    floors = [f for t in (a, b) for f in iter_floors(t.q)]
    for x in floors[:4]:
        for y in floors[:4]:
            got = _mono_mul(((x, 1),), ((y, 1),))
            if x == y:
                assert got == ((x, 2),)
            else:
                assert [atom for atom, _ in got] == sorted([x, y], key=_akey)


def test_a_deep_floor_builds_its_key_level_by_level() -> None:
    # built lazily, the key of a floor nested 1,500 deep is the same nested tuple
    from convsym.intdiv import _SHALLOW

    x = QPoly.sym(N)
    for i in range(1500):
        x = floordiv(x - QPoly.sym(symbol(f"k{i}")), QPoly.sym(S))
    (outer,) = x.floors()
    key = outer.key
    inner = outer
    for _ in range(_SHALLOW):  # each level's key holds the next one's as built
        (inner,) = inner.num.floors()
        assert inner._key is not None
    assert key[0] == 1 and key[1] == outer.digest and key is outer.key


KS = [QPoly.sym(symbol(f"k{i}")) for i in range(30)]


@st.composite
def short_steps(draw: st.DrawFn) -> tuple[int, QPoly]:
    """A sign and a short polynomial: a tree, a constant, or terms of the long base (which
    then cancel)."""
    kind = draw(st.sampled_from(["tree", "const", "cancel", "square"]))
    if kind == "square":
        step = KS[draw(st.integers(0, 29))] * KS[draw(st.integers(0, 29))]
    elif kind == "tree":
        t = draw(trees(depth=2))
        step = t.q if isinstance(t.q, QPoly) else QPoly.const(1)
    elif kind == "const":
        step = QPoly.const(draw(st.integers(-3, 3)))
    else:
        step = sum((KS[i] for i in draw(st.lists(st.integers(0, 29), max_size=3))),
                   QPoly())
    return draw(st.sampled_from([1, -1])), step


@settings(max_examples=60, deadline=None)
@given(st.lists(short_steps(), min_size=1, max_size=14), st.data())
def test_facts_and_differences_found_from_short_steps_are_the_direct_ones(
        steps: list[tuple[int, QPoly]], data: st.DataObject) -> None:
    from convsym.intdiv import _degree, difference

    # two long chains made by the same short steps from H + sum(k) and W + sum(k) (the two
    # axes of a network with one symbolic kernel per layer), and some of the steps alone
    chains = []
    for base in (QPoly.sym(symbol("H")), QPoly.sym(symbol("W")) + QPoly.sym(N)):
        x = sum(KS, base)
        made = [x]
        for sign, step in steps:
            x = x + step if sign > 0 else x - step
            made.append(x)
        chains.append(made)
    everything = chains[0] + chains[1] + [step for _, step in steps]
    from convsym.intdiv import directions, falls, rises

    for p in data.draw(st.permutations(everything)) if data.draw(st.booleans()) else everything:
        # (in chain order, each found from the last; or in any order, from the nearest known)
        assert directions(p) == _read_directions(QPoly(p.terms))
        assert falls(p) == bool(directions(p)[1]) and rises(p) == bool(directions(p)[0])
    for p in everything:
        plain = QPoly(p.terms)  # the same terms, no recorded origin
        assert hash(p) == hash(plain) and p == plain
        assert p.floor_terms() == sum(1 for m in p.terms if any(isinstance(a, Floor)
                                                                 for a, _ in m))
        assert _degree(p) == max((sum(e for _, e in m) for m in p.terms), default=0)
    known: dict = {}  # type: ignore[type-arg]
    for _ in range(12):  # pairs in chain order, as a network prunes its conditions
        a = data.draw(st.sampled_from(everything))
        b = data.draw(st.sampled_from(everything))
        assert difference(a, b, known).terms == (a - b).terms
    for u, v in zip(chains[0], chains[1]):
        assert difference(u, v, known).terms == (u - v).terms
        assert difference(v, u, known).terms == (v - u).terms


def test_a_chains_rooms_find_their_directions_from_the_last_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a chain with one symbolic kernel per layer: layer i's room is the last size minus
    # k_i, its size the room plus 1; each room's directions come from the last room's and
    # the two steps, not from reading its every term (what a network asks per layer)
    import convsym.intdiv as intdiv

    ks = [QPoly.sym(symbol(f"k{i}")) for i in range(120)]
    x = QPoly.sym(symbol("H"))
    rooms, sizes = [], []  # (held, as a network holds them)
    for k in ks:
        room = x - k
        rooms.append(room)
        x = room + QPoly.const(1)
        sizes.append(x)
    read = []
    plain = intdiv._plain_directions

    def counted(terms, *sets):  # type: ignore[no-untyped-def]
        terms = list(terms)
        read.append(len(terms))
        return plain(terms, *sets)

    monkeypatch.setattr(intdiv, "_plain_directions", counted)
    for room in rooms:
        assert intdiv.directions(room) == (frozenset({symbol("H")}),
                                           frozenset(symbol(f"k{i}") for i in range(
                                               len(room.terms) - 1 - (() in room.terms))))
    assert sum(read) < 2 * intdiv._LONG * intdiv._LONG + 2 * len(rooms)  # (not 120**2 / 2)


@settings(max_examples=150, deadline=None)
@given(trees(), st.lists(st.integers(0, 29), max_size=4))
def test_falls_is_directions_fall_and_a_negated_size_swaps_its_directions(
        tree: Tree, ks: list[int]) -> None:
    from convsym.intdiv import directions, falls

    if not isinstance(tree.q, QPoly):
        return
    p = tree.q - sum((KS[i] for i in ks), QPoly())  # long rooms too: - k0 - k1 ...
    rise, fall = directions(p)
    assert falls(p) == bool(fall)
    assert directions(-p - QPoly.const(1)) == (fall, rise)
    assert falls(-p - QPoly.const(1)) == bool(rise)


# --- issue 19: the fast paths of floordiv and what floors and divisors remember -----------------


@st.composite
def divisors(draw: st.DrawFn) -> QPoly:
    """A positive monomial: a constant, a symbol's power, or a constant times symbols."""
    c = draw(st.sampled_from([1, 2, 3, 4, 8, 300]))
    syms = draw(st.lists(st.sampled_from([S, T]), max_size=2))
    d = QPoly.const(c)
    for x in syms:
        d = d * QPoly.sym(x)
    return d


@settings(max_examples=300, deadline=None)
@given(trees(), divisors(), st.integers(-5, 5), ENVS)
def test_floordiv_fast_paths_give_the_lemma_by_lemma_form(tree: Tree, den: QPoly, shift: int,
                                                          env: dict[str, int]) -> None:
    # floordiv takes its shortcuts (F + m over a divisor, plain numerators); the general
    # steps (_steps, untraced: nested floors kept nested as _collapses says) give the same
    # canonical form, in the same order; every floor's digest, spread and depth are those
    # of a floor built afresh
    from convsym.intdiv import _digest, _split_den, _steps

    if not isinstance(tree.q, QPoly):
        return
    for num in (tree.q, tree.q + QPoly.const(shift), floordiv(tree.q, den) + QPoly.const(shift)):
        fast = floordiv(num, den)
        slow = _steps(num, den, *_split_den(den), None)
        assert list(fast.terms.items()) == list(slow.terms.items())
        values = {x: env[x.name] for x in POSITIVE}
        assert fast.evaluate(values) == num.evaluate(values) // den.evaluate(values)
        for f in iter_floors(fast):
            assert (f.digest, f.spread) == _digest(QPoly(f.num.terms), QPoly(f.den.terms))[:2]
            assert f.depth == 1 + max(f.num.depth(), f.den.depth())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([N, M, S, T]), st.integers(1, 3)), max_size=3),
       st.lists(st.tuples(st.sampled_from([N, M, S, T]), st.integers(1, 3)), min_size=1,
                max_size=2))
def test_divides_is_whether_the_quotient_exists(mono: list[tuple[sympy.Symbol, int]],
                                                by: list[tuple[sympy.Symbol, int]]) -> None:
    from convsym.intdiv import _divides, _mono_div

    def canonical(pairs: list[tuple[sympy.Symbol, int]]) -> tuple[tuple[sympy.Symbol, int], ...]:
        p = QPoly.const(1)
        for x, e in pairs:
            p = p * QPoly.sym(x) ** e
        return next(iter(p.terms))

    m, b = canonical(mono), canonical(by)
    if b:
        assert _divides(b, m) == (_mono_div(m, b) is not None)


def test_a_divisor_remembers_its_split_but_not_a_refusal() -> None:
    from convsym.intdiv import _split_den

    s3 = QPoly.const(3) * QPoly.sym(S) ** 2
    assert _split_den(s3) == (3, ((S, 2),)) and _split_den(s3) is _split_den(s3)
    bad = QPoly.sym(S) - QPoly.sym(T)
    for _ in range(2):  # refused every time, never remembered
        with pytest.raises(NotQuasiPolynomial):
            _split_den(bad)
    with pytest.raises(NotQuasiPolynomial):  # a non-positive symbol is no divisor
        floordiv(QPoly.sym(N), QPoly.sym(symbol("p", nonnegative=True)))


def test_floors_are_interned_while_alive_and_forgotten_after() -> None:
    import gc

    from convsym.intdiv import _FLOORS

    n = QPoly.sym(symbol("interned_n"))
    a = floordiv(n + QPoly.const(1), QPoly.const(7))
    b = floordiv(n + QPoly.const(1), QPoly.const(7))
    fa, fb = next(iter(a.floors())), next(iter(b.floors()))
    assert fa is fb
    key = (fa.digest, fa.spread)
    assert _FLOORS[key]() is fa
    del a, b, fa, fb
    gc.collect()
    assert key not in _FLOORS


@settings(max_examples=200, deadline=None)
@given(st.lists(trees(depth=2), min_size=1, max_size=4),
       st.sampled_from([1, 2, 3, 4, 6, 64, 5000]), st.sampled_from([1, 2, 4, 256]))
def test_within_budgets_means_the_product_cannot_fail(factors: list[Tree], max_terms: int,
                                                      max_degree: int) -> None:
    # what within_budgets allows, product() multiplies out under those budgets, in any order
    from convsym.budget import raised
    from convsym.intdiv import product, within_budgets
    from convsym.sizes import mul_sizes

    qs = [t.q for t in factors]
    with raised(max_terms=max_terms, max_degree=max_degree, max_exponent=max_degree):
        if within_budgets(qs):
            assert all(isinstance(q, QPoly) for q in qs)
            product(q for q in qs if isinstance(q, QPoly))
            mul_sizes(mul_sizes(*qs[:1]), *qs[1:])
            mul_sizes(*reversed(qs))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 14), st.integers(2, 14), st.sampled_from([1, 3]),
       st.sampled_from([4, 40, 400]))
def test_kept_factored_means_the_product_stays_factored_and_cannot_fail(
        m: int, n: int, k_power: int, max_exponent: int) -> None:
    # what kept_factored allows, mul_sizes builds factored under those budgets (never
    # expanding, never refused); what it refuses is not factored twice or may be refused
    from convsym.budget import raised
    from convsym.intdiv import kept_factored
    from convsym.sizes import mul_sizes

    h = sum((QPoly.sym(symbol(f"kf_h{i}")) for i in range(m)), QPoly.const(1))
    w = sum((QPoly.sym(symbol(f"kf_w{i}")) for i in range(n)), QPoly.const(1))
    outer = (QPoly.const(16), QPoly.sym(symbol("kf_k")) ** k_power)
    with raised(max_exponent=max_exponent):
        if kept_factored((h, w), outer):
            assert (m + 1) * (n + 1) > 64
            made = mul_sizes(mul_sizes(h, w), *outer)
            assert made.factors is not None
        else:
            assert (m + 1) * (n + 1) <= 64 or 2 + k_power > max_exponent


_SMALL_POLY = st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 2), st.integers(0, 2),
                                 st.booleans()), min_size=1, max_size=4)


def _poly(terms: list[tuple[int, int, int, bool]]) -> QPoly:
    f = floordiv(QPoly.sym(N), QPoly.const(16))
    out = QPoly.const(0)
    for c, i, j, floored in terms:
        term = QPoly.const(c)
        for _ in range(i):
            term = term * (f if floored else QPoly.sym(N))
        for _ in range(j):
            term = term * QPoly.sym(M)
        out = out + term
    return out


@settings(deadline=None, max_examples=60)
@given(a=_SMALL_POLY, b=_SMALL_POLY, extra=st.integers(0, 5))
def test_exact_quotient_divides_products_and_nothing_else(a: list, b: list, extra: int
                                                          ) -> None:
    p, q = _poly(a), _poly(b)
    if not q.terms:
        return
    assert exact_quotient(p * q, q) == p
    r = p * q + QPoly.const(extra)
    found = exact_quotient(r, q)
    if found is not None:  # then it is the quotient, for every value of the symbols
        assert found * q == r


_DIVISORS = [QPoly.const(2), QPoly.const(3), QPoly.const(64), QPoly.sym(S),
             QPoly.sym(S) * QPoly.sym(S), QPoly.const(2) * QPoly.sym(T)]


@settings(deadline=None, max_examples=150)
@given(tree=trees(depth=3), den=st.sampled_from(_DIVISORS), plus=st.integers(-3, 3),
       nest=st.integers(0, 3))
def test_floordiv_plus_is_the_floor_plus_the_integer_term_for_term(
        tree: Tree, den: QPoly, plus: int, nest: int) -> None:
    # floordiv_plus makes floor(num/den) + plus in the floor's own terms: the same canonical
    # form, term order included, as the floor and the sum made one after the other (a
    # chain's nested floors first, as windows meets them)
    from convsym.intdiv import floordiv_plus

    if not isinstance(tree.q, QPoly):
        return
    num = tree.q
    for _ in range(nest):
        num = floordiv(num, den) + QPoly.const(plus)
    made = floordiv_plus(num, den, plus)
    expected = floordiv(num, den) + QPoly.const(plus)
    assert made == expected and list(made.terms.items()) == list(expected.terms.items())


def test_only_a_factored_product_reads_its_attributes_through_a_hook() -> None:
    # a class with __getattr__ reads every attribute through it, unspecialised: plain
    # polynomials have none, a product kept factored expands its terms when first read
    from convsym.intdiv import product

    assert "__getattr__" not in vars(QPoly)
    sums = [sum((QPoly.sym(symbol(f"{x}{i}")) for i in range(9)), QPoly()) for x in "ab"]
    big = product(sums)
    assert big.factors is not None and isinstance(big, QPoly) and type(big) is not QPoly
    assert big == sums[0] * sums[1] and len(big.terms) == 81
    with pytest.raises(AttributeError):
        big.no_such_slot  # noqa: B018
