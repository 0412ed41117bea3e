"""Derivations to finished text: compose the document, then lay it out in one format.

The printers (:mod:`~convsym.printing.text`, :mod:`~convsym.printing.latex`,
:mod:`~convsym.printing.markdown`) lay out a document model and print SymPy pieces; they know
nothing of derivations, so the results of layer 6 (proofs, solutions, summaries) can print
their pieces with them.  Composing a derivation into a document
(:mod:`~convsym.printing.compose`, :mod:`~convsym.printing.proofdoc`) sits above the
derivation, and so does this module.

>>> from convsym.derivation import derive
>>> from convsym.examples import example
>>> print(render_text(derive(example("seed1"))).splitlines()[0])
seed1: output sizes and parameters, step by step
"""

from __future__ import annotations

from convsym.derivation import Derivation
from convsym.printing.compose import network_blocks
from convsym.printing.doc import Document
from convsym.printing.latex import MathLog
from convsym.printing.latex import render_document as latex_document
from convsym.printing.markdown import render_document as markdown_document
from convsym.printing.proofdoc import compose_proof
from convsym.printing.text import render_document as text_document

__all__ = ["compose", "render_latex", "render_markdown", "render_text"]


def compose(derivation: Derivation) -> Document:
    """The document for a derivation."""
    if derivation.kind == "proof":
        return compose_proof(derivation)
    return Document(f"{derivation.title}: output sizes and parameters, step by step",
                    tuple(network_blocks(derivation)), "derived by convsym")


def render_latex(derivation: Derivation, *, standalone: bool = False, log: MathLog | None = None,
                 header: bool = True) -> str:
    """The derivation as LaTeX: a fragment for ``\\input``, or a standalone article.

    ``header=False`` leaves out the fragment's opening comment and its line-breaking group
    (for a notebook, which shows the LaTeX itself).
    """
    return latex_document(compose(derivation), standalone=standalone, log=log, header=header)


def render_markdown(derivation: Derivation) -> str:
    """A derivation as Markdown."""
    return markdown_document(compose(derivation))


def render_text(derivation: Derivation) -> str:
    """A derivation as plain text."""
    return text_document(compose(derivation))
