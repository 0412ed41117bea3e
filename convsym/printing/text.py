"""Plain text: sizes as ``floor((n - 3)/2)`` (never ``floor(n/2 - 3/2)``), and derivations.

>>> from convsym.expr import parse_expr
>>> sstr(parse_expr("ceiling(n/32)"))
'ceiling(n/32)'
>>> sstr(parse_expr("floor((H - 1)/2)*4"))
'4*floor((H - 1)/2)'
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from convsym.printing import doc as D

if TYPE_CHECKING:
    from convsym.derivation import Derivation


class TextPrinter(StrPrinter):
    """SymPy's ``StrPrinter`` with textbook quotients inside floor and ceiling."""

    def _quotient(self, arg: sympy.Expr) -> str:
        num, den = sympy.fraction(sympy.together(arg))
        if den == 1:
            return str(self._print(num))
        top = self._print(num)
        if precedence(num) < PRECEDENCE["Mul"]:
            top = f"({top})"
        bottom = self._print(den)
        if precedence(den) <= PRECEDENCE["Mul"] and not den.is_Atom:
            bottom = f"({bottom})"
        return f"{top}/{bottom}"

    def _print_floor(self, expr: sympy.floor) -> str:
        return f"floor({self._quotient(expr.args[0])})"

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        return f"ceiling({self._quotient(expr.args[0])})"

    def _print_Add(self, expr: sympy.Add, order: str | None = None) -> str:
        # textbook order: ``n - k``, not SymPy's alphabetical ``-k + n``
        terms = list(self._as_ordered_terms(expr, order=order))
        const = [t for t in terms if t.is_Number]
        terms = [t for t in terms if not t.is_Number]
        terms = [t for t in terms if not t.could_extract_minus_sign()] + \
            [t for t in terms if t.could_extract_minus_sign()] + const
        parts: list[str] = []
        for term in terms:
            text = self._print(term)
            sign = "+"
            if text.startswith("-") and not term.is_Add:
                sign, text = "-", text[1:]
            if precedence(term) < precedence(expr) or term.is_Add:
                text = f"({text})"
            parts += [sign, text]
        first = parts.pop(0)
        return ("-" if first == "-" else "") + " ".join(parts)

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"


_PRINTER = TextPrinter()


def sstr(expr: object) -> str:
    """The text form of a SymPy expression, relation or integer."""
    if isinstance(expr, int):
        return str(expr)
    if isinstance(expr, sympy.Basic):
        return _sstr(expr)
    return str(_PRINTER.doprint(expr))


@functools.lru_cache(maxsize=8192)
def _sstr(expr: sympy.Basic) -> str:
    return str(_PRINTER.doprint(expr))


# --- derivations as plain text ---------------------------------------------------------------

WIDTH = 88
"""Paragraphs are wrapped to this many columns; formulas are never split."""

def value_text(expr: object, *, group: bool = True) -> str:
    """``18,496`` for a grouped integer, else :func:`sstr`."""
    if group and isinstance(expr, (int, sympy.Integer)):
        return f"{int(expr):,}"
    return sstr(expr)


def term_text(t: D.Term) -> str:
    """The text of one math term."""
    if isinstance(t, D.Value):
        return value_text(t.expr, group=t.group)
    if isinstance(t, D.Letter):
        return t.text
    if isinstance(t, D.Product):
        return " * ".join(f"({sstr(f)})" if isinstance(f, sympy.Add) else sstr(f)
                          for f in t.factors)
    if isinstance(t, D.Sum):
        return " + ".join(value_text(x) for x in t.terms)
    if isinstance(t, D.Tup):
        items = [term_text(i) for i in t.items]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    from convsym.printing.latex import _compound, fill

    return fill(t.formula.text, {k: (term_text(v), _compound(v)) for k, v in t.values.items()},
                "(", ")", ("(", ")"))


def math_text(m: D.Math) -> str:
    """A formula as text: terms joined by their relations."""
    terms = [term_text(t) for t in m.terms]
    out = terms[0]
    for op, t in zip(m.rels, terms[1:]):
        out += f" {D.RELATIONS[op][1]} {t}"
    return out


_NBSP = "\u00a0"


def _line(items: D.Line) -> str:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, D.Math):
            out.append(math_text(item).replace(" ", _NBSP))
        elif isinstance(item, D.Code):
            out.append(item.text.replace(" ", _NBSP))
        else:
            out.append(item.text)
    return "".join(out)


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    import textwrap

    lines = textwrap.wrap(text, WIDTH, initial_indent=first or indent,
                          subsequent_indent=indent, break_on_hyphens=False,
                          break_long_words=False)
    return "\n".join(lines).replace(_NBSP, " ")


def _block(b: D.Block) -> str:
    if isinstance(b, D.Heading):
        text = _line(b.line).replace(_NBSP, " ")
        return f"{text}\n{('-' if b.level == 1 else '~') * len(text)}"
    if isinstance(b, D.Para):
        return _wrap(_line(b.line))
    if isinstance(b, D.Display):
        return "    " + math_text(b.math)
    if isinstance(b, D.Items):
        return "\n".join(_wrap(_line(i), "    ", "  - ") for i in b.items)
    cells = [[_line(c).replace(_NBSP, " ") for c in b.header]] + \
        [[_line(c).replace(_NBSP, " ") for c in row] for row in b.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(b.header))]

    def row(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w)
                         for c, w, a in zip(r, widths, b.align)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([row(cells[0]), rule, *(row(r) for r in cells[1:])])


def render_document(document: D.Document) -> str:
    """A document model as plain text."""
    head = [document.title, "=" * len(document.title)]
    if document.subtitle:
        head.append(f"({document.subtitle})")
    return "\n".join(head) + "\n\n" + "\n\n".join(_block(b) for b in document.blocks) + "\n"


def render(derivation: Derivation) -> str:
    """A derivation as plain text."""
    from convsym.printing.compose import compose

    return render_document(compose(derivation))
