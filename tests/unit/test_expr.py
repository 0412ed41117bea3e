"""Tests for convsym.expr: the one safe parser of user text."""

from __future__ import annotations

import fractions
import os
import time
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym.errors import (
    BudgetExceeded,
    ConvsymError,
    ConvsymTypeError,
    ExpressionError,
    UsageError,
)
from convsym.expr import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_INT,
    MAX_MINMAX_ARGS,
    MAX_NODES,
    MAX_TEXT_LENGTH,
    as_expr,
    as_relation,
    parse_expr,
    parse_relation,
    symbol,
    symbols,
)

n, m, k, s, p = (symbol(name) for name in "nmksp")
H, W, N, S, E, I_, Q, O_ = (symbol(name) for name in ("H", "W", "N", "S", "E", "I", "Q", "O"))

VALID = [
    ("2*m+1", 2 * m + 1),
    ("n//2", sympy.floor(n / 2)),
    ("n/2", sympy.Rational(1, 2) * n),
    ("n % 3", sympy.Mod(n, 3)),
    ("-n + +m", m - n),
    ("(n + 1)**2", (n + 1) ** 2),
    ("n**+2", n**2),
    ("(n+1)**64", (n + 1) ** 64),
    ("2**62", sympy.Integer(2**62)),
    ("-2**62", sympy.Integer(-(2**62))),
    ("(2**31)**2", sympy.Integer(2**62)),
    ("0**0", sympy.Integer(1)),
    ("floor((H + 2*p - k)/s) + 1", sympy.floor((H + 2 * p - k) / s) + 1),
    ("ceil(n/2)", sympy.ceiling(n / 2)),
    ("ceiling(n/2)", sympy.ceiling(n / 2)),
    ("mod(n, 4) + Mod(m, 4)", sympy.Mod(n, 4) + sympy.Mod(m, 4)),
    ("abs(n - m) + Abs(k)", sympy.Abs(n - m) + k),
    ("max(3, 5, 2) + min(7, 4)", sympy.Integer(9)),
    ("max(n, m)", sympy.Max(n, m)),
    ("Max(max(n, m), k)", sympy.Max(n, m, k, evaluate=False)),
    ("min(n, m) - Min(k, 2, 5)", sympy.Min(n, m) - sympy.Min(k, 2, evaluate=False)),
    ("N + S + E + I + Q + O", N + S + E + I_ + Q + O_),
    ("pi * oo", symbol("pi") * symbol("oo")),
    (
        "lambda_ + match + case + _",
        symbol("lambda_") + symbol("match") + symbol("case") + symbol("_"),
    ),
    ("0x10 + 0o10 + 0b10 + 1_000", sympy.Integer(16 + 8 + 2 + 1000)),
    ("  n +\\\n 1  ", n + 1),
    ("(n\n+\n1)", n + 1),
    ("n # a comment", n),
    ("1+" * 249 + "1", sympy.Integer(250)),  # a long flat sum is not "deep"
    ("+".join(f"a{i}" for i in range(100)), sum(symbol(f"a{i}") for i in range(100))),
    ("n**64 / n**64", sympy.Integer(1)),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_expressions(text: str, expected: sympy.Expr) -> None:
    result = parse_expr(text)
    assert isinstance(result, sympy.Expr)
    assert result == expected


def test_every_name_is_a_positive_integer_symbol_never_a_sympy_constant() -> None:
    result = parse_expr("N + S + E + I + pi + oo + zoo + nan + Q + O")
    assert result.free_symbols == {symbol(x) for x in "N S E I pi oo zoo nan Q O".split()}
    for sym in result.free_symbols:
        assert sym.is_integer and sym.is_positive
    assert parse_expr("I") is symbol("I") and parse_expr("I") != sympy.I


def test_symbol_cache_and_assumptions() -> None:
    assert symbol("H") is symbol("H") is parse_expr("H")
    assert symbol("p", nonnegative=True) is symbol("p", nonnegative=True)
    assert symbol("p", nonnegative=True).is_nonnegative and symbol("p").is_positive
    # SymPy treats the two as different symbols although both print as "p".
    assert symbol("p", nonnegative=True) != symbol("p")
    assert symbols("H, W  k") == (H, W, k)
    assert symbols("p q", nonnegative=True) == (
        symbol("p", nonnegative=True),
        symbol("q", nonnegative=True),
    )


@pytest.mark.parametrize("name", ["", "2x", "a b", "a-b", "lambda", "True", "__x", "é", "a.b"])
def test_symbol_rejects_bad_names(name: str) -> None:
    with pytest.raises(ExpressionError, match="symbol name"):
        symbol(name)


def test_symbols_errors() -> None:
    with pytest.raises(ExpressionError, match="no names"):
        symbols(" , ")
    with pytest.raises(UsageError, match="nonnegative"):
        symbols("a", positive=True)
    with pytest.raises(ConvsymTypeError):
        symbols(["a"])  # type: ignore[arg-type]
    with pytest.raises(ConvsymTypeError):
        symbol(3)  # type: ignore[arg-type]


CANARY = Path("/tmp/convsym_expr_canary")
HUGE = MAX_TEXT_LENGTH * 5

BAD = [
    (
        "__import__('os').system('touch /tmp/convsym_expr_canary')",
        ExpressionError,
        "\"__import__('os').system\" at column 1 of",
    ),
    (
        "__import__('os')",
        ExpressionError,
        "unknown function '__import__'",
    ),
    ("().__class__.__bases__", ExpressionError, "attribute access"),
    ("lambda: 1", ExpressionError, "lambda"),
    ("[1][0]", ExpressionError, "indexing"),
    ("10**10**10", ExpressionError, "exponent must be an integer literal"),
    ("9**9**9", ExpressionError, "exponent must be an integer literal"),
    ("2**100000", BudgetExceeded, "the exponent 100000 exceeds the limit 64"),
    ("2**63", BudgetExceeded, "the integer 9223372036854775808 exceeds the limit 2**62"),
    ("(2**32)**2", BudgetExceeded, "exceeds the limit 2**62"),
    ("2**62*2**62*2**62", BudgetExceeded, "exceeds the limit 2**62"),
    ("4611686018427387905", BudgetExceeded, "exceeds the limit 2**62"),
    ("9" * 1500, BudgetExceeded, "-bit integer exceeds the limit 2**62"),
    ("(n**64)**2", BudgetExceeded, "exponent over 64"),
    ("n" + "*n" * 64, BudgetExceeded, "exponent over 64"),
    ("(2*n)**64", BudgetExceeded, "exceeds the limit 2**62"),
    ("(" * 100000 + "1" + ")" * 100000, BudgetExceeded, "characters long; the limit is 2000"),
    ("(" * 51 + "1" + ")" * 51, BudgetExceeded, "brackets nested more than 50 deep"),
    ("-" * 100000 + "1", BudgetExceeded, "the limit is 2000"),
    ("-" * 1999 + "1", BudgetExceeded, "nested 51 levels deep; the limit is 50"),
    ("~" * 1999 + "1", BudgetExceeded, "nested 51 levels deep"),
    ("n**" * 60 + "1", BudgetExceeded, "nested"),
    ("floor(" * 50 + "n" + ")" * 50, BudgetExceeded, "nested 51 levels"),
    ("1+" * 5000 + "1", BudgetExceeded, "characters long"),
    ("n+" * 600 + "n", BudgetExceeded, "more than 500 expression nodes"),
    ("x" * HUGE, BudgetExceeded, f"is {HUGE} characters long; the limit is 2000"),
    ("n^m", ExpressionError, "use ** for powers; ^ is not a power here"),
    ("n & m", ExpressionError, "bit operations"),
    ("n << 1", ExpressionError, "bit operations"),
    ("~n", ExpressionError, "bit operations"),
    ("n @ m", ExpressionError, "@ is not allowed"),
    ("2.5", ExpressionError, "a float is not an integer"),
    ("2.0", ExpressionError, "a float is not an integer: write 2, not 2.0"),
    ("1e3", ExpressionError, "write 1000, not 1000.0"),
    ("1e999", ExpressionError, "a float is not an integer"),
    ("n**2.0", ExpressionError, "a float is not an integer"),
    ("n**True", ExpressionError, "True is a bool"),
    ("n**-1", ExpressionError, "negative exponents"),
    ("1j", ExpressionError, "complex"),
    ("True", ExpressionError, "True is a bool, not an integer"),
    ("False + 1", ExpressionError, "False is a bool"),
    ("None", ExpressionError, "NoneType None is not an integer"),
    ("...", ExpressionError, "is not an integer"),
    ('"a" "b"', ExpressionError, "a string is not an expression"),
    ("b'x'", ExpressionError, "a string is not an expression"),
    ("f'{n}'", ExpressionError, "f-string"),
    ("x.y", ExpressionError, 'cannot use "x.y" at column 1: attribute access'),
    ("2*x.y", ExpressionError, 'cannot use "x.y" at column 3 of "2*x.y"'),
    ("open('f')", ExpressionError, "unknown function 'open'"),
    ("Symbol('x')", ExpressionError, "unknown function 'Symbol'"),
    ("exec('1')", ExpressionError, "unknown function 'exec'"),
    ("eval('1')", ExpressionError, "unknown function 'eval'"),
    ("Floor(n)", ExpressionError, "did you mean 'floor'?"),
    ("florr(n)", ExpressionError, "did you mean 'floor'?"),
    ("(n)(2)", ExpressionError, "unknown function 'n'"),
    ("2(3)", ExpressionError, "only these functions can be called"),
    ("floor(n, 2)", ExpressionError, "floor() takes 1 argument(s), not 2"),
    ("max(n)", ExpressionError, "max() takes at least 2 argument(s), not 1"),
    ("max(n, k=2)", ExpressionError, "keyword and starred arguments"),
    ("max(*n)", ExpressionError, "keyword and starred arguments"),
    ("(n := 2)", ExpressionError, ":= is not allowed"),
    ("n if m else k", ExpressionError, "'if ... else' is not allowed"),
    ("[n for n in m]", ExpressionError, "comprehension"),
    ("{n: 1}", ExpressionError, "Dict is not allowed"),
    ("n, m", ExpressionError, "tuple"),
    ("not n", ExpressionError, "'not' is not allowed"),
    ("n and m", ExpressionError, "'and'/'or'"),
    ("n < m", ExpressionError, "a comparison is not an expression here"),
    ("H = 8", ExpressionError, "at column 3: an expression has no '='"),
    ("(yield)", ExpressionError, "Yield is not allowed"),
    ("await n", ExpressionError, "Await is not allowed"),
    ("__class__", ExpressionError, "reserved"),
    ("1/0", ExpressionError, "division by zero"),
    ("n // (m - m)", ExpressionError, "division by zero"),
    ("n % 0", ExpressionError, "division by zero"),
    ("mod(n, 0)", ExpressionError, "division by zero"),
    ("", ExpressionError, "empty text"),
    ("   \n\t ", ExpressionError, "empty text"),
    ("2*", ExpressionError, 'cannot parse "2*" at column 3: expected an expression'),
    ("n +* 2", ExpressionError, "at column 4: unexpected '*'"),
    ("2 3", ExpressionError, "at column 3: unexpected '3'"),
    ("(n+1", ExpressionError, "'(' was never closed"),
    ("n+1)", ExpressionError, "unmatched ')'"),
    ("007", ExpressionError, "leading zeros"),
    ("n; m", ExpressionError, "column 2"),
    ("n\x00", ExpressionError, "U+0000"),
    ("n é", ExpressionError, "column 3: character 'é' (U+00E9) is not allowed"),
    ("ｎ + 1", ExpressionError, "only ASCII"),  # fullwidth n: Python would read it as n
    ("ℌ", ExpressionError, "only ASCII"),  # Python would NFKC-normalise it to H
    ("α + 1", ExpressionError, "only ASCII"),
    ("\u0661", ExpressionError, "U+0661"),  # Arabic-Indic digit one
    ("n\u0661", ExpressionError, "only ASCII"),  # a valid Python identifier, rejected
    ("\u00b2", ExpressionError, "only ASCII"),  # superscript two
]


@pytest.mark.parametrize(("text", "error", "fragment"), BAD, ids=[repr(t)[:40] for t, _, _ in BAD])
def test_bad_expressions(text: str, error: type[ConvsymError], fragment: str) -> None:
    start = time.perf_counter()
    with pytest.raises(error) as info:
        parse_expr(text, field="H")
    assert fragment in str(info.value)
    assert str(info.value).startswith("H: ")
    assert time.perf_counter() - start < 2.0
    assert not CANARY.exists()


def test_error_classes_are_standard_exceptions_too() -> None:
    with pytest.raises(ValueError):
        parse_expr("n^2")
    with pytest.raises(ValueError):
        parse_expr("2**100")
    with pytest.raises(TypeError):
        parse_expr(3)  # type: ignore[arg-type]


def test_messages_truncate_long_text() -> None:
    text = "n + " * 100 + "1.5"
    with pytest.raises(ExpressionError) as info:
        parse_expr(text)
    assert len(str(info.value)) < 250
    assert "..." in str(info.value)


def test_never_evaluates_python(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    for text in (
        f"__import__('os').system('touch {canary}')",
        f"open('{canary}', 'w')",
        f"exec(\"open('{canary}', 'w')\")",
        f"(lambda: open('{canary}', 'w'))()",
        f"[c for c in [open('{canary}', 'w')]]",
        f"Symbol('x').__class__.__init__.__globals__['os'].system('touch {canary}')",
    ):
        with pytest.raises(ExpressionError):
            parse_expr(text)
        with pytest.raises(ExpressionError):
            parse_relation(f"{text} == 1")
    assert not canary.exists()
    assert os.listdir(tmp_path) == []


def test_min_max_are_flat_unevaluated_and_capped() -> None:
    start = time.perf_counter()
    nested = "n"
    for i in range(MAX_MINMAX_ARGS // 2):
        nested = f"max({nested}, floor((n*{i + 1} + m)/{i + 2}) - k{i})"
    result = parse_expr(f"floor({nested}/3)")
    assert time.perf_counter() - start < 5.0
    (big_max,) = result.atoms(sympy.Max)
    assert isinstance(result, sympy.floor) and len(big_max.args) == MAX_MINMAX_ARGS // 2 + 1
    wide = "max(" + ", ".join(f"a{i}" for i in range(MAX_MINMAX_ARGS)) + ")"
    assert len(parse_expr(wide).args) == MAX_MINMAX_ARGS
    with pytest.raises(BudgetExceeded, match="more than 8 min/max arguments in all"):
        parse_expr(f"{wide} + min(n, m)")
    assert parse_expr("max(n, n)") == n
    assert parse_expr("max(n, 2, 7)") == sympy.Max(n, 7, evaluate=False)


def test_mod_is_unevaluated_unless_numeric_and_fast() -> None:
    start = time.perf_counter()
    big = "+".join(f"a{i}**64*b{i}" for i in range(40))
    result = parse_expr(f"mod({big}, 12345) + ({big}) % 7")  # SymPy's Mod.eval: minutes
    assert time.perf_counter() - start < 3.0
    assert len(result.atoms(sympy.Mod)) == 2
    assert parse_expr("Mod(n/2, n/3)") != n / 6  # SymPy would evaluate this to n/6
    assert parse_expr("17 % 5 + mod(2**62, 3)") == 2 + 1


def test_budget_constants() -> None:
    budgets = (MAX_TEXT_LENGTH, MAX_NODES, MAX_DEPTH, MAX_INT, MAX_EXPONENT, MAX_MINMAX_ARGS)
    assert budgets == (2000, 500, 50, 2**62, 64, 8)
    assert parse_expr("-" * 49 + "1") == -1
    assert parse_expr(f"n**{MAX_EXPONENT}") == n**64


VALID_RELATIONS = [
    ("H = 8", sympy.Eq(H, 8, evaluate=False)),
    ("H == 8", sympy.Eq(H, 8, evaluate=False)),
    ("p >= 1", sympy.Ge(p, 1, evaluate=False)),
    ("p > 0", sympy.Gt(p, 0, evaluate=False)),
    ("n != 0", sympy.Ne(n, 0, evaluate=False)),
    ("n < m", sympy.Lt(n, m, evaluate=False)),
    ("n + 2*p <= k", sympy.Le(n + 2 * p, k, evaluate=False)),
    ("1 < 2", sympy.Lt(1, 2, evaluate=False)),
    ("n = n", sympy.Eq(n, n, evaluate=False)),
    (
        "floor((n-k)/s)+1 == ceiling((n-k+1)/s)",
        sympy.Eq(sympy.floor((n - k) / s) + 1, sympy.ceiling((n - k + 1) / s), evaluate=False),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID_RELATIONS)
def test_valid_relations_stay_unevaluated(text: str, expected: sympy.Basic) -> None:
    result = parse_relation(text)
    assert isinstance(result, sympy.core.relational.Relational)
    assert result == expected
    assert result not in (sympy.true, sympy.false)


BAD_RELATIONS = [
    ("n <= m <= k", "chained comparison is not allowed; write two conditions: n <= m and m <= k"),
    ("a = b = c", "write two conditions: a == b and b == c"),
    ("n + 1", "expected one comparison"),
    ("n is m", "'is' and 'in' do not"),
    ("n in m", "'is' and 'in' do not"),
    ("a => b", "at column 4: unexpected '>'"),
    ("x == 2*", 'cannot parse "x == 2*" at column 8: expected an expression'),
    ("n = m =", "at column 8: expected an expression"),
    ("n^2 == m", "use ** for powers"),
    ("n = m +* 2", "at column 8: unexpected '*'"),  # columns count the user's lone "="
    ("n >= 1 and m >= 1", "'and'/'or'"),
    ("(n := 1) == 1", ":= is not allowed"),
    ("", "empty text"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD_RELATIONS)
def test_bad_relations(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_relation(text, field="when")
    assert fragment in str(info.value)
    assert str(info.value).startswith("when: ")


def test_as_expr_accepts() -> None:
    assert as_expr(3) == 3 and isinstance(as_expr(3), sympy.Integer)
    assert as_expr("H + 1") == H + 1
    assert as_expr(H) is H
    assert as_expr(sympy.Rational(1, 2)) == sympy.Rational(1, 2)

    class NumpyLikeInt(int):
        pass

    assert as_expr(NumpyLikeInt(5)) == 5
    assert as_expr(sympy.Integer(7)) == 7


@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        (True, ConvsymTypeError, "Conv2D: strides = True: a bool is not an integer"),
        (3.0, ConvsymTypeError, "a float is not an integer: write 3, not 3.0"),
        (2.5, ConvsymTypeError, "a float is not an integer"),
        (float("nan"), ConvsymTypeError, "a float is not an integer"),
        (None, ConvsymTypeError, "a value is required, not NoneType"),
        ([3], ConvsymTypeError, "expected an int or text, not list"),
        (fractions.Fraction(1, 2), ConvsymTypeError, "a Fraction is not an integer"),
        (2**63, BudgetExceeded, "exceeds the limit 2**62"),
        (sympy.Float(3.0), ConvsymTypeError, "a float is not an integer"),
        (symbol("n") + sympy.Float(0.5), ConvsymTypeError, "a float is not an integer"),
        (sympy.zoo, ExpressionError, "not a finite real number"),
        (sympy.oo, ExpressionError, "not a finite real number"),
        (sympy.nan, ExpressionError, "not a finite real number"),
        (sympy.I * symbol("n"), ExpressionError, "not a finite real number"),
        (sympy.Eq(symbol("n"), 1), ConvsymTypeError, "expected a SymPy expression"),
        ("n^2", ExpressionError, "Conv2D strides: cannot use"),
    ],
)
def test_as_expr_rejects(value: object, error: type[ConvsymError], fragment: str) -> None:
    with pytest.raises(error) as info:
        as_expr(value, field="strides", kind="Conv2D")
    assert fragment in str(info.value)


def test_as_expr_numpy_types() -> None:
    np = pytest.importorskip("numpy")
    assert as_expr(np.int64(4)) == 4 and isinstance(as_expr(np.int32(4)), sympy.Integer)
    with pytest.raises(ConvsymTypeError, match="a bool is not an integer"):
        as_expr(np.bool_(True))
    with pytest.raises(ConvsymTypeError, match="write 3, not 3.0"):
        as_expr(np.float32(3.0))


def test_as_relation() -> None:
    assert as_relation("p >= 1") == sympy.Ge(p, 1, evaluate=False)
    rel = sympy.Ge(n, k, evaluate=False)
    assert as_relation(rel) is rel
    with pytest.raises(ExpressionError, match="already decided"):
        as_relation(sympy.Ge(p, 1))  # SymPy makes this True at once
    with pytest.raises(ExpressionError, match="already decided"):
        as_relation(sympy.false)
    with pytest.raises(ConvsymTypeError, match="not bool"):
        as_relation(True)
    with pytest.raises(ConvsymTypeError, match="not int"):
        as_relation(3)


# -- fuzzing: only a SymPy expression or a ConvsymError, never anything else ---------------

TOKENS = [
    *"0123456789",
    "n", "m", "H", "I", "E", "S", "N", "pi", "oo", "zoo", "nan", "True", "None", "lambda",
    "+", "-", "*", "/", "//", "%", "**", "^", "(", ")", "(", ")", ",", "=", "==", "<=",
    ".", "[", "]", " ", "0", "2**62", "64", "65", "-1", "1.5", "1e3", "'s'", "j",
    "floor(", "ceil(", "ceiling(", "min(", "max(", "Max(", "abs(", "mod(", "Mod(", "exp(",
    "__import__(", "__class__", ":=", "if", "else", "not", "and", "~", "&", "@", "\n", "\\",
]  # fmt: skip


def _check_outcome(text: str) -> None:
    try:
        result = parse_expr(text)
    except ConvsymError:
        pass
    else:
        assert isinstance(result, sympy.Expr)
    try:
        relation = parse_relation(text)
    except ConvsymError:
        pass
    else:
        assert isinstance(relation, sympy.core.relational.Relational)


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_fuzz_text(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_fuzz_tokens(tokens: list[str]) -> None:
    _check_outcome("".join(tokens))


def test_issue_13_rounding_over_min_max_mod_abs_is_left_to_convsym() -> None:
    # SymPy's assumptions said Min(0, Mod(y, 1))/3 is not an integer in about one run in
    # ten (it depends on hashing order) and ceiling of it then evaluated to 1, not 0
    import sympy

    rel = parse_relation("ceiling(min(y % 1, 0)/3) >= y")
    assert isinstance(rel.lhs, sympy.ceiling)
    assert parse_expr("floor((2*n + 1)/2)") == symbol("n")  # plain arguments still simplify


@pytest.mark.parametrize("nonnegative", [False, True])
def test_symbols_are_the_symbols_sympy_builds(nonnegative: bool) -> None:
    # convsym builds its symbols from the assumptions SymPy deduced at import (issue 19):
    # the same symbol in every respect SymPy compares, prints, pickles and asks about
    import pickle

    from convsym.expr import _new_symbol

    sign = {"nonnegative": True} if nonnegative else {"positive": True}
    for name in ("H", "k_1", "s0", "W", "x" * 40):
        fast, slow = _new_symbol(name, nonnegative), sympy.Symbol(name, integer=True, **sign)
        assert type(fast) is type(slow) and fast == slow and hash(fast) == hash(slow)
        assert sympy.srepr(fast) == sympy.srepr(slow) and fast.assumptions0 == slow.assumptions0
        assert pickle.loads(pickle.dumps(fast)) == slow
        for fact in ("positive", "nonnegative", "integer", "prime", "even", "zero", "finite",
                     "real", "commutative", "rational", "composite"):
            assert getattr(fast, f"is_{fact}") == getattr(slow, f"is_{fact}"), fact
        assert (fast + 1).is_positive == (slow + 1).is_positive
        assert sympy.floor(fast / 2).is_nonnegative == sympy.floor(slow / 2).is_nonnegative


def test_forgetting_facts_restores_the_import_time_assumptions() -> None:
    from convsym.expr import _KNOWN_FACTS, forget_facts

    s = symbol("forget_me")
    _ = s.is_prime, s.is_even  # asked: kept with the shared assumptions, as SymPy keeps them
    forget_facts()
    assert "prime" not in _KNOWN_FACTS[False][0]
    assert s.is_positive is True and s.is_prime is None
