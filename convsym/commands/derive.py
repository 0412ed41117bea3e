"""``convsym derive SOURCE [--set NAME=VALUE]... [--format F] [--standalone] [--pdf] [-o FILE]``.

Prints (or writes) the step-by-step derivation of a network's output sizes and parameter
counts: LaTeX (a fragment for ``\\input``, or with ``--standalone`` a whole document),
Markdown with ``$...$`` math, or plain text.  ``--pdf`` compiles the standalone document
with pdflatex (as many runs as it asks for) and writes the PDF.

>>> from convsym.cli import main
>>> main(["derive", "example:seed1", "--format", "text"])  # doctest: +ELLIPSIS
seed1: output sizes and parameters, step by step
...
Layer total: 18,432 + 64 = 18,496 parameters.
...
0
"""

from __future__ import annotations

import argparse
import os
import sys

from convsym.budget import checkpoint, timed
from convsym.commands.pdflatex import compile_pdf, pdflatex
from convsym.commands.summary import add_source_arguments
from convsym.errors import UsageError, shorten
from convsym.readers import write_file


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("derive", help="step-by-step derivation for lecture notes "
                                      "(LaTeX, Markdown or text)")
    add_source_arguments(p)
    p.add_argument("--format", "-f", choices=["latex", "markdown", "text"], default=None,
                   help="output format (default: text; latex with --pdf)")
    p.add_argument("--standalone", action="store_true",
                   help="LaTeX: a whole document that compiles with pdflatex")
    p.add_argument("--explain", choices=["first", "all", "none"], default="first",
                   help="explain the channel sum of a convolution in full at the first "
                        "multi-channel one (default), at every one, or never")
    p.add_argument("--figures", action="store_true",
                   help="LaTeX: add each sliding-window layer's arithmetic figure (TikZ)")
    p.add_argument("--pdf", action="store_true",
                   help="compile the standalone LaTeX document with pdflatex and write the "
                        "PDF (to -o FILE, default NAME.pdf)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the derivation."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.derivation import derive
    from convsym.sources import resolve

    if args.pdf:
        if args.format not in (None, "latex"):
            raise UsageError(f"--pdf makes LaTeX; drop --format {args.format}",
                             code="bad_option")
        args.format, args.standalone = "latex", True
    args.format = args.format or "text"
    if args.standalone and args.format != "latex":
        raise UsageError("--standalone is for --format latex", code="bad_option")
    if args.figures and args.format != "latex":
        raise UsageError("--figures is for --format latex", code="bad_option")
    if args.pdf:
        pdflatex()  # a missing pdflatex is said before any work is done
    net = resolve(args.source, sets=args.sets, from_=args.from_)
    # one clock (derive_seconds) for the derivation, its rendering and its figures
    with timed("derive_seconds", f"deriving {shorten(net.name)!r}"):
        text = derive(net, explain=args.explain).render(args.format,
                                                        standalone=args.standalone)
        if args.figures:
            from convsym.drawing.notes import with_figures  # why: only --figures draws

            text = with_figures(text, net, standalone=args.standalone)
            checkpoint("the figures")
    if args.pdf:
        done = compile_pdf(text, args.output or _pdf_name(net.name))
        runs = "run" if done.runs == 1 else "runs"
        print(f"wrote {done.pdf} (pdflatex, {done.runs} {runs})", file=sys.stderr)
        return 0
    if args.output is None:
        sys.stdout.write(text)
        return 0
    write_file(args.output, text)
    print(f"wrote {os.path.abspath(args.output)}", file=sys.stderr)
    return 0


def _pdf_name(name: str) -> str:
    """``NAME.pdf`` in the current folder, the network's name reduced to safe characters.

    >>> _pdf_name("example:seed1/../x y")
    'example_seed1_.._x_y.pdf'
    """
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
    return (safe or "derivation") + ".pdf"
