"""PyTorch layers, for ``from convsym.torch import Conv2d`` (same as :mod:`convsym.layers.torch`).

Never imports torch itself.

>>> from convsym.torch import Conv2d
>>> Conv2d(3, 8, 3)
Conv2d(in_channels=3, out_channels=8, kernel_size=3)
"""

from convsym.layers.torch import *  # noqa: F403
from convsym.layers.torch import LAYERS

__all__ = sorted(LAYERS)
