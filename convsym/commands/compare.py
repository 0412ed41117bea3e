"""``convsym compare A [B] [--set-a N=V]... [--set-b N=V]... [--at N=V]... [--json]``.

A table of what changes between two variants of a network: per-row output shapes,
parameters and MACs, and the totals; changed rows are marked ``*``.  B defaults to A, so
``--set-a``/``--set-b`` make the variants.  ``--depthwise ROW`` compares A with the seed
misconception for one convolution row: each filter applied to each input map separately.

>>> from convsym.cli import main
>>> main(["compare", "example:seed1_symbolic", "--set", "c=3", "--set-a", "n=28",
...       "--set-b", "n=32"])  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
Compare A = example:seed1_symbolic [c=3, n=28] vs B = example:seed1_symbolic [c=3, n=32]
...
* conv2d_1 (Conv2D) (24, 24, 64) (28, 28, 64) 18,496 18,496 0 10,616,832 14,450,688 +3,833,856
...
0
"""

from __future__ import annotations

import argparse
import json

from convsym.budget import timed
from convsym.errors import UsageError, shorten


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("compare", help="what changes between two variants of a network")
    p.add_argument("a", metavar="A", help="example:NAME, a spec file or Keras JSON")
    p.add_argument("b", metavar="B", nargs="?", default=None,
                   help="the second variant (default: A again)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                   help="substitute a value in both variants")
    p.add_argument("--set-a", dest="sets_a", action="append", default=[],
                   metavar="NAME=VALUE", help="substitute a value in A only")
    p.add_argument("--set-b", dest="sets_b", action="append", default=[],
                   metavar="NAME=VALUE", help="substitute a value in B only")
    p.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                   help="also evaluate symbolic values at NAME=VALUE")
    p.add_argument("--from", dest="from_", choices=["spec", "keras", "onnx"], default=None,
                   help="how to read the sources (default: detect)")
    p.add_argument("--depthwise", metavar="ROW", default=None,
                   help="compare with each filter of ROW applied to each input map "
                        "separately (a depthwise convolution)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def _label(source: str, sets: list[str]) -> str:
    return f"{source} [{', '.join(sets)}]" if sets else source


def run(args: argparse.Namespace) -> int:
    """Build both variants and print the table."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.sources import parse_sets, resolve
    from convsym.whatif import compare, depthwise_whatif

    at = {k: _int(k, v) for k, v in parse_sets(args.at).items()}
    sets_a = args.sets + args.sets_a
    a = resolve(args.a, sets=sets_a, from_=args.from_)
    if args.depthwise is not None:
        if args.b is not None or args.sets_b:
            raise UsageError("compare --depthwise takes one network (A)",
                             code="bad_arguments")
        row: str | int = int(args.depthwise) if _is_index(args.depthwise) and \
            args.depthwise not in {r.name for r in a.rows} else args.depthwise
        what = depthwise_whatif(a, row)
        print(json.dumps(what.to_dict(), indent=2) if args.json else what.text())
        return 0
    source_b = args.b or args.a
    sets_b = args.sets + args.sets_b
    b = resolve(source_b, sets=sets_b, from_=args.from_)
    labels = (_label(args.a, sets_a), _label(source_b, sets_b))
    # one clock (compare_seconds) for the differences and the table
    with timed("compare_seconds", f"comparing {shorten(labels[0])!r} with "
                                  f"{shorten(labels[1])!r}"):
        table = compare(a, b, at=at, labels=labels)
        shown = json.dumps(table.to_dict(), indent=2) if args.json else table.text()
    print(shown)
    return 0


def _is_index(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is True but ``int("²")`` fails."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _int(name: str, value: object) -> int:
    if not isinstance(value, int):
        raise UsageError(f"--at {name}={value}: give an integer", code="bad_set")
    return value
