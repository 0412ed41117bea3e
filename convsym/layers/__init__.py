"""Layers in two dialects over one core per kind: ``keras`` (channels_last) and ``torch``.

>>> from convsym.layers import keras, torch
>>> keras.Conv2D(32, 3), torch.Conv2d(3, 32, 3)
(Conv2D(filters=32, kernel_size=3), Conv2d(in_channels=3, out_channels=32, kernel_size=3))
"""

from convsym.layers import keras, torch
from convsym.layers.base import Layer

__all__ = ["Layer", "keras", "torch"]
