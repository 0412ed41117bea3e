"""HTML for notebooks: tables for summaries and comparisons, blocks for proofs and answers.

Jupyter shows ``_repr_html_`` first; these functions lay out what the result objects
already hold (printers never compute).  Every piece of text, a layer's name as much as an
expression, is HTML-escaped and set in ``<code>``, which also keeps notebook math
typesetters (MathJax skips ``code``) from reading a ``$`` in a name as a formula.

>>> from convsym.keras import Input, Conv2D
>>> from convsym import Sequential
>>> net = Sequential([Input((28, 28, 1)), Conv2D(32, 3, name="<b>c</b>")])
>>> page = summary(net.summary())
>>> "<code>&lt;b&gt;c&lt;/b&gt;</code>" in page, "<b>c" in page
(True, False)
>>> "<td class=\\"num\\">320</td>" in page
True
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import sympy

from convsym.printing.results import (
    COST_HEAD,
    admissible_rows,
    costs_convention,
    costs_rows,
    joint_and_smallest,
    step_parts,
    verify_lines,
)
from convsym.printing.text import count_text, shape_text, sstr

STYLE = ("<style>.convsym td.num,.convsym th.num{text-align:right}"
         ".convsym td,.convsym th{text-align:left;vertical-align:top}"
         ".convsym tr.changed td{font-weight:bold}"
         ".convsym tfoot td{border-top:1px solid currentColor}</style>")
"""Numbers right, text left, whatever the notebook's own table style is."""


def esc(text: object) -> str:
    """Text safe inside HTML elements and attribute values.

    >>> esc('<script>alert("x")</script> & co')
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co'
    """
    return html.escape(str(text), quote=True)


def code(text: object) -> str:
    """Escaped text in ``<code>`` (empty text stays empty)."""
    return f"<code>{esc(text)}</code>" if str(text) else ""


def expr(value: sympy.Basic) -> str:
    """An expression's text form in ``<code>``."""
    return code(sstr(value))


def table(head: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[bool],
          foot: Sequence[Sequence[str]] = (), marked: Sequence[bool] = (),
          caption: str = "") -> str:
    """A table from cells that are already HTML; ``numeric`` columns align right and
    ``marked`` rows get the ``changed`` class."""

    def tr(cells: Sequence[str], tag: str, mark: bool = False) -> str:
        inner = "".join(f'<{tag} class="num">{c}</{tag}>' if num else f"<{tag}>{c}</{tag}>"
                        for c, num in zip(cells, numeric))
        return f'<tr class="changed">{inner}</tr>' if mark else f"<tr>{inner}</tr>"

    marks = list(marked) + [False] * (len(rows) - len(marked))
    out = ['<table class="convsym">']
    if caption:
        out.append(f"<caption>{caption}</caption>")
    out.append("<thead>" + tr(head, "th") + "</thead>")
    out.append("<tbody>" + "".join(tr(r, "td", m) for r, m in zip(rows, marks)) + "</tbody>")
    if foot:
        out.append("<tfoot>" + "".join(tr(r, "td") for r in foot) + "</tfoot>")
    out.append("</table>")
    return "".join(out)


def _div(*parts: str) -> str:
    return '<div class="convsym">' + STYLE + "".join(p for p in parts if p) + "</div>"


def _para(text: str) -> str:
    return f"<p>{text}</p>"


def _items(items: Sequence[str], ordered: bool = False) -> str:
    if not items:
        return ""
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{tag}>"


def _lines(text: str) -> str:
    """Several lines of text (an answer's description) as code lines."""
    return "<br>".join(code(line) for line in text.splitlines())


def summary(s: Any) -> str:
    """A summary as a Keras-like table: layer, output shape, parameters, MACs; the totals
    below; side conditions and notes after it."""
    rows = [[f"{code(r.name)} ({esc(r.type)})", code(shape_text(r.output_shape, batch=False)),
             esc(count_text(r.params)), esc(count_text(r.macs))] for r in s.rows]
    foot = [["Total params", "", esc(count_text(s.total_params)),
             esc(count_text(s.total_macs))],
            ["Trainable params", "", esc(count_text(s.trainable_params)), ""],
            ["Non-trainable params", "", esc(count_text(s.non_trainable_params)), ""]]
    caption = f"Model: {code(s.name)} ({esc(s.dialect)})"
    parts = [table(["Layer (type)", "Output Shape", "Param #", "MACs"], rows,
                   numeric=[False, False, True, True], foot=foot, caption=caption)]
    if s.conditions:
        parts.append(_para("Valid when: " + ", ".join(expr(c) for c in s.conditions)))
    parts += [_para("Note: " + esc(n)) for n in s.notes]
    return _div(*parts)


