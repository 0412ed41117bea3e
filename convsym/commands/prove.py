"""``convsym prove "STATEMENT" [--assume "CONDITION"]... [--json] [--timeout S]``.

Exit status: 0 proved, 1 refuted, 3 unknown (also when out of time or memory, or when
the statement is too large to expand, as ``convsym.prove`` answers), 2 bad input.

>>> from convsym.cli import main
>>> main(["prove", "floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)", "--assume", "n >= k"])
... # doctest: +ELLIPSIS
proved by rewriting: floor(...) + 1 == ceiling(...)
  assuming n >= k
...
0
>>> main(["prove", "floor(n/2) == floor(n/3)", "--json"])  # doctest: +ELLIPSIS
{
  "status": "refuted",
  "method": "period",
  "counterexample": {
    "n": 2
  },
...
1
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from convsym.budget import run_bounded
from convsym.errors import BudgetExceeded, UsageError

EXIT = {"proved": 0, "refuted": 1, "unknown": 3}
_GRACE = 2.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("prove", help="prove or refute a relation between size formulas",
                       description="Prove, refute, or honestly not know a relation "
                                   "(==, !=, <=, <, >=, >) between integer expressions with "
                                   "floor and ceiling. Every symbol is an integer >= 1 "
                                   "unless an assumption says otherwise (p >= 0).")
    p.add_argument("statement", metavar="STATEMENT", help='for example "n//2 + ceil(n/2) == n"')
    p.add_argument("--assume", action="append", default=[], metavar="CONDITION",
                   help="an assumption such as 'n >= k' or 'p >= 0' (repeatable)")
    p.add_argument("--json", action="store_true",
                   help='print {"status", "method", "counterexample", "steps"} as JSON')
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds to spend before answering unknown (default "
                        f"{DEFAULT_TIMEOUT:g})")
    p.set_defaults(run=run)


DEFAULT_TIMEOUT = 3.0
"""``convsym.proof.DEFAULT_TIMEOUT``, written out so that ``--help`` need not load the prover
(and SymPy); tests/unit/test_cli.py checks the two agree."""


def run(args: argparse.Namespace) -> int:
    """Prove the statement; print the proof; return 0, 1 or 3."""
    timeout = args.timeout
    if not timeout > 0:
        raise UsageError(f"--timeout {timeout}: must be more than 0 seconds",
                         code="bad_timeout")
    status, data, text = _prove_bounded(args.statement, list(args.assume), timeout)
    print(json.dumps(data, indent=2) if args.json else text)
    return EXIT[status]


def _prove_bounded(statement: str, assume: list[str], timeout: float
                   ) -> tuple[str, dict[str, Any], str]:
    """Run :func:`prove` in a worker process that is killed if it overruns its budget.

    The worker sends back text and JSON-ready data only: SymPy re-evaluates relations when
    they are unpickled (``Eq(n, n)`` comes back as ``True``).
    """
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.api import stopped_proof
    from convsym.expr import parse_relation

    relation = parse_relation(statement, field="statement")  # bad input: exit 2, no worker
    for i, condition in enumerate(assume, 1):
        parse_relation(condition, field=f"assumption {i}")
    try:
        return run_bounded(_call, statement, assume, timeout, timeout=timeout + _GRACE,
                           what="the proof")
    except BudgetExceeded as err:
        # out of time or memory, or too large to expand: "unknown" with the reason, exit 3,
        # as convsym.prove answers
        proof = stopped_proof(relation, err, timeout)
        return proof.status, proof.to_dict(), str(proof)


def _call(statement: str, assume: list[str], timeout: float
          ) -> tuple[str, dict[str, Any], str]:
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.proof import prove

    proof = prove(statement, assume, timeout=timeout)
    return proof.status, proof.to_dict(), str(proof)
