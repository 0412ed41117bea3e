"""Every formula in the LaTeX output parses back (SymPy's parse_latex) to the engine's value.

Two presentational conventions are undone before parsing, both typographic only: digit-group
commas (``18{,}496``) and the spelling of symbol names (``C_{\\mathrm{in}}`` is read as the
symbol ``C_in``).  Values are compared by evaluating both sides at several integer points,
because floor/ceiling identities are not decided by ``simplify``.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
import sympy

from convsym.catalog import ENTRIES
from convsym.derivation import Derivation, derive
from convsym.printing import doc as D
from convsym.printing.render import render_latex as render

pytest.importorskip("antlr4", reason="parse_latex needs antlr4-python3-runtime 4.11")

_GROUP = re.compile(r"(?<=\d)\{,\}(?=\d)")


def normalize_name(name: str) -> str:
    """``C_{mathrm*(i*n)}`` -> ``C_in``, ``k_{e}`` -> ``k_e``, ``w_{i*j}`` -> ``w_ij``.

    The parser reads a word in a subscript as a product of letters, which SymPy sorts, so the
    subscript's letters are compared sorted (``C_out`` and ``C_{o*(t*u)}`` both give ``C_otu``).
    """
    for junk in ("\\mathrm", "mathrm", "\\mathit", "mathit", "{", "}", "*", "(", ")", " "):
        name = name.replace(junk, "")
    base, sep, sub = name.partition("_")
    return base + sep + "".join(sorted(sub))


def plain(expr: sympy.Basic) -> sympy.Basic:
    """The expression with normalized, assumption-free symbol names.

    ``parse_latex`` reads ``\\min``/``\\max`` as undefined functions named min/max; they are
    SymPy's ``Min``/``Max``.
    """
    from sympy.core.function import AppliedUndef

    lattice = {"min": sympy.Min, "max": sympy.Max}
    expr = expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in lattice,
                        lambda e: lattice[e.func.__name__](*e.args))
    mapping = {s: sympy.Symbol(normalize_name(s.name)) for s in expr.free_symbols
               if isinstance(s, sympy.Symbol)}
    return expr.xreplace(mapping)


@functools.cache
def parse(tex: str) -> sympy.Basic:
    """``parse_latex`` after undoing digit grouping (cached: the parser takes ~50 ms a call)."""
    from sympy.parsing.latex import parse_latex

    tex = _GROUP.sub("", tex)
    if tex.isdigit():  # what parse_latex returns for a plain integer, without the wait
        return sympy.Integer(tex)
    return parse_latex(tex)


def split_tuple(tex: str) -> list[str]:
    r"""``\left(a, b\right)`` -> ``["a", "b"]`` (commas at depth 0 only)."""
    inner = tex.strip()
    assert inner.startswith(r"\left(") and inner.endswith(r"\right)"), tex
    inner = inner[len(r"\left("):-len(r"\right)")]
    parts, depth, start = [], 0, 0
    i = 0
    while i < len(inner):
        if inner.startswith(r"\left", i) or inner[i] in "{":
            depth += 1
        elif inner.startswith(r"\right", i) or inner[i] in "}":
            depth -= 1
        elif inner[i] == "," and depth == 0 and not inner.startswith("{,}", i - 1):
            parts.append(inner[start:i])
            start = i + 1
        i += 1
    parts.append(inner[start:])
    return [p.strip() for p in parts]


def values_at(expr: sympy.Basic, point: dict[str, int]) -> sympy.Basic:
    """The value of ``expr`` with symbols given by (normalized) name."""
    e = plain(expr)
    subs = {s: point[s.name] for s in e.free_symbols if s.name in point}
    return sympy.sympify(e.subs(subs).doit())


def points(names: Iterable[str], count: int = 6, seed: int = 0) -> list[dict[str, int]]:
    """Integer points for every symbol name (sizes well above any kernel)."""
    rng = random.Random(seed)
    names = sorted(set(names))
    return [{n: rng.randint(40, 400) for n in names} for _ in range(count)]


def names_of(*exprs: sympy.Basic) -> set[str]:
    """The normalized names of the free symbols."""
    out: set[str] = set()
    for e in exprs:
        out |= {s.name for s in plain(e).free_symbols}
    return out


def same_value(a: sympy.Basic, b: sympy.Basic) -> bool:
    """True when ``a`` and ``b`` agree at several integer points."""
    names = names_of(a, b)
    for pt in points(names):
        va, vb = values_at(a, pt), values_at(b, pt)
        if sympy.simplify(va - vb) != 0:
            return False
    return True


def notation(t: D.Term) -> bool:
    """True for a term that names quantities (letters, the general formula), not values."""
    if isinstance(t, D.Letter):
        return True
    if isinstance(t, D.Tup):
        return all(notation(i) for i in t.items)
    if isinstance(t, D.Fill):
        used = re.findall(r"<([A-Za-z_]+)>", t.formula.latex)
        return any(notation(t.values[u]) for u in used) or not used and not t.values
    return False


@dataclass
class Logged:
    """One formula the LaTeX renderer printed."""

    tex: str
    math: D.Math
    terms: list[str]


def check_term(tex: str, term: D.Term) -> None:
    """The term's LaTeX parses back to its meaning."""
    meaning = term.meaning()
    if isinstance(term, D.Tup):
        parts = split_tuple(tex)
        assert len(parts) == len(term.items), (tex, parts)
        for part, item in zip(parts, term.items):
            check_term(part, item)
        return
    parsed = parse(tex)
    assert isinstance(meaning, sympy.Basic)
    assert same_value(parsed, meaning), f"{tex!r} parses to {parsed}, expected {meaning}"


