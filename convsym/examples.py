"""Built-in example networks, as spec documents (so they double as spec examples).

>>> [name for name in sorted(EXAMPLES) if name.startswith("seed")][:3]
['seed1', 'seed1_symbolic', 'seed2']
>>> example("seed3").rows[-1].params
12810
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any

import yaml

from convsym.errors import UsageError, did_you_mean
from convsym.intdiv import free_symbols
from convsym.spec import load
from convsym.zoo import ZOO

SEED1 = {
    "name": "seed1",
    "dialect": "keras",
    "input": [28, 28, 1],
    "layers": [
        {"Conv2D": {"filters": 32, "kernel_size": 3, "activation": "relu"}},
        {"Conv2D": {"filters": 64, "kernel_size": 3}},
    ],
}
"""Seed question 1: why does a second Conv2D(64, 3) on 32 maps give 64 maps and 18,496?"""

SEED1_SYMBOLIC = {**SEED1, "name": "seed1_symbolic", "input": ["n", "n", "c"]}
"""Seed 1 with symbolic size n and c input channels: n - 2, n - 4, 9*32*c + 32."""

SEED2 = {
    "name": "seed2",
    "dialect": "keras",
    "input": [28, 28, 3],
    "layers": [
        {"Conv2D": {"filters": 32, "kernel_size": 5, "use_bias": False,
                    "activation": "relu"}},
        {"Conv2D": {"filters": 64, "kernel_size": 5, "use_bias": False,
                    "activation": "relu"}},
    ],
}
"""Seed question 1's answer: 5x5 kernels without bias on 28x28x3: 2,400 and 51,200."""

SEED3 = {
    "name": "seed3",
    "dialect": "keras",
    "input": [32, 32, 3],
    "layers": [
        {"Conv2D": {"filters": 10, "kernel_size": 4, "strides": 2, "padding": "same"}},
        {"Conv2D": {"filters": 20, "kernel_size": 3, "strides": 2, "padding": "same"}},
        {"Flatten": {}},
        {"Dense": {"units": 10, "activation": "softmax"}},
    ],
}
"""Seed question 3 (Foster, Generative Deep Learning): 490, 1,820, 1280, 12,810."""

SEED3_SYMBOLIC = {**SEED3, "name": "seed3_symbolic", "input": ["n", "n", 3]}
"""Seed 3 with a symbolic size: ceiling(n/2), ceiling(n/4)."""

SPECS: dict[str, dict[str, Any]] = {
    "seed1": SEED1,
    "seed1_symbolic": SEED1_SYMBOLIC,
    "seed2": SEED2,
    "seed3": SEED3,
    "seed3_symbolic": SEED3_SYMBOLIC,
}


def _from_spec(name: str) -> Callable[[], Any]:
    def build() -> Any:
        return load(SPECS[name], name=f"example:{name}")

    return build


ABOUT: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "seed1": (
        "Conv2D(32, 3), Conv2D(64, 3) on 28x28x1: 64 maps, not 32 x 64; 18,496 parameters",
        "Each of the 64 filters of the second layer spans all 32 input maps and sums them into "
        "one map, so 64 filters give 64 maps; the derivation spells out 3 * 3 * 32 * 64 + 64.",
        ("convsym derive example:seed1 --format text", "convsym summary example:seed1")),
    "seed1_symbolic": (
        "seed1 on n x n x c: sizes n - 2, n - 4 and 288*c + 32 parameters in closed form",
        "Symbols stay symbols: the output shape, parameter counts and the side condition "
        "n >= 5 are exact for every input; --set n=28 --set c=1 gives seed1 back.",
        ("convsym summary example:seed1_symbolic", "convsym inputs example:seed1_symbolic",
         'convsym solve example:seed1_symbolic --for n --where "out_H == 8"')),
    "seed2": (
        "5x5 kernels without bias on 28x28x3: 2,400 and 51,200 parameters",
        "use_bias: false drops the bias term from the count: 5 * 5 * 3 * 32 and "
        "5 * 5 * 32 * 64.",
        ("convsym derive example:seed2 --format text",
         "convsym compare example:seed1 example:seed2")),
    "seed3": (
        "strided 'same' convolutions, Flatten, Dense on 32x32x3: 490, 1,820, 1,280, 12,810",
        "Seed question 3 (Foster, Generative Deep Learning). Keras 'same' padding with "
        "stride 2 gives ceiling(n/2): 32 -> 16 -> 8, so Flatten "
        "sees 8 * 8 * 20 = 1,280 values and Dense(10) has 12,810 parameters.",
        ("convsym derive example:seed3 --format text", "convsym summary example:seed3")),
    "seed3_symbolic": (
        "seed3 on n x n x 3: ceiling(n/2), ceiling(n/4); the Dense parameters grow with n",
        "The Dense layer's parameter count is 200*ceiling(n/4)**2 + 10; solve finds the sizes "
        "that give a chosen feature map.",
        ("convsym summary example:seed3_symbolic",
         'convsym solve example:seed3_symbolic --for n --where "conv2d_1_H == 8"')),
}
"""Per spec example: a one-line description, what it demonstrates, and commands to try."""

