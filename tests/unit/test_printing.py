"""The printers: SymPy pieces in LaTeX and text, template prose, escaping, layout."""

from __future__ import annotations

import re

import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convsym.derivation import derive
from convsym.examples import example
from convsym.expr import parse_expr, symbol
from convsym.printing import doc as D
from convsym.printing import latex as L
from convsym.printing import markdown as M
from convsym.printing import text as X
from convsym.printing.prose import math, prose, to_latex

n, s, d, c = (symbol(x) for x in "nsdc")


@pytest.mark.parametrize(("expr", "tex"), [
    ("floor((n - 3)/2) + 1", r"\left\lfloor \frac{n - 3}{2} \right\rfloor + 1"),
    ("ceiling(n/32)", r"\left\lceil \frac{n}{32} \right\rceil"),
    ("floor(n/s)", r"\left\lfloor \frac{n}{s} \right\rfloor"),
    ("2*ceiling(n/2) - n + 2", r"2 \left\lceil \frac{n}{2} \right\rceil - n + 2"),
    ("288*c + 18528", r"288 c + 18{,}528"),
    ("s*(n - 1)", r"{s} \left(n - 1\right)"),
    ("d*(n - 1)", r"{d} \left(n - 1\right)"),
    ("max(n - 3, 0)", r"\max\left(0, n - 3\right)"),
    ("floor(floor((n - 1)/2)/2)",
     r"\left\lfloor \frac{\lfloor (n - 1)/2 \rfloor}{2} \right\rfloor"),
    ("20*ceiling(n/4)**2", r"20 \left\lceil \frac{n}{4} \right\rceil^{2}"),
])
def test_latex_pieces(expr: str, tex: str) -> None:
    assert L.latex(parse_expr(expr)) == tex


def test_latex_never_prints_sympy_style_quotients() -> None:
    assert r"\frac{3}{2}" not in L.latex(parse_expr("floor((n - 3)/2)"))
    assert L.latex(sympy.Integer(18496)) == "18{,}496"
    assert L.latex(sympy.Integer(18496), group=False) == "18496"
    assert L.latex(sympy.Integer(999)) == "999"
    assert L.latex(sympy.Integer(-1234)) == "-1{,}234"


@pytest.mark.parametrize(("name", "tex"), [
    ("n", "n"), ("d", "{d}"), ("k_e", "k_{e}"), ("C_in", r"C_{\mathrm{in}}"),
    ("width", r"\mathit{width}"), ("n_0", "n_{0}"), ("H", "H"),
])
def test_symbol_names(name: str, tex: str) -> None:
    assert L.symbol_latex(name) == tex
    assert L.latex(symbol(name)) == tex


def test_relations() -> None:
    assert L.latex(sympy.Ge(n, 5)) == r"n \geq 5"
    assert X.sstr(sympy.Ge(n, 5)) == "n >= 5"


def test_inline_style() -> None:
    assert L.inline(r"\left\lfloor \frac{n - 3}{2} \right\rfloor") == r"\lfloor (n - 3)/2 \rfloor"
    assert L.inline(r"\frac{n}{2 s}") == "n/(2 s)"
    assert L.inline(r"\frac{\lfloor n/2 \rfloor}{2}") == r"\lfloor n/2 \rfloor/2"
    with pytest.raises(ValueError):
        L.inline(r"\frac{n")


def test_escaping() -> None:
    assert L.escape("50% of a_b & {c} #1 ~ ^ <x>") == \
        r"50\% of a\_b \& \{c\} \#1 \textasciitilde{} \textasciicircum{} $<$x$>$"
    assert L.code("padding='same'") == r"\texttt{padding={\char13}same{\char13}}"
    assert "spaceskip" in L.code("Conv2D(1, 2)")
    assert M.escape("a*b") == r"a\*b"
    assert M._code("a`b") == "`` a`b ``"


def test_fill_parenthesises_compound_values_unless_bare() -> None:
    f = D.Formula(r"\frac{<n>}{2} + <n> - <s>", "<n>/2 + <n> - <s>",
                  lambda v: v["n"] / 2 + v["n"] - v["s"])
    t = D.Fill(f, {"n": D.Value(n - 2), "s": D.Value(sympy.Integer(3))})
    assert L.term(t) == r"\frac{n - 2}{2} + \left(n - 2\right) - 3"
    assert X.term_text(t) == "(n - 2)/2 + (n - 2) - 3"


