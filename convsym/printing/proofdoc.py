"""Lay a proof out as a document: statement, assumptions, numbered steps, outcome.

The steps are the lemma-by-lemma rewriting the prover recorded; each shows the lemma's name,
its sentence and the expression before and after.  A refuted statement shows its
counterexample; an undecided one says why.

>>> from types import SimpleNamespace as NS
>>> from convsym.derivation import derive
>>> from convsym.expr import parse_expr, symbol
>>> import sympy
>>> n = symbol("n")
>>> proof = NS(statement=sympy.Eq(sympy.floor((n + 1) / 2), sympy.ceiling(n / 2)),
...            assumptions=(), status="proved", method="period check", counterexample=None,
...            reason="", steps=[NS(lemma="ceiling as floor",
...                                 sentence="ceiling(X/D) = floor((X + D - 1)/D)",
...                                 before=sympy.ceiling(n / 2),
...                                 after=sympy.floor((n + 1) / 2))])
>>> doc = compose_proof(derive(proof))
>>> [type(b).__name__ for b in doc.blocks][:3]
['Heading', 'Display', 'Para']
"""

from __future__ import annotations

import dataclasses

import sympy

from convsym.derivation import Derivation
from convsym.errors import ConvsymError
from convsym.printing.compose import summary_blocks
from convsym.printing.doc import (
    Block,
    Display,
    Document,
    Em,
    Heading,
    Inline,
    Items,
    Letter,
    Math,
    Para,
    Strong,
    Value,
    eq,
)
from convsym.printing.latex import symbol_latex
from convsym.printing.prose import math, prose, relation
from convsym.printing.text import sstr
from convsym.proof.library import LEMMAS

OUTCOME = {
    "proved": "Proved",
    "refuted": "Refuted",
    "unknown": "Not decided",
}
"""How each status is announced."""


def compose_proof(d: Derivation) -> Document:
    """The document for a proof derivation (and the network it is about, if given)."""
    assert d.proof is not None
    p = d.proof
    blocks: list[Block] = [Heading(1, ("Statement",))]
    if d.intro:
        blocks.append(Para(prose(d.intro)))
    if isinstance(p.statement, sympy.Basic):
        blocks.append(Display(dataclasses.replace(_formula(p.statement), claim=True)))
    else:
        blocks.append(Para((p.statement,)))
    line: list[Inline] = ["Every symbol stands for a positive integer"]
    if p.assumptions:
        line.append(", and we assume:")
        blocks.append(Para(tuple(line)))
        blocks.append(Items(tuple((_formula(a),) for a in p.assumptions)))
    else:
        blocks.append(Para((*line, ".")))
    if d.context is not None:
        blocks.append(Heading(1, ("The network",)))
        blocks.append(Para((f"The layers of {d.context.title} that change the spatial size, "
                            "with the output shapes convsym derives (every other layer keeps "
                            "the size of its input):",)))
        blocks += [b for b in summary_blocks(d.context, changed_only=True)
                   if not isinstance(b, Heading)]
    if p.steps:
        blocks.append(Heading(1, ("Steps",)))
        for i, step in enumerate(p.steps, 1):
            head: list[Inline] = [Strong(f"Step {i}.")]
            statements = _lemma_statements(step.lemma)
            if step.lemma:
                head += [" ", Em(step.lemma[:1].upper() + step.lemma[1:])]
            if statements:
                head.append(".")
            elif step.sentence:
                sentence = step.sentence.rstrip(".")
                head += [". " if step.lemma else " ", sentence[:1].upper() + sentence[1:], "."]
            else:
                head.append(".")
            if step.cases:
                head += [" Cases checked: ", "; ".join(sstr(c) for c in step.cases), "."]
            blocks.append(Para(tuple(head)))
            if isinstance(step.after, sympy.logic.boolalg.BooleanAtom):
                verdict = "holds" if step.after == sympy.true else "fails"
                blocks.append(Display(dataclasses.replace(_formula(step.before), claim=True)))
                blocks.append(Para((f"The relation {verdict}.",)))
            else:
                blocks.append(Display(eq(Value(step.before, group=False),
                                         Value(step.after, group=False))))
            if statements:
                using: list[Inline] = ["using "]
                for j, m in enumerate(statements):
                    using += [" and " if j else "", m]
                blocks.append(Para((*using, ".")))
    blocks.append(Heading(1, ("Outcome",)))
    blocks += _outcome(p.status, p.method, p.counterexample, p.reason)
    title = d.title
    return Document(title, tuple(blocks), "derived by convsym")


def _lemma_statements(name: str) -> list[Math]:
    """The statements of the named lemmas (``a and b`` names two), as tracked math.

    A name the lemma library does not know, or a statement the template math cannot read,
    gives no formula; the step's sentence is shown instead.
    """
    known = {lemma.name: lemma for lemma in LEMMAS}
    parts = [known.get(part.strip()) for part in name.split(" and ")] if name else []
    if not parts or any(p is None for p in parts):
        return []
    out = []
    for lemma in parts:
        assert lemma is not None
        try:
            out.append(dataclasses.replace(math(lemma.statement.replace("==", "=")),
                                           claim=True))
        except (ConvsymError, ValueError):
            return []
    return out


def _formula(e: sympy.Basic) -> Math:
    if isinstance(e, sympy.core.relational.Relational):
        return relation(e)
    return Math((Value(e, group=False),))


def _outcome(status: str, method: str, counter: tuple[tuple[str, int], ...], reason: str
             ) -> list[Block]:
    word = OUTCOME.get(status, status.capitalize())
    line: list[Inline] = [Strong(word)]
    if status == "proved":
        line += [f" by {method}." if method else "."]
        return [Para(tuple(line))]
    if status == "refuted":
        line.append(". Counterexample: ")
        pairs = [eq(Letter(_tex(k), k, k), Value(sympy.Integer(v), group=False))
                 for k, v in counter]
        for i, m in enumerate(pairs):
            line += [", " if i else "", m]
        line.append("." if pairs else "none recorded.")
        if method:
            line.append(f" Found by {method}.")
        return [Para(tuple(line))]
    line.append(f": {reason.rstrip('.')}." if reason else ".")
    return [Para(tuple(line))]


def _tex(name: str) -> str:
    return symbol_latex(name)
