r"""LaTeX: a SymPy printer for the pieces and a renderer for whole derivations.

:class:`LatexPrinter` prints floor and ceiling as textbook quotients
(``\left\lfloor \frac{n - 3}{2} \right\rfloor``, never ``\frac{n}{2} - \frac{3}{2}``),
groups the digits of big integers (``18{,}496``) and writes every symbol so that SymPy's
``parse_latex`` reads it back.  :func:`render` lays a derivation out as a fragment for
``\input`` or as a standalone article.

>>> from convsym.expr import parse_expr
>>> latex(parse_expr("floor((n - 3)/2) + 1"))
'\\left\\lfloor \\frac{n - 3}{2} \\right\\rfloor + 1'
>>> latex(parse_expr("ceiling(n/32)"))
'\\left\\lceil \\frac{n}{32} \\right\\rceil'
>>> latex(sympy.Integer(18496))
'18{,}496'
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter

from convsym.deep import inner_first
from convsym.printing import doc as D
from convsym.printing.doc import _compound, fill
from convsym.printing.text import (
    FastDispatch,
    IdMemo,
    is_power,
    is_power_product,
    line_text,
    power_text,
    term_text,
)

MathLog = Callable[[str, D.Math, list[str]], None]
"""Called with each formula's LaTeX, its data and the LaTeX of each term (for the tests)."""


def symbol_latex(name: str) -> str:
    r"""A symbol name as LaTeX that ``parse_latex`` reads back to the same name.

    ``d`` is braced (the parser reads ``d`` before a word as a differential), a multi-letter
    name is ``\mathit``, a subscript after ``_`` is braced, upright when it is a word.

    >>> print(*[symbol_latex(x) for x in ("n", "d", "k_e", "C_in", "width", "n_0")])
    n {d} k_{e} C_{\mathrm{in}} \mathit{width} n_{0}
    """
    base, sep, sub = name.partition("_")
    if len(base) == 1:
        head = "{d}" if base == "d" and not sep else base
    else:
        head = rf"\mathit{{{base}}}"
    if not sep:
        return head
    if len(sub) > 1 and sub.isalpha():
        return rf"{head}_{{\mathrm{{{sub}}}}}"
    return f"{head}_{{{sub}}}"


def primed_latex(tex: str) -> str:
    r"""A letter's LaTeX with a prime, inside its braces when it has them (``{d'}``: the
    brace keeps ``d`` from reading as a differential, and the prime belongs to the letter).

    >>> print(primed_latex("n"), primed_latex("{d}"), primed_latex("k_{e}"))
    n' {d'} k_{e}'
    """
    return tex[:-1] + "'}" if tex.startswith("{") and tex.endswith("}") else tex + "'"


