r"""Template prose with a little markup: ``$math$`` in text notation and ```code```.

Templates write formulas in prose the way the text output shows them (``$n - k + 1$``,
``$k_e = d*(k - 1) + 1$``); :func:`prose` turns them into tracked math whose LaTeX is
converted token by token (keeping the written order, unlike SymPy's printer) and whose
meaning comes from convsym's own safe parser.

>>> line = prose("a window fits at $n - k + 1$ positions, `padding='valid'`")
>>> [type(x).__name__ for x in line]
['str', 'Math', 'str', 'Code']
>>> print(to_latex("ceiling(n/s) + d*(k - 1) + 2*3*s"))
\left\lceil n / s \right\rceil + {d} ( k - 1 ) + 2 \cdot 3 s
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

import sympy

from convsym.expr import parse_expr
from convsym.printing.doc import Code, Fill, Formula, Inline, Line, Math, Term, Tup, Value
from convsym.printing.latex import primed_latex, symbol_latex

_PIECE = re.compile(r"(\$[^$]+\$|`[^`]+`)")
_TOKEN = re.compile(r"\s*(\d+|[A-Za-z_][A-Za-z0-9_]*|>=|<=|!=|[-+*/(),=<>])")
_OPEN = {"ceiling": (r"\left\lceil", r"\right\rceil"), "floor": (r"\left\lfloor", r"\right\rfloor"),
         "max": (r"\max\left(", r"\right)"), "min": (r"\min\left(", r"\right)")}
_RELS = {">=": ">=", "<=": "<=", "!=": "!=", "=": "=", ">": ">", "<": "<"}


_PRIMED: ContextVar[frozenset[str]] = ContextVar("primed", default=frozenset())


@contextmanager
def primed(names: Iterable[str]) -> Iterator[None]:
    """Inside, template math writes these notation letters primed (``n'``), because the
    network's own symbols have the same names.

    >>> from convsym.printing.text import math_text
    >>> with primed({"n", "k"}):
    ...     print(math_text(math("n - k + 1")), "|", to_latex("n - s"))
    n' - k' + 1 | n' - s
    >>> print(to_latex("n - s"))
    n - s
    """
    token = _PRIMED.set(frozenset(names))
    try:
        yield
    finally:
        _PRIMED.reset(token)


def primed_names() -> frozenset[str]:
    """The notation letters written primed here (see :func:`primed`)."""
    return _PRIMED.get()


_WORD = re.compile(r"(?<![A-Za-z_'])([A-Za-z](?:_[A-Za-z0-9]+)?)(?![A-Za-z0-9_'])")
_MATHY = set("+-*/()=<>0123456789")


def primed_words(text: str) -> str:
    """Plain prose (a layer's rule) with the primed letters written primed where they stand
    in a formula: next to an operator, a parenthesis or a digit (``2a``, not the word "a").

    >>> with primed({"n", "k", "d", "a"}):
    ...     print(primed_words("input n + 2a must be at least a kernel d(k-1)+1"))
    input n' + 2a' must be at least a kernel d'(k'-1)+1
    """
    names = _PRIMED.get()
    if not names:
        return text

    def one(m: re.Match[str]) -> str:
        before = text[:m.start()].rstrip()[-1:]
        after = text[m.end():].lstrip()[:1]
        mathy = (before and before in _MATHY) or (after and after in _MATHY)
        return m.group(1) + "'" if m.group(1) in names and mathy else m.group(1)

    return _WORD.sub(one, text)


def _letters(tokens: list[str]) -> list[int]:
    """Indices of the tokens that are letters of the notation (not function names)."""
    return [i for i, tok in enumerate(tokens) if (tok[0].isalpha() or tok[0] == "_") and
            not (tok in _OPEN and tokens[i + 1:i + 2] == ["("])]


def _primed_text(text: str) -> str:
    names = _PRIMED.get()
    if not names:
        return text
    found = _tokens(text)
    out, last = [], 0
    for i in _letters([t for _, t in found]):
        pos, tok = found[i]
        if tok in names:
            out += [text[last:pos + len(tok)], "'"]
            last = pos + len(tok)
    return "".join(out) + text[last:]


def prose(text: str) -> Line:
    """Split template prose into strings, :class:`Math` and :class:`Code` pieces."""
    out: list[Inline] = []
    for piece in _PIECE.split(text):
        if not piece:
            continue
        if piece.startswith("$") and piece.endswith("$") and len(piece) > 1:
            out.append(math(piece[1:-1]))
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            out.append(Code(piece[1:-1]))
        else:
            out.append(piece)
    return tuple(out)


def math(text: str) -> Math:
    """Text-notation math (``P = d*(k - 1)``) as tracked math, split at relations."""
    sides: list[str] = []
    rels: list[str] = []
    depth, start = 0, 0
    tokens = list(_tokens(text))
    for pos, tok in tokens:
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        elif tok in _RELS and depth == 0:
            sides.append(text[start:pos])
            rels.append(_RELS[tok])
            start = pos + len(tok)
    sides.append(text[start:])
    return Math(tuple(_term(s.strip()) for s in sides), tuple(rels))


def _term(text: str) -> Term:
    parts = _tuple_parts(text)
    if parts is not None:
        return Tup(tuple(_term(p) for p in parts))
    return _scalar(text)


def _tuple_parts(text: str) -> list[str] | None:
    """``(a, b, c)`` -> ``["a", "b", "c"]``; None when ``text`` is not one parenthesised tuple."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    depth, parts, start = 0, [], 1
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return None
        elif ch == "," and depth == 1:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:-1].strip())
    return parts if len(parts) > 1 else None


