"""convsym.deep: SymPy's walks without Python's recursion, and deep networks end to end.

The iterative walks must give SymPy's own answers (checked on generated expressions that
SymPy can still walk), and a chain whose sizes nest floors hundreds deep must build, print,
summarise and derive (it passed Python's recursion limit before).
"""

from __future__ import annotations

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym import deep, load
from convsym.derivation import derive
from convsym.intdiv import _FLOOR_SHOWN, _SHOWN, _TERM_SHOWN, to_sympy
from convsym.printing import text
from convsym.printing.latex import latex
from convsym.printing.text import sort_key, sstr

N, M, K, S = sympy.symbols("n m k s", integer=True, positive=True)


def _expressions() -> st.SearchStrategy[sympy.Expr]:
    leaves = st.sampled_from([N, M, K, S, sympy.Integer(2), sympy.Integer(-3),
                              sympy.Rational(1, 2)])

    def grow(inner: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda p: p[0] + p[1]),
            st.tuples(inner, inner).map(lambda p: p[0] * p[1]),
            st.tuples(inner, st.sampled_from([S, K, sympy.Integer(2)])).map(
                lambda p: sympy.floor(p[0] / p[1], evaluate=False)),
            st.tuples(inner, st.sampled_from([S, sympy.Integer(3)])).map(
                lambda p: sympy.ceiling(p[0] / p[1], evaluate=False)),
            st.tuples(inner, st.integers(2, 3)).map(lambda p: p[0] ** p[1]))

    return st.recursive(leaves, grow, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_expressions(), _expressions())
def test_compare_and_equal_are_sympys(a: sympy.Expr, b: sympy.Expr) -> None:
    assert deep.compare(a, b) == a.compare(b)
    assert deep.compare(b, a) == b.compare(a)
    assert deep.equal(a, b) == (a == b)
    assert deep.equal(a, a)


@settings(max_examples=300, deadline=None)
@given(_expressions())
def test_is_number_is_sympys(a: sympy.Expr) -> None:
    assert deep.is_number(a) == a.is_number
    assert deep._number_iteratively(a, {}) == a.is_number  # (the walk past the recursion)


@settings(max_examples=200, deadline=None)
@given(_expressions())
def test_sort_key_and_printing_of_floors_are_sympys(a: sympy.Expr) -> None:
    # convsym's keys and term order equal SymPy's for anything holding floors
    assert sort_key(a) == a.sort_key()
    if isinstance(a, sympy.Add):
        assert text._ordered_terms(a) == list(a.as_ordered_terms())


def _chain(depth: int, x: sympy.Expr = N) -> sympy.Expr:
    for i in range(depth):
        x = sympy.floor((x - sympy.Symbol(f"k{i}", integer=True, positive=True)) /
                        sympy.Symbol(f"s{i}", integer=True, positive=True), evaluate=False)
    return x


def test_inner_first_lists_each_floor_after_those_inside_it() -> None:
    x = _chain(30)
    order = deep.inner_first(x)
    assert len(order) == 30 and order[-1] is x
    seen: set[int] = set()
    for f in order:
        inner = [g for g in sympy.preorder_traversal(f.args[0])
                 if isinstance(g, sympy.floor)]
        assert all(id(g) in seen for g in inner)
        seen.add(id(f))
    assert deep.inner_first(_chain(deep.DEEP)) == []


@settings(max_examples=300, deadline=None)
@given(_expressions(), st.integers(0, 3))
def test_the_recursive_walk_of_floors_is_the_walk_with_a_stack(a: sympy.Expr, skip: int
                                                                ) -> None:
    # the same levels and the same floors listed, each after those inside it, whichever
    # floors count as done (here: every floor whose argument has a given number of terms)
    def done(f: sympy.Basic) -> bool:
        return len(sympy.Add.make_args(f.args[0])) == skip

    fast: list[sympy.Basic] = []
    slow: list[sympy.Basic] = []
    fast_levels: dict[int, int] = {}
    slow_levels: dict[int, int] = {}
    top = deep._levels(a, done, fast_levels, fast, deep._SHALLOW_WALK)
    assert top == deep._levels_iteratively(a, done, slow_levels, slow)
    assert fast_levels == slow_levels and {id(f) for f in fast} == {id(f) for f in slow}
    assert len(fast) == len({id(f) for f in fast})
    # the remembered nesting (every floor counted) bounds the levels from above
    nesting = deep._nesting(a, {}, deep._SHALLOW_WALK)
    assert nesting == deep._levels(a, lambda f: False, {}, [], deep._SHALLOW_WALK) >= top
    assert deep._nesting(a, {}, deep._SHALLOW_WALK) == nesting  # (again, from the memo)
    for listed in (fast, slow):
        seen: set[int] = set()
        for f in listed:
            assert all(id(g) in seen for g in sympy.preorder_traversal(f.args[0])
                       if g is not f and id(g) in {id(x) for x in listed})
            seen.add(id(f))


