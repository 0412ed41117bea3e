r"""Shape labels for pictures: plain text with ceiling/floor brackets, and LaTeX.

>>> from convsym.expr import parse_expr
>>> text_label(parse_expr("ceiling(H/32)"))
'⌈H/32⌉'
>>> shape_text([parse_expr("H - 4"), parse_expr("64")])
'(H - 4)×64'
>>> print(shape_tex([parse_expr("ceiling(H/4)"), parse_expr("2*n")]))
$\lceil H/4\rceil {\times}2n$
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


def shape_text(shape: Sequence[sympy.Expr]) -> str:
    """``(64, ceiling(H/4), ceiling(W/4))`` as ``64×⌈H/4⌉×⌈W/4⌉``."""
    return "×".join(_wrap(text_label(s), s) for s in shape)


_TEX = {"⌈": r"\lceil ", "⌉": r"\rceil ", "⌊": r"\lfloor ", "⌋": r"\rfloor ",
        "×": r"{\times}", "*": "", "_": r"\_"}


def shape_tex(shape: Sequence[sympy.Expr]) -> str:
    r""":func:`shape_text` as inline LaTeX math (``$64\times\lceil H/4\rceil ...$``): slashes,
    not stacked fractions, so labels stay one line high."""
    text = shape_text(shape).replace("**", "^")
    return "$" + "".join(_TEX.get(ch, ch) for ch in text).strip() + "$"


def _wrap(text: str, expr: sympy.Expr) -> str:
    """Parentheses around a sum, so ``(H - 4)×(W - 4)`` reads right."""
    return f"({text})" if expr.is_Add else text
