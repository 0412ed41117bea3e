"""The PyTorch model zoos of the conformance suite: which models, how to build them, at what sizes.

Every torchvision classification model is in.

The Swin Transformers (``swin_*``, ``swin_v2_*``) are in: their window partition folds
windows into the batch axis (``(B*nW, N, C)``, per sample a ``(nW, N, C)`` tensor), the
padding to whole windows pads a channels-last tensor, and the shifted-window mask is built
from sizes in forward.  They shift windows only where the last stage's map is larger than a
window (``if window_size[0] >= pad_H``): convsym follows the branch large inputs take and
keeps its test as a condition (``H, W >= 228``; V2, with windows of 8: ``>= 260``), so they
are compared at :data:`WINDOWED_SIZES` instead of 224 (a fixed-size import at 224 follows
the other branch and is exact too).  MaxViT is in: its partition keeps the batch axis, and
its relative-position attention is written with ``torch.einsum``.

The Vision Transformers (``vit_*``) are in: their ``torch._assert`` on the image size is a
condition of the network, the class token is joined with ``torch.cat`` and
``nn.MultiheadAttention`` is a row.
ConvNeXt, RegNet, EfficientNet, MNASNet, ShuffleNetV2, Inception, GoogLeNet, DenseNet and the
rest are all in.  Weights are never downloaded (``weights=None``).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

EXCLUDED_PREFIXES: dict[str, str] = {}
"""torchvision classification models left out, by name prefix, with the reason (none now)."""

WINDOWED = ("swin_",)
WINDOWED_SIZES = ((288, 288), (289, 353))
"""Where the Swin Transformers are compared (their shifted windows need H, W >= 260; see the
module docstring): a square size and an odd, non-square one."""

TIMM = ("resnet18", "resnext26ts", "efficientnet_b0", "mobilenetv3_large_100", "regnetx_002",
        "convnext_atto", "densenet121", "dla34", "dpn68", "hrnet_w18_small", "cspresnet50",
        "ghostnet_100", "rexnet_100", "res2net50_26w_4s", "mixnet_s", "ese_vovnet19b_dw",
        "selecsls42b",
        # what their forwards do beyond the 17 above: TF "same" padding computed with
        # math.ceil(x / s) (Conv2dSame), weights computed in forward (ScaledStdConv2d with a
        # 0-d skip gain; BlurPool2d from a buffer), a forward set on the instance
        # (Partial_conv3), addcmul (global response norm), a space-to-depth view that fits
        # only multiples of 4
        "tf_efficientnet_b0", "nf_resnet26", "resnetblur18", "fasternet_t0",
        "convnextv2_atto", "tresnet_m",
        # vision transformers and hybrids: an assert on the image size, a class token joined
        # with torch.cat, attention's qkv permute that moves the batch axis, a position
        # embedding broadcast over the tokens
        "vit_small_patch16_224", "pvt_v2_b0", "efficientformer_l1", "twins_pcpvt_small",
        # window attention: windows folded into the batch axis ((B*nW, N, C)), padding of
        # channels-last maps, F.scaled_dot_product_attention with a position bias as its mask
        "davit_tiny", "coatnet_0_rw_224", "maxvit_tiny_tf_224",
        # class tokens beyond torch.cat: PiT reads the expanded token's .shape, CaiT adds
        # attention to it, ConViT expands a buffer into an nn.Linear; SwiftFormer multiplies
        # by a parameter matrix (query @ self.w_g)
        "pit_xs_224", "cait_xxs24_224", "convit_tiny", "swiftformer_xs",
        # a per-image query repeated for each window (repeat_interleave over the batch axis);
        # exact at 224 x 224, and refused with PyTorch where the windows do not fit
        "gcvit_xxtiny",
        # a position-bias MLP run once by the model (not by a block) and read as every
        # block's attention mask: its parameters counted in the model, not in the first block
        "vit_srelpos_small_patch16_224",
        # the batch merged with per-sample axes: LeViT's BatchNorm1d on x.flatten(0, 1) of
        # (B, N, C) tokens, viewed back with reshape_as; Hiera's unroll of strided patches
        # into the batch (flatten(0, 2), twice) until reshape(-1, N, C). Both are built for
        # 224 x 224 (a fixed attention bias, a fixed position embedding) and refused with
        # PyTorch at other sizes
        "levit_128s", "hiera_tiny_224",
        # position encodings made in forward from the feature map's size: torch.arange(1, H + 1)
        # and ~torch.zeros((B, H, W)).cumsum(1) through slices, sin / cos, stack, flatten and
        # cat into a 1 x 1 convolution (XCiT: on a batch of one, then repeated over the batch)
        "xcit_nano_12_p8_224", "edgenext_xx_small")
"""40 timm architectures, the smallest common variant of each family: 23 conv nets and 17
vision transformers or hybrids."""

SIZES = ((224, 224), (193, 257))
"""The two input sizes every model runs at (a square one and an odd, non-square one)."""

FALLBACK = ((256, 320), (224, 288))
"""Compared instead of a size the model rejects (convsym and PyTorch alike): DLA and HRNet
add branches whose sizes agree only for H, W multiples of 32, and TResNet's space-to-depth
view needs multiples of 4, so no odd size exists."""

HEAVY_GMACS = 4.0
"""Above this many multiply-accumulates at 224 x 224 (billions, as convsym counts them), the
forwards run on PyTorch's ``meta`` device (its own shape functions, no arithmetic)."""


