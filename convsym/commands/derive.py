"""``convsym derive SOURCE [--set NAME=VALUE]... [--format F] [--standalone] [-o FILE]``.

Prints (or writes) the step-by-step derivation of a network's output sizes and parameter
counts: LaTeX (a fragment for ``\\input``, or with ``--standalone`` a whole document),
Markdown with ``$...$`` math, or plain text.

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

from convsym.commands.summary import add_source_arguments
from convsym.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("derive", help="step-by-step derivation for lecture notes "
                                      "(LaTeX, Markdown or text)")
    add_source_arguments(p)
    p.add_argument("--format", "-f", choices=["latex", "markdown", "text"], default="text",
                   help="output format (default: text)")
    p.add_argument("--standalone", action="store_true",
                   help="LaTeX: a whole document that compiles with pdflatex")
    p.add_argument("--explain", choices=["first", "all", "none"], default="first",
                   help="explain the channel sum of a convolution in full at the first "
                        "multi-channel one (default), at every one, or never")
    p.add_argument("--figures", action="store_true",
                   help="LaTeX: add each sliding-window layer's arithmetic figure (TikZ)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the derivation."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.derivation import derive
    from convsym.sources import resolve

    if args.standalone and args.format != "latex":
        raise UsageError("--standalone is for --format latex", code="bad_option")
    net = resolve(args.source, sets=args.sets, from_=args.from_)
    text = derive(net, explain=args.explain).render(args.format, standalone=args.standalone)
    if args.figures:
        if args.format != "latex":
            raise UsageError("--figures is for --format latex", code="bad_option")
        from convsym.drawing.notes import with_figures  # why: only --figures draws

        text = with_figures(text, net, standalone=args.standalone)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {args.output}: {err.strerror}",
                         code="unwritable") from None
    print(f"wrote {os.path.abspath(args.output)}", file=sys.stderr)
    return 0
