"""Tensors made in forward from the input's sizes (position encodings), against PyTorch itself.

``torch.arange(H)``, ``torch.zeros((B, H, W))``, ``torch.linspace(-1, 1, steps=W)`` at a size
read from the input: each small module below builds a position encoding as XCiT, EdgeNeXt,
sine-cosine and rotary ViTs do, and convsym's shapes (symbolic then instantiated, and imported
at fixed sizes) must equal the real forward's at every size (batch 2, every module call's
output included), the parameters PyTorch's.  What cannot be followed soundly is refused.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import test_torch_windows as windows  # noqa: E402

from convsym.errors import SpecError  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402

pytestmark = pytest.mark.frameworks

SIZES = [(32, 32), (37, 53), (72, 16)]


def check(module: Any) -> Any:
    """convsym equals PyTorch at every size: outputs, every module call, parameters."""
    net = windows.check(module, channels=3, sizes=SIZES)
    for h, w in SIZES:
        assert net.accepts(H=h, W=w)
    return net


class Fourier(nn.Module):
    """XCiT's ``PositionalEncodingFourier``: arange of the grid, repeat, slices, stack,
    flatten, cat, a 1 x 1 convolution on the (1, 64, H, W) encoding, repeated over the batch."""

    def __init__(self, dim: int = 16, hidden: int = 32) -> None:
        super().__init__()
        self.proj = nn.Conv2d(2 * hidden, dim, 1)
        self.hidden = hidden

    def forward(self, B: Any, H: Any, W: Any) -> Any:
        y = torch.arange(1, H + 1).to(torch.float32).unsqueeze(1).repeat(1, 1, W)
        x = torch.arange(1, W + 1).to(torch.float32).repeat(1, H, 1)
        y = y / (y[:, -1:, :] + 1e-6) * 2 * math.pi
        x = x / (x[:, :, -1:] + 1e-6) * 2 * math.pi
        d = torch.arange(self.hidden).to(torch.float32)
        d = 10000 ** (2 * torch.div(d, 2, rounding_mode="floor") / self.hidden)
        px, py = x[:, :, :, None] / d, y[:, :, :, None] / d
        px = torch.stack([px[:, :, :, 0::2].sin(), px[:, :, :, 1::2].cos()], dim=4).flatten(3)
        py = torch.stack([py[:, :, :, 0::2].sin(), py[:, :, :, 1::2].cos()], dim=4).flatten(3)
        pos = torch.cat((py, px), dim=3).permute(0, 3, 1, 2)
        return self.proj(pos.to(torch.float32)).repeat(B, 1, 1, 1)


class XCiTLike(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 4, stride=4)
        self.pos = Fourier()

    def forward(self, x: Any) -> Any:
        x = self.stem(x)
        B, C, H, W = x.shape
        return x + self.pos(B, H, W)


class EdgeNeXtLike(nn.Module):
    """EdgeNeXt's encoding: ``~torch.zeros((B, H, W))`` (the batch first), cumsum, slices."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 4, stride=4)
        self.proj = nn.Conv2d(32, 16, 1)

    def forward(self, x: Any) -> Any:
        x = self.stem(x)
        B, C, H, W = x.shape
        inv = ~torch.zeros((B, H, W)).to(dtype=torch.bool)
        y, z = inv.cumsum(1, dtype=torch.float32), inv.cumsum(2, dtype=torch.float32)
        y = y / (y[:, -1:, :] + 1e-6)
        z = z / (z[:, :, -1:] + 1e-6)
        d = torch.arange(16, dtype=torch.int64).to(torch.float32)
        pos = torch.cat((y[:, :, :, None] / d, z[:, :, :, None] / d), dim=3)
        return x + self.proj(pos.permute(0, 3, 1, 2))


class SinCos(nn.Module):
    """A 2-d sine-cosine embedding of the token grid (meshgrid, outer, linspace, a float
    start), added to the tokens as a fixed operand."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 8, stride=8)

    def forward(self, x: Any) -> Any:
        t = self.patch(x).flatten(2).transpose(1, 2)  # (B, N, 8)
        h, w = x.shape[2] // 8, x.shape[3] // 8
        ys = (torch.arange(0.5, h) + 0.0) / 4
        xs = torch.linspace(-1.0, 1.0, steps=w)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        omega = 1.0 / 10000 ** (torch.arange(2) / 2.0)
        oy, ox = torch.outer(gy.flatten(), omega), torch.outer(gx.flatten(), omega)
        pos = torch.cat([oy.sin(), oy.cos(), ox.sin(), ox.cos()], dim=1)  # (N, 8)
        return t + pos


class GridTokens(nn.Module):
    """Gemma 4's patch coordinates: meshgrid of two aranges, stacked, expanded over the
    batch; and ``torch.ones(B, N)`` (a batch-first factory) broadcast onto the tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 8, stride=8)
        self.coord = nn.Linear(2, 8)

    def forward(self, x: Any) -> Any:
        t = self.patch(x)
        B, _, ph, pw = t.shape
        gy, gx = torch.meshgrid(torch.arange(ph), torch.arange(pw), indexing="ij")
        coord = torch.stack([gy.flatten(), gx.flatten()], dim=-1).float()
        coord = coord.unsqueeze(0).expand(B, -1, -1)
        valid = torch.ones(B, ph * pw)
        return t.flatten(2).transpose(1, 2) + self.coord(coord) * valid.unsqueeze(-1)


