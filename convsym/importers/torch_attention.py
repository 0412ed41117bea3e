"""The tracer's handlers of attention: matrix products (``@``, ``bmm``), ``torch.einsum``,
``F.scaled_dot_product_attention`` (with a fixed or computed mask) and
``nn.MultiheadAttention``.

>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from convsym.importers.torch_module import from_torch
>>> class Attend(torch.nn.Module):
...     def forward(self, x):
...         t = x.flatten(2).transpose(1, 2)
...         return (t @ t.transpose(-2, -1)).softmax(-1) @ t
>>> [(r.name, r.output_shape) for r in from_torch(Attend(), (8, "H", "W")).rows][-2:]
[('matmul', (H*W, H*W)), ('matmul_1', (H*W, 8))]
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from convsym.importers.torch_fixed import FixedTensor
from convsym.importers.torch_table import module_parameters
from convsym.layers.torch_einsum import Einsum
from convsym.layers.torch_tensor import (
    MatMul,
    MatMulFixed,
    MultiheadAttention,
    ScaledDotProductAttention,
)

if TYPE_CHECKING:
    from convsym.importers.torch_trace import Trace


class AttentionOps:
    """The handlers of attention (mixed into :class:`~convsym.importers.torch_trace.Trace`)."""

    def multihead_attention(self: Trace, module: Any, qual: str, args: tuple[Any, ...],
                            kwargs: dict[str, Any]) -> Any:
        """``nn.MultiheadAttention(query, key, value)``: a row of the module (its parameters
        counted once, checked against PyTorch's), and one for the weights when returned."""
        names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                 "average_attn_weights", "is_causal")
        given = dict(zip(names, args))
        given.update(kwargs)
        if given.get("key_padding_mask") is not None or given.get("attn_mask") is not None:
            raise self.fail(f"module {qual!r} (MultiheadAttention) with a mask; convsym "
                            "follows attention without masks")
        qkv: list[Any] = [given.get(n) for n in names[:3]]
        if not all(self.is_tensor(t) for t in qkv):
            raise self.fail(f"module {qual!r} (MultiheadAttention) with a query, key or value "
                            "that is not traced")
        if any(t._cs_folded for t in qkv):
            raise self.fail(f"module {qual!r} (MultiheadAttention) on a tensor whose batch "
                            "axis holds windows folded in", "batch_size")
        if not module.batch_first:  # (L, B, E): the batch moved by a permute, put back first
            qkv = [self.batch_first(t, qual) for t in qkv]
        elif any(t._cs_moved is not None for t in qkv):
            raise self.fail(f"module {qual!r} (MultiheadAttention, batch_first) on a tensor "
                            "whose batch axis a permute moved", "batch_size")
        m = module
        layer = MultiheadAttention(m.embed_dim, m.num_heads, m.kdim, m.vdim,
                                   m.in_proj_bias is not None, m.bias_k is not None,
                                   m.add_zero_attn)
        index = self.b.leaf(module, qual, [t._cs_index for t in qkv], layer=layer)
        inference = self.infer(layer, [t._cs_index for t in qkv])
        self.shapes[index] = inference.shape
        self.inferred[index] = (layer, inference)
        for p in module_parameters(module):
            self.counted.add(id(p))
        out: Any = self.tensor(index)
        if not module.batch_first:
            out = self.permuted(out, [1, 0, 2], "transpose")
        if not given.get("need_weights", True):
            return out, None
        kind = "weights" if given.get("average_attn_weights", True) else "weights_per_head"
        weights = dataclasses.replace(layer, output=kind)
        return out, self.add(weights, "attention_weights", qkv, name=f"{qual}.weights")

    def batch_first(self: Trace, t: Any, qual: str) -> Any:
        """A ``(L, B, E)`` input of a sequence-first layer as ``(B, L, E)``."""
        if t._cs_moved is None or len(t._cs_moved[1]) != 3 or t._cs_moved[1][1] != 0:
            raise self.fail(f"module {qual!r} (MultiheadAttention, batch_first=False) on a "
                            "tensor whose batch axis is not its second", "batch_size")
        parent, dims = t._cs_moved
        return self.permuted(self.tensor(parent), [dims[1], dims[0], dims[2]], "transpose")

    def op_matmul(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``a @ b``, ``torch.matmul``, ``bmm`` of two traced tensors (attention scores)."""
        a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("mat2"))
        if name.strip("_") == "rmatmul":
            a, b = b, a
        x, w = (a, b) if self.is_tensor(a) else (b, a)
        fixed = w is not None and not self.is_tensor(w) and hasattr(w, "shape")
        if w is not None and fixed and self.is_tensor(x) and name.strip("_") in (
                "matmul", "rmatmul"):  # a fixed matrix (SwiftFormer's) or a stack of them
            shape = tuple(int(n) for n in w.shape)
            layer, row = self.holding(w, lambda params: MatMulFixed(shape, params, x is b),
                                      "matmul")
            return self.add(layer, "matmul", [x], name=row)
        if not (self.is_tensor(a) and self.is_tensor(b)):
            raise self.fail(f"{name} with a tensor that is not traced (a parameter or a "
                            "constant); convsym follows products of two traced tensors")
        self.same_fold([a, b], name)
        return self.add(MatMul(), "matmul", [a, b])

    op_bmm = op_rmatmul = op_matmul

    def op_einsum(self: Trace, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``torch.einsum(equation, *tensors)`` of traced tensors (MaxViT's attention)."""
        equation, *operands = args
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        if kwargs or not isinstance(equation, str) or not operands or not all(
                self.is_tensor(t) for t in operands):
            raise self.fail(f"{name} of tensors that are not all traced, or in the sublist "
                            "form; convsym follows einsum('...', *traced tensors)")
        return self.add(Einsum(equation), "einsum", operands)

    def op_scaled_dot_product_attention(self: Trace, name: str, args: list[Any],
                                        kwargs: dict[str, Any]) -> Any:
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale")
        given = dict(zip(names, args))
        given.update(kwargs)
        if given.get("is_causal"):
            raise self.fail(f"{name} with is_causal; convsym follows plain attention")
        if given.get("enable_gqa"):
            raise self.fail(f"{name} with grouped heads (enable_gqa); convsym follows plain "
                            "attention")
        qkv = [given.get(n) for n in names[:3]]
        if not all(self.is_tensor(t) for t in qkv):
            raise self.fail(f"{name} with a query, key or value that is not traced")
        self.same_fold(qkv[:2], name)
        self.same_fold(qkv[1:], name)
        mask = given.get("attn_mask")
        if mask is None:
            return self.add(ScaledDotProductAttention(), "scaled_dot_product_attention", qkv)
        if self.is_tensor(mask) or not isinstance(mask, (torch.Tensor, FixedTensor)):
            raise self.fail(f"{name} with an attention mask computed from the input (or not "
                            "a tensor); convsym follows a fixed mask (a position bias)")
        shape = self.operand_shape(qkv[0], mask, name)
        layer, row = self.holding(mask, lambda params: ScaledDotProductAttention(shape,
                                                                                 params),
                                  "scaled_dot_product_attention")
        return self.add(layer, "scaled_dot_product_attention", qkv, name=row)