def check_formula(entry: Logged) -> None:
    """Every term parses back to its meaning; the values in an equality chain agree."""
    for tex, term in zip(entry.terms, entry.math.terms):
        check_term(tex, term)
    if entry.math.rels and all(r == "=" for r in entry.math.rels) and not entry.math.claim:
        values = [t for t in entry.math.terms if not notation(t)]
        scalars = [t.meaning() for t in values if not isinstance(t, D.Tup)]
        for a, b in zip(scalars, scalars[1:]):
            assert same_value(a, b), f"{entry.tex!r}: {a} != {b}"
    if len(entry.math.terms) == 2 and entry.math.rels and entry.math.rels[0] != "=" and \
            not any(isinstance(t, D.Tup) for t in entry.math.terms):
        whole = parse(entry.tex)
        assert isinstance(whole, (sympy.core.relational.Relational,
                              sympy.logic.boolalg.BooleanAtom)), (entry.tex, whole)


_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$|\\\[ (.+?) \\\]|"
                   r"\\begin\{align\*\}\n(.+?)\n\\end\{align\*\}", re.S)


def math_in(text: str) -> list[str]:
    """Every inline and displayed formula in LaTeX output, in order."""
    return [next(g for g in m.groups() if g is not None) for m in _MATH.finditer(text)]


# --- the tests -------------------------------------------------------------------------------


def _logged(d: Derivation, standalone: bool = False) -> tuple[str, list[Logged]]:
    log: list[Logged] = []
    text = render(d, standalone=standalone, log=lambda tex, m, terms: log.append(
        Logged(tex, m, terms)))
    return text, log


def _check_all(d: Derivation) -> int:
    text, log = _logged(d)
    printed = math_in(text)
    assert printed == [e.tex for e in log], "a formula was printed without being tracked"
    for entry in log:
        check_formula(entry)
    return len(log)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if not e.slow], ids=lambda e: e.name)
def test_catalog_formulas_parse_back(entry: object) -> None:
    d = entry.derive()  # type: ignore[attr-defined]
    assert _check_all(d) > 0


