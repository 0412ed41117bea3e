"""Built-in example networks, as spec documents (so they double as spec examples).

>>> [name for name in sorted(EXAMPLES) if name.startswith("seed")][:3]
['seed1', 'seed1_symbolic', 'seed2']
>>> example("seed3").rows[-1].params
12810
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convsym.errors import UsageError, did_you_mean
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


def names() -> list[str]:
    """The names of every built-in example."""
    _load_more()
    return sorted(EXAMPLES)


def _load_more() -> None:
    """Add the zoo of larger examples, built in Python (:data:`convsym.zoo.ZOO`)."""
    for name, build in ZOO.items():
        EXAMPLES.setdefault(name, build)
