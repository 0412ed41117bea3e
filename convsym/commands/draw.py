"""``convsym draw SOURCE [--layer NAME] [--kind K] [--format F] [-o FILE] [--set n=...]``.

Draws a layer's convolution arithmetic, the network's architecture, or a plot of output
size (or parameters and MACs) against a symbol.  TikZ and SVG are written as text; PNG and
PDF (and every plot) need matplotlib.

>>> from convsym.cli import main
>>> main(["draw", "example:seed1", "--layer", "conv2d", "--input-size", "5",
...       "--format", "svg"])  # doctest: +ELLIPSIS
<svg xmlns="http://www.w3.org/2000/svg" ...
0
"""

from __future__ import annotations

import argparse
import os
import sys

from convsym.commands.summary import add_source_arguments
from convsym.errors import UsageError

FORMATS = ("tikz", "latex", "svg", "png", "pdf", "pgf", "gif", "apng")
BINARY = ("png", "pdf", "gif", "apng")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("draw", help="pictures for lecture notes: convolution arithmetic, "
                                    "architecture diagrams, size and cost plots")
    add_source_arguments(p)
    p.add_argument("--layer", metavar="NAME", default=None,
                   help="the layer to draw (arithmetic) or plot (size-plot)")
    p.add_argument("--kind", choices=["arithmetic", "architecture", "size-plot", "cost-plot"],
                   default=None, help="what to draw (default: arithmetic with --layer, "
                                      "else architecture)")
    p.add_argument("--format", "-f", choices=FORMATS, default=None,
                   help="tikz (a fragment), latex (a standalone document), svg, png, pdf, "
                        "pgf (plots), gif or apng (animated arithmetic; default: from -o's "
                        "extension, else svg)")
    p.add_argument("--input-size", metavar="N[xM]", default=None,
                   help="arithmetic: draw the layer on this (small) input instead")
    p.add_argument("--mode", choices=["auto", "panels", "overlay"], default="auto",
                   help="arithmetic: a panel per output cell or one overlay (default: auto)")
    p.add_argument("--vary", metavar="NAME", default=None,
                   help="plots: the symbol on the x axis")
    p.add_argument("--range", dest="range_", metavar="A:B", default=None,
                   help="plots: the values of --vary (default 1:96)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write to FILE instead of standard output")
    p.set_defaults(run=run)


def _ints(text: str, sep: str, what: str) -> list[int]:
    parts = text.lower().split(sep)
    # ASCII digits only: "²".isdigit() is True but int("²") fails
    if not all(p.strip().isascii() and p.strip().isdigit() and len(p.strip()) <= 6
               for p in parts):
        raise UsageError(f"{what} {text!r}: write positive integers separated by {sep!r}",
                         code="bad_option")
    return [int(p) for p in parts]


def run(args: argparse.Namespace) -> int:
    """Draw and print or write the picture."""
    # imported here: --help and the other verbs need no algebra (tests/test_import_laziness)
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.drawing import draw
    from convsym.drawing.api import format_of, write
    from convsym.sources import parse_sets, resolve

    fmt = args.format or (format_of(args.output) if args.output else "svg")
    if fmt not in FORMATS:
        raise UsageError(f"cannot tell the format from {args.output!r}; give --format",
                         code="bad_format")
    net = resolve(args.source, from_=args.from_)
    size = _ints(args.input_size, "x", "--input-size") if args.input_size else None
    xs = None
    if args.range_:
        lo, hi = _ints(args.range_, ":", "--range")[:2] if ":" in args.range_ else (0, -1)
        if not 1 <= lo <= hi:
            raise UsageError(f"--range {args.range_!r}: write A:B with 1 <= A <= B",
                             code="bad_option")
        xs = range(lo, hi + 1)
    picture = draw(net, layer=args.layer, kind=args.kind, values=parse_sets(args.sets) or None,
                   input_size=size, mode=args.mode, vary=args.vary, xs=xs)
    if fmt in ("tikz", "latex") and args.kind in ("size-plot", "cost-plot"):
        raise UsageError("plots are written by matplotlib: use --format png, pdf, svg or pgf",
                         code="bad_format")
    data = picture.render(fmt)
    if args.output is None:
        if fmt in BINARY:
            raise UsageError(f"--format {fmt} is binary; write it to a file with -o FILE",
                             code="binary_to_terminal")
        sys.stdout.write(data.decode())
        return 0
    write(args.output, data)
    print(f"wrote {os.path.abspath(args.output)}", file=sys.stderr)
    return 0
