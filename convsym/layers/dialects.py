"""The two dialect base classes, shared by every Keras and PyTorch front-end module.

Keras layers read ``data_format`` (channels_last unless told otherwise) and are named by
Keras's automatic stems (``conv2d``, ``conv2d_1``); PyTorch layers are channels_first and
named by their position in the network.

>>> from convsym.layers.keras import Conv2D
>>> from convsym.layers.torch import Conv2d
>>> isinstance(Conv2D(8, 3), KerasLayer), isinstance(Conv2d(3, 8, 3), TorchLayer)
(True, True)
"""

from __future__ import annotations

from typing import ClassVar

from convsym.layers.base import Layer, to_choice


class KerasLayer(Layer):
    """Base of the Keras front ends."""

    dialect: ClassVar[str] = "keras"

    def channels_first(self) -> bool:
        """Whether this layer reads channels first (``data_format='channels_first'``)."""
        fmt = getattr(self, "data_format", None)
        if fmt is None:
            return False
        return to_choice(self, "data_format", fmt, ["channels_last", "channels_first"]) == \
            "channels_first"


class TorchLayer(Layer):
    """Base of the PyTorch front ends."""

    dialect: ClassVar[str] = "torch"

    @property
    def base_name(self) -> str:
        """PyTorch names modules by their position; the network supplies it."""
        return ""


__all__ = ["KerasLayer", "TorchLayer"]