def test_fraction_inside_a_fraction_uses_a_slash() -> None:
    f = D.Formula(r"\left\lceil \frac{<n>}{<s>} \right\rceil", "ceiling(<n>/<s>)",
                  lambda v: sympy.ceiling(v["n"] / v["s"]))
    t = D.Fill(f, {"n": D.Value(sympy.ceiling(n / 2)), "s": D.Value(sympy.Integer(2))})
    assert L.term(t) == r"\left\lceil \frac{\lceil n/2 \rceil}{2} \right\rceil"


def test_products_sums_and_tuples() -> None:
    assert L.term(D.Product((3, 3, 32, 64))) == r"3 \cdot 3 \cdot 32 \cdot 64"
    assert X.term_text(D.Product((3, n - 1))) == "3 * (n - 1)"
    assert L.term(D.Sum((sympy.Integer(18432), sympy.Integer(64)))) == "18{,}432 + 64"
    assert X.term_text(D.Tup((D.Value(sympy.Integer(64)),))) == "(64,)"
    assert L.term(D.Tup((D.Value(sympy.Integer(64)),))) == r"\left(64\right)"


# --- template prose ------------------------------------------------------------------------------


def test_prose_markup() -> None:
    line = prose("fits at $n - k + 1$ positions with `padding='valid'`.")
    assert [type(x).__name__ for x in line] == ["str", "Math", "str", "Code", "str"]
    m = line[1]
    assert isinstance(m, D.Math) and L.math_latex(m)[0] == "n - k + 1"


def test_prose_math_keeps_the_written_order_and_splits_relations() -> None:
    m = math("k_e = d*(k - 1) + 1")
    assert m.rels == ("=",)
    assert L.math_latex(m)[0] == "k_{e} = {d} ( k - 1 ) + 1"
    assert X.math_text(m) == "k_e = d*(k - 1) + 1"
    assert to_latex("2*3*s") == r"2 \cdot 3 s"
    assert to_latex("s*(n - 1)") == "{s} ( n - 1 )"
    assert to_latex("n >= k") == r"n \geq k"


def test_prose_math_rejects_what_it_cannot_read() -> None:
    with pytest.raises(ValueError):
        math("n ? k")


# --- layout -------------------------------------------------------------------------------------


def test_text_wrapping_never_splits_a_formula() -> None:
    long = D.Para(("word " * 15, D.eq(D.Product((3, 3, 32, 64)),
                                      D.Value(sympy.Integer(18432))), " end."))
    text = X.render_document(D.Document("t", (long,)))
    assert "3 * 3 * 32 * 64 = 18,432" in text
    assert all(len(line) <= X.WIDTH for line in text.splitlines())


def test_text_table_aligns_numbers_right() -> None:
    table = D.Table((("a",), ("b",)), ((("x",), ("1",)), (("yy",), ("100",))), "lr")
    assert X.render_document(D.Document("t", (table,))).splitlines()[-2:] == \
        ["x     1", "yy  100"]


def test_latex_fragment_and_standalone() -> None:
    d = derive(example("seed1"))
    fragment = d.to_latex()
    assert fragment.startswith("% A convsym derivation, for \\input in a LaTeX document whose "
                               "preamble has\n% \\usepackage{amsmath,array,booktabs,longtable}\n")
    assert "\\section*{" in fragment and "\\documentclass" not in fragment
    assert fragment.count("\\begingroup") == fragment.count("\\endgroup") == 1
    whole = d.to_latex(standalone=True)
    assert whole.startswith("\\documentclass[11pt]{article}")
    assert "\\usepackage{amsmath}" in whole and whole.rstrip().endswith("\\end{document}")


def test_long_tables_break_across_pages() -> None:
    rows = tuple(((str(i),),) for i in range(L.LONG_TABLE + 1))
    tex = L.render_document(D.Document("t", (D.Table((("a",),), rows, "l"),)))
    assert "\\begin{longtable}" in tex
    short = L.render_document(D.Document("t", (D.Table((("a",),), rows[:3], "l"),)))
    assert "tabular" in short and "\\begin{longtable}" not in short