class LatexPrinter(FastDispatch, _SympyLatexPrinter):
    """SymPy's LaTeX printer with textbook floor/ceiling and parse-safe symbols."""

    printmethod = "_convsym_latex"

    def __init__(self, *, group: bool = True) -> None:
        super().__init__({"mul_symbol": None})
        self._group = group
        self._inside = 0  # inside a displayed fraction: nested quotients use a slash

    def _print_Integer(self, expr: sympy.Integer) -> str:
        value = int(expr)
        powers = power_text(value, "^", r" \cdot ")
        if powers is not None:  # 2^{500}, not 151 digits
            return re.sub(r"\^(\d+)", r"^{\1}", powers)
        if self._group and abs(value) >= 1000:
            return f"{value:,}".replace(",", "{,}")
        return str(value)

    def parenthesize(self, item: Any, level: int, is_neg: bool = False,
                     strict: bool = False) -> str:
        if is_power(item):  # printed as a power (or product of powers): parenthesise as one
            prec = 40 if int(item) < 0 else 50 if is_power_product(item) else 60
            text = str(self._print(item))
            return rf"\left({text}\right)" if prec < level or (not strict and prec <= level) \
                else text
        return str(super().parenthesize(item, level, is_neg, strict))

    def _print_Symbol(self, expr: sympy.Symbol, style: str = "plain") -> str:
        return symbol_latex(expr.name)

    def _quotient(self, arg: sympy.Expr) -> str:
        num, den = sympy.fraction(sympy.together(arg))
        if den == 1:
            return str(self._print(num))
        if self._inside:
            top, bottom = str(self._print(num)), str(self._print(den))
            return f"{_wrap(top, sums_only=True)}/{_wrap(bottom, sums_only=False)}"
        self._inside += 1
        try:
            return rf"\frac{{{self._print(num)}}}{{{self._print(den)}}}"
        finally:
            self._inside -= 1

    def _brackets(self, arg: sympy.Expr, left: str, right: str, exp: Any) -> str:
        if self._inside:
            tex = rf"\l{left} {self._quotient(arg)} \r{right}"
        else:
            tex = rf"\left\l{left} {self._quotient(arg)} \right\r{right}"
        return f"{tex}^{{{exp}}}" if exp is not None else tex

    def _print_floor(self, expr: sympy.floor, exp: Any = None) -> str:
        return self._rounded(expr, "floor", exp)

    def _print_ceiling(self, expr: sympy.ceiling, exp: Any = None) -> str:
        return self._rounded(expr, "ceil", exp)

    def _rounded(self, expr: sympy.Expr, name: str, exp: Any) -> str:
        # a derivation prints each floor in its layer's step and again in every later one
        # (nested inside theirs): once per printer and fraction depth
        if exp is not None:
            return self._brackets(expr.args[0], name, name, exp)
        tag = (self._group, bool(self._inside))
        text: str | None = _ROUNDED.get(tag, expr)
        if text is None:
            text = self._brackets(expr.args[0], name, name, None)
            _ROUNDED.put(tag, expr, text)
        return text

    def _print_Mul(self, expr: sympy.Mul) -> str:
        tex = str(super()._print_Mul(expr))
        # a letter right before a parenthesis reads back as a function call: brace it
        return re.sub(r"(?<![\\A-Za-z{])([A-Za-z])(\s*\\left\()", r"{\1}\2", tex)

    def _print_Add(self, expr: sympy.Add, order: str | None = None) -> str:
        """Textbook order: positive terms, then negative ones, the constant last."""
        const, rest = expr.as_coeff_Add()
        terms = list(sympy.Add.make_args(rest)) if rest != 0 else []
        terms = list(self._as_ordered_terms(sympy.Add(*terms), order=order)) if terms else []
        terms.sort(key=lambda t: t.could_extract_minus_sign())
        if const != 0:
            terms.append(const)
        tex = ""
        for i, t in enumerate(terms):
            if i == 0:
                tex = self._print(t)
            elif t.could_extract_minus_sign():
                tex += " - " + self._print(-t)
            else:
                tex += " + " + self._print(t)
        return tex

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        ops = {"==": "=", ">=": r"\geq", "<=": r"\leq", "!=": r"\neq", ">": ">", "<": "<"}
        return f"{self._print(expr.lhs)} {ops[expr.rel_op]} {self._print(expr.rhs)}"


_GROUPED = LatexPrinter(group=True)
_PLAIN = LatexPrinter(group=False)


def latex(expr: object, *, group: bool = True) -> str:
    """The LaTeX of a SymPy expression (or int), digits grouped unless ``group=False``."""
    return _latex(sympy.sympify(expr, strict=True), group)  # strict: never parses text


@functools.lru_cache(maxsize=8192)
def _latex(expr: sympy.Basic, group: bool) -> str:
    # a network prints each shape several times (output, next input, table): print once
    printer = _GROUPED if group else _PLAIN
    for node in inner_first(expr, done=lambda f: _ROUNDED.get((group, False), f) is not None):
        printer._print(node)  # deep nesting: the inner floors first (memoised)
    return str(printer.doprint(expr))


_ROUNDED = IdMemo(1 << 14)
"""The LaTeX of floors and ceilings, per digit grouping and whether inside a fraction."""


# --- terms and math ---------------------------------------------------------------------------


