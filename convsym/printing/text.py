"""Plain-text printing of sizes: ``floor((n - 3)/2)``, never SymPy's ``floor(n/2 - 3/2)``.

>>> from convsym.expr import parse_expr
>>> sstr(parse_expr("ceiling(n/32)"))
'ceiling(n/32)'
>>> sstr(parse_expr("floor((H - 1)/2)*4"))
'4*floor((H - 1)/2)'
"""

from __future__ import annotations

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter


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

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"


_PRINTER = TextPrinter()


def sstr(expr: object) -> str:
    """The text form of a SymPy expression, relation or integer."""
    if isinstance(expr, int):
        return str(expr)
    return str(_PRINTER.doprint(expr))
