r"""Markdown, LaTeX and short reprs of result objects: proofs, solutions, admissible sets.

Jupyter shows HTML (:mod:`convsym.printing.html`) first; the Markdown and LaTeX forms serve
exports (nbconvert to PDF prefers LaTeX) and frontends that prefer them.  Expressions go
through the project's printers; every user string is escaped.  A short ``repr`` names the
object and its answer in one line; IPython's ``_repr_pretty_`` shows the full text form.
The result classes (proof/, whatif/, summary, costing, verification) sit above the printers,
so they are taken as ``Any`` and read by their attributes: nothing here imports upward.

>>> from convsym.api import prove
>>> p = prove("ceiling(n/2) == floor((n + 1)/2)")
>>> proof_repr(p)
'<Proof proved by rewriting: ceiling(n/2) == floor((n + 1)/2)>'
>>> print(proof_markdown(p).splitlines()[0])
**proved** by rewriting: $\left\lceil \frac{n}{2} \right\rceil = \left\lfloor \frac{n + 1}{2} \right\rfloor$
"""  # noqa: E501

from __future__ import annotations

from typing import Any

import sympy

from convsym.printing import latex as L
from convsym.printing import markdown as M
from convsym.printing.text import count_text, sstr

REPR_WIDTH = 100
"""A short repr's answer is cut to this many characters."""


def clip(text: str, width: int = REPR_WIDTH) -> str:
    """The first line of ``text``, cut to ``width`` characters with ``…`` when longer.

    >>> clip("a\\nb"), clip("x" * 8, 5)
    ('a …', 'xxxx…')
    """
    lines = text.splitlines() or [""]
    first = lines[0] + (" …" if len(lines) > 1 else "")
    return first if len(first) <= width else first[:width - 1] + "…"


def pretty(obj: object, p: Any, cycle: bool) -> None:
    """IPython's ``_repr_pretty_``: the full text form (the short repr inside a cycle)."""
    p.text(repr(obj) if cycle else str(obj))


# --- short reprs ---------------------------------------------------------------------------

