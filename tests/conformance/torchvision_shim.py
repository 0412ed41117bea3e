"""Make ``import torchvision`` work with a CUDA build of torchvision on CPU-only torch.

torchvision 0.28.0 pairs with torch 2.13 but is published only as a CUDA build.  Installed
with ``--no-deps`` its compiled operators (``_C.so``) fail to load on CPU torch, and
``import torchvision`` stops at ``torchvision/_meta_registrations.py``, which registers fake
kernels for operators that were never defined.  The model code (``torchvision.models``) is pure
Python and never calls those operators for classification, segmentation or backbones, so
declaring the operator *schemas* (no kernels) with ``torch.library`` is enough to import it.
Calling one of these operators still fails loudly ("no kernel"), which is what we want.

Test support only: the convsym package never imports torchvision.
"""

from __future__ import annotations

import functools
from typing import Any

# the schemas of torchvision 0.28's C++ operators (torchvision/csrc/ops/*.cpp, as registered
# with TORCH_LIBRARY_FRAGMENT(torchvision, m)); the backward ones are named by the autograd
# registrations that torchvision/_meta_registrations.py also touches
SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor",
    "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, SymInt width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "qroi_align(Tensor input, Tensor rois, float input_scale, int input_zero_point, "
    "float rois_scale, int rois_zero_point, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor",
    "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, int sampling_ratio) -> (Tensor, Tensor)",
    "_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
    "float spatial_scale, SymInt pooled_height, SymInt pooled_width, int sampling_ratio, "
    "SymInt batch_size, SymInt channels, SymInt height, SymInt width) -> Tensor",
    "roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width) -> (Tensor, Tensor)",
    "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, "
    "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, "
    "SymInt height, SymInt width) -> Tensor",
    "ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width) -> (Tensor, Tensor)",
    "_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
    "float spatial_scale, SymInt pooled_height, SymInt pooled_width, SymInt batch_size, "
    "SymInt channels, SymInt height, SymInt width) -> Tensor",
    "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
    "SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
    "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) -> Tensor",
    "_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, "
    "Tensor mask, Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, "
    "SymInt dilation_h, SymInt dilation_w, SymInt groups, SymInt offset_groups, "
    "bool use_mask) -> (Tensor, Tensor, Tensor, Tensor, Tensor)",
    "box_iou_rotated(Tensor boxes1, Tensor boxes2) -> Tensor",
)

_LIBRARY: list[Any] = []  # keeps the Library alive (dropping it unregisters the schemas)


@functools.lru_cache(maxsize=1)
def import_torchvision() -> Any:
    """``import torchvision``, declaring its C++ operator schemas first when they are missing."""
    import torch

    if not hasattr(torch.ops, "torchvision") or not _defined("nms"):
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for schema in SCHEMAS:
            name = schema.split("(", 1)[0]
            if not _defined(name):
                lib.define(schema)
        _LIBRARY.append(lib)
    import torchvision

    return torchvision


def _defined(name: str) -> bool:
    import torch

    try:
        torch._C._get_schema(f"torchvision::{name}", "")
    except RuntimeError:  # "operator torchvision::nms does not exist"
        return False
    return True