def term(t: D.Term) -> str:
    """The LaTeX of one math term."""
    if isinstance(t, D.Value):
        return latex(t.expr, group=t.group)
    if isinstance(t, D.Letter):
        return t.latex
    if isinstance(t, D.Product):
        return r" \cdot ".join(_factor(f) for f in t.factors)
    if isinstance(t, D.Sum):
        return " + ".join(latex(x) for x in t.terms)
    if isinstance(t, D.Tup):
        return r"\left(" + ", ".join(term(i) for i in t.items) + r"\right)"
    pattern = t.formula.latex
    inside = _inside_fractions(pattern)
    values = t.values

    def slot(name: str, position: int) -> tuple[str, bool]:
        text = term(values[name])
        if position in inside:  # a fraction inside a fraction reads better with a slash
            text = inline(text)
        return text, _compound(values[name])

    return fill(pattern, slot, r"\left(", r"\right)")


def _inside_fractions(pattern: str) -> set[int]:
    """Positions of ``pattern`` inside the arguments of a ``\\frac``."""
    inside: set[int] = set()
    stack: list[bool] = []
    pending = 0
    i = 0
    while i < len(pattern):
        if pattern.startswith(r"\frac", i):
            pending += 2
            i += len(r"\frac")
            continue
        ch = pattern[i]
        if ch == "{":
            stack.append(pending > 0)
            pending = max(pending - 1, 0)
        elif ch == "}" and stack:
            stack.pop()
        if any(stack):
            inside.add(i)
        i += 1
    return inside


def _factor(f: object) -> str:
    tex = latex(f, group=False)
    return rf"\left({tex}\right)" if isinstance(f, sympy.Add) else tex


def inline(tex: str) -> str:
    r"""Text-style math for running text: ``\frac{a}{b}`` as ``a/b``, plain floor brackets.

    Displayed formulas keep their fractions; in a line of prose (and in tables) they would
    force the lines apart.

    >>> print(inline(r"\left\lceil \frac{n + 1}{2 s} \right\rceil - \frac{P}{2}"))
    \lceil (n + 1)/(2 s) \rceil - P/2
    """
    out = []
    i = 0
    while True:
        found = _INLINE.search(tex, i)  # (a scan of the whole formula; deep sizes are long)
        if found is None:
            out.append(tex[i:])
            return "".join(out)
        out.append(tex[i:found.start()])
        if found.group() == r"\frac{":
            num, j = _group(tex, found.start() + len(r"\frac"))
            den, k = _group(tex, j)
            num, den = inline(num), inline(den)
            out.append(f"{_wrap(num, sums_only=True)}/{_wrap(den, sums_only=False)}")
            i = k
        else:
            out.append(_BRACKETS[found.group()])
            i = found.end()


_BRACKETS = {r"\left\lfloor": r"\lfloor", r"\right\rfloor": r"\rfloor",
             r"\left\lceil": r"\lceil", r"\right\rceil": r"\rceil"}
_INLINE = re.compile("|".join(map(re.escape, (r"\frac{", *_BRACKETS))))


def _group(tex: str, start: int) -> tuple[str, int]:
    """The contents of the brace group at ``start`` and the index after it."""
    assert tex[start] == "{", tex
    depth = 0
    for j in range(start, len(tex)):
        if tex[j] == "{" and tex[j - 1] != "\\":
            depth += 1
        elif tex[j] == "}" and tex[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return tex[start + 1:j], j + 1
    raise ValueError(f"unbalanced braces in {tex!r}")


_OPENERS = (r"\left", r"\lfloor", r"\lceil", "{", "(")
_CLOSERS = (r"\right", r"\rfloor", r"\rceil", "}", ")")
_NESTING = re.compile("|".join(map(re.escape, _OPENERS + _CLOSERS)))


def _wrap(tex: str, *, sums_only: bool) -> str:
    r"""Parenthesise a numerator with a top-level sum, a denominator unless it is one token.

    >>> print(_wrap(r"\lfloor n/2 \rfloor + 1", sums_only=True), _wrap("2 s", sums_only=False))
    (\lfloor n/2 \rfloor + 1) (2 s)
    """
    depth = 0
    top = []
    last = 0
    for found in _NESTING.finditer(tex):
        if depth == 0:
            top.append(tex[last:found.start()])
        depth += 1 if found.group() in _OPENERS else -1
        last = found.end()
    if depth == 0:
        top.append(tex[last:])
    flat = "".join(top)
    compound = " + " in flat or " - " in flat or flat.lstrip().startswith("-")
    if not sums_only:
        compound = compound or " " in flat.strip()
    return f"({tex})" if compound else tex


def math_latex(m: D.Math, *, display: bool = True) -> tuple[str, list[str]]:
    """The LaTeX of a formula and of each of its terms (text style unless ``display``)."""
    terms = [term(t) if display else inline(term(t)) for t in m.terms]
    out = terms[0]
    for op, t in zip(m.rels, terms[1:]):
        out += f" {D.RELATIONS[op][0]} {t}"
    return out, terms


# --- documents -------------------------------------------------------------------------------

_ESCAPE = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
           "#": r"\#", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
           "^": r"\textasciicircum{}", "<": r"$<$", ">": r"$>$", "|": r"$|$", '"': "''"}