def comparison(c: Any) -> str:
    """A comparison as a table; rows that differ are bold and marked ``*``."""
    head = ["", "Layer (type)", "Output A", "Output B", "Params A", "Params B", "Δ params",
            "MACs A", "MACs B", "Δ MACs"]
    numeric = [False, False, False, False, True, True, True, True, True, True]

    def cells(r: Any) -> list[str]:
        texts = c.cells(r)
        mark = "*" if c.differs(r) else ""
        return [mark] + [code(t) if i < 3 else esc(t)
                         for i, t in enumerate(texts)]

    at = ", ".join(f"{k} = {v}" for k, v in c.at.items())
    caption = f"Compare A = {code(c.name_a)} vs B = {code(c.name_b)}" + \
        (f" at {code(at)}" if at else "")
    return _div(table(head, [cells(r) for r in c.rows], numeric=numeric,
                      foot=[cells(c.totals)], marked=[c.differs(r) for r in c.rows],
                      caption=caption))


_STATUS = {"proved": "✔ proved", "refuted": "✘ refuted", "unknown": "? unknown"}


def proof(p: Any) -> str:
    """A proof: its status and method, the statement, assumptions, counterexample or reason,
    and the numbered steps."""
    head = _para(f"<strong>{esc(_STATUS.get(p.status, p.status))}</strong> by "
                 f"{esc(p.method)}: {expr(p.statement)}")
    parts = [head]
    if p.assumptions:
        parts.append(_para("assuming " + ", ".join(expr(a) for a in p.assumptions)))
    if p.counterexample is not None:
        shown = ", ".join(f"{k} = {v}" for k, v in p.counterexample.items())
        parts.append(_para("counterexample: " + (code(shown) if shown else
                                                 "the statement has no symbols")))
    if p.status == "unknown" and p.reason:
        parts.append(_para("reason: " + esc(p.reason)))
    steps = []
    for s in p.steps:
        lemma, before, after, sentence = step_parts(s)
        steps.append(f"<em>{esc(lemma)}</em>: {code(before)}" +
                     (f": {esc(sentence)}" if after is None else f" = {code(after)}"))
    parts.append(_items(steps, ordered=True))
    return _div(*parts)


def solution(s: Any) -> str:
    """An answer of ``solve``: the unknowns, the answer (or why it is unknown), the bounds
    it holds within, and the derivation."""
    title = f" in {code(s.title)}" if s.title else ""
    parts = [_para(f"<strong>Solve for {esc(', '.join(s.unknowns))}</strong>{title}"),
             _para(f"Answer ({esc(s.status)}): " +
                   (_lines(s.describe()) if s.exact else esc(s.reason)))]
    parts += [_para(esc(n)) for n in s.notes()]
    parts.append(_derivation(s))
    return _div(*parts)


def _derivation(s: Any) -> str:
    if not s.steps:
        return ""
    return ("<details><summary>Derivation</summary>" +
            _items([esc(step.text()) for step in s.steps], ordered=True) + "</details>")


def admissible(a: Any) -> str:
    """The admissible inputs: a table of each symbol's sizes and its smallest values, how
    they combine, the smallest input with its output, and the derivation."""
    parts = [_para(f"<strong>Admissible inputs</strong> of {code(a.network)} "
                   f"({esc(a.solution.status)})")]
    rows = admissible_rows(a)
    if rows is None:
        parts.append(_para(esc(a.describe())))
    else:
        parts.append(table(["Symbol", "Accepted sizes", "Smallest"],
                           [[code(c) for c in row] for row in rows],
                           numeric=[False, False, False]))
        parts += [_para(esc(prose) + (" " + _lines(text) if text else ""))
                  for prose, text in joint_and_smallest(a)]
    parts.append(_derivation(a.solution))
    return _div(*parts)


def costs(c: Any) -> str:
    """A cost table: per layer MACs, FLOPs, activations and parameters; the totals below."""
    rows = [[code(r[0]), esc(r[1]), *(esc(x) for x in r[2:])] for r in costs_rows(c)]
    return _div(table(list(COST_HEAD), rows[:-1], numeric=[False, False, True, True, True,
                                                            True],
                      foot=[rows[-1]], caption=esc(costs_convention(c))))


def depthwise(d: Any) -> str:
    """The seed misconception: the standard layer beside the imagined one, the derivation
    and the network comparison."""
    rows = [[esc(label), code(f.layer), code(shape_text(f.output, batch=False)),
             esc(sstr(f.maps)), esc(count_text(f.params)), esc(count_text(f.macs))]
            for label, f in (("standard", d.standard), ("imagined", d.imagined))]
    parts = [_para(f"What if each filter of {code(d.row)} were applied to each input map "
                   "separately?"),
             table(["", "Layer", "Output", "Maps", "Params", "MACs"], rows,
                   numeric=[False, False, False, True, True, True]),
             "<details><summary>Derivation</summary>" +
             _items([esc(step.text()) for step in d.steps], ordered=True) + "</details>"]
    if d.comparison is not None:
        parts.append(comparison(d.comparison))
    elif d.note:
        parts.append(_para(esc(d.note)))
    return _div(*parts)


def verify(result: Any) -> str:
    """A verification report: what was checked against what, and the verdict."""
    head, lines, verdict, why = verify_lines(result)
    return _div(_para(f"<strong>{esc(head)}</strong>"), _items([esc(x) for x in lines]),
                _para(f"<strong>{esc(verdict)}</strong>" + (f": {esc(why)}" if why else "")))