def _many(n: int, word: str) -> str:
    """``1 layer``, ``2 layers``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def proof_repr(p: Any) -> str:
    """``<Proof proved by rewriting: ...>``."""
    return f"<Proof {p.status} by {p.method}: {clip(sstr(p.statement))}>"


def solution_repr(s: Any) -> str:
    """``<Solution for n (exact): n in {12}>``."""
    answer = s.describe() if s.exact else s.reason
    return f"<Solution for {', '.join(s.unknowns)} ({s.status}): {clip(answer)}>"


def admissible_repr(a: Any) -> str:
    """``<Admissible inputs of 'net' (exact): n: n >= 5>``."""
    answer = "; ".join(a.describe().splitlines()[:len(a.symbols) or 1])
    return f"<Admissible inputs of {a.network!r} ({a.solution.status}): {clip(answer)}>"


def summary_repr(s: Any) -> str:
    """``<Summary 'net' (keras): 2 layers, 18,816 params>``."""
    return f"<Summary {s.name!r} ({s.dialect}): {_many(len(s.rows), 'layer')}, " \
           f"{clip(count_text(s.total_params))} params>"


def comparison_repr(c: Any) -> str:
    """``<Comparison 'a' vs 'b': 3 rows, 2 differ>``."""
    differ = sum(c.differs(r) for r in c.rows)
    return f"<Comparison {c.name_a!r} vs {c.name_b!r}: {_many(len(c.rows), 'row')}, " \
           f"{differ} differ>"


def derivation_repr(d: Any) -> str:
    """``<Derivation network 'net': 2 steps>``."""
    return f"<Derivation {d.kind} {clip(d.title, 60)!r}: {_many(len(d.steps), 'step')}>"


def costs_repr(c: Any) -> str:
    """``<Costs: 2 layers, 10,811,520 MACs>``."""
    return f"<Costs: {_many(len(c.rows), 'layer')}, {clip(count_text(c.total_macs), 60)} MACs>"


def depthwise_repr(d: Any) -> str:
    """``<DepthwiseWhatIf 'conv2d_1': 64 maps vs 2048 if applied separately>``."""
    return f"<DepthwiseWhatIf {d.row!r}: {sstr(d.standard.maps)} maps vs " \
           f"{sstr(d.imagined.maps)} if applied separately>"


def verify_repr(v: Any) -> str:
    """``<VerifyResult 'net': OK, 20 sizes checked>``."""
    state = "MISMATCH" if not v.ok else "OK" if v.instances else "nothing checked"
    return f"<VerifyResult {v.network!r}: {state}, {_many(v.instances, 'size')} checked>"


# --- proofs --------------------------------------------------------------------------------

def step_parts(s: Any) -> tuple[str, str, str | None, str]:
    """``(lemma, before, after, sentence)`` as text; ``after`` is None for a step that
    decides a relation (its sentence says how)."""
    if isinstance(s.after, sympy.logic.boolalg.BooleanAtom):
        return s.lemma, sstr(s.before), None, s.sentence
    return s.lemma, sstr(s.before), sstr(s.after), s.sentence


def _decided(s: Any) -> bool:
    return step_parts(s)[2] is None


def _proof_parts(p: Any, escape: Any, bold: str, emph: str) -> tuple[list[str], list[str]]:
    """The paragraphs and the step lines of a proof; ``bold``/``emph`` wrap ``{}``."""
    def m(e: sympy.Basic) -> str:
        return f"${L.latex(e)}$"

    out = [bold.format(p.status) + f" by {escape(p.method)}: {m(p.statement)}"]
    if p.assumptions:
        out.append("assuming " + ", ".join(m(a) for a in p.assumptions))
    if p.counterexample is not None:
        out.append("counterexample: " + (", ".join(f"${L.symbol_latex(k)} = {v}$"
                                                   for k, v in p.counterexample.items())
                                         or "the statement has no symbols"))
    if p.status == "unknown" and p.reason:
        out.append("reason: " + escape(p.reason))
    steps = [emph.format(escape(s.lemma)) + f": {m(s.before)}" +
             (f": {escape(s.sentence)}" if _decided(s) else f" $=$ {m(s.after)}")
             for s in p.steps]
    return out, steps


def proof_markdown(p: Any) -> str:
    """A proof in Markdown with ``$...$`` math."""
    out, steps = _proof_parts(p, M.escape, "**{}**", "*{}*")
    if steps:
        out.append("\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)))
    return "\n\n".join(out) + "\n"


def proof_latex(p: Any) -> str:
    """A proof as a LaTeX fragment (no packages needed)."""
    out, steps = _proof_parts(p, L.escape, r"\textbf{{{}}}", r"\emph{{{}}}")
    body = "\\par\n".join(out) + "\n"
    if steps:
        body += "\\begin{enumerate}\n" + "\n".join(rf"\item {s}" for s in steps) + \
            "\n\\end{enumerate}\n"
    return body


# --- solutions and admissible sets ----------------------------------------------------------

def _md_lines(text: str) -> str:
    return "  \n".join(M._code(line) for line in text.splitlines())


def _tex_lines(text: str) -> str:
    return "\\\\\n".join(L.code(line) for line in text.splitlines())


def solution_markdown(s: Any) -> str:
    """An answer of ``solve`` in Markdown: the answer, its notes, the derivation."""
    title = f" in {M._code(s.title)}" if s.title else ""
    out = [f"**Solve for {M.escape(', '.join(s.unknowns))}**{title}",
           f"Answer ({s.status}): " + (_md_lines(s.describe()) if s.exact
                                       else M.escape(s.reason))]
    out += [M.escape(n) for n in s.notes()]
    if s.steps:
        out += ["*Derivation:*", s.derivation("markdown")]
    return "\n\n".join(out) + "\n"


def solution_latex(s: Any) -> str:
    """An answer of ``solve`` as a LaTeX fragment."""
    title = f" in {L.code(s.title)}" if s.title else ""
    out = [rf"\textbf{{Solve for {L.escape(', '.join(s.unknowns))}}}{title}",
           f"Answer ({s.status}): " + (_tex_lines(s.describe()) if s.exact
                                       else L.escape(s.reason))]
    out += [L.escape(n) for n in s.notes()]
    body = "\\par\n".join(out) + "\n"
    if s.steps:
        body += "Derivation:\n" + s.derivation("latex") + "\n"
    return body


def admissible_rows(a: Any) -> list[tuple[str, str, str]] | None:
    if not a.exact or not a.symbols or not a.solution.cells:
        return None
    return [(n, a.values(n).describe(n), ", ".join(str(v) for v in a.smallest(n)))
            for n in a.symbols]


def joint_and_smallest(a: Any) -> list[tuple[str, str]]:
    """``(prose, code)`` pairs: how the symbols combine, and the smallest input."""
    out = []
    if len(a.symbols) > 1:
        out.append(("jointly: every combination of the above", "") if a.independent else
                   ("jointly, only these combinations:", a.solution.describe()))
    smallest = a.smallest_example()
    if smallest is not None:
        pairs = ", ".join(f"{k} = {v}" for k, v in smallest[0].items())
        out.append(("smallest input:", f"{pairs} -> output {smallest[1]}"))
    return out


def admissible_markdown(a: Any) -> str:
    """The admissible inputs in Markdown: a table per symbol, the joint rule, the smallest
    input and the derivation."""
    out = [f"**Admissible inputs** of {M._code(a.network)} ({a.solution.status})"]
    rows = admissible_rows(a)
    if rows is None:
        out.append(M.escape(a.describe()))
    else:
        out.append("| Symbol | Accepted sizes | Smallest |\n|---|---|---|\n" + "\n".join(
            "| " + " | ".join(M._code(c).replace("|", "\\|") for c in row) + " |"
            for row in rows))
        out += [M.escape(prose) + (" " + _md_lines(text) if text else "")
                for prose, text in joint_and_smallest(a)]
    if a.solution.steps:
        out += ["*Derivation:*", a.solution.derivation("markdown")]
    return "\n\n".join(out) + "\n"


def admissible_latex(a: Any) -> str:
    """The admissible inputs as a LaTeX fragment (a ``tabular``, no packages needed)."""
    out = [rf"\textbf{{Admissible inputs}} of {L.code(a.network)} ({a.solution.status})"]
    rows = admissible_rows(a)
    if rows is None:
        out.append(L.escape(a.describe()))
    else:
        out.append("\\begin{tabular}{lll}\nSymbol & Accepted sizes & Smallest\\\\\n\\hline\n" +
                   "\n".join(" & ".join(L.code(c) for c in row) + "\\\\" for row in rows) +
                   "\n\\end{tabular}")
        out += [L.escape(prose) + (" " + _tex_lines(text) if text else "")
                for prose, text in joint_and_smallest(a)]
    body = "\\par\n".join(out) + "\n"
    if a.solution.steps:
        body += "Derivation:\n" + a.solution.derivation("latex") + "\n"
    return body


# --- costs and verification ---------------------------------------------------------------

def text_table(head: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int], *,
               foot: int = 0) -> str:
    """Columns padded to their widest cell; ``right`` columns (by index) align right; a rule
    under the head and above the last ``foot`` rows."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "   ".join(c.rjust(w) if i in right else c.ljust(w)
                          for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "=" * len(line(tuple("=" * w for w in widths)))
    body = [line(r) for r in rows]
    if foot:
        body.insert(len(body) - foot, rule)
    return "\n".join([line(head), rule, *body])


