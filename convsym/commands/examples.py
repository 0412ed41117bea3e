"""``convsym examples [NAME]``: the built-in examples usable as ``example:NAME``.

Without NAME, one line each: the name and what the example is.  With NAME: what it
demonstrates, its definition (the spec document, which ``convsym`` reads back from a file,
or the Python that builds it) and commands to try.

>>> from convsym.cli import main
>>> main(["examples"])  # doctest: +ELLIPSIS
c3d             A small C3D-style video network in Keras, input (D, H, W, 3).
...
seed1           Conv2D(32, 3), Conv2D(64, 3) on 28x28x1: 64 maps, not 32 x 64; 18,496 parameters
...
0
>>> main(["examples", "seed2"])  # doctest: +ELLIPSIS
example:seed2: 5x5 kernels without bias on 28x28x3: 2,400 and 51,200 parameters
<BLANKLINE>
use_bias: false drops the bias term from the count: 5 * 5 * 3 * 32 and 5 * 5 * 32 * 64.
<BLANKLINE>
Spec (YAML; save it as seed2.yaml and run convsym summary seed2.yaml):
<BLANKLINE>
name: seed2
dialect: keras
input: [28, 28, 3]
layers:
- Conv2D: {filters: 32, kernel_size: 5, use_bias: false, activation: relu}
...
Try:
  convsym derive example:seed2 --format text
  convsym compare example:seed1 example:seed2
0
"""  # noqa: E501

from __future__ import annotations

import argparse

WIDTH = 100
"""The list's lines are cut to this many columns."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommand."""
    p = sub.add_parser("examples", help="list the built-in examples (use as example:NAME); "
                                        "with NAME, show one with its spec")
    p.add_argument("name", metavar="NAME", nargs="?", default=None,
                   help="show this example: what it demonstrates, its spec, what to try")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """List the examples, or show one."""
    # why: `convsym --help` imports every command module; SymPy loads when one runs
    from convsym.examples import about, definition, names

    if args.name is None:
        width = max(len(n) for n in names()) + 2
        for n in names():
            line = about(n)[0]
            room = max(40, WIDTH - width)
            print(n.ljust(width) + (line if len(line) <= room else line[:room - 1] + "…"))
        return 0
    name = args.name.removeprefix("example:")
    line, demonstrates, tries = about(name)
    kind, text = definition(name)
    out = [f"example:{name}: {line}", ""]
    if demonstrates:
        out += [demonstrates, ""]
    if kind == "yaml":
        out += [f"Spec (YAML; save it as {name}.yaml and run convsym summary {name}.yaml):",
                "", text.rstrip()]
    else:
        out += ["Built in Python (convsym/zoo.py):", "", text.rstrip()]
    out += ["", "Try:", *(f"  {t}" for t in tries)]
    print("\n".join(out))
    return 0
