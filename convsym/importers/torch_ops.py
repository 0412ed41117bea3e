"""Tensor operations of PyTorch forward code as convsym layers: merges, views, functional layers.

``F.max_pool2d(x, 2)`` is the layer ``MaxPool2d(2)``; ``a + b`` is an element-wise merge and
``torch.cat`` a concatenation; ``x.view(-1, N)`` is a :class:`View`, which flattens and keeps
the condition that one sample has exactly ``N`` elements (otherwise torch silently changes
the batch size).  No torch import here: functions are recognised by name and module.

>>> from convsym.intdiv import QPoly, to_sympy
>>> out = View(400).infer([(QPoly.const(16), QPoly.const(5), QPoly.const(5))])
>>> [to_sympy(s) for s in out.shape]
[400]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from convsym.errors import LayerError
from convsym.intdiv import to_sympy
from convsym.layers import torch as T
from convsym.layers.agree import require_equal
from convsym.layers.base import Inference, Layer, Shape, to_size
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.layers.reshape import element_count


@layer_class
class View(TorchLayer):
    """``x.view(-1, features)`` / ``x.view(x.size(0), features)``: one sample must hold
    exactly ``features`` elements (else the batch axis silently changes size)."""

    features: Any

    def infer_one(self, shape: Shape) -> Inference:
        """Flatten and require the element count to be ``features``."""
        total = element_count(self, shape)
        features = to_size(self, "features", self.features)
        conditions = require_equal(
            self, "features", total, features,
            rule="view(-1, N) keeps the batch only when one sample has N elements",
            what=f"one sample has {_t(total)} elements, not {_t(features)}")
        return Inference((features,), [], conditions)


def _t(e: Any) -> str:
    return str(to_sympy(e))


MERGES = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "Divide",
          "concatenate": "Concat"}
"""Tensor arithmetic and ``torch.cat`` to the convsym merge layer of that name."""


def merge_layer(kind: str, *, dim: int | None = None) -> Layer | str:
    """The merge layer for ``a + b`` (kind ``"add"``) etc., or why there is none."""
    name = MERGES[kind]
    cls: Any = T.LAYERS.get(name)
    if cls is None:
        return f"convsym has no PyTorch {name} merge"
    if kind == "concatenate":
        # torch dims count the batch axis; convsym shapes do not
        made: Layer = cls(dim=dim) if "dim" in _fields(cls) else cls(axis=dim)
        return made
    plain: Layer = cls()
    return plain


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


_POOL_ARGS = {
    "max": ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
    "avg": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
            "divisor_override"),
    "adaptive": ("output_size", "return_indices"),
}


class FunctionalLayers:
    """Recognise ``torch.nn.functional`` calls that are layers and build those layers."""

    def from_function(self, fn: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
                      ) -> Layer | str | None:
        """The layer for ``fn(x, *args, **kwargs)``, a refusal reason, or None if unknown."""
        name = getattr(fn, "__name__", "")
        module = getattr(fn, "__module__", "") or ""
        if not module.startswith("torch"):
            return None
        for kind, stem, cls_stem in (("max", "max_pool", "MaxPool"),
                                     ("avg", "avg_pool", "AvgPool"),
                                     ("adaptive", "adaptive_avg_pool", "AdaptiveAvgPool"),
                                     ("adaptive", "adaptive_max_pool", "AdaptiveMaxPool")):
            for rank in (1, 2, 3):
                if name in (f"{stem}{rank}d", f"_{stem}{rank}d",
                            f"{stem}{rank}d_with_indices"):
                    return self._build(f"{cls_stem}{rank}d", _POOL_ARGS[kind], args, kwargs)
        return None

    def from_method(self, method: str, args: Sequence[Any], kwargs: Mapping[str, Any]
                    ) -> Layer | str | None:
        """The layer for ``x.method(*args)``, a refusal reason, or None if unknown."""
        return None

    def _build(self, cls_name: str, names: Sequence[str], args: Sequence[Any],
               kwargs: Mapping[str, Any]) -> Layer | str:
        cls = T.LAYERS.get(cls_name)
        if cls is None:
            return f"convsym has no PyTorch {cls_name}"
        if len(args) > len(names):
            return f"{cls_name} takes at most {len(names)} arguments after the tensor"
        given = dict(zip(names, args))
        given.update(kwargs)
        if given.get("return_indices"):
            return "return_indices=True gives two outputs; convsym follows one"
        given.pop("return_indices", None)
        if any(isinstance(v, list) for v in given.values()):
            given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
        try:
            return cls(**given)
        except LayerError as err:
            return str(err)


__all__ = ["FunctionalLayers", "View", "merge_layer"]