EXAMPLES: dict[str, Callable[[], Any]] = {name: _from_spec(name) for name in SPECS}
"""Every built-in example by name; each value builds a fresh network."""


def register(name: str, build: Callable[[], Any]) -> None:
    """Add a built-in example (used by modules that build networks in Python)."""
    EXAMPLES[name] = build


def example(name: str) -> Any:
    """The built-in example network called ``name``."""
    _load_more()
    if not isinstance(name, str) or name not in EXAMPLES:
        raise UsageError(f"unknown example {name!r}{did_you_mean(name, EXAMPLES)}; "
                         f"the examples are {', '.join(sorted(EXAMPLES))}",
                         code="unknown_example")
    return EXAMPLES[name]()


def about(name: str) -> tuple[str, str, tuple[str, ...]]:
    """``(one line, what it demonstrates, commands to try)`` for the example ``name``.

    Spec examples are described in :data:`ABOUT`; examples built in Python by their
    builder's docstring (first line, then the rest).

    >>> about("seed1")[0]
    'Conv2D(32, 3), Conv2D(64, 3) on 28x28x1: 64 maps, not 32 x 64; 18,496 parameters'
    >>> about("resnet18")[0]
    'torchvision resnet18: 11,689,512 parameters.'
    """
    net = example(name)  # a clear error for an unknown name
    if name in ABOUT:
        return ABOUT[name]
    doc = inspect.cleandoc(EXAMPLES[name].__doc__ or name).replace("``", "")
    first, _, rest = doc.partition("\n\n")
    symbolic = any(free_symbols(s) for shape in net.input_shapes.values() for s in shape)
    return (" ".join(first.split()), " ".join(rest.split()),
            (f"convsym summary example:{name}",
             f"convsym inputs example:{name}" if symbolic else
             f"convsym derive example:{name} --format text"))


def definition(name: str) -> tuple[str, str]:
    """``("yaml", spec)`` for a spec example (a document ``convsym`` reads back), or
    ``("python", source)`` for an example built in Python.

    >>> kind, text = definition("seed2")
    >>> kind, text.splitlines()[:3]
    ('yaml', ['name: seed2', 'dialect: keras', 'input: [28, 28, 3]'])
    """
    example(name)
    if name in SPECS:
        return "yaml", yaml.safe_dump(SPECS[name], sort_keys=False, default_flow_style=None)
    source = inspect.getsource(EXAMPLES[name])
    lines = source.splitlines()
    body = ast.parse(source).body[0]
    if isinstance(body, ast.FunctionDef) and ast.get_docstring(body) is not None:
        # the docstring is shown as the description: keep the signature and the code
        lines = lines[:body.body[0].lineno - 1] + lines[body.body[0].end_lineno or 0:]
    return "python", "\n".join(lines) + "\n"


def names() -> list[str]:
    """The names of every built-in example."""
    _load_more()
    return sorted(EXAMPLES)


def _load_more() -> None:
    """Add the zoo of larger examples, built in Python (:data:`convsym.zoo.ZOO`)."""
    for name, build in ZOO.items():
        EXAMPLES.setdefault(name, build)
