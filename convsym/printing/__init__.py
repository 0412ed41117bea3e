"""Printers: SymPy prints the pieces, templates write the prose (no computing here).

>>> from convsym.expr import parse_expr
>>> sstr(parse_expr("floor((n - 3)/2) + 1"))
'floor((n - 3)/2) + 1'
"""

from convsym.printing.text import sstr

__all__ = ["sstr"]
