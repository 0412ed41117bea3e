"""The batch axis merged with per-sample axes (``x.flatten(0, k)``, ``B * heads``), against
PyTorch itself.

LeViT normalises ``(B*N, C)`` with a BatchNorm1d and views it back, Hiera unrolls strided
patches into the batch, SAM merges the batch with the heads after the permute of attention.
Per sample, such a tensor is ``(F, ...)`` (see ``convsym/importers/torch_fold.py``): every
module call, output and parameter total must equal the real forward's at every size
(batch 2, odd and non-square sizes included), the rows must replay in PyTorch and NumPy, and
what convsym cannot map soundly is refused with one line.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from fold_check import check, pad_to, refused, replays  # noqa: E402

pytestmark = pytest.mark.frameworks


class LinearNorm(nn.Module):
    """LeViT's ``LinearNorm``: a BatchNorm1d over the tokens and the batch together."""

    def __init__(self, dim: int = 8, out: int = 12) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, out)
        self.bn = nn.BatchNorm1d(out)

    def forward(self, x: Any) -> Any:
        x = self.linear(x)
        return self.bn(x.flatten(0, 1)).reshape_as(x)


class Tokens(nn.Module):
    """Tokens of a map, two LinearNorms (the second on a BatchNorm with batch statistics,
    as a BatchNorm in eval mode without running statistics is), a map again."""

    def __init__(self) -> None:
        super().__init__()
        self.a = LinearNorm()
        self.b = LinearNorm(12, 8)
        self.b.bn = nn.BatchNorm1d(8, track_running_stats=False)

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        t = self.b(self.a(x.flatten(2).transpose(1, 2)))
        return t.transpose(1, 2).reshape(B, C, H, W)