_CODE = {**_ESCAPE, "'": r"{\char13}", "<": "<", ">": ">", "|": "|", '"': '"', "-": "-{}"}


def escape(text: str, table: dict[str, str] = _ESCAPE) -> str:
    """Text safe for LaTeX's roman font (OT1 encoding, no extra packages)."""
    return "".join(table.get(ch, ch) for ch in text)


def code(text: str, *, breaks: bool = False) -> str:
    r"""Typewriter text whose spaces may stretch, so a long line of code can break cleanly.

    ``breaks`` also lets a line break after ``_`` and ``.`` (a long layer name in a table).

    >>> print(code("f(a, b)"))
    {\ttfamily\spaceskip=0.5em plus 1em minus 0.1em\relax f(a, b)}
    >>> print(code("x_1"))
    \texttt{x\_1}
    >>> print(code("layer_1.conv", breaks=True))
    \texttt{layer\_\allowbreak{}1.\allowbreak{}conv}
    """
    body = escape(text, _CODE)
    if breaks:
        body = body.replace(r"\_", r"\_\allowbreak{}").replace(".", r".\allowbreak{}")
    if " " not in body:
        return rf"\texttt{{{body}}}"
    return r"{\ttfamily\spaceskip=0.5em plus 1em minus 0.1em\relax " + body + "}"


def breakable(tex: str) -> str:
    r"""Inline math that may break across lines: after a tuple's commas, and inside its
    parentheses (``\left( ... \right)`` is one unbreakable box; inline math has no tall
    fractions, so plain parentheses are as tall as needed).

    >>> print(breakable(r"\left(\lfloor n/2 \rfloor, 18{,}496\right)"))
    (\lfloor n/2 \rfloor,\allowbreak{} 18{,}496)
    """
    tex = tex.replace(r"\left(", "(").replace(r"\right)", ")")
    return tex.replace(", ", r",\allowbreak{} ")


