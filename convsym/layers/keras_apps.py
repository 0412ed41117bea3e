"""Layers that ``keras.applications`` defines for its own models: ``LayerScale`` and
``CustomScaleLayer``.

They are not in ``keras.layers`` but Keras writes them into ``model.to_json()`` of ConvNeXt
and InceptionResNetV2, from modules ``keras.src.applications.convnext`` and
``keras.src.applications.inception_resnet_v2``; the importer accepts them from those modules
only.  Both compute with broadcasting, as NumPy does: ``LayerScale`` is ``x * gamma`` with a
trainable ``gamma`` of shape ``(projection_dim,)``; ``CustomScaleLayer`` is
``inputs[0] + inputs[1] * scale`` with no weights.

>>> from convsym import Sequential
>>> from convsym.layers.keras import Input
>>> net = Sequential([Input(("H", "W", 96)), LayerScale(1e-6, 96)])
>>> net.output_shape, net.total_params
((H, W, 96), 96)
>>> net = Sequential([Input(("H", "W", 1)), LayerScale(1e-6, 96)])  # gamma broadcasts
>>> net.output_shape
(H, W, 96)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from typing import Any, ClassVar

from convsym.layers.base import Inference, Layer, Shape, Weight, to_size
from convsym.layers.dialects import KerasLayer
from convsym.layers.frontend import layer_class
from convsym.layers.merge import default_names, infer_elementwise


@layer_class
class LayerScale(KerasLayer):
    """``keras.applications.convnext.LayerScale(init_values, projection_dim)``: ``x * gamma``."""

    cost_kind: ClassVar[str] = "merge"

    init_values: Any
    projection_dim: Any
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def validate(self) -> None:
        """Check eagerly."""
        to_size(self, "projection_dim", self.projection_dim)

    def infer_one(self, shape: Shape) -> Inference:
        """The input broadcast against ``gamma`` (the last axis is ``projection_dim`` or 1)."""
        dim = to_size(self, "projection_dim", self.projection_dim)
        out = infer_elementwise(self, [shape, (dim,)], ["the input", "gamma"])
        out.weights = [Weight("gamma", (dim,))]
        return out


@layer_class
class CustomScaleLayer(KerasLayer):
    """``keras.applications.inception_resnet_v2.CustomScaleLayer(scale)``:
    ``inputs[0] + inputs[1] * scale`` on a list of two tensors."""

    n_inputs: ClassVar[int] = 2
    cost_kind: ClassVar[str] = "merge"

    scale: Any
    name: str | None = None
    input_shape: Any = field(default=None, compare=False)

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Broadcast the two inputs."""
        return self.infer_named(inputs, default_names(len(inputs)))

    def infer_named(self, inputs: Sequence[Shape], names: Sequence[str]) -> Inference:
        """Broadcast the two inputs; Keras reads exactly ``inputs[0]`` and ``inputs[1]``."""
        return infer_elementwise(self, inputs, names, exactly=2)


LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (LayerScale, CustomScaleLayer)}
"""The keras.applications layers of this module, by class name."""

HOMES: dict[str, str] = {"LayerScale": "applications.convnext",
                         "CustomScaleLayer": "applications.inception_resnet_v2"}
"""The Keras module (after ``keras.`` or ``keras.src.``) that defines each of them."""