def test_markdown_layout() -> None:
    md = derive(example("seed3")).to_markdown()
    assert md.startswith("# seed3: ")
    assert "\n$$\no_{H} = o_{W} = \\left\\lceil \\frac{32}{2} \\right\\rceil = 16\n$$\n" in md
    assert "| Layer | Type | Output shape | Parameters |\n|---|---|---|---:|" in md
    assert "$\\lceil" not in md.split("$$")[0]  # inline math uses text style only


@pytest.mark.parametrize("fmt", ["latex", "markdown", "text"])
def test_every_format_of_every_seed_renders(fmt: str) -> None:
    for name in ("seed1", "seed1_symbolic", "seed2", "seed3", "seed3_symbolic"):
        out = derive(example(name)).render(fmt)
        assert out and "None" not in out and "<" + "n>" not in out


def test_large_powers_print_as_powers_and_read_back() -> None:
    h, s = symbol("H"), symbol("s")
    cases = {
        sympy.ceiling(h / 2**500): "ceiling(H/2**500)",
        sympy.floor((h + 3) / (3 * 2**60)): "floor((H + 3)/(3*2**60))",
        -(2**50) * h + 3: "-2**50*H + 3",
        (2**50) ** s: "(2**50)**s",
        h ** (2**50): "H**(2**50)",
        sympy.Rational(5, 3 * 2**60): "5/(3*2**60)",
        sympy.Integer(10**15) * h: "10**15*H",
        sympy.Integer(2**20): "1048576",  # small numbers stay decimal
        sympy.Integer(2**61 - 1): str(2**61 - 1),  # not a product of small primes
    }
    for expr, text in cases.items():
        assert X.sstr(expr) == text
    # within the parser's limits (integers below 2**62), the text reads back
    for expr in (sympy.floor((h + 3) / 2**60), sympy.ceiling(h / (3 * 2**40)) * 5**20):
        assert parse_expr(X.sstr(expr)) == expr


@given(st.integers(0, 400), st.integers(0, 60), st.integers(0, 30), st.integers(0, 20),
       st.sampled_from([1, -1, 11]))
def test_power_factors_multiply_back(a: int, b: int, c: int, d: int, sign: int) -> None:
    n = sign * 2**a * 3**b * 5**c * 7**d
    factors = X.power_factors(n)
    if factors is None:
        assert abs(n) < X.POWER_FROM or sign == 11
        return
    product = 1
    for base, e in factors:
        product *= base**e
    assert product == abs(n) and sign != 11


def test_long_sums_print_in_sympys_term_order() -> None:
    h, w = symbol("H"), symbol("W")
    atoms = [h, w, sympy.floor(h / 2), sympy.ceiling(w / 4), sympy.floor((h + 1) / 3)]
    terms = [(-1) ** i * (i + 1) * atoms[i % 5] ** (1 + i % 3) * atoms[(i * 2 + 1) % 5]
             for i in range(30)]
    expr = sympy.Add(*terms)
    assert X._ordered_terms(expr) == list(expr.as_ordered_terms())
    assert X.sstr(expr) == X.TextPrinter().doprint(expr)


def test_large_powers_in_latex() -> None:
    h, s = symbol("H"), symbol("s")
    printer = L.LatexPrinter()
    assert printer.doprint(sympy.ceiling(h / 2**50)) == r"\left\lceil \frac{H}{2^{50}} \right\rceil"
    assert printer.doprint((2**50) ** s) == r"\left(2^{50}\right)^{s}"
    assert printer.doprint(sympy.Integer(123456)) == "123{,}456"