def _scalar(text: str) -> Term:
    meaning: sympy.Basic = parse_expr(text, field="template")
    names = _PRIMED.get()
    if names:  # a primed letter means its own quantity, not the symbol of the same name
        meaning = meaning.xreplace({x: sympy.Symbol(x.name + "'") for x in meaning.free_symbols
                                    if isinstance(x, sympy.Symbol) and x.name in names})

    def constant(_values: Mapping[str, sympy.Basic]) -> sympy.Basic:
        return meaning

    return Fill(Formula(to_latex(text), _primed_text(text), constant))


def _tokens(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise ValueError(f"template math {text!r}: cannot read {text[pos:]!r}")
            break
        out.append((m.start(1), m.group(1)))
        pos = m.end()
    return out


def to_latex(text: str) -> str:
    """Text-notation math to LaTeX, token by token, in the written order."""
    tokens = [t for _, t in _tokens(text)]
    names = _PRIMED.get()
    out: list[str] = []
    closing: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _OPEN and i + 1 < len(tokens) and tokens[i + 1] == "(":
            opening, close = _OPEN[tok]
            out.append(opening)
            closing.append(close)
            i += 2
            continue
        if tok == "(":
            out.append("(")
            closing.append(")")
        elif tok == ")":
            out.append(closing.pop())
        elif tok == "*":
            numbers = i > 0 and tokens[i - 1].isdigit() and i + 1 < len(tokens) and \
                tokens[i + 1].isdigit()
            if numbers:
                out.append(r"\cdot")
        elif tok in (">=", "<=", "!="):
            out.append({">=": r"\geq", "<=": r"\leq", "!=": r"\neq"}[tok])
        elif tok in ("<", ">"):
            out.append(tok)
        elif tok[0].isalpha() or tok[0] == "_":
            tex = primed_latex(symbol_latex(tok)) if tok in names else symbol_latex(tok)
            # a letter right before a parenthesis would read back as a function call
            before_paren = tokens[i + 1:i + 3] == ["*", "("]
            out.append("{" + tex + "}" if before_paren and not tex.startswith("{") else tex)
        else:
            out.append(tok)
        i += 1
    return " ".join(out)


def relation(r: sympy.Basic) -> Math:
    """An engine relation (``n >= 5``) as tracked math with both sides as values.

    It is a condition, not an identity (``claim``): its sides need not be equal.
    """
    op = {"GreaterThan": ">=", "LessThan": "<=", "Equality": "=", "Unequality": "!=",
          "StrictGreaterThan": ">", "StrictLessThan": "<"}.get(type(r).__name__)
    if op is None:
        return Math((Value(r),))
    return Math((Value(r.lhs, group=False), Value(r.rhs, group=False)), (op,), claim=True)