def _layer_cases() -> list[tuple[str, object, tuple[object, ...]]]:
    from convsym.layers import keras as K
    from convsym.layers import torch as T

    return [
        ("keras dilated", K.Conv2D(8, 3, dilation_rate=2), (30, 30, 4)),
        ("keras same s3", K.Conv2D(8, 4, strides=3, padding="same"), ("H", "W", 5)),
        ("keras causal", K.Conv1D(4, 3, padding="causal", strides=2), ("n", 2)),
        ("keras pool valid", K.MaxPooling2D(3, strides=2), ("n", "n", 7)),
        ("keras pool same", K.AveragePooling2D(2, padding="same"), (11, 11, 7)),
        ("keras batchnorm", K.BatchNormalization(), (8, 8, 64)),
        ("torch explicit", T.Conv2d(3, 16, 5, stride=2, padding=2), (3, "H", "W")),
        ("torch same", T.Conv2d(4, 4, 4, padding="same", dilation=2), (4, 10, 10)),
        ("torch grouped", T.Conv2d(8, 16, 3, groups=4, bias=False), (8, 12, 12)),
        ("torch pool floor", T.MaxPool2d(3, stride=2, padding=1), (16, "n", "n")),
        ("torch pool ceil", T.MaxPool1d(2, stride=3, padding=1, ceil_mode=True), (1, "n")),
        ("torch pool ceil numeric", T.MaxPool2d(1, stride=2, ceil_mode=True), (3, 32, 32)),
        ("torch linear", T.Linear(100, 10), (100,)),
        ("torch batchnorm", T.BatchNorm2d(16), (16, 5, 5)),
        ("keras depthwise", K.DepthwiseConv2D(3, depth_multiplier=2), (10, 10, 8)),
        ("keras separable", K.SeparableConv2D(16, 3, padding="same"), ("n", "n", 128)),
        ("keras transpose valid", K.Conv2DTranspose(4, 3, strides=2), (5, 5, 2)),
        ("keras transpose same", K.Conv2DTranspose(4, 3, strides=2, padding="same"),
         ("n", 5, 2)),
        ("keras transpose op", K.Conv2DTranspose(4, 3, strides=2, padding="same",
                                                 output_padding=1), ("n", 5, 2)),
        ("torch transpose", T.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                              groups=2), (4, "n", 5)),
        ("keras zero padding", K.ZeroPadding2D(((1, 2), (3, 4))), ("n", 6, 2)),
        ("keras cropping", K.Cropping2D(((1, 2), (0, 1))), ("n", 6, 2)),
        ("keras upsampling", K.UpSampling2D(2), ("n", 6, 2)),
        ("keras global pooling", K.GlobalAveragePooling2D(), ("n", 6, 2)),
        ("torch adaptive pooling", T.AdaptiveAvgPool2d((7, 7)), (3, "H", "W")),
        ("torch upsample to size", T.Upsample(size=(9, 11)), (3, "H", "W")),
    ]


def test_long_formulas_are_split_and_still_parse_back() -> None:
    """A chain too long for one line is set one relation to a line (``align*``), one with
    terms too long even so in text style; each is still tracked and parses back."""
    from convsym.spec import load

    net = load({"dialect": "torch", "input": ["c", "n", "m"], "layers": [
        {"Conv2d": {"in_channels": "c", "out_channels": "f", "kernel_size": "k", "stride": "s",
                    "padding": "p", "dilation": "d"}},
        {"Conv2d": {"in_channels": "f", "out_channels": "g", "kernel_size": "k", "stride": "s",
                    "padding": "p", "dilation": "d"}},
        {"MaxPool2d": {"kernel_size": "k", "stride": "s", "padding": 1, "ceil_mode": True}}]})
    d = derive(net)
    text, _ = _logged(d)
    assert "\\begin{align*}" in text and "\\begin{flushleft}" in text
    assert _check_all(d) > 0


@pytest.mark.parametrize("case", _layer_cases(), ids=lambda c: c[0])
def test_layer_formulas_parse_back(case: tuple[str, object, tuple[object, ...]]) -> None:
    _, layer, shape = case
    assert _check_all(derive(layer, input_shape=shape)) > 0


def test_a_wrong_value_is_caught() -> None:
    """The check is not vacuous: a formula whose LaTeX disagrees with its value fails."""
    bad = Logged(r"3 \cdot 3 = 10", D.eq(D.Product((3, 3)), D.Value(sympy.Integer(10))),
                 [r"3 \cdot 3", "10"])
    with pytest.raises(AssertionError):
        check_formula(bad)
    bad_parse = Logged(r"\left\lfloor \frac{n}{2} \right\rfloor",
                       D.Math((D.Value(sympy.ceiling(sympy.Symbol("n") / 2)),)),
                       [r"\left\lfloor \frac{n}{2} \right\rfloor"])
    with pytest.raises(AssertionError):
        check_formula(bad_parse)


def test_digit_groups_and_names_are_undone_before_parsing() -> None:
    assert parse("18{,}496") == 18496
    assert normalize_name("C_{mathrm*(i*n)}") == normalize_name("C_in") == "C_in"
    assert normalize_name("C_{mathrm*(o*(t*u))}") == normalize_name("C_out")
    assert split_tuple(r"\left(3, 3, 1{,}280\right)") == ["3", "3", "1{,}280"]