def test_quotients_match_together() -> None:
    from convsym.intdiv import QPoly, ceildiv, floordiv, to_sympy

    n, m, s = (QPoly.sym(symbol(x)) for x in "nms")
    x, seen = n, 0
    for d in (2, 3, 1, 4, 2, 6, 5):
        x = ceildiv(x + QPoly.const(d), QPoly.const(d))
        for e in (x, floordiv(x * m + QPoly.const(3) * n + QPoly.const(d), QPoly.const(2 * d)),
                  floordiv(n + QPoly.const(d), s),
                  floordiv(n * m + m + QPoly.const(1), QPoly.const(6))):
            shown = to_sympy(e)
            for f in shown.atoms(sympy.floor, sympy.ceiling):
                arg = f.args[0]
                assert X.quotient(arg) == sympy.fraction(sympy.together(arg))
                seen += 1
    assert seen > 10
    h, s_, t = symbol("H"), symbol("s"), symbol("t")
    for arg in (h / s_**1000, 3 * h * t / (2 * s_**3), -h / (4 * s_**2 * t), h**2 * t / 7):
        assert X.quotient(arg) == sympy.fraction(sympy.together(arg))


def _long_sum(names: list[str], coeffs: list[int], shift: int) -> sympy.Expr:
    h = symbol("H")
    atoms = [symbol(n) for n in names] + [sympy.floor(h / 2), sympy.ceiling(h / 3)]
    return sympy.Add(*(c * a for c, a in zip(coeffs, atoms)), h, shift)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([f"k{i}" for i in range(14)] + ["W", "s"]),
                         min_size=8, max_size=14, unique=True), min_size=1, max_size=3),
       st.lists(st.sampled_from([-3, -1, 1, 2]), min_size=16, max_size=16),
       st.integers(-40, 40), st.sampled_from([1, -1, 16, -48, 2**50]), st.integers(1, 3))
def test_products_of_long_sums_print_and_sort_as_sympy_does(
        sums: list[list[str]], coeffs: list[int], shift: int, c: int, power: int) -> None:
    from sympy.printing.str import StrPrinter

    factors = [_long_sum(names, coeffs, shift + i) for i, names in enumerate(sums)]
    expr = c * symbol("k0") ** power * sympy.Mul(*factors) * factors[0] ** (power - 1)
    candidates = [expr, *factors, factors[0] ** power, -expr, sympy.Add(expr, factors[-1])]
    for e in candidates:
        assert X.sort_key(e) == e.sort_key()
    printer = X.TextPrinter()
    for e in candidates:
        if e.is_Mul:  # StrPrinter's own _print_Mul, with the same printer for the factors
            assert printer._mul_text(e) == StrPrinter._print_Mul(printer, e)
    total = sympy.Add(*(e for e in candidates if e.is_Mul))
    if total.is_Add:
        assert X._ordered_terms(total) == list(total.as_ordered_terms())


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["H", "W", "k", "s", "floor(H/2)", "ceiling(W/8)",
                                           "H + 1", "W - k"]), st.integers(1, 3)),
                min_size=1, max_size=4),
       st.sampled_from([1, -1, 16, -48, 2**50, 4**300, -(3**30)]))
def test_plain_products_print_as_sympy_does(factors: list[tuple[str, int]], c: int) -> None:
    from sympy.printing.str import StrPrinter

    from convsym.expr import parse_expr

    e = sympy.Integer(c) * sympy.Mul(*(parse_expr(f) ** p for f, p in factors))
    for printer in (X.TextPrinter(), X.CountPrinter()):
        if e.is_Mul:
            assert printer._mul_text(e) == StrPrinter._print_Mul(printer, e)