@dataclass(frozen=True)
class Case:
    """One model of a zoo: its id, how to build it, and the zoo's name."""

    zoo: str
    name: str
    build: Callable[[], Any]
    sizes: tuple[tuple[int, int], ...] = SIZES


def torchvision() -> Any:
    """torchvision, importable on CPU torch (see ``torchvision_shim``)."""
    from torchvision_shim import import_torchvision

    return import_torchvision()


def classification() -> list[Case]:
    tv = torchvision()
    models = tv.models
    names = [n for n in models.list_models(module=models)
             if not n.startswith(tuple(EXCLUDED_PREFIXES))]
    return [Case("torchvision classification", n,
                 lambda n=n: models.get_model(n, weights=None),
                 WINDOWED_SIZES if n.startswith(WINDOWED) else SIZES) for n in names]


def excluded() -> list[str]:
    """The torchvision classification models left out (see the module docstring)."""
    tv = torchvision()
    return [n for n in tv.models.list_models(module=tv.models)
            if n.startswith(tuple(EXCLUDED_PREFIXES))]


def segmentation() -> list[Case]:
    tv = torchvision()
    seg = tv.models.segmentation
    return [Case("torchvision segmentation", n,
                 lambda n=n: tv.models.get_model(n, weights=None, weights_backbone=None))
            for n in tv.models.list_models(module=seg)]


def detection_backbones() -> list[Case]:
    tv = torchvision()
    det = tv.models.detection
    bu = det.backbone_utils

    def fpn(name: str) -> Callable[[], Any]:
        return lambda: bu.resnet_fpn_backbone(backbone_name=name, weights=None,
                                              trainable_layers=5)

    return [
        Case("detection backbones", "resnet50_fpn", fpn("resnet50")),
        Case("detection backbones", "resnet18_fpn", fpn("resnet18")),
        Case("detection backbones", "retinanet_resnet50_fpn.backbone",
             lambda: det.retinanet_resnet50_fpn(weights=None, weights_backbone=None).backbone),
        Case("detection backbones", "mobilenet_v3_large_fpn",
             lambda: bu.mobilenet_backbone(backbone_name="mobilenet_v3_large", weights=None,
                                           fpn=True, trainable_layers=6)),
        # SSD300 needs H, W >= 268 (convsym derives it): 224 must be refused by both
        Case("detection backbones", "ssd300_vgg16.backbone",
             lambda: det.ssd300_vgg16(weights=None, weights_backbone=None).backbone,
             ((224, 224), (300, 300), (271, 333))),
        Case("detection backbones", "ssdlite320_mobilenet_v3_large.backbone",
             lambda: det.ssdlite320_mobilenet_v3_large(weights=None,
                                                       weights_backbone=None).backbone),
    ]


def timm_models() -> list[Case]:
    torchvision()  # timm imports torchvision's feature extraction
    import timm

    return [Case("timm", n, lambda n=n: timm.create_model(n, pretrained=False)) for n in TIMM]


def all_cases() -> list[Case]:
    return [*classification(), *segmentation(), *detection_backbones(), *timm_models()]


@contextlib.contextmanager
def no_init() -> Iterator[None]:
    """Skip weight initialisation while building (values never change a shape)."""
    import torch

    names = [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(torch.nn.init, n) for n in names}
    try:
        for n in names:
            setattr(torch.nn.init, n, lambda tensor, *a, **k: tensor)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # googlenet/inception's init FutureWarning
            yield
    finally:
        for n, f in saved.items():
            setattr(torch.nn.init, n, f)


def build(case: Case) -> Any:
    """The model of ``case``, weights left uninitialised."""
    with no_init():
        return case.build()