class Renderer:
    """Renders a document model; ``log`` receives every formula (used by the tests)."""

    def __init__(self, log: MathLog | None = None) -> None:
        self.log = log

    def math(self, m: D.Math) -> str:
        """A formula, inline or displayed.

        A displayed chain too long for the line is set one relation to a line
        (``align*``); one whose terms are too long even so is set in text style, ragged,
        where it may break between its terms.
        """
        layout = "inline"
        if m.display:
            lengths = [len(term_text(t)) for t in m.terms]
            layout = "display" if sum(lengths) + 3 * len(m.rels) <= DISPLAY_CHARS else \
                "align" if m.rels and max(lengths) <= DISPLAY_CHARS else "ragged"
        tex, terms = math_latex(m, display=layout in ("display", "align"))
        if layout == "align":
            ops = [D.RELATIONS[op][0] for op in m.rels]
            tex = terms[0] + "".join(f" &{op} {t}" + (r" \\" if i < len(ops) - 1 else "")
                                     for i, (op, t) in enumerate(zip(ops, terms[1:])))
        elif layout in ("inline", "ragged"):
            tex = breakable(tex)
        if self.log is not None:
            self.log(tex, m, terms)
        if layout == "display":
            return rf"\[ {tex} \]"
        if layout == "align":
            return f"\\begin{{align*}}\n{tex}\n\\end{{align*}}"
        if layout == "ragged":
            return (r"\begin{flushleft}\leftskip=1.5em" f" ${tex}$ " r"\end{flushleft}")
        return f"${tex}$"

    def line(self, items: D.Line, *, cell: bool = False) -> str:
        """A line of prose, code and formulas (``cell``: in a table, names may break)."""
        out = []
        for item in items:
            if isinstance(item, str):
                # in a narrow cell a type name may break between its words (Max|Pooling2D)
                out.append(_CAMEL.sub(r"\\allowbreak{}", escape(item)) if cell else
                           escape(item))
            elif isinstance(item, D.Math):
                out.append(self.math(item))
            elif isinstance(item, D.Code):
                out.append(code(item.text, breaks=cell))
            elif isinstance(item, D.Em):
                out.append(r"\emph{" + escape(item.text) + "}")
            else:
                out.append(r"\textbf{" + escape(item.text) + "}")
        return "".join(out)

    def block(self, b: D.Block) -> str:
        """One block."""
        if isinstance(b, D.Heading):
            cmd = {1: "subsection", 2: "subsubsection"}.get(b.level, "paragraph")
            return f"\\{cmd}*{{{self.line(b.line)}}}\n"
        if isinstance(b, D.Para):
            return self.line(b.line) + "\n"
        if isinstance(b, D.Display):
            return self.math(dataclasses.replace(b.math, display=True)) + "\n"
        if isinstance(b, D.Items):
            body = "".join(f"  \\item {self.line(i)}\n" for i in b.items)
            return f"\\begin{{itemize}}\n{body}\\end{{itemize}}\n"
        return self.table(b)

    def table(self, t: D.Table) -> str:
        """A table; a long one may break across pages (``longtable``, aligned on a rerun).

        A table too wide for the line gets ragged paragraph columns (see :func:`columns`).
        """
        align = columns(t)
        head = " & ".join(self.line(c) for c in t.header) + r" \\"
        rows = "".join("  " + " & ".join(self.line(c, cell=True) for c in row) + " \\\\\n"
                       for row in t.rows)
        if len(t.rows) <= LONG_TABLE:
            return (f"\\begin{{center}}\n\\begin{{tabular}}{{{align}}}\n\\toprule\n{head}\n"
                    f"\\midrule\n{rows}\\bottomrule\n\\end{{tabular}}\n\\end{{center}}\n")
        return (f"\\begin{{longtable}}{{{align}}}\n\\toprule\n{head}\n\\midrule\n"
                f"\\endhead\n{rows}\\bottomrule\n\\end{{longtable}}\n")

    def body(self, document: D.Document) -> str:
        """Every block; a displayed formula stays in the paragraph around it."""
        out = ""
        previous: D.Block | None = None
        for b in document.blocks:
            if previous is not None:
                joined = isinstance(b, D.Display) or isinstance(previous, D.Display)
                out += "" if joined else "\n"
            out += self.block(b)
            previous = b
        return out