def _exprs() -> st.SearchStrategy[sympy.Expr]:
    """SymPy expressions of the kinds a size, count or condition holds (and a few it does
    not: floats, pi, a rational base, a symbolic exponent)."""
    h, w, s, k = (symbol(x) for x in "HWsk")
    leaves = st.one_of(st.sampled_from([h, w, s, k, sympy.pi, sympy.Float(1.5)]),
                       st.integers(-9, 9).map(sympy.Integer),
                       st.fractions(max_denominator=7).map(sympy.Rational),
                       st.sampled_from([2**70, -(3**50)]).map(sympy.Integer))

    def grow(inner: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
        pairs = st.lists(inner, min_size=2, max_size=4)
        return st.one_of(
            pairs.map(lambda xs: sympy.Add(*xs)), pairs.map(lambda xs: sympy.Mul(*xs)),
            st.tuples(inner, st.sampled_from([-3, -1, 2, k])).map(lambda p: p[0] ** p[1]),
            st.tuples(st.sampled_from([2, sympy.Rational(1, 2)]), inner).map(
                lambda p: p[0] ** (k * p[1])),  # (a symbolic exponent: no huge integer)
            inner.map(sympy.floor), inner.map(sympy.ceiling),
            st.tuples(st.sampled_from([sympy.Min, sympy.Max]), pairs).map(
                lambda p: p[0](*(sympy.floor(x / 2) for x in p[1]))))

    return st.recursive(leaves, grow, max_leaves=12)


@settings(max_examples=70, deadline=None)
@given(st.lists(_exprs(), min_size=1, max_size=8))
def test_plain_sort_keys_are_sympys_keys(items: list[sympy.Expr]) -> None:
    from sympy.core.sorting import default_sort_key

    assume(not any(e.has(sympy.nan) for e in items))  # (NaN keys do not sort, in SymPy either)
    for e in items:
        assert X._plain_sort_key(e) in (None, e.sort_key())
    assert X.by_sort_key(items) == sorted(items, key=default_sort_key)


def test_long_sums_with_equal_copies_of_a_floor_order_as_sympy_does() -> None:
    h, w = symbol("H"), symbol("W")
    floors = [sympy.floor(h / 2**k) for k in range(1, 80)]
    copies = [sympy.Basic.__new__(sympy.floor, f.args[0]) for f in floors]  # equal, not same
    assert all(c == f and c is not f for c, f in zip(copies, floors))
    expr = sympy.Add(*(f * w**(1 + k % 3) for k, f in enumerate(floors)),
                     *(c * h for c in copies[::3]), 7 * copies[5] * copies[9])
    assert X._ordered_terms(expr) == list(expr.as_ordered_terms())
    # the twins decide nothing: the other factor orders f*g and copy(f)*g'
    for a, b in ((5, 6), (40, 41), (70, 9)):
        pairs = sympy.Add(*(floors[a] * floors[k] for k in (20, 50)),
                          *(copies[a] * floors[k] for k in (10, 30, 60)),
                          *(floors[b] * copies[k] for k in (2, 77)), h)
        assert len(pairs.args) == 8
        assert X._ordered_terms(pairs) == list(pairs.as_ordered_terms())


@pytest.mark.parametrize("depth", [3, 12])
def test_deep_totals_order_and_print_as_sympy_does(depth: int) -> None:
    """The totals of chains with symbolic strides, strides 2,1 and random hyperparameters
    (the bench's deep workloads) ordered and printed as SymPy's own order gives them."""
    from convsym import Sequential
    from convsym.layers.torch import Conv2d

    layers = [[Conv2d(4, 4, 3, stride="s", padding=1) for _ in range(depth)],
              [Conv2d(4, 4, 3, stride=2 - i % 2, padding=1) for i in range(depth)],
              [Conv2d(4, 4, 1 + 2 * (i % 3), stride=1 + i % 2, padding=i % 3, dilation=1)
               for i in range(depth)]]
    for chain in layers:
        net = Sequential(chain, input_shape=(4, "H", "W"))
        total = net.total_macs
        assert X._ordered_terms(total) == list(total.as_ordered_terms())
        plain = X.TextPrinter()
        for row in net.rows:
            assert plain._mul_text(row.macs) == X.StrPrinter._print_Mul(plain, row.macs)


# --- one rule for numbers (issue 15) ----------------------------------------------------------
def test_counts_group_digits_alone_and_inside_symbolic_counts(
        capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import re

    from convsym.cli import main

    outputs = {}
    for argv in (["summary", "example:seed1_symbolic"],
                 ["compare", "example:seed1_symbolic", "example:seed2"],
                 ["derive", "example:seed1_symbolic", "--format", "text"],
                 ["summary", "example:resnet18", "--set", "H=224", "--set", "W=224"]):
        assert main(argv) == 0
        outputs[argv[0] + argv[1]] = capsys.readouterr().out
    assert "Total params: 288*c + 18,528" in outputs["summaryexample:seed1_symbolic"]
    assert "-288*c + 2,368" in outputs["compareexample:seed1_symbolic"]
    assert "= 288*c + 18,528, all trainable" in outputs["deriveexample:seed1_symbolic"]
    for line in outputs["summaryexample:resnet18"].splitlines()[3:-4]:
        count = line.rsplit("   ", 1)[-1].strip()  # the Param # column
        assert not re.search(r"\d{4}", count.replace(",", ";")), line
    # sizes, and text meant to be read back (JSON), stay plain
    assert "(n - 4, n - 4, 64)" in outputs["summaryexample:seed1_symbolic"]
    assert main(["summary", "example:seed1_symbolic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_params"] == "288*c + 18528"


# --- notation apart from the user's symbols (issue 15) ---------------------------------------

_CLASH = {
    "torch": {"dialect": "torch", "input": [3, "n", "n"], "layers": [
        {"Conv2d": {"in_channels": 3, "out_channels": 8, "kernel_size": "k", "stride": "s",
                    "padding": "p", "dilation": "d"}},
        {"MaxPool2d": {"kernel_size": 2}}]},
    "keras": {"input": ["n", "o", "C_in"], "layers": [
        {"Conv2D": {"filters": "k", "kernel_size": 3, "strides": "s", "padding": "same"}},
        {"Flatten": {}}, {"Dense": {"units": "j"}}]},
}


def _notation_names(t: D.Term) -> set[str]:
    """The names a term shows as notation (letters, template prose), not as values."""
    if isinstance(t, D.Letter):
        return {t.text}
    if isinstance(t, D.Tup):
        return set().union(*(_notation_names(i) for i in t.items))
    if isinstance(t, D.Fill):
        if not t.values:  # template prose: every identifier is notation
            return set(re.findall(r"[A-Za-z_][A-Za-z0-9_']*", t.formula.text)) - {
                "ceiling", "floor", "max", "min", "sum", "for", "i"}
        return set().union(*(_notation_names(v) for v in t.values.values()))
    return set()


@pytest.mark.parametrize("dialect", sorted(_CLASH))
def test_issue_15_notation_never_collides_with_user_symbols(dialect: str) -> None:
    from convsym.printing.render import compose
    from convsym.spec import load

    d = derive(load(_CLASH[dialect]))
    doc = compose(d)
    shown = set().union(*(_notation_names(t) for m in D.maths(doc) for t in m.terms))
    assert not shown & set(d.symbols), shown & set(d.symbols)
    text = d.to_text()
    assert "primed to keep the two apart" in text
    if dialect == "torch":
        assert "o = floor((n' + P - k_e)/s') + 1" in text
        assert "k_e = d'*(k' - 1) + 1" in text
        assert "floor((n + 2*p - (d*k - d + 1))/s) + 1" in text  # the user's symbols, bare
        assert "valid when n' + 2*p' >= k'" in text.lower().replace("\n", " ")
        flat = " ".join(text.split())
        assert "the padded input n' + 2p' must be at least the effective kernel d'(k'-1)+1" \
            in flat  # the layer's rule, in words, primes its letters too
    else:
        assert "o' = ceiling(n'/s')" in text
        assert "P = max((o' - 1)*s' + k' - n', 0)" in text
        assert "P = max((ceiling(n/s) - 1)*s + 3 - n, 0) in total" in text  # no Max(0, ...)
        assert "Max(" not in text


def test_symbols_apart_from_the_notation_stay_unprimed() -> None:
    text = derive(example("lenet5")).to_text()  # symbols H and W
    assert "primed" not in text and not re.search(r"\b[nks]'", text)
    assert "o = floor((n + P - k)/s) + 1" in text


@pytest.mark.parametrize("source", ["example:unet", "example:mobilenet_v2", "example:dcgan",
                                    "symbolic stride"])
def test_text_derivation_keeps_within_its_width(source: str) -> None:
    from convsym.spec import load

    net = example(source.split(":")[1]) if ":" in source else load({
        "input": ["n", "n", "c"], "layers": [
            {"Conv2D": {"filters": "f", "kernel_size": "k", "strides": "s"}},
            {"Conv2D": {"filters": 64, "kernel_size": "k", "strides": "s"}},
            {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}}, {"Dense": {"units": 10}}]})
    text = derive(net).to_text()
    assert max(len(line) for line in text.splitlines()) <= X.TABLE_WIDTH
    assert "\u00a0" not in text


def test_quotients_over_symbolic_divisors_are_those_of_together() -> None:
    # a chain with one symbolic stride per layer shows floor((H - k0 + s0 - k1*s0)/(s0*s1)):
    # the fast split must give what fraction(together()) gives, factor for factor
    import random

    from convsym.printing.text import quotient

    names = [parse_expr(x) for x in ("H", "k", "s", "t", "u")]
    rng = random.Random(19)
    checked = 0
    for _ in range(400):
        terms = [rng.randint(-6, 6) * sympy.Mul(*(rng.choice(names) ** rng.randint(0, 2)
                                                  for _ in range(2)))
                 for _ in range(rng.randint(2, 4))]
        den = rng.randint(1, 6) * sympy.Mul(*(rng.choice(names[2:]) ** rng.randint(1, 2)
                                              for _ in range(rng.randint(1, 2))))
        arg = sympy.Add(*terms) / den
        if arg == 0:
            continue
        assert quotient(arg) == sympy.fraction(sympy.together(arg)), arg
        checked += 1
    assert checked > 300
    h, k, s = (parse_expr(x) for x in "Hks")
    assert quotient((h * k + k) / s) == (k * (h + 1), s)  # a common factor: together's
    assert quotient((2 * h + 4 * k) / (4 * s)) == (h + 2 * k, 2 * s)


class _SlowText(X.TextPrinter):
    """The text printer with SymPy's own dispatcher (its memos are keyed apart)."""

    _print = sympy.printing.printer.Printer._print


class _SlowLatex(L.LatexPrinter):
    """The LaTeX printer with SymPy's own dispatcher."""

    _print = sympy.printing.printer.Printer._print


_F = sympy.Function("f")


class _Renamed(sympy.floor):
    """A renamed subclass of a function SymPy prints: printed by name, not as a floor."""


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.sampled_from([n, s, d, sympy.Integer(7), sympy.Integer(-2**70), sympy.Rational(3, 4),
                     sympy.Float(1.5), sympy.oo, sympy.pi, sympy.true]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda p: sympy.Add(*p) if all(
            isinstance(x, sympy.Expr) for x in p) else p[0]),
        st.tuples(inner, inner).map(lambda p: sympy.Mul(*p) if all(
            isinstance(x, sympy.Expr) for x in p) else p[0]),
        inner.map(lambda x: sympy.floor(x / 3, evaluate=False)
                  if isinstance(x, sympy.Expr) else x),
        inner.map(lambda x: _F(x) if isinstance(x, sympy.Expr) else x),
        inner.map(lambda x: _Renamed(x, evaluate=False) if isinstance(x, sympy.Expr) else x),
        st.tuples(inner, inner).map(lambda p: sympy.Tuple(*p)),
        inner.map(lambda x: sympy.Eq(x, n, evaluate=False) if isinstance(x, sympy.Expr)
                  else x)),
    max_leaves=8))
