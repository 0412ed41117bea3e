"""``convsym examples``: list the built-in examples usable as ``example:NAME``.

>>> from convsym.cli import main
>>> main(["examples"])  # doctest: +ELLIPSIS
c3d
...
seed1
...
0
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("examples", help="list the built-in examples (use as example:NAME)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one name per line."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.examples import names

    print("\n".join(names()))
    return 0