class Unroll(nn.Module):
    """Hiera's ``Unroll``: strided patches moved into the batch twice (``flatten(0, 2)`` of
    a tensor already folded the second time), a norm and a linear map on the folded tokens,
    and the ``reshape(-1, N, C)`` that unfolds."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(8)
        self.proj = nn.Linear(8, 8)

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        h, w = H // 4 * 4, W // 4 * 4
        x = x[:, :, :h, :w].permute(0, 2, 3, 1)
        for _ in range(2):
            h, w = h // 2, w // 2
            x = x.reshape(B, h, 2, w, 2, C).permute(0, 2, 4, 1, 3, 5)
            x = x.flatten(0, 2)
            B = B * 4
        x = self.proj(self.norm(x))
        return x.reshape(-1, 16 * h * w, C).transpose(1, 2)


class SamAttention(nn.Module):
    """SAM's attention: ``qkv.view(B, N, 3, heads, -1).permute(2, 0, 3, 1, 4)`` merged into
    ``(3, B * heads, N, d)`` and unbound; heads folded into the batch until the view back."""

    def __init__(self, dim: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Any) -> Any:
        B, H, W, _ = x.shape
        N = H * W
        x = x.reshape(B, N, -1)
        qkv = self.qkv(x).view(B, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, B * self.heads, N, -1).unbind(0)
        attn = ((q * 0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).view(B, self.heads, H, W, -1).permute(0, 2, 3, 1, 4)
        return self.proj(x.reshape(B, H, W, -1))


class SamBlock(nn.Module):
    """SAM's block: attention on the whole map, or on padded windows folded into the batch
    (``window_partition`` / ``window_unpartition``), so that the merged heads fold a tensor
    whose batch already holds windows."""

    def __init__(self, ws: int = 0) -> None:
        super().__init__()
        self.ws = ws
        self.norm = nn.LayerNorm(8)
        self.attn = SamAttention()

    def forward(self, x: Any) -> Any:
        x = x.permute(0, 2, 3, 1)
        y = self.norm(x)
        B, H, W, C = y.shape
        ws = self.ws
        if ws:
            y = F.pad(y, (0, 0, 0, pad_to(W, ws), 0, pad_to(H, ws)))
            _, pH, pW, _ = y.shape
            y = y.view(B, pH // ws, ws, pW // ws, ws, C).permute(0, 1, 3, 2, 4, 5)
            y = y.contiguous().view(-1, ws, ws, C)
        y = self.attn(y)
        if ws:
            y = y.view(y.shape[0] // ((pH // ws) * (pW // ws)), pH // ws, pW // ws, ws, ws, -1)
            y = y.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, pH, pW, -1)[:, :H, :W, :]
        return (x + y).permute(0, 3, 1, 2)


class UserHeads(nn.Module):
    """Attention as users write it: heads folded with ``reshape(B * heads, N, d)`` (and with
    ``-1``), ``torch.bmm`` on the folded heads, the heads viewed back into the sample."""

    def __init__(self, dim: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.kv = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim)

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        t = x.flatten(2).transpose(1, 2)
        N, h, d = H * W, self.heads, C // self.heads
        q = self.q(t).view(B, N, h, d).transpose(1, 2).reshape(B * h, N, d)
        k, v = self.kv(t).view(B, N, 2, h, d).permute(0, 2, 3, 1, 4).unbind(1)
        k, v = k.reshape(-1, N, d), v.reshape(B * h, N, d)
        attn = torch.bmm(q, k.transpose(1, 2)).softmax(-1)
        out = torch.bmm(attn, v).view(B, h, N, d).transpose(1, 2).reshape(B, N, C)
        return out.transpose(1, 2).reshape(B, C, H, W)


class MergedWide(nn.Module):
    """The moved batch merged with more than the heads (``(3, B * heads * N, d)``), and with
    nothing (``(3, B, heads * N * d)``, the batch kept): both per-sample reshapes."""

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        qkv = x.flatten(2).transpose(1, 2).reshape(B, H * W, 2, 2, 2).permute(2, 0, 3, 1, 4)
        q, k = qkv.reshape(2, -1, 2)[0], qkv.reshape(2, B, -1)[1]
        return q.reshape(B, 2, H * W, 2).transpose(1, 2).reshape(B, H * W, 4) + \
            k.view(B, 2, H * W, 2).transpose(1, 2).flatten(2)


def test_levit_linear_norm_matches_pytorch() -> None:
    net = check(Tokens())
    rows = {r.name: r for r in net.rows}
    assert rows["a.bn"].type == "BatchNorm1d" and rows["a.bn"].params == 24
    # the BatchNorm's own output is the folded (B*N, C): per sample (N, C)
    assert net.module_outputs["a.bn"][0][0] in net.folded


def test_hiera_unroll_matches_pytorch() -> None:
    check(Unroll())


@pytest.mark.parametrize("ws", [0, 4])
def test_sam_attention_with_merged_heads_matches_pytorch(ws: int) -> None:
    check(SamBlock(ws))


def test_users_heads_folded_into_the_batch_match_pytorch() -> None:
    check(UserHeads())


def test_moved_batch_merged_with_more_or_nothing_matches_pytorch() -> None:
    check(MergedWide())


class MovedMerge(nn.Module):
    """``(B, H*W, 2, 3, 4)`` permuted by ``order`` (the batch moved to ``p``), reshaped with
    the ``p`` sizes before the batch kept and the batch merged with the next ``k`` axes
    (``-1`` there, or after), then selected back to the batch and viewed as ``(B, G, ...)``."""

    def __init__(self, order: tuple[int, ...], k: int, minus: str) -> None:
        super().__init__()
        self.order, self.k, self.minus = order, k, minus

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        t = x[:, :1].flatten(2).transpose(1, 2).expand(-1, -1, 24).reshape(B, H * W, 2, 3, 4)
        t = t.permute(*self.order)
        shape = list(t.shape)
        p = self.order.index(0)
        merged = shape[p]
        for n in shape[p + 1:p + 1 + self.k]:
            merged = merged * n
        rest = shape[p + 1 + self.k:]
        if self.minus == "merged":
            merged = -1
        elif self.minus == "last" and rest:
            rest[-1] = -1
        t = t.reshape(*shape[:p], merged, *rest)
        for _ in range(p):
            t = t[0]
        return t.reshape(B, -1, *t.shape[1:])


ORDERS = [(2, 0, 1, 3, 4), (2, 0, 3, 1, 4), (3, 4, 0, 1, 2), (4, 3, 2, 0, 1),
          (2, 3, 4, 0, 1), (4, 2, 0, 3, 1)]
"""Permutes moving the batch behind 1 to 3 fixed axes (x[0] needs a fixed axis)."""


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("k", "minus"), [(0, ""), (1, "merged"), (2, "last")])
def test_a_moved_batch_merged_with_the_axes_after_it_matches_pytorch(
        order: tuple[int, ...], k: int, minus: str) -> None:
    if order.index(0) + k >= len(order):
        k = len(order) - 1 - order.index(0)
    check(MovedMerge(order, k, minus), sizes=[(5, 7), (6, 3)])


@pytest.mark.parametrize("runner", ["torch", "numpy"])
def test_batch_fold_rows_replay(runner: str) -> None:
    """The rows (per-sample flattens, the transposes around a folded BatchNorm, the reshapes
    of a moved batch) rebuilt one by one as torch calls and in the NumPy reference."""
    replays([Tokens(), Unroll(), SamBlock(0), SamBlock(4), UserHeads(), MergedWide()],
            runner)


class Unsafe(nn.Module):
    """Uses of a batch merged with per-sample axes that are not the same per sample."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.bn1 = nn.BatchNorm1d(8)
        self.bn2 = nn.BatchNorm2d(4)
        self.conv = nn.Conv1d(8, 8, 1)

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        t = x.flatten(2).transpose(1, 2)  # (B, N, C)
        qkv = t.reshape(B, H * W, 2, 2, 2).permute(2, 0, 3, 1, 4)  # (2, B, 2, N, 2)
        if self.what == "everything":
            return x.flatten(0).view(B, -1)
        if self.what == "bn_rank3":
            return self.bn1(x.permute(0, 2, 1, 3).flatten(0, 1)).view(B, H, C, W)
        if self.what == "bn2d":
            return self.bn2(x.reshape(B * 2, 4, H, W)).view(B, C, H, W)
        if self.what == "conv":
            return self.conv(x.permute(0, 2, 1, 3).flatten(0, 1)).view(B, H, C, W)
        if self.what == "mean0":
            return t.flatten(0, 1).mean(0)
        if self.what == "returned":
            return t.flatten(0, 1)
        if self.what == "prefix_merged":
            return qkv.reshape(2 * B, 2, H * W, 2)[0]
        if self.what == "prefix_changed":
            return qkv.reshape(1, 2 * B, 2, H * W, 2)[0]
        if self.what == "viewed":  # (PyTorch cannot view these strides as (2, B*2, N, 2))
            return qkv.view(2, B * 2, H * W, 2)[0]
        if self.what == "not_batch":
            return qkv.reshape(2, B + 1, -1)[0]
        raise AssertionError(self.what)


@pytest.mark.parametrize(("what", "message"), [
    ("everything", "every axis merged with the batch axis"),
    ("bn_rank3", "module 'bn1' (BatchNorm1d) on a rank-3 tensor whose batch axis holds"),
    ("bn2d", "module 'bn2' (BatchNorm2d) on a tensor whose batch axis holds windows"),
    ("conv", "module 'conv' (Conv1d) on a tensor whose batch axis holds windows folded in"),
    ("mean0", "mean of a tensor whose batch axis holds windows folded in"),
    ("returned", "the forward returns a tensor whose batch axis holds windows folded in"),
    ("prefix_merged", "other than one keeping the sizes before the batch"),
    ("prefix_changed", "other than one keeping the sizes before the batch"),
    ("viewed", "view of a tensor whose batch axis a permute moved"),
    ("not_batch", "not the batch size times a per-sample size"),
])
def test_unsafe_uses_of_a_merged_batch_are_refused(what: str, message: str) -> None:
    refused(Unsafe(what), message)
