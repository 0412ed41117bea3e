"""Windows folded into the batch axis (Swin-style attention), against PyTorch itself.

A tensor whose torch dim 0 is ``batch * F`` is per sample the tensor ``(F, d1, ...)``: each
small module below partitions a channels-last map into windows (``(B*nW, N, C)``), runs
attention on the windows and puts them back; convsym's shapes (symbolic, instantiated, and
imported at fixed sizes) must equal the real forward's at every size, batch 2, every module
call's output included.  Everything convsym cannot map soundly is refused with one line.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from fold_check import SIZES, check, pad_to, partition, refused, replays  # noqa: E402

from convsym.errors import ConvsymError, SpecError  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402

pytestmark = pytest.mark.frameworks

class WindowAttention(nn.Module):
    """Attention on (B*nW, N, C) windows, written as torchvision's Swin writes it."""

    def __init__(self, dim: int = 8, heads: int = 2, ws: int = 4) -> None:
        super().__init__()
        self.ws, self.heads = ws, heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.table = nn.Parameter(torch.randn((2 * ws - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws),
                                            indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (ws - 1)
        self.register_buffer("index", (rel[..., 0] * (2 * ws - 1) + rel[..., 1]).flatten())

    def forward(self, x: Any) -> Any:
        ws, heads = self.ws, self.heads
        B, H, W, C = x.shape
        x, pH, pW, nw = partition(x, ws)
        qkv = self.qkv(x).reshape(x.size(0), x.size(1), 3, heads, C // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * 0.5) @ k.transpose(-2, -1)
        bias = self.table[self.index].view(ws * ws, ws * ws, -1).permute(2, 0, 1)
        attn = F.softmax(attn + bias.unsqueeze(0), dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(x.size(0), x.size(1), C)
        x = F.dropout(self.proj(x), 0.1, self.training)
        x = x.view(B, pH // ws, pW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
        x = torch.roll(x.reshape(B, pH, pW, C), shifts=(1, 1), dims=(1, 2))
        return x[:, :H, :W, :].contiguous()


class Block(nn.Module):
    """A channels-last block around the window attention, as the model calls it."""

    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(8)
        self.attn = attn

    def forward(self, x: Any) -> Any:
        x = x.permute(0, 2, 3, 1)
        x = x + self.attn(self.norm(x))
        return x.permute(0, 3, 1, 2)


class TimmWindows(nn.Module):
    """timm's way: view(-1, ws, ws, C) folds, view(-1, H//ws, W//ws, ...) unfolds, an
    nn.Module on the windows (whose output is folded), unbind(0) of the moved qkv."""

    def __init__(self, ws: int = 4) -> None:
        super().__init__()
        self.ws = ws
        self.qkv = nn.Linear(8, 24)
        self.act = nn.GELU()

    def forward(self, x: Any) -> Any:
        ws = self.ws
        x = x.permute(0, 2, 3, 1)
        B, H, W, C = x.shape
        x = F.pad(x, (0, 0, 0, pad_to(W, ws), 0, pad_to(H, ws)))
        _, pH, pW, _ = x.shape
        w = x.view(B, pH // ws, ws, pW // ws, ws, C).permute(0, 1, 3, 2, 4, 5).contiguous()
        w = w.view(-1, ws, ws, C).view(-1, ws * ws, C)
        B_, N, _ = w.shape
        q, k, v = self.act(self.qkv(w)).reshape(B_, N, 3, 2, -1).permute(2, 0, 3, 1, 4).unbind(0)
        w = (q @ k.transpose(-2, -1)).softmax(-1) @ v
        w = w.transpose(1, 2).reshape(B_, N, -1).view(-1, ws, ws, C)
        x = w.view(-1, pH // ws, pW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
        x = x.contiguous().view(-1, pH, pW, C)[:, :H, :W]
        return x.permute(0, 3, 1, 2)


class MaskedWindows(nn.Module):
    """torchvision's shifted-window mask: made with x.new_zeros at the padded size, filled
    by slice assignment, added over the windows after an unfold to (B, nW, heads, N, N)."""

    def __init__(self, ws: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.ws, self.heads = ws, heads
        self.qkv = nn.Linear(8, 24)

    def forward(self, x: Any) -> Any:
        ws, heads = self.ws, self.heads
        B, H, W, C = x.shape
        x, pH, pW, nw = partition(x, ws)
        qkv = self.qkv(x).reshape(x.size(0), x.size(1), 3, heads, C // heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        attn = qkv[0] @ qkv[1].transpose(-2, -1)
        mask = x.new_zeros((pH, pW))
        mask[-2:, :] = 1
        mask[:, -2:] += 2
        mask = mask.view(pH // ws, ws, pW // ws, ws).permute(0, 2, 1, 3).reshape(nw, ws * ws)
        mask = mask.unsqueeze(1) - mask.unsqueeze(2)
        mask = mask.masked_fill(mask != 0, -100.0)
        attn = attn.view(x.size(0) // nw, nw, heads, x.size(1), x.size(1))
        attn = attn + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, heads, x.size(1), x.size(1)).softmax(-1)
        x = (attn @ qkv[2]).transpose(1, 2).reshape(x.size(0), x.size(1), C)
        x = x.view(B, pH // ws, pW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(B, pH, pW, C)[:, :H, :W, :]


def test_window_attention_matches_pytorch() -> None:
    from convsym.expr import symbols

    H, W = symbols("H W")
    net = check(Block(WindowAttention()))
    assert net.output_shape == (8, H, W)
    assert any(r.type == "PadAxes" for r in net.rows)
    folded = [net.rows[i] for i in net.folded if i < len(net.rows)]
    assert folded, "the windows are folded rows"
    shapes = {r.name: r.output_shape for r in net.rows}
    for h, w in SIZES:
        windows = shapes["attn.qkv"][0].subs({H: h, W: w})
        assert windows == math.ceil(h / 4) * math.ceil(w / 4)


def test_timm_style_windows_match_pytorch() -> None:
    check(TimmWindows())


def test_the_mask_follows_at_every_size() -> None:
    net = check(Block(MaskedWindows()))
    assert any(r.type == "TensorOperand" and r.params == 0 for r in net.rows)


class CosineWindows(nn.Module):
    """Swin V2's ways: a position bias computed by a small MLP from a buffer (a module run on
    a fixed tensor, its parameters counted where the bias is read), a cosine attention
    scaled by a clamped parameter, and a qkv bias cloned and partly zeroed in forward."""

    def __init__(self, ws: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.ws, self.heads = ws, heads
        self.qkv = nn.Linear(8, 24)
        self.logit_scale = nn.Parameter(torch.ones(heads, 1, 1))
        self.mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, heads))
        self.register_buffer("coords", torch.randn(ws * ws, ws * ws, 2))

    def forward(self, x: Any) -> Any:
        ws, heads = self.ws, self.heads
        B, H, W, C = x.shape
        x, pH, pW, nw = partition(x, ws)
        bias = self.qkv.bias.clone()
        bias[8:16].zero_()
        qkv = F.linear(x, self.qkv.weight, bias).reshape(x.size(0), x.size(1), 3, heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        attn = attn * torch.clamp(self.logit_scale, max=4.0).exp()
        attn = attn + 16 * torch.sigmoid(self.mlp(self.coords).permute(2, 0, 1))
        x = (attn.softmax(-1) @ v).transpose(1, 2).reshape(x.size(0), x.size(1), C)
        x = x.view(B, pH // ws, pW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(B, pH, pW, C)[:, :H, :W, :]


def test_swin_v2_constructs_match_pytorch() -> None:
    net = check(Block(CosineWindows()))
    assert net.fixed_calls == {"attn.mlp", "attn.mlp.0", "attn.mlp.1", "attn.mlp.2"}


@pytest.mark.parametrize("runner", ["torch", "numpy"])
def test_window_rows_replay(runner: str) -> None:
    """The rows (per-sample reshapes, permutes, pads of the folded windows) rebuilt one by
    one as torch calls and in the NumPy reference agree with the import."""
    replays([Block(WindowAttention()), TimmWindows(), Block(MaskedWindows()),
             Block(CosineWindows()), nn.Sequential(Permuted(), FusedWindows()), GlobalQuery()],
            runner)


def _windows(x: Any, ws: int = 4) -> Any:
    """(B, C, H, W), H and W multiples of ws, as (B*nW, ws*ws, C)."""
    B, C, H, W = x.shape
    x = x.permute(0, 2, 3, 1).reshape(B, H // ws, ws, W // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(B * (H // ws) * (W // ws), ws * ws, C)


class Unsafe(nn.Module):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.conv = nn.Conv1d(16, 16, 1)
        self.norm = nn.LayerNorm((16, 16, 8))

    def forward(self, x: Any) -> Any:
        w = _windows(x)
        if self.what == "conv":
            return self.conv(w)
        if self.what == "cat":
            return torch.cat([w, w], 0)
        if self.what == "mean":
            return w.mean(1)
        if self.what == "with_unfolded":
            return w + x.flatten(2).transpose(1, 2)
        if self.what == "other_fold":
            return w @ w.reshape(-1, 8, 8).transpose(1, 2)
        if self.what == "returned":
            return w
        if self.what == "norm_all":
            return self.norm(w)
        if self.what == "batch_arith":
            return w.view(x.size(0) + 1, -1, 8)
        if self.what == "unsqueeze0":
            return w.unsqueeze(0)
        if self.what == "index0":
            return w[0]
        if self.what == "operand":
            return w + torch.ones(4, 16, 8)
        if self.what == "chunk0":
            return w.chunk(2, 0)[0]
        raise AssertionError(self.what)


@pytest.mark.parametrize(("what", "message"), [
    ("conv", "module 'conv' (Conv1d) on a tensor whose batch axis holds windows folded in"),
    ("cat", "cat of a tensor whose batch axis holds windows folded in"),
    ("mean", "mean of a tensor whose batch axis holds windows folded in"),
    ("with_unfolded", "whose batch axes hold different folds of windows"),
    ("other_fold", "whose batch axes hold different folds of windows"),
    ("returned", "the forward returns a tensor whose batch axis holds windows folded in"),
    ("norm_all", "module 'norm' (LayerNorm) on a tensor whose batch axis holds windows"),
    ("batch_arith", "not the batch size times a per-sample size"),
    ("unsqueeze0", "unsqueeze(0) of a tensor whose batch axis holds windows folded in"),
    ("index0", "indexing the batch axis"),
    ("operand", "with a fixed tensor of shape (4, 16, 8), which reaches that axis"),
    ("chunk0", "chunk along dim 0 (the batch axis"),
])
def test_unsafe_uses_of_folded_windows_are_refused(what: str, message: str) -> None:
    refused(Unsafe(what), message)


class FusedWindows(nn.Module):
    """timm's fused attention on windows: q, k, v unbound on an axis after the fold, and
    F.scaled_dot_product_attention with a position bias (from a parameter) as its mask."""

    def __init__(self, ws: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.ws, self.heads = ws, heads
        self.qkv = nn.Linear(8, 24)
        self.bias = nn.Parameter(torch.zeros(heads, ws * ws, ws * ws))

    def forward(self, x: Any) -> Any:
        ws, heads = self.ws, self.heads
        B, H, W, C = x.shape
        x, pH, pW, nw = partition(x, ws)
        q, k, v = self.qkv(x).reshape(x.size(0), -1, 3, heads, 4).transpose(1, 3).unbind(2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=self.bias * 2)
        y = y.transpose(1, 2).reshape(x.size(0), -1, C).select(1, 0)
        return y.view(B, pH // ws, pW // ws, C)


def test_fused_attention_with_a_bias_mask_matches_pytorch() -> None:
    net = check(nn.Sequential(Permuted(), FusedWindows()))
    (row,) = [r for r in net.rows if r.type == "ScaledDotProductAttention"]
    assert row.params == 2 * 16 * 16


class Permuted(nn.Module):
    def forward(self, x: Any) -> Any:
        return x.permute(0, 2, 3, 1)


class BufferMask(nn.Module):
    """timm's Swin: the mask is a buffer made for one input size (16 windows here), so the
    windows of the scores (16) and of the values (a count of H and W) agree only there."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.register_buffer("mask", torch.zeros(16, 16, 16))

    def forward(self, x: Any) -> Any:
        B = x.shape[0]
        x, pH, pW, nw = partition(x.permute(0, 2, 3, 1), 4)
        q, k, v = self.qkv(x).reshape(x.size(0), 16, 3, 2, 4).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)).view(-1, 16, 2, 16, 16) + self.mask.unsqueeze(1)
        x = (attn.view(-1, 2, 16, 16) @ v).transpose(1, 2).reshape(x.size(0), 16, 8)
        return x.view(B, pH // 4, pW // 4, 4, 4, 8).flatten(1, 4)


def test_windows_of_two_counts_are_equal_where_the_sizes_make_them() -> None:
    module = BufferMask().eval()
    net = from_torch(module, (8, "H", "W"))
    assert any(r.type == "Require" and "windows folded" in r.layer.why for r in net.rows)
    real = tuple(module(torch.zeros(2, 8, 16, 16)).shape[1:])
    assert net.subs(H=16, W=16).output_shape == real
    assert from_torch(module, (8, 16, 16)).output_shape == (16 * 16, 8)
    with pytest.raises(ConvsymError):
        net.subs(H=20, W=20)
    with pytest.raises(RuntimeError):
        module(torch.zeros(2, 8, 20, 20))


class GlobalQuery(nn.Module):
    """timm's GCViT: a per-image query repeated for each of the image's windows."""

    def __init__(self, way: str = "ok") -> None:
        super().__init__()
        self.way = way
        self.kv = nn.Linear(8, 16)

    def forward(self, x: Any) -> Any:
        y = x.permute(0, 2, 3, 1)
        B = y.shape[0]
        w, pH, pW, nw = partition(y, 4)
        q = y.mean((1, 2)).unsqueeze(1).expand(-1, 16, -1)  # (B, 16, 8): per image
        if self.way == "dim1":
            return q.repeat_interleave(2, dim=1)
        if self.way == "folded":
            return w.repeat_interleave(2, dim=0)
        q = q.repeat_interleave(w.shape[0] // q.shape[0], dim=0)  # (B*nW, 16, 8)
        k, v = self.kv(w).chunk(2, -1)
        out = F.scaled_dot_product_attention(q, k, v)
        return out.view(B, pH // 4, pW // 4, 4, 4, 8).flatten(1, 4)


def test_a_query_repeated_for_each_window_matches_pytorch() -> None:
    check(GlobalQuery())


@pytest.mark.parametrize("way", ["dim1", "folded"])
def test_other_repeats_are_refused(way: str) -> None:
    with pytest.raises(SpecError, match="repeat_interleave"):
        from_torch(GlobalQuery(way).eval(), (8, "H", "W"))


class MaskMisused(nn.Module):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        mask = x.new_zeros((H, W))
        if self.what == "cat":
            return torch.cat([x, mask.expand(1, 1, H, W)], 1)
        if self.what == "matmul":
            return x @ mask
        if self.what == "view":
            return x + mask.view(H + 1, -1)
        if self.what == "tensor_value":
            mask[:2] = torch.ones(5)
            return x
        if self.what == "broadcast":
            return x + (mask.unsqueeze(0) - mask.view(W, H).unsqueeze(1))
        if self.what == "reaches_batch":
            return x + mask.view(1, 1, 1, H, W)
        if self.what == "batch_sized":
            return x + x.new_zeros((H, W)).view(B, -1, 1)
        if self.what == "grows":
            heads = x.new_zeros((3, H, H))  # weights (8, H, H): 3 heads never broadcast
            return F.scaled_dot_product_attention(x, x, x, attn_mask=heads)
        raise AssertionError(self.what)


@pytest.mark.parametrize(("what", "message"), [
    ("cat", "cat of a tensor made from symbolic sizes in forward"),
    ("matmul", "matmul of a tensor made from symbolic sizes in forward"),
    ("view", "view(-1, ...) whose -1 is not an exact quotient"),
    ("tensor_value", "writing other than a number into slices"),
    ("broadcast", "do not provably broadcast"),
    ("reaches_batch", "the operand would change the batch axis"),
    ("grows", "ScaledDotProductAttention"),
    ("batch_sized", "/ batch_size_) of a tensor made from symbolic sizes"),
])
def test_a_mask_from_symbolic_sizes_is_refused_where_unsafe(what: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_torch(MaskMisused(what).eval(), (8, "H", "W"))


def test_channels_last_padding_is_exact() -> None:
    class Pads(nn.Module):
        def forward(self, x: Any) -> Any:
            y = x.permute(0, 2, 3, 1)
            H, W = y.shape[1:3]
            return (F.pad(y, (0, 0, 0, W % 2, 0, H % 2)).permute(0, 3, 1, 2),
                    F.pad(y, (1, 2, -1, 0, 3, 0), value=1.5),
                    F.pad(x, (0, 1, 0, 2, 1, 1)))

    module = Pads().eval()
    net = from_torch(module, (8, "H", "W"))
    for h, w in SIZES:
        real = [tuple(t.shape[1:]) for t in module(torch.zeros(1, 8, h, w))]
        assert [tuple(int(s) for s in shape) for shape in net.subs(H=h, W=w).output_shapes] \
            == real


class GatherWindows(nn.Module):
    """Fixed index lists on a folded tensor's axes after the batch: torch's dims 1 and 2 of
    (B*nW, N, C) are the per-sample axes 1 and 2 of (nW, N, C)."""

    def __init__(self, ws: int = 4) -> None:
        super().__init__()
        self.ws = ws
        self.register_buffer("perm", torch.tensor([7, 0, 3, 3, 1]))

    def forward(self, x: Any) -> Any:
        B = x.shape[0]
        w, _, _, _ = partition(x.permute(0, 2, 3, 1), self.ws)
        w = w[:, :, self.perm]
        w = w[:, [0, 5, 15]]
        return w.reshape(B, -1)


def test_index_lists_on_folded_windows_match_pytorch() -> None:
    check(GatherWindows())
