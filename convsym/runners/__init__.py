"""Run a concrete convsym network through a computing backend and record every node's shape.

A runner walks the network's nodes in order, feeds random data to the inputs, applies each
layer for real (the NumPy reference, PyTorch or Keras) and records the output shape without
the batch axis, or :class:`Refused` with the backend's message where it rejects the input (an
exception, or an empty output: some backends return a zero-size tensor instead of raising).
A layer the runner cannot build is :class:`Unsupported`: that backend cannot check this
network, which is reported, never counted as agreement.

Only :mod:`convsym.verification` and tests import this package; each runner imports its backend
lazily.

>>> from convsym.examples import example
>>> from convsym.runners.numpy_ref import NumpyRunner
>>> outcomes = NumpyRunner().run(example("seed3"))
>>> [outcomes[i] for i in sorted(outcomes)]
[(32, 32, 3), (16, 16, 10), (8, 8, 20), (1280,), (10,)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from convsym.importers.common import unwrap
from convsym.intdiv import as_int
from convsym.layers.base import Layer

Outcome = Any
"""A node's outcome: a shape (tuple of ints, no batch axis) or :class:`Refused`."""


@dataclass(frozen=True)
class Refused:
    """The backend rejected this node's input (raised, or gave an empty output)."""

    message: str

    def __str__(self) -> str:
        return f"rejects: {self.message}"


class Unsupported(Exception):
    """The runner cannot build this layer (the backend cannot check this network)."""


class Runner:
    """Walk a concrete network; subclasses implement :meth:`make_input` and :meth:`apply`."""

    name = "runner"
    errors: tuple[type[BaseException], ...] = ()

    def run(self, net: Any) -> dict[int, Outcome]:
        """Every node's outcome, up to and including the first refusal."""
        values: dict[int, Any] = {}
        out: dict[int, Outcome] = {}
        for index, node in enumerate(net.nodes):
            if index in net.input_shapes:
                shape = tuple(_int(s) for s in net.input_shapes[index])
                values[index] = self.make_input(shape, node.layer)
                out[index] = shape
                continue
            layer = _unwrap(node.layer)
            args = [values[p] for p in node.parents]
            try:
                result = self.apply(layer, args, net.dialect)
                shape = self.shape_of(result)
            except Unsupported:
                raise
            except self.errors as err:
                out[index] = Refused(_first_line(err))
                break
            if 0 in shape:
                out[index] = Refused(f"an empty output {shape}")
                break
            values[index] = result
            out[index] = shape
        return out

    def make_input(self, shape: tuple[int, ...], layer: Layer) -> Any:
        """Random data of ``shape`` (without the batch axis)."""
        raise NotImplementedError

    def apply(self, layer: Layer, args: Sequence[Any], dialect: str) -> Any:
        """``layer`` applied to the parents' values."""
        raise NotImplementedError

    def shape_of(self, value: Any) -> tuple[int, ...]:
        """The shape of a value without the batch axis."""
        raise NotImplementedError


def _int(size: Any) -> int:
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    if hasattr(size, "is_Integer") and size.is_Integer:  # a SymPy integer
        return int(size)
    value = as_int(size)
    if value is None:
        raise Unsupported(f"the network still has a symbolic input size {size}")
    return value


def _unwrap(layer: Layer) -> Layer:
    return unwrap(layer)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def ints(values: Any) -> tuple[int, ...]:
    """Canonical sizes (or ints) to a tuple of ints; Unsupported if one is symbolic."""
    return tuple(_int(v) for v in values)


def field_values(layer: Layer, *, skip: Sequence[str] = ()) -> dict[str, Any]:
    """The layer's constructor arguments (for building the framework's own layer)."""
    out = {}
    for f in dataclasses.fields(layer):
        if f.init and f.name not in ("input_shape", *skip):
            out[f.name] = getattr(layer, f.name)
    return out
