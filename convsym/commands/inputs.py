"""``convsym inputs SOURCE [--json]``: the exact set of input sizes a network accepts.

Per input symbol and jointly, with the smallest accepted input and its output shape.  Exit
status 0 with an exact answer, 3 when unknown.

>>> from convsym.cli import main
>>> main(["inputs", "example:unet", "--quiet"])
H: H = 16t + 12, t >= 11 (188, 204, 220, ...)
W: W = 16t + 12, t >= 11 (188, 204, 220, ...)
jointly: every combination of the above
smallest: H=188, W=188 -> output (4, 4, 2)
0
"""

from __future__ import annotations

import argparse
import json

from convsym.commands.solve import bounded
from convsym.commands.summary import add_source_arguments
from convsym.errors import BudgetExceeded


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("inputs", help="the exact set of input sizes a network accepts")
    add_source_arguments(p)
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="answer 'unknown' after this many seconds (default 10)")
    p.add_argument("--format", choices=["text", "markdown", "latex"], default="text",
                   help="how to print the derivation")
    p.add_argument("--quiet", action="store_true", help="print only the answer")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Find and print the admissible inputs."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.sources import resolve
    from convsym.whatif import admissible_inputs

    net = resolve(args.source, sets=args.sets, from_=args.from_)
    try:
        found = bounded(admissible_inputs, net, timeout=args.timeout)
    except BudgetExceeded as err:
        if args.json:
            print(json.dumps({"status": "unknown", "reason": str(err)}, indent=2))
        else:
            print(f"unknown: {err}")
        return 3
    if args.json:
        print(json.dumps(found.to_dict(), indent=2))
    elif args.quiet:
        print(found.describe())
    elif args.format == "text":
        print(found)
    else:  # the same documents a notebook shows: the header and table stay
        from convsym.printing import results  # why: SymPy's printers, not loaded for --help

        print(results.admissible_markdown(found) if args.format == "markdown"
              else results.admissible_latex(found), end="")
    return 0 if found.exact else 3
