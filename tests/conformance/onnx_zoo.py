"""The ONNX conformance zoo: torchvision and keras.applications models exported to ONNX.

Each model is exported with a dynamic batch, H and W by the TorchScript exporter
(``torch.onnx.export(..., dynamo=False)``: measured 0.5-10 s a torchvision model against about
13 s with ``dynamo=True`` for ResNet-18 alone).  Where the TorchScript exporter cannot export a
model (``adaptive_avg_pool2d`` to a size other than 1 on a dynamic input: AlexNet, VGG; Keras's
LayerNormalization in ConvNeXt) the dynamo exporter (``torch.export`` with ``Dim`` H and W) is
tried; a model neither exports raises :class:`ExportFailed` with both reasons.

A model's *family* is the module that defines its constructor (``torchvision.models.resnet``,
``keras.src.applications.mobilenet_v3``); a detection backbone's is its name without digits.

Test support only: the convsym package never imports it.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras_zoo
import zoos

SIZES = ((224, 224), (193, 257), (97, 131))
"""The three input sizes every model runs at: square, odd and not square, and small."""

FULL_ZOO = "CONVSYM_ONNX_ZOO"
"""Set this environment variable to ``full`` to run every model instead of :data:`SUBSET`."""

SUBSET = {
    "torchvision": (
        "alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "efficientnet_v2_s",
        "googlenet", "inception_v3", "mnasnet0_5", "mobilenet_v2", "mobilenet_v3_small",
        "regnet_x_400mf", "regnet_y_400mf", "resnet18", "shufflenet_v2_x0_5", "squeezenet1_1",
        "vgg11", "deeplabv3_mobilenet_v3_large", "fcn_resnet50", "lraspp_mobilenet_v3_large",
        "resnet18_fpn", "retinanet_resnet50_fpn.backbone", "mobilenet_v3_large_fpn",
        "ssd300_vgg16.backbone", "ssdlite320_mobilenet_v3_large.backbone"),
    "keras": (
        "MobileNet", "MobileNetV3Small", "EfficientNetB0", "ResNet50"),
}
"""The models a default run checks: at least one of every torchvision family (a test checks
it), and the four keras.applications families that fit in the suite's time budget (a Keras
export and check takes 10-140 s a model); ``CONVSYM_ONNX_ZOO=full`` runs all of both zoos
(measured once: about 30 minutes on 2 busy cores)."""


TOO_LARGE = {
    "regnet_y_128gf": "644 million parameters: its ONNX file is above protobuf's 2 GiB, so the "
                      "TorchScript exporter refuses to write it to memory and onnxruntime cannot "
                      "take it as one in-memory model; the suite keeps files in memory",
}
"""Models left out of the ONNX zoo, with the reason."""

NOT_EXPORTED = {
    "vision_transformer": "the Vision Transformers joined the PyTorch zoo through its forward "
                          "(asserts, class tokens, nn.MultiheadAttention); their ONNX graphs "
                          "(attention exported as Shape/Gather/Reshape arithmetic) are not "
                          "checked against convsym's ONNX importer yet",
    "swin_transformer": "Swin joined the PyTorch zoo through its forward (windows folded into "
                        "the batch axis, a mask built from sizes); its ONNX graph is not "
                        "checked against convsym's ONNX importer yet",
    "maxvit": "MaxViT joined the PyTorch zoo through its forward (torch.einsum attention, a "
              "window partition that keeps the batch axis); its ONNX graph is not checked "
              "against convsym's ONNX importer yet",
}
"""torchvision families the ONNX zoo leaves out, with the reason."""


class ExportFailed(Exception):
    """Neither exporter could write the model; the message gives both reasons."""


@dataclass(frozen=True)
class Entry:
    """One model of the ONNX zoo: how to build it and where its H and W axes are."""

    zoo: str
    name: str
    family: str
    build: Callable[[], Any]
    example: tuple[int, ...]
    """The input shape exported (without the batch)."""
    axes: tuple[int, int]
    """The input axes of H and W (batch included)."""
    sizes: tuple[tuple[int, int], ...] = SIZES

    @property
    def id(self) -> str:
        return f"{self.zoo}:{self.name}"


def torchvision_entries() -> list[Entry]:
    """Every torchvision model of the PyTorch conformance zoo (classification, segmentation,
    detection backbones; not timm), NCHW."""
    models = zoos.torchvision().models
    out = []
    for case in [*zoos.classification(), *zoos.segmentation(), *zoos.detection_backbones()]:
        if case.zoo == "detection backbones":
            family = re.sub(r"\d+", "", case.name)  # resnet18_fpn and resnet50_fpn: one
            sizes = case.sizes if len(case.sizes) == 3 else SIZES
        else:
            family = models.get_model_builder(case.name).__module__.rsplit(".", 1)[-1]
            sizes = SIZES
        largest = max(sizes, key=min)  # SSD300 needs H, W >= 268 to export at all
        if case.name in TOO_LARGE or family in NOT_EXPORTED:
            continue
        out.append(Entry("torchvision", case.name, family,
                         lambda case=case: zoos.build(case), (3, *largest), (2, 3), sizes))
    return out


def keras_entries() -> list[Entry]:
    """Every keras.applications model, built at 224 x 224 with its classifier (the constructors
    need a fixed size then), NHWC, exported with dynamic H and W all the same: a graph with
    sizes baked in (VGG's Flatten into Dense) must be refused at other sizes by both."""
    apps = keras_zoo.keras().applications
    return [Entry("keras", name, getattr(apps, name).__module__.rsplit(".", 1)[-1],
                  lambda name=name: keras_zoo.build(name, (224, 224, 3)), (224, 224, 3),
                  (1, 2)) for name in keras_zoo.models()]


def entries(full: bool | None = None) -> list[Entry]:
    """The zoo a run checks: :data:`SUBSET`, or every model with ``CONVSYM_ONNX_ZOO=full``."""
    if full is None:
        full = os.environ.get(FULL_ZOO, "") == "full"
    every = [*torchvision_entries(), *keras_entries()]
    if full:
        return every
    return [e for e in every if e.name in SUBSET[e.zoo]]


def export(entry: Entry) -> tuple[Any, str]:
    """``(ModelProto, exporter)`` of the entry's model, H and W dynamic."""
    import torch

    model = entry.build()
    if hasattr(model, "eval"):
        model.eval()
    x = torch.zeros(1, *entry.example)
    h, w = entry.axes
    try:
        return _torchscript(model, x, {0: "N", h: "H", w: "W"}), "torchscript"
    except (torch.onnx.errors.OnnxExporterError, RuntimeError) as err:
        first = f"TorchScript exporter: {_first_line(err)}"
    try:
        return _dynamo(model, x, h, w), "dynamo"
    except Exception as err:  # noqa: BLE001 - torch.export raises many exception types
        second = f"dynamo exporter: {_first_line(err)}"
    raise ExportFailed(f"{first}; {second}")


def _first_line(err: BaseException) -> str:
    """The first line of the innermost cause (the exporters wrap the reason)."""
    while err.__cause__ is not None:
        err = err.__cause__
    return f"{type(err).__name__}: " + (str(err).strip().splitlines() or [""])[0][:300]


def _torchscript(model: Any, x: Any, axes: dict[int, str]) -> Any:
    import onnx
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buf, dynamo=False, input_names=["x"], opset_version=17,
                          dynamic_axes={"x": axes})
    return onnx.load_from_string(buf.getvalue())


def _dynamo(model: Any, x: Any, h: int, w: int) -> Any:
    import torch
    from torch.export import Dim

    dims = {h: Dim("H", min=32, max=4096), w: Dim("W", min=32, max=4096)}
    # a Keras model's forward takes *args: its dynamic shapes are nested one level deeper
    takes_args = any(p.kind is p.VAR_POSITIONAL
                     for p in inspect.signature(model.forward).parameters.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, input_names=["x"],
                                    dynamic_shapes=((dims,),) if takes_args else (dims,),
                                    verbose=False)
    return program.model_proto