def test_walks_of_a_floor_nested_3000_deep() -> None:
    a, b = _chain(3000, N), _chain(3000, M)
    assert deep.compare(a, b) == -deep.compare(b, a) != 0
    assert not deep.equal(a, b) and deep.equal(a, a)
    assert not deep.is_number(a)
    assert sort_key(a)[0] == sympy.floor.class_key()


def _own_kernel_and_stride(depth: int) -> object:
    return load({"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": f"k{i}",
                    "stride": f"s{i}"}} for i in range(depth)]})


def _forget_displays() -> None:
    for memo in (_SHOWN, _FLOOR_SHOWN, _TERM_SHOWN):
        memo.clear()


def test_staged_conversion_gives_the_same_expression() -> None:
    net = _own_kernel_and_stride(60)
    size = net.shapes[-1][1]  # type: ignore[attr-defined]
    staged = to_sympy(size)
    _forget_displays()  # (else the second conversion reads the first one's floors back)
    from convsym import intdiv
    before = intdiv._STAGE_DEPTH
    intdiv._STAGE_DEPTH = 10**6  # never staged (60 levels still fit in Python's stack)
    try:
        whole = to_sympy(size)
    finally:
        intdiv._STAGE_DEPTH = before
    assert deep.equal(staged, whole) and sstr(staged) == sstr(whole)


def test_a_chain_300_deep_builds_prints_summarises_and_derives() -> None:
    # each layer its own symbolic kernel and stride: layer i's size nests i floors
    net = _own_kernel_and_stride(300)
    shape = net.output_shape  # type: ignore[attr-defined]
    shown = sstr(shape[1])
    assert shown.count("floor(") + shown.count("ceiling(") == 300
    assert shown.count("s299") == 1 and "W" not in shown
    rows = net.summary().to_dict()["layers"]  # type: ignore[attr-defined]
    assert len(rows) == 300 and rows[-1]["output_shape"][1] == shown
    tex = latex(shape[1])
    assert tex.count(r"\lfloor") + tex.count(r"\lceil") == 300
    d = derive(_own_kernel_and_stride(120))
    assert d.to_text().count("s119") >= 1 and r"\lceil" in d.to_latex()


def test_equal_sizes_nested_1500_deep_are_equal_without_recursion() -> None:
    # two builds of the same chain meet in memos keyed by size (a second load() of a
    # 600-layer chain compared them by their nested keys, past the recursion limit)
    from convsym.expr import symbol
    from convsym.intdiv import QPoly, floordiv

    def chain() -> QPoly:
        x = QPoly.sym(symbol("H"))
        for i in range(1500):
            x = floordiv(x - QPoly.sym(symbol(f"k{i}")), QPoly.sym(symbol(f"s{i}")))
        return x

    a, b = chain(), chain()
    assert a is not b and a == b and {a: 1}[b] == 1
    assert a != chain() + QPoly.const(1)


def test_a_conversion_left_unfinished_does_not_break_the_next() -> None:
    # an interrupt or the build alarm landing inside a conversion must not leave the next
    # one raising convsym's internal staging signal
    from convsym import intdiv

    size = _own_kernel_and_stride(40).shapes[-1][1]  # type: ignore[attr-defined]
    intdiv._STAGED.nesting = 7  # (as an exception in _convert's finally could leave it)
    _forget_displays()  # (a conversion from scratch: deep enough to be staged)
    assert sstr(to_sympy(size)).count("s39") == 1
    assert intdiv._STAGED.nesting == 0 and not intdiv._STAGED.active
