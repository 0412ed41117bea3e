"""The ``keras.applications`` zoo of the conformance suites: which models, how to build them.

Every model is listed from ``keras.applications`` itself (40 in Keras 3.15) and built with
``weights=None``.  NASNetMobile: Keras 3.15's constructor refuses the torch backend ("not
available with the torch backend at this time due to an outstanding bug"), by a check in its
own module; :func:`build` answers that one check "not torch" (see there), and the suites then
compare it like the others.

Test support only (KERAS_BACKEND=torch): the convsym package never imports it.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


def keras() -> Any:
    import keras as k

    return k


def models() -> list[str]:
    """The names of the ``keras.applications`` model constructors, sorted."""
    apps = keras().applications
    return sorted(name for name in dir(apps)
                  if name[:1].isupper() and callable(getattr(apps, name)))


def build(name: str, input_shape: tuple[Any, ...], **kwargs: Any) -> Any:
    """``keras.applications.<name>(weights=None, input_shape=..., **kwargs)``."""
    make = getattr(keras().applications, name)
    try:
        return make(weights=None, input_shape=input_shape, **kwargs)
    except ValueError as err:
        if "not available with the torch backend" not in str(err):
            raise
    # The constructor's own module refuses the torch backend by name (NASNetMobile in Keras
    # 3.15: "an outstanding bug"). Build it with that one check answered "not torch": the
    # module sees a copy of keras.src.backend whose backend() says "jax", nothing else
    # changes, the layers run on torch as always, and the comparison then shows whether the
    # bug touches shapes or counts.
    module = importlib.import_module(make.__module__)
    real = module.backend
    seen = types.SimpleNamespace(**{k: getattr(real, k) for k in dir(real)
                                    if not k.startswith("__")})
    seen.backend = lambda: "jax"
    module.backend = seen
    try:
        return make(weights=None, input_shape=input_shape, **kwargs)
    finally:
        module.backend = real
