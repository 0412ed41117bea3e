r"""Derivation steps of a what-if answer, as data: a sentence template and its math pieces.

Each :class:`Step` is one sentence with ``{0}``, ``{1}``, ... where SymPy pieces go, so every
printer lays out the same words and prints only the pieces (text with
:func:`convsym.printing.text.sstr`, LaTeX with :func:`sympy.latex`).  A text piece (``str``)
is shown as it is (escaped for LaTeX and Markdown: ``>`` is ``$>$`` in LaTeX's roman font).

>>> from convsym.expr import parse_relation
>>> s = Step("period", "On {0} the condition {1} holds for {2}.",
...          (parse_relation("n = 16*t + 12"), parse_relation("n - 2*t >= 10"), "t >= 0"))
>>> s.text()
'On n = 16*t + 12 the condition n - 2*t >= 10 holds for t >= 0.'
>>> print(s.latex())
On $n = 16 t + 12$ the condition $n - 2 t \geq 10$ holds for t $>$= 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import sympy

from convsym.printing.latex import escape as latex_escape
from convsym.printing.latex import latex
from convsym.printing.markdown import escape as markdown_escape
from convsym.printing.text import sstr

Piece: TypeAlias = sympy.Basic | int | str


@dataclass(frozen=True)
class Step:
    """One sentence of a derivation: ``kind`` (system, bounds, period, threshold, divisors,
    enumerate, case, result, note), a template with numbered slots, and the pieces."""

    kind: str
    template: str
    math: tuple[Piece, ...] = ()

    def text(self) -> str:
        """Plain text."""
        return self.template.format(*(_text(p) for p in self.math))

    def latex(self) -> str:
        """LaTeX with ``$...$`` math."""
        return self.template.format(
            *(_latex_text(p) if isinstance(p, str) else f"${_latex(p)}$" for p in self.math))

    def markdown(self) -> str:
        """Markdown with ``$...$`` math (same as LaTeX inline math)."""
        return self.template.format(
            *(markdown_escape(p) if isinstance(p, str) else f"${_latex(p)}$" for p in self.math))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: kind and text."""
        return {"kind": self.kind, "text": self.text()}

    def __reduce__(self) -> tuple[Any, ...]:
        # SymPy re-evaluates relations when unpickled (Eq(p, 0) becomes False for a positive
        # p), and answers travel back from worker processes pickled: keep them unevaluated.
        return (_step, (self.kind, self.template, tuple(freeze(p) for p in self.math)))


def freeze(piece: object) -> object:
    """A piece safe to pickle: relations as ``("rel", op, lhs, rhs)``."""
    if isinstance(piece, sympy.core.relational.Relational):
        return ("rel", piece.rel_op, piece.lhs, piece.rhs)
    return piece


def thaw(piece: Any) -> Any:
    """The inverse of :func:`freeze`: the relation rebuilt unevaluated."""
    if isinstance(piece, tuple) and len(piece) == 4 and piece[0] == "rel":
        return sympy.Rel(piece[2], piece[3], piece[1], evaluate=False)
    return piece


def _step(kind: str, template: str, math: tuple[object, ...]) -> Step:
    return Step(kind, template, tuple(thaw(p) for p in math))


def _text(piece: Piece) -> str:
    if isinstance(piece, str):
        return piece
    if isinstance(piece, sympy.Eq):
        return f"{sstr(piece.lhs)} = {sstr(piece.rhs)}"
    return sstr(piece)


def _latex(piece: sympy.Basic | int) -> str:
    """The project's LaTeX printer (textbook floor quotients)."""
    if isinstance(piece, int):
        return str(piece)
    return str(latex(piece))


def _latex_text(text: str) -> str:
    """Text safe in LaTeX (a layer's name can hold any character)."""
    return latex_escape(text)


def render(steps: Sequence[Step], fmt: str = "text") -> str:
    """Numbered steps, one per line, in ``text``, ``markdown`` or ``latex``."""
    lines = []
    for i, step in enumerate(steps, 1):
        if fmt == "latex":
            lines.append(f"\\item {step.latex()}")
        elif fmt == "markdown":
            lines.append(f"{i}. {step.markdown()}")
        else:
            lines.append(f"{i}. {step.text()}")
    if fmt == "latex":
        return "\\begin{enumerate}\n" + "\n".join(lines) + "\n\\end{enumerate}"
    return "\n".join(lines)
