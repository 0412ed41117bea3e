"""``convsym summary SOURCE [--set NAME=VALUE]... [--json]``: shapes and parameter counts.

The table keeps within the terminal's width (``COLUMNS``; 100 columns when unknown).

>>> from convsym.cli import main
>>> main(["summary", "example:seed1", "--json"])  # doctest: +ELLIPSIS
{
  "layers": [
...
0
"""

from __future__ import annotations

import argparse
import json
import shutil


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """SOURCE, --set and --from, shared by every subcommand that reads a network."""
    parser.add_argument("source", metavar="SOURCE",
                        help="example:NAME, a spec file (.yaml/.json/.toml), Keras JSON or "
                             "an ONNX model (.onnx)")
    parser.add_argument("--set", dest="sets", action="append", default=[],
                        metavar="NAME=VALUE",
                        help="give a symbol a value: an integer or an expression in the "
                             "network's symbols, e.g. --set n=32 or --set W=H (repeatable)")
    parser.add_argument("--from", dest="from_", choices=["spec", "keras", "onnx"], default=None,
                        help="how to read SOURCE (default: detect)")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("summary", help="per-layer output shapes and parameter counts")
    add_source_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.sources import resolve

    net = resolve(args.source, sets=args.sets, from_=args.from_)
    summary = net.summary()
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.text(width=terminal_width()))
    return 0


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` when set), 100 when unknown, never below 60.

    >>> import os
    >>> os.environ["COLUMNS"] = "72"
    >>> terminal_width()
    72
    >>> del os.environ["COLUMNS"]
    """
    from convsym.summary import WIDTH  # why: convsym.summary loads SymPy, not for --help

    columns = shutil.get_terminal_size((WIDTH, 24)).columns
    return max(columns, 60)
