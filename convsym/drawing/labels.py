"""Shape labels for pictures: plain text with ceiling/floor brackets, and LaTeX.

>>> from convsym.expr import parse_expr
>>> text_label(parse_expr("ceiling(H/32)"))
'⌈H/32⌉'
>>> shape_text([parse_expr("H - 4"), parse_expr("64")])
'(H - 4)×64'
>>> tex_label(parse_expr("floor(W/2) - 1"))
'\\\\left\\\\lfloor{\\\\frac{W}{2}}\\\\right\\\\rfloor - 1'
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy.printing.str import StrPrinter


class _Brackets(StrPrinter):
    """SymPy's str printer with ``⌈x⌉`` and ``⌊x⌋`` for ceiling and floor."""

    def _print_ceiling(self, expr: sympy.Expr) -> str:
        return "⌈" + str(self._print(expr.args[0])) + "⌉"

    def _print_floor(self, expr: sympy.Expr) -> str:
        return "⌊" + str(self._print(expr.args[0])) + "⌋"


def text_label(expr: sympy.Expr) -> str:
    """``expr`` as short plain text."""
    return str(_Brackets().doprint(expr))


def tex_label(expr: sympy.Expr) -> str:
    """``expr`` as LaTeX math (without the dollars)."""
    return str(sympy.latex(expr))


def shape_text(shape: Sequence[sympy.Expr]) -> str:
    """``(64, ceiling(H/4), ceiling(W/4))`` as ``64×⌈H/4⌉×⌈W/4⌉``."""
    return "×".join(_wrap(text_label(s), s) for s in shape)


def shape_tex(shape: Sequence[sympy.Expr]) -> str:
    """The LaTeX form of :func:`shape_text`, in ``$...$``."""
    return "$" + r" \times ".join(
        (r"\left(" + tex_label(s) + r"\right)") if s.is_Add else tex_label(s)
        for s in shape) + "$"


def _wrap(text: str, expr: sympy.Expr) -> str:
    """Parentheses around a sum, so ``(H - 4)×(W - 4)`` reads right."""
    return f"({text})" if expr.is_Add else text