class Stepped(nn.Module):
    """``torch.arange(0, W, 3)`` (``ceil(W / 3)`` entries) and a full tensor at ``H // 2``."""

    def forward(self, x: Any) -> Any:
        H, W = x.shape[2:]
        cols = torch.arange(0, W, 3).float()
        rows = torch.full(((H + 1) // 2, 1), 2.0)
        return x[:, :, ::2, ::3] * (rows + cols)


@pytest.mark.parametrize("module", [XCiTLike(), EdgeNeXtLike(), SinCos(), GridTokens(),
                                    Stepped()],
                         ids=["xcit", "edgenext", "sincos", "grid", "stepped"])
def test_position_encodings_made_from_sizes_are_exact(module: Any) -> None:
    check(module)


def test_a_layer_on_an_encoding_is_a_row_counted_per_sample() -> None:
    net = check(XCiTLike())
    rows = {r.name: r for r in net.rows}
    assert type(rows["pos.fixed_input"].layer).__name__ == "BatchExpanded"
    assert rows["pos.proj"].params == 64 * 16 + 16
    assert "pos.proj" in net.module_outputs  # (compared with PyTorch's call by check)


MISUSES: dict[str, Any] = {
    "batch_arange": lambda m, x, B, H, W: x + torch.arange(B).view(-1, 1, 1, 1),
    "batch_inside": lambda m, x, B, H, W: x + torch.zeros((H, B)),
    "batch_alone": lambda m, x, B, H, W: x + torch.ones(B),
    "reversed": lambda m, x, B, H, W: x + torch.arange(H + 1, 1),
    "float_step": lambda m, x, B, H, W: x + torch.arange(0, W, 0.5),
    "parameter": lambda m, x, B, H, W: x + torch.arange(W) * m.gain,
    "layer_first_axis": lambda m, x, B, H, W: x + m.proj(torch.zeros(2, 2, H, W)),
    "layer_output_used": lambda m, x, B, H, W: x + m.proj(torch.zeros(1, 2, H, W)) * 2,
    "layer_output_returned": lambda m, x, B, H, W: m.proj(torch.zeros(1, 2, H, W)),
    "index_tensor": lambda m, x, B, H, W: x + torch.arange(W)[torch.arange(2)],
    "not_broadcast": lambda m, x, B, H, W: x + (torch.arange(W) + torch.arange(H)),
    "cumsum_batch": lambda m, x, B, H, W: x.cumsum(0),
}
"""Forwards that make a tensor from sizes and use it where convsym cannot follow soundly."""


class Misused(nn.Module):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.proj = nn.Conv2d(2, 3, 1)
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x: Any) -> Any:
        B, _, H, W = x.shape
        return MISUSES[self.what](self, x, B, H, W)


@pytest.mark.parametrize(("what", "message"), [
    ("batch_arange", "torch.arange over the batch size"),
    ("batch_inside", "computed from the batch size (batch_size_) other than as its first"),
    ("batch_alone", "computed from the batch size (batch_size_) other than as its first"),
    ("reversed", "end is not below its start (PyTorch refuses it): 1 >= H + 1 never holds"),
    ("float_step", "convsym follows an integer end and a positive integer step"),
    ("parameter", "arithmetic with a tensor computed from parameters"),
    ("layer_first_axis", "whose first axis is 1"),
    ("layer_output_used", "layer's output on a tensor made from symbolic sizes"),
    ("layer_output_returned", "whose batch axis is 1"),
    ("index_tensor", "slices, ints and None only"),
    ("not_broadcast", "do not provably broadcast"),
    ("cumsum_batch", "cumsum along dim 0 of a rank-4 tensor (the batch axis"),
])
def test_tensors_made_from_sizes_are_refused_where_unsafe(what: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        from_torch(Misused(what).eval(), (3, "H", "W"))


def test_factories_are_torch_s_own_again_after_the_import() -> None:
    arange, zeros = torch.arange, torch.zeros
    from_torch(Stepped().eval(), (3, "H", "W"))
    assert torch.arange is arange and torch.zeros is zeros
    assert tuple(torch.arange(1, 5).shape) == (4,)


def test_a_slice_bound_that_may_leave_the_axis_is_a_condition_of_the_network() -> None:
    class LastRow(nn.Module):
        def forward(self, x: Any) -> Any:
            H, W = x.shape[2] // 4, x.shape[3]
            y = torch.arange(H).unsqueeze(1).repeat(1, W).float()
            return x[:, :, :1, :] + y[-1:]  # (H // 4 - 1 clamped: PyTorch's (0, W) at H < 4)

    module = LastRow().eval()
    net = from_torch(module, (3, "H", "W"))
    assert not net.accepts(H=3, W=5)  # (kept out rather than followed into an empty tensor)
    assert net.accepts(H=4, W=5)
    assert net.subs(H=9, W=5).output_shape == tuple(module(torch.randn(2, 3, 9, 5)).shape[1:])


class TableLookup(nn.Module):
    """Gemma 4's position embedding: coordinates flipped, one-hot over a table's rows, times
    the ``(2, positions, dim)`` table (a stack of matrices), summed over the two axes."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(2, 4, 6))

    def forward(self, x: Any) -> Any:
        idx = (x[:, :2] > 0).long().flip(dims=(1,))  # (B, 2, H, W), values 0 or 1
        hot = torch.nn.functional.one_hot(idx, num_classes=4).flatten(2, 3)  # (B, 2, HW, 4)
        return (hot.to(self.table) @ self.table).sum(dim=1)  # (B, HW, 6)


def test_one_hot_times_a_stack_of_matrices_is_exact() -> None:
    net = check(TableLookup())
    assert net.total_params == 48


LOOKUPS: dict[str, Any] = {
    "no_classes": lambda m, x: torch.nn.functional.one_hot((x > 0).long()),
    "reaches_batch": lambda m, x: x.flatten(2).transpose(1, 2)[..., :4] @ m.table,
}


class LookupMisused(TableLookup):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def forward(self, x: Any) -> Any:
        return LOOKUPS[self.what](self, x)


@pytest.mark.parametrize(("what", "message"), [
    ("no_classes", "the new axis's size is the largest value plus one"),
    ("reaches_batch", "fewer axes than it (without the batch, which it may not reach)"),
])
def test_lookups_convsym_cannot_follow_are_refused(what: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        from_torch(LookupMisused(what).eval(), (3, "H", "W"))


class RmsNormed(nn.Module):
    """Gemma 4's and DeepSeek-ViT's norms: ``nn.RMSNorm`` and ``F.rms_norm`` with a weight
    (timm's ``RmsNorm``), and one without."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, 8, 8, stride=8)
        self.norm = nn.RMSNorm(8)
        self.weight = nn.Parameter(torch.ones(8))

    def forward(self, x: Any) -> Any:
        t = self.norm(self.patch(x).flatten(2).transpose(1, 2))
        t = torch.nn.functional.rms_norm(t, (8,), self.weight, 1e-6)
        return torch.nn.functional.rms_norm(t, t.shape[-1:])


def test_rms_norms_count_their_weights() -> None:
    net = check(RmsNormed())
    assert [r.params for r in net.rows if "rms" in r.name or r.name == "norm"] == [8, 8, 0]


@pytest.mark.parametrize("runner", ["torch", "numpy"])
@pytest.mark.parametrize("module", [XCiTLike(), EdgeNeXtLike(), SinCos(), GridTokens(),
                                    Stepped(), TableLookup(), RmsNormed()],
                         ids=lambda m: type(m).__name__)
def test_imported_rows_replay(module: Any, runner: str) -> None:
    """The rows (BatchExpanded encodings, one-hot, products with a stack of matrices), rebuilt
    as torch calls or in the NumPy reference, give the shapes convsym computed."""
    from convsym.intdiv import to_sympy
    from convsym.runners.numpy_ref import NumpyRunner
    from convsym.runners.torch_run import TorchRunner

    net = from_torch(module.eval(), (3, "H", "W")).subs(H=37, W=53)
    outcomes = (TorchRunner() if runner == "torch" else NumpyRunner()).run(net)
    assert len(outcomes) == len(net.nodes)
    for index, shape in outcomes.items():
        assert shape == tuple(int(to_sympy(s)) for s in net.shapes[index]), net.nodes[index]


class SymbolicBounds(nn.Module):
    """Slices of a tensor made from sizes by bounds that are sizes: ``-(W // 2 + 1)`` counts
    from the end, as PyTorch does; ``torch.pow`` with the larger operand given by keyword."""

    def forward(self, x: Any) -> Any:
        H, W = x.shape[2:]
        k = W // 2 + 1
        tail = torch.arange(W).float()[-k:]  # the last W // 2 + 1 (k is never 0)
        grid = torch.pow(torch.ones(1, k), exponent=torch.zeros(H, 1))  # (H, k)
        return x[:, :, :1, W - k:] + tail * grid  # (B, 3, H, k): H from the keyword


def test_size_bounds_and_keyword_operands_are_exact() -> None:
    check(SymbolicBounds())


def test_an_rms_norm_over_a_size_that_may_be_zero_is_refused() -> None:
    class OverTokens(nn.Module):
        def forward(self, x: Any) -> Any:
            t = torch.nn.functional.avg_pool2d(x, 8).flatten(2)  # H // 8 * (W // 8) tokens
            return torch.nn.functional.rms_norm(t, t.shape[-1:])

    with pytest.raises(SpecError, match="rms_norm: RMSNorm: normalized_shape"):
        from_torch(OverTokens().eval(), (3, "H", "W"))