COST_HEAD = ("Layer (type)", "Kind", "MACs", "FLOPs", "Activations", "Params")


def costs_rows(c: Any) -> list[tuple[str, ...]]:
    """The cells of a :class:`~convsym.costing.Costs` table, the totals last."""
    rows: list[tuple[str, ...]] = [
        (f"{r.name} ({r.type})", r.kind, count_text(r.macs), count_text(r.flops),
         count_text(r.activations), count_text(r.params)) for r in c.rows]
    rows.append(("Total", "", count_text(c.total_macs), count_text(c.total_flops),
                 count_text(c.total_activations), ""))
    return rows


def costs_convention(c: Any) -> str:
    """The convention line: what the MACs count."""
    return (f"MACs of {', '.join(c.include) or 'no'} layers, "
            f"{'with' if c.bias else 'without'} bias; 2 FLOPs per MAC; activations are "
            "output elements per sample")


def costs_text(c: Any) -> str:
    """A cost table as text (the totals below the rule)."""
    return costs_convention(c) + "\n" + text_table(COST_HEAD, costs_rows(c), {2, 3, 4, 5},
                                                   foot=1)


def verify_lines(result: Any) -> tuple[str, list[str], str, str]:
    """``(head, detail lines, verdict, the disagreement or "")`` of a
    :class:`~convsym.verification.VerifyResult`."""
    symbols = ", ".join(result.symbols) or "none (concrete sizes)"
    dialect = f" ({result.dialect})" if result.dialect else ""
    head = f"verify {result.network!r}{dialect}, symbols: {symbols}"
    checked = f"checked {result.instances} admissible size{'s' if result.instances != 1 else ''}"
    if result.refusals:
        checked += f" and {result.refusals} that break a side condition"
    lines = [checked]
    if result.too_large:
        lines.append(f"skipped {result.too_large} sampled size(s) over the verify_elements "
                     "or verify_macs budget (raise them with CONVSYM_VERIFY_ELEMENTS=N, "
                     "CONVSYM_VERIFY_MACS=N)")
    for backend, count in result.compared.items():
        lines.append(f"{backend:<12} {count} layer shapes agree")
    for backend, why in result.unavailable.items():
        lines.append(f"{backend:<12} not checked: {why}")
    if result.mismatch is not None:
        found = ", ".join(f"{k} = {v}" for k, v in sorted((result.found_at or {}).items()))
        verdict = "MISMATCH" + (f" (first found at {found}, shrunk)" if found else "")
    elif not result.instances:
        verdict = "no admissible sizes found in range: nothing was checked (try --max-size)"
    else:
        verdict = "OK: every layer agrees"
    return head, lines, verdict, "" if result.mismatch is None else str(result.mismatch)


def verify_text(result: Any) -> str:
    """The report ``convsym verify`` prints."""
    head, lines, verdict, why = verify_lines(result)
    checked, *rest = lines
    tail = [verdict + ":", f"  {why}"] if why else [verdict]
    return "\n".join([head, checked, *(f"  {line}" for line in rest), *tail])