def test_the_printers_dispatch_as_sympy_does(expr: sympy.Basic) -> None:
    # the method chosen per class is the one SymPy's dispatcher finds on every call
    assert X._PRINTER.doprint(expr) == _SlowText().doprint(expr)
    assert X._COUNTS.doprint(expr) == type("SlowCounts", (X.CountPrinter,), {
        "_print": sympy.printing.printer.Printer._print})().doprint(expr)
    assert L.LatexPrinter().doprint(expr) == _SlowLatex().doprint(expr)
    for e in sympy.preorder_traversal(expr):  # (the precedence found once per class)
        assert X._precedence(e) == sympy.printing.precedence.precedence(e)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-3, -1, 1, 2, 16, sympy.Rational(1, 2)]),
                          st.lists(st.tuples(st.sampled_from([n, s, d, c]),
                                             st.integers(1, 3)), max_size=3)),
                min_size=2, max_size=6))
def test_every_sum_is_ordered_as_sympy_orders_its_terms(
        terms: list[tuple[object, list[tuple[sympy.Symbol, int]]]]) -> None:
    # the text printer orders every sum (not only long ones) by _ordered_terms
    total = sympy.Add(*(k * sympy.Mul(*(x**e for x, e in mono)) for k, mono in terms))
    if isinstance(total, sympy.Add):
        assert X._ordered_terms(total) == list(total.as_ordered_terms())
