"""Keras layers, for ``from convsym.keras import Conv2D`` (same as :mod:`convsym.layers.keras`).

>>> from convsym.keras import Conv2D
>>> Conv2D(32, 3)
Conv2D(filters=32, kernel_size=3)
"""

from convsym.layers.keras import *  # noqa: F403
from convsym.layers.keras import LAYERS

__all__ = sorted(LAYERS)