def columns(t: D.Table) -> str:
    r"""The column specification: ``t.align`` when the table's widest row fits the line,
    else ragged paragraph columns: a fifth of ``\linewidth`` for a column of middle width,
    what the others leave for the wide ones (so a fragment fits its host's line too).

    Widths are estimated from the text form (at most 0.6 em per character).

    >>> from convsym.printing.doc import Table
    >>> columns(Table((("a",), ("b",)), ((("x",), ("y",)),), "lr"))
    'lr'
    >>> wide = Table((("Layer",), ("Shape",)), ((("conv",), ("(" + "n, " * 40 + "n)",)),), "lr")
    >>> print(columns(wide))  # doctest: +NORMALIZE_WHITESPACE
    l>{\raggedleft\arraybackslash}p{\dimexpr(\linewidth-3em-4\tabcolsep)*100/100\relax}
    """
    lengths = [max(len(line_text(row[i])) for row in (t.header, *t.rows))
               for i in range(len(t.header))]
    if sum(lengths) <= TABLE_CHARS:
        return t.align
    wide = [i for i, n in enumerate(lengths) if n > NARROW_CHARS]
    # a narrow column that is not short gets a fifth of the line (so that it fits a host
    # document's narrower line too); its names and words break where they may
    width = {i: r"0.2\linewidth" for i in range(len(lengths))
             if i not in wide and lengths[i] > SHORT_CHARS}
    natural = sum(-(-lengths[i] * 3 // 5) for i in range(len(lengths))
                  if i not in wide and i not in width)
    taken = "".join(f"-{w}" for w in width.values())
    share = sum(lengths[i] for i in wide)
    spec = ""
    left = 100
    for i, (a, n) in enumerate(zip(t.align, lengths)):
        ragged = r"\raggedleft" if a == "r" else r"\raggedright"
        if i in width:
            spec += rf">{{{ragged}\arraybackslash}}p{{{width[i]}}}"
            continue
        if i not in wide:
            spec += a
            continue
        percent = left if i == wide[-1] else n * 100 // share
        left -= percent
        spec += (rf">{{{ragged}\arraybackslash}}p{{\dimexpr(\linewidth-{natural}em{taken}-"
                 rf"{2 * len(lengths)}\tabcolsep)*{percent}/100\relax}}")
    return spec


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z0-9])(?=[A-Z][a-z])")
"""Where a type name may break: Max|Pooling2D, Conv2D|Transpose."""

SHORT_CHARS = 10
"""Columns no wider than this keep their natural width even on a narrow line."""


DISPLAY_CHARS = 90
"""A displayed formula whose text form is longer than this may not fit the line."""

TABLE_CHARS = 64
"""A table whose columns' widest entries add up to more characters may not fit the line."""

NARROW_CHARS = 24
"""Columns no wider than this keep their natural width in a wide table."""

LONG_TABLE = 35
"""Tables with more rows than this use ``longtable`` (which aligns columns on a second run)."""

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath}
\usepackage{amssymb}
\usepackage[margin=2.5cm]{geometry}
\usepackage{array}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{microtype}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.6em}
\allowdisplaybreaks
\tolerance=800
\emergencystretch=3em
"""
"""The standalone document's preamble (packages from texlive-latex-base and -recommended)."""

PACKAGES = ("amsmath", "array", "booktabs", "longtable")
"""The packages a fragment needs from the document that ``\\input``-s it."""


def fragment_header(packages: tuple[str, ...] = PACKAGES) -> str:
    r"""The comment that opens a fragment: what it is and the packages it needs.

    >>> print(fragment_header())
    % A convsym derivation, for \input in a LaTeX document whose preamble has
    % \usepackage{amsmath,array,booktabs,longtable}
    <BLANKLINE>
    """
    return ("% A convsym derivation, for \\input in a LaTeX document whose preamble has\n"
            f"% \\usepackage{{{','.join(packages)}}}\n")



def render_document(document: D.Document, *, standalone: bool = False,
                    log: MathLog | None = None, header: bool = True) -> str:
    """A document model as LaTeX."""
    r = Renderer(log)
    title = escape(document.title)
    body = r.body(document)
    if not standalone and not header:
        return f"\\section*{{{title}}}\n\n{body}"
    if not standalone:
        # the looser line breaking of the handout, kept inside the fragment (a group)
        return (f"{fragment_header()}\\begingroup\\tolerance=800 \\emergencystretch=3em\\relax\n"
                f"\\section*{{{title}}}\n\n{body}\\endgroup\n")
    sub = f"\n{{\\small {escape(document.subtitle)}}}" if document.subtitle else ""
    return (f"{PREAMBLE}\n\\begin{{document}}\n\n\\begin{{center}}\n{{\\Large\\bfseries "
            f"{title}\\par}}{sub}\n\\end{{center}}\n\n{body}\n\\end{{document}}\n")
