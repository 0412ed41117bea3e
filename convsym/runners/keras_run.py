"""Run a concrete Keras-dialect network through real Keras 3, layer by layer, eagerly.

Each convsym layer becomes the ``keras.layers`` class of the same name built from the
layer's own arguments (convsym's Keras layers carry Keras's argument names and defaults) and
is called on a batch of one.  The backend is whatever Keras is configured with; convsym's
tests use ``KERAS_BACKEND=torch``.

>>> import os, pytest
>>> _ = os.environ.setdefault("KERAS_BACKEND", "torch")
>>> _ = pytest.importorskip("keras")
>>> from convsym.examples import example
>>> KerasRunner().run(example("seed1"))[2]
(24, 24, 64)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from convsym.layers.base import Layer
from convsym.layers.frontend import KERAS_ACTIVATIONS
from convsym.runners import Runner, Unsupported, field_values

_SKIP_FIELDS = ("name",)


class KerasRunner(Runner):
    """Apply each layer with real ``keras.layers`` classes (float32, batch of one)."""

    name = "keras"
    errors = (ValueError, RuntimeError, IndexError)

    def __init__(self, seed: int = 0) -> None:
        os.environ.setdefault("KERAS_BACKEND", "torch")  # convsym's tested backend
        # why: Keras is optional (the frameworks extra) and heavy
        import keras

        self.keras = keras
        self.rng = np.random.default_rng(seed)

    def make_input(self, shape: tuple[int, ...], layer: Layer) -> Any:
        """Uniform random data with a batch of one."""
        return self.rng.random((1, *shape), dtype=np.float32)

    def shape_of(self, value: Any) -> tuple[int, ...]:
        """The shape without the batch axis."""
        if int(value.shape[0]) != 1:
            raise ValueError(f"the batch axis became {value.shape[0]}")
        return tuple(int(s) for s in value.shape[1:])

    def apply(self, layer: Layer, args: Sequence[Any], dialect: str) -> Any:
        """Build the layer and call it eagerly."""
        built = self.layer(layer)
        if len(args) > 1 or layer.n_inputs != 1:
            return built(list(args))
        return built(args[0])

    def layer(self, layer: Layer) -> Any:
        """The ``keras.layers`` object for a convsym Keras layer."""
        name = layer.type_name
        cls = getattr(self.keras.layers, name, None)
        if not isinstance(cls, type):
            raise Unsupported(f"keras.layers has no class {name}")
        kwargs = {k: _plain(v) for k, v in field_values(layer, skip=_SKIP_FIELDS).items()}
        if isinstance(kwargs.get("activation"), str):
            kwargs["activation"] = self._activation(kwargs["activation"])
        try:
            return cls(**kwargs)
        except TypeError as err:
            raise Unsupported(f"cannot build keras.layers.{name}: {err}") from None


    def _activation(self, name: str) -> Any:
        """The activation function itself, looked up by its (already vetted) name.

        The layer gets the function, never the name: Keras resolves a name through its
        deserializer, and nothing from user input may reach that.
        """
        function = getattr(self.keras.activations, name, None) \
            if name in KERAS_ACTIVATIONS else None
        if not callable(function):
            raise Unsupported(f"keras.activations has no function {name!r}")
        return function


def _plain(value: Any) -> Any:
    """SymPy integers to ints, recursively."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if hasattr(value, "is_Integer") and value.is_Integer:
        return int(value)
    return value


__all__ = ["KerasRunner"]
