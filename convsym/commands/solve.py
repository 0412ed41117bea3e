"""``convsym solve SOURCE --for SYMBOL [--where CONDITION]... [--bounds B]... [--json]``.

Every integer value of the unknowns meeting the network's side conditions and the targets,
exactly, with its derivation.  Quantities in conditions: ``out_H``, ``out_0``, ``<row>_C``,
``r2_W``, ``params``, ``macs`` (see :mod:`convsym.whatif.quantities`).  SOURCE ``-`` solves
the ``--where`` conditions alone.  Exit status 0 with an exact answer, 3 when unknown.

>>> from convsym.cli import main
>>> main(["solve", "example:seed3_symbolic", "--for", "n", "--where", "conv2d_1_H == 8",
...       "--quiet"])
n in {29, 30, 31, 32}
0
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TypeVar

from convsym.budget import run_bounded
from convsym.commands.summary import add_source_arguments
from convsym.errors import BudgetExceeded
from convsym.guarded import check_timeout

T = TypeVar("T")

GRACE = 5.0
"""Seconds beyond ``--timeout`` before the worker running the solve is killed."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("solve", help="every integer value of unknowns meeting targets, exactly")
    add_source_arguments(p)
    p.add_argument("--for", dest="unknowns", action="append", required=True,
                   metavar="SYMBOL", help="an unknown (repeat for several)")
    p.add_argument("--where", action="append", default=[], metavar="CONDITION",
                   help='a target, e.g. "out_H == 8" or "params <= 100000"')
    p.add_argument("--bounds", action="append", default=[], metavar="BOUND",
                   help='a bound, e.g. "1 <= k <= 9" or "p >= 0"')
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="answer 'unknown' after this many seconds (default 10)")
    p.add_argument("--format", choices=["text", "markdown", "latex"], default="text",
                   help="how to print the derivation")
    p.add_argument("--quiet", action="store_true", help="print only the answer")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Solve and print."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.sources import resolve
    from convsym.whatif import solve

    target: object
    if args.source == "-":
        target = list(args.where)
        where: list[str] = []
    else:
        target = resolve(args.source, sets=args.sets, from_=args.from_)
        where = list(args.where)
    try:
        answer = bounded(solve, target, args.unknowns, where, args.bounds,
                         timeout=args.timeout)
    except BudgetExceeded as err:
        return _unknown(args, str(err))
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2))
    elif args.quiet:
        print(answer.describe())
    elif args.format == "text":
        print(answer)
    else:  # the same documents a notebook shows (header, answer, notes, derivation)
        from convsym.printing import results  # why: SymPy's printers, not loaded for --help

        print(results.solution_markdown(answer) if args.format == "markdown"
              else results.solution_latex(answer), end="")
    return 0 if answer.exact else 3


def bounded(fn: Callable[..., T], *args: object, timeout: float) -> T:
    """``fn(*args, timeout=timeout)`` in a worker process, killed ``GRACE`` seconds after
    the cooperative timeout (SymPy calls cannot check the clock themselves)."""
    check_timeout(timeout, optional=False, name="--timeout")
    result: T = run_bounded(_call, fn, timeout, *args, timeout=timeout + GRACE,
                            what=fn.__name__)
    return result


def _call(fn: Callable[..., T], seconds: float, *args: object) -> T:
    return fn(*args, timeout=seconds)


def _unknown(args: argparse.Namespace, reason: str) -> int:
    if args.json:
        print(json.dumps({"status": "unknown", "reason": reason}, indent=2))
    else:
        print(f"Answer (unknown): {reason}")
    return 3
