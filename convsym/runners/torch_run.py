"""Run a concrete PyTorch-dialect network through real PyTorch, module by module.

Each convsym layer becomes the ``torch.nn`` module of the same name built from the layer's
own arguments (convsym's PyTorch layers carry torch's argument names), merges become
``a + b``, ``a * b`` and ``torch.cat``, the importer's ``View`` is ``x.view(-1, N)`` and its
tensor operations (:mod:`convsym.layers.torch_tensor`) are the torch calls they stand for.
Inputs carry a batch of one; a module that changes the batch size is reported as a refusal.

>>> import pytest
>>> _ = pytest.importorskip("torch")
>>> from convsym import Sequential
>>> from convsym.layers.torch import Conv2d
>>> TorchRunner().run(Sequential([Conv2d(3, 4, 3)], input_shape=(3, 8, 8)))[1]
(4, 6, 6)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convsym.layers.base import Layer
from convsym.layers.torch_tensor import TENSOR_OPS
from convsym.runners import Runner, Unsupported, field_values

_SKIP_FIELDS = ("name",)


class TorchRunner(Runner):
    """Apply each layer with real ``torch.nn`` modules (float32, batch of one, eval mode)."""

    name = "torch"
    errors = (RuntimeError, ValueError, IndexError)

    def __init__(self, seed: int = 0) -> None:
        # why: PyTorch is optional (the frameworks extra) and heavy
        import torch

        self.torch = torch
        self.generator = torch.Generator().manual_seed(seed)

    def run(self, net: Any) -> Any:
        """Run without autograd."""
        with self.torch.no_grad():
            return super().run(net)

    def make_input(self, shape: tuple[int, ...], layer: Layer) -> Any:
        """Uniform random data with a batch of one."""
        return self.torch.rand((1, *shape), generator=self.generator)

    def shape_of(self, value: Any) -> tuple[int, ...]:
        """The shape without the batch axis (which must still be 1)."""
        if value.shape[0] != 1:
            raise ValueError(f"the batch axis became {value.shape[0]}")
        return tuple(int(s) for s in value.shape[1:])

    def apply(self, layer: Layer, args: Sequence[Any], dialect: str) -> Any:
        """Build the module and call it."""
        name = layer.type_name
        lay: Any = layer
        torch = self.torch
        if name == "Add":
            return _fold(args, torch.add)
        if name == "Multiply":
            return _fold(args, torch.mul)
        if name == "Subtract":
            return torch.sub(*args)
        if name == "Divide":
            return torch.div(*args)
        if name == "Concat":
            return torch.cat(list(args), dim=lay.dim)
        if type(layer).__name__ == "Stack":
            return torch.stack(list(args), dim=lay.dim)
        if name == "MatMul":
            return torch.matmul(*args)
        if name == "Einsum":
            return torch.einsum(lay.equation, *args)
        if name == "InPlace":  # (PyTorch's own check: the result may not grow)
            return getattr(args[0].clone(), _IN_PLACE[lay.op])(args[1])
        if name == "ScaledDotProductAttention":
            mask = None if lay.mask is None else torch.zeros(_plain(tuple(lay.mask)))
            return torch.nn.functional.scaled_dot_product_attention(*args, attn_mask=mask)
        if name == "MultiheadAttention":
            module = torch.nn.MultiheadAttention(
                lay.embed_dim, lay.num_heads, bias=lay.bias, add_bias_kv=lay.add_bias_kv,
                add_zero_attn=lay.add_zero_attn, kdim=lay.kdim, vdim=lay.vdim,
                batch_first=True)
            out, weights = module(*args, average_attn_weights=lay.output == "weights")
            return out if lay.output == "out" else weights
        (x,) = args
        if name == "View":
            return x.view(-1, int(lay.features))

        if type(layer).__name__ in TENSOR_OPS:
            return self.tensor_op(type(layer).__name__, lay, x)
        module = self.module(layer)
        output_size = getattr(lay, "output_size", None)
        if name.startswith("ConvTranspose") and output_size is not None:  # forward(x, output_size)
            return module(x, output_size=[int(v) for v in _plain(tuple(output_size))])
        return module(x)

    def tensor_op(self, kind: str, lay: Any, x: Any) -> Any:
        """A tensor operation of an imported forward, as the torch call it stands for."""
        torch = self.torch
        if kind == "Permute":
            return x.permute(*lay.dims)
        if kind == "Reshape":
            return x.reshape(1, *_plain(tuple(lay.shape)))
        if kind == "Slice":
            cut = slice(_plain(lay.start), _plain(lay.stop), _plain(lay.step))
            return x[(slice(None),) * lay.dim + (cut,)]
        if kind == "Narrow":
            return x.narrow(lay.dim, _plain(lay.start), _plain(lay.length))
        if kind == "Select":
            return x.select(lay.dim, lay.index)
        if kind == "Require":  # a condition on sizes: the tensor passes unchanged
            return x
        if kind == "BatchExpanded":  # (the input gives the batch size only)
            shape = _plain(tuple(lay.shape))
            return torch.ones(1, *shape).expand(x.shape[0], *shape)
        if kind == "MatMulFixed":
            w = torch.ones(_plain(tuple(lay.operand_shape)))
            return torch.matmul(w, x) if lay.left else torch.matmul(x, w)
        if kind == "Gather":  # (the extreme indices: PyTorch's own range check)
            index = torch.full((int(_plain(lay.count)),), int(lay.lowest))
            index[-1] = int(lay.highest)
            return x[(slice(None),) * lay.dim + (index,)]
        if kind == "Repeat":
            return x.repeat(1, *_plain(tuple(lay.counts)))
        if kind == "PadAxes":
            return torch.nn.functional.pad(x, _plain(tuple(lay.pads)), value=lay.value)
        if kind == "Unsqueeze":
            return x.unsqueeze(lay.dim)
        if kind == "Expand":
            return x.expand(-1, *_plain(tuple(lay.shape)))
        if kind == "Reduce":
            op = {"max": "amax", "min": "amin"}.get(lay.op, lay.op)
            dims = tuple(lay.dim) if isinstance(lay.dim, (list, tuple)) else lay.dim
            return getattr(torch, op)(x, dim=dims, keepdim=lay.keepdim)
        if kind == "TensorOperand":
            operand = torch.ones(_plain(tuple(lay.operand_shape)))
            if lay.inplace:
                return getattr(x.clone(), _IN_PLACE[lay.op])(operand)
            ops = {"add": torch.add, "subtract": torch.sub, "multiply": torch.mul,
                   "divide": torch.div, "power": torch.pow}
            return ops[lay.op](x, operand)
        raise Unsupported(f"no torch call for {kind}")

    def module(self, layer: Layer) -> Any:
        """The ``torch.nn`` module for a convsym PyTorch layer."""
        name = layer.type_name
        nn = self.torch.nn
        cls = getattr(nn, name, None)
        if not isinstance(cls, type) or not issubclass(cls, nn.Module):
            raise Unsupported(f"torch.nn has no module {name}")
        # a transposed convolution's output_size is an argument of forward, not __init__
        skip = (*_SKIP_FIELDS, "output_size") if name.startswith("ConvTranspose") else \
            _SKIP_FIELDS
        kwargs = {} if type(layer).__name__ == "Elementwise" else \
            field_values(layer, skip=skip)
        try:
            module = cls(**{k: _plain(v) for k, v in kwargs.items()})
        except TypeError as err:
            raise Unsupported(f"cannot build torch.nn.{name}: {err}") from None
        return module.eval()


_IN_PLACE = {"add": "add_", "subtract": "sub_", "multiply": "mul_", "divide": "div_",
             "power": "pow_"}
"""The in-place tensor methods of ``InPlace`` and an in-place ``TensorOperand``."""


def _fold(args: Sequence[Any], op: Any) -> Any:
    out = args[0]
    for a in args[1:]:
        out = op(out, a)
    return out


def _plain(value: Any) -> Any:
    """SymPy integers (from a substituted network) to ints; tuples stay tuples."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if hasattr(value, "is_Integer") and value.is_Integer:
        return int(value)
    return value


__all__ = ["TorchRunner"]
