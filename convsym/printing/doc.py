"""The document model between templates and printers: blocks of prose and tracked math.

Templates (:mod:`convsym.printing.compose`) turn a derivation into these blocks; the LaTeX,
Markdown and text printers only lay them out.  Every math term carries the SymPy value it
means, so a test can parse the printed LaTeX back and compare it with the engine's result.

>>> import sympy
>>> m = Math((Product((3, 3, 32, 64)), Value(sympy.Integer(18432))), ("=",))
>>> m.meanings()
[18432, 18432]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy

# --- math terms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A SymPy value printed by the SymPy printers; ``group`` puts commas in big integers."""

    expr: sympy.Basic
    group: bool = True

    def meaning(self) -> sympy.Basic:
        """The value itself."""
        return self.expr


@dataclass(frozen=True)
class Product:
    """Unevaluated arithmetic ``a · b · c`` (the factors of a parameter count)."""

    factors: tuple[sympy.Basic | int, ...]

    def meaning(self) -> sympy.Basic:
        """The product."""
        return sympy.Mul(*(sympy.sympify(f, strict=True) for f in self.factors))


@dataclass(frozen=True)
class Sum:
    """Unevaluated arithmetic ``a + b + c`` (a layer's or a network's parameter total)."""

    terms: tuple[sympy.Basic | int, ...]

    def meaning(self) -> sympy.Basic:
        """The sum."""
        return sympy.Add(*(sympy.sympify(t, strict=True) for t in self.terms))


@dataclass(frozen=True)
class Tup:
    """A shape ``(24, 24, 64)``; a one-tuple prints as ``(64)``."""

    items: tuple[Term, ...]

    def meaning(self) -> tuple[sympy.Basic, ...]:
        """The items' meanings."""
        return tuple(_meaning(i) for i in self.items)


@dataclass(frozen=True)
class Formula:
    """A hand-written formula with slots ``<name>``, in LaTeX and in text, and its meaning.

    ``meaning`` maps slot values to the SymPy value the formula stands for.
    """

    latex: str
    text: str
    meaning: Callable[[Mapping[str, sympy.Basic]], sympy.Basic]
    slots: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fill:
    """A :class:`Formula` with its slots filled: by values, or by letters (``Letter``)."""

    formula: Formula
    values: Mapping[str, Term] = field(default_factory=dict)

    def meaning(self) -> sympy.Basic:
        """The formula's meaning at the slot values."""
        return self.formula.meaning({k: _meaning(v) for k, v in self.values.items()})


@dataclass(frozen=True)
class Letter:
    """A named quantity of the notation (``o``, ``k_e``, ``C_in``) with its own typesetting."""

    latex: str
    text: str
    name: str

    def meaning(self) -> sympy.Basic:
        """A symbol of the same name."""
        return sympy.Symbol(self.name)


Term = Value | Product | Sum | Tup | Fill | Letter


def _meaning(term: Term) -> sympy.Basic | tuple[sympy.Basic, ...]:
    return term.meaning()


RELATIONS = {"=": ("=", "="), ">=": (r"\geq", ">="), "<=": (r"\leq", "<="),
             "!=": (r"\neq", "!="), ">": (">", ">"), "<": ("<", "<")}
"""Relation symbols: LaTeX and text forms."""


@dataclass(frozen=True)
class Math:
    """Terms joined by relations (``a = b = c``, ``n \\geq 5``), inline or displayed."""

    terms: tuple[Term, ...]
    rels: tuple[str, ...] = ()
    display: bool = False
    claim: bool = False
    """A statement to prove, not an identity: its sides need not be equal."""

    def meanings(self) -> list[sympy.Basic | tuple[sympy.Basic, ...]]:
        """The meaning of each term, in order."""
        return [_meaning(t) for t in self.terms]


def eq(*terms: Term, display: bool = False) -> Math:
    """``a = b = ...``."""
    return Math(tuple(terms), ("=",) * (len(terms) - 1), display)


def rel(lhs: Term, op: str, rhs: Term) -> Math:
    """One relation ``lhs op rhs``."""
    return Math((lhs, rhs), (op,))


# --- inline prose ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """Code or a name from the framework (``kernel[:, :, :, j]``), typewriter font."""

    text: str


@dataclass(frozen=True)
class Em:
    """Emphasised words."""

    text: str


@dataclass(frozen=True)
class Strong:
    """Bold words (a relationship's label)."""

    text: str


Inline = str | Math | Code | Em | Strong
Line = tuple[Inline, ...]

# --- blocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1 = section, 2 = subsection)."""

    level: int
    line: Line


@dataclass(frozen=True)
class Para:
    """A paragraph."""

    line: Line


@dataclass(frozen=True)
class Display:
    """A displayed equation, optionally with a label on its left (``Relationship 1``)."""

    math: Math


@dataclass(frozen=True)
class Items:
    """A bulleted list of lines."""

    items: tuple[Line, ...]


@dataclass(frozen=True)
class Table:
    """A table: a header row and body rows of lines; ``align`` is ``l``/``r`` per column."""

    header: tuple[Line, ...]
    rows: tuple[tuple[Line, ...], ...]
    align: str


Block = Heading | Para | Display | Items | Table


@dataclass(frozen=True)
class Document:
    """A title, an optional subtitle and the blocks."""

    title: str
    blocks: tuple[Block, ...]
    subtitle: str = ""


def maths(doc: Document) -> list[Math]:
    """Every :class:`Math` in the document, in reading order.

    >>> d = Document("t", (Para(("x = ", eq(Value(sympy.Integer(1)))),),))
    >>> len(maths(d))
    1
    """
    out: list[Math] = []

    def line(items: Line) -> None:
        out.extend(i for i in items if isinstance(i, Math))

    for block in doc.blocks:
        if isinstance(block, (Heading, Para)):
            line(block.line)
        elif isinstance(block, Display):
            out.append(block.math)
        elif isinstance(block, Items):
            for item in block.items:
                line(item)
        else:
            for cell in block.header:
                line(cell)
            for row in block.rows:
                for cell in row:
                    line(cell)
    return out


_SLOT = re.compile(r"<([A-Za-z_]+)>")


def fill(pattern: str,
         slots: Mapping[str, tuple[str, bool]] | Callable[[str, int], tuple[str, bool]],
         left: str, right: str, group: tuple[str, str] = ("{", "}")) -> str:
    """Fill ``<name>`` slots; a compound value gets parentheses unless the slot is bare.

    A slot is bare when it fills a whole group (``\\frac{<n>}{<s>}``) or the whole pattern.
    ``slots`` maps a name to (text, compound), or is called with the name and position.

    >>> fill(r"\\frac{<a>}{2} - <a>", {"a": ("n - 1", True)}, "(", ")")
    '\\\\frac{n - 1}{2} - (n - 1)'
    """
    def one(m: re.Match[str]) -> str:
        if callable(slots):
            text, compound = slots(m.group(1), m.start())
        else:
            text, compound = slots[m.group(1)]
        before = pattern[:m.start()].rstrip()
        after = pattern[m.end():].lstrip()
        bare = (before.endswith(group[0]) and after.startswith(group[1])) or \
            (not before and not after)
        return f"{left}{text}{right}" if compound and not bare else text

    return _SLOT.sub(one, pattern)


def _compound(t: Term) -> bool:
    """True for a value that needs parentheses inside a larger formula."""
    return isinstance(t, Value) and (isinstance(t.expr, sympy.Add) or
                                       bool(t.expr.is_number and t.expr.is_negative))
