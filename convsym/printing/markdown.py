r"""Markdown with ``$...$`` math (GitHub, Jupyter, MkDocs with MathJax or KaTeX).

Formulas are the LaTeX printer's; headings, lists and tables are Markdown's.

>>> from convsym.derivation import derive
>>> from convsym.examples import example
>>> print(derive(example("seed1")).to_markdown().splitlines()[0])
# seed1: output sizes and parameters, step by step
"""

from __future__ import annotations

import re

from convsym.printing import doc as D
from convsym.printing.latex import math_latex

_ESCAPE = set("\\`*_[]<>|$#")


def escape(text: str) -> str:
    """Prose safe from Markdown's emphasis, links, HTML, tables and math.

    An underscore inside a word (``seed1_symbolic``) never starts emphasis, so it stays.

    >>> print(escape("seed1_symbolic *is* _here_ | $5"))
    seed1_symbolic \\*is\\* \\_here\\_ \\| \\$5
    """
    out = []
    for i, ch in enumerate(text):
        inside_word = ch == "_" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and \
            text[i + 1].isalnum()
        out.append("\\" + ch if ch in _ESCAPE and not inside_word else ch)
    return "".join(out)


def _code(text: str) -> str:
    """A code span that ``text`` cannot end early: its fence is longer than any backtick run.

    A span closes at the first backtick run as long as its fence, so a layer named
    ``a``<script>`` inside a two-backtick fence would let the rest out as raw HTML.

    >>> print(_code("a``<b>"))
    ``` a``<b> ```
    >>> print(_code("conv2d"))
    `conv2d`
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # a space pads text touching the fence with a backtick, or starting and ending with
    # a space (CommonMark strips one space from each side of such text)
    pad = " " if longest or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _line(items: D.Line) -> str:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(escape(item))
        elif isinstance(item, D.Math):
            out.append(f"${math_latex(item, display=False)[0]}$")
        elif isinstance(item, D.Code):
            out.append(_code(item.text))
        elif isinstance(item, D.Em):
            out.append(f"*{escape(item.text)}*")
        else:
            out.append(f"**{escape(item.text)}**")
    return "".join(out)


def _block(b: D.Block) -> str:
    if isinstance(b, D.Heading):
        return "#" * (b.level + 1) + " " + _line(b.line)
    if isinstance(b, D.Para):
        return _line(b.line)
    if isinstance(b, D.Display):
        return f"$$\n{math_latex(b.math)[0]}\n$$"
    if isinstance(b, D.Items):
        return "\n".join(f"- {_line(i)}" for i in b.items)
    head = "| " + " | ".join(_line(c) for c in b.header) + " |"
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in b.align) + "|"
    rows = ["| " + " | ".join(_line(c).replace("|", "\\|") for c in row) + " |"
            for row in b.rows]
    return "\n".join([head, rule, *rows])


def render_document(document: D.Document) -> str:
    """A document model as Markdown."""
    head = f"# {escape(document.title)}\n\n"
    if document.subtitle:
        head += f"*{escape(document.subtitle)}*\n\n"
    return head + "\n\n".join(_block(b) for b in document.blocks) + "\n"


