"""``convsym verify SOURCE [--samples N] [--seed S]``: check shapes against real computations.

Exit status 0 when every layer agrees, 1 on a disagreement (shrunk to the smallest sizes),
2 on bad input, 3 when no admissible sizes were found (nothing checked).  A progress bar
goes to stderr on long runs at a terminal.

>>> from convsym.cli import main
>>> main(["verify", "example:seed3_symbolic", "--samples", "2", "--backend", "reference"])
verify 'seed3_symbolic' (keras), symbols: n
checked 2 admissible sizes
  closed form  10 layer shapes agree
  reference    10 layer shapes agree
OK: every layer agrees
0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from convsym.commands.summary import add_source_arguments


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("verify", help="check every layer's shape against the NumPy reference "
                                      "and real PyTorch / Keras at random admissible sizes")
    add_source_arguments(p)
    p.add_argument("--samples", type=_bounded(MAX_SAMPLES), default=20, metavar="N",
                   help="random admissible sizes to check (default 20)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--max-size", type=_bounded(MAX_DRAW), default=64, metavar="M",
                   help="draw symbol values from 1..M first (default 64)")
    p.add_argument("--backend", dest="backends", action="append", metavar="NAME",
                   choices=["reference", "torch", "keras"],
                   help="reference, torch or keras (repeatable; default: all that apply)")
    p.add_argument("--no-refusals", dest="refusals", action="store_false",
                   help="do not check that sizes breaking a side condition are refused")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


MAX_SAMPLES = 10_000
"""More samples than this would run for hours on real tensors; split the run instead."""

MAX_DRAW = 4096
"""Symbol values are drawn from 1..M; larger M makes tensors too large to run."""


def _bounded(limit: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"{value} is not an integer from 1 to {limit}")
        return value

    return parse


class _Bar:
    """A text progress bar on stderr, drawn only once a run has taken half a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < 0.5:
            return
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\rverify [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def resolve(*args: Any, **kwargs: Any) -> Any:
    """:func:`convsym.sources.resolve`, imported on use (``--help`` loads no SymPy)."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.sources import resolve as resolve_source

    return resolve_source(*args, **kwargs)


def run(args: argparse.Namespace) -> int:
    """Verify and print the result."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.verification import verify

    net = resolve(args.source, sets=args.sets, from_=args.from_)
    bar = _Bar(not args.quiet and not args.json and sys.stderr.isatty())
    try:
        result = verify(net, samples=args.samples, seed=args.seed, backends=args.backends,
                        max_size=args.max_size, refusals=args.refusals, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(_as_dict(result, net), indent=2))
    else:
        print(result)
    if not result.ok:
        return 1
    return 0 if result.instances else 3  # nothing could be checked: unknown


def _as_dict(result: Any, net: Any) -> dict[str, Any]:
    mismatch = result.mismatch
    return {
        "network": result.network,
        "dialect": net.dialect,
        "symbols": result.symbols,
        "instances": result.instances,
        "refusals": result.refusals,
        "too_large": result.too_large,
        "compared": result.compared,
        "unavailable": result.unavailable,
        "ok": result.ok,
        "mismatch": None if mismatch is None else {
            "backend": mismatch.backend, "layer": mismatch.layer, "values": mismatch.values,
            "convsym": mismatch.convsym, "backend_says": mismatch.backend_says,
            "first_found_at": result.found_at,
        },
    }
