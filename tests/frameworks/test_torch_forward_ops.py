"""What real ``forward`` code does with shapes, against PyTorch itself (one construct per module).

Each small hand-written module is imported once with a symbolic input and once per size with
a fixed one; at each size it runs for real (batch 2), and every output's shape and the
parameter totals must equal convsym's closed forms evaluated there.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from size_asserts import Asserts, Raises  # noqa: E402

from convsym.errors import ConvsymError, SpecError  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402

pytestmark = pytest.mark.frameworks

SIZES = [(16, 16), (17, 23), (40, 9)]


def _shapes(value: Any) -> list[tuple[int, ...]]:
    if isinstance(value, torch.Tensor):
        return [tuple(value.shape[1:])]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in _shapes(v)]


def check(module: Any, channels: int = 8, sizes: list[tuple[int, int]] = SIZES) -> Any:
    """convsym (symbolic, then instantiated; and fixed) equals PyTorch at every size."""
    module.eval()
    net = from_torch(module, (channels, "H", "W"))
    total = sum(int(p.numel()) for p in module.parameters())
    for h, w in sizes:
        with torch.no_grad():
            real = _shapes(module(torch.randn(2, channels, h, w)))
        for mine in (net.subs(H=h, W=w), from_torch(module, (channels, h, w))):
            assert [tuple(int(s) for s in shape) for shape in mine.output_shapes] == real, \
                (h, w)
            assert int(mine.total_params) + sum(n.params for n in mine.not_run) == total
            assert mine.torch_params == total
    return net


class CenterCrop(nn.Module):
    """U-Net style: crop the skip to the decoder's size, then concatenate."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(8, 8, 3, stride=2)

    def forward(self, x: Any) -> Any:
        y = self.down(x)
        h, w = y.shape[-2:]
        top, left = (x.size(2) - h) // 2, (x.shape[3] - w) // 2
        return torch.cat([x[..., top:top + h, left:left + w], y], dim=1)


class Slices(nn.Module):
    def forward(self, x: Any) -> Any:
        return (x[:, :, 1:-1], x[:, 2:5, ::2, 1::3], x[:, 0], x[:, None, 3], x[..., -3:],
                x.narrow(3, 1, x.size(3) - 2), x[:, :, : x.shape[2] // 2], x[:, 6:100],
                x[:, -100:3], x[:, :, -x.shape[2]:])


class Reshapes(nn.Module):
    def forward(self, x: Any) -> Any:
        b, c, h, w = x.size()
        shuffled = x.view(b, 2, c // 2, h, w).transpose(1, 2).contiguous().view(b, -1, h, w)
        tokens = x.flatten(2).transpose(1, 2)
        return (shuffled, tokens, x.reshape(b, c, h * w), x.permute(0, 2, 3, 1),
                x.unflatten(1, (2, -1)), torch.flatten(x, 2, 3), x.view(b, -1),
                tokens.reshape(b, h, w, c).permute(0, 3, 1, 2))


class Pieces(nn.Module):
    def forward(self, x: Any) -> Any:
        a, b = x.chunk(2, dim=1)
        c, d, e = torch.split(x, [1, 3, 4], dim=1)
        f = x.split(3, dim=1)
        return (a + b, c, d, e, *f, torch.stack([a, b], dim=1), torch.stack((a, b), -1),
                *x.unbind(1)[:2])


class SymbolicArguments(nn.Module):
    """Sizes passed to torch functions (not methods): torch.reshape, torch.narrow, F.pad."""

    def forward(self, x: Any) -> Any:
        b, c, h, w = x.shape
        pad = (w % 4, 1, h // 3, 0)
        return (torch.reshape(x, (b, c // 2, 2 * h, w)), torch.narrow(x, 2, 1, h - 1),
                F.pad(x, pad), F.pad(x, (1, 1, 2, 0), mode="reflect"), F.pad(x, (1, 2)))


class SqueezeExcite(nn.Module):
    """The classic SE block: pool, two linears, view back and expand_as."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(8, 2), nn.ReLU(), nn.Linear(2, 8), nn.Sigmoid())

    def forward(self, x: Any) -> Any:
        b, c, _, _ = x.size()
        y = self.fc(F.adaptive_avg_pool2d(x, 1).view(b, c)).view(b, c, 1, 1)
        return x * y.expand_as(x), y.expand(-1, -1, 3, x.size(3))


class UNetUp(nn.Module):
    """The common U-Net "Up" block: upsample, pad to the skip's size, concatenate."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(8, 8, 2, stride=2)

    def forward(self, x: Any) -> Any:
        x1 = self.up(self.pool(x))
        diff_y = x.size()[2] - x1.size()[2]
        diff_x = x.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
        return torch.cat([x, x1], dim=1)


class Reductions(nn.Module):
    def forward(self, x: Any) -> Any:
        return (x.mean((2, 3), keepdim=True), x.sum(1), x.amax(dim=(2, 3)), x.max(1)[0],
                x.min(dim=2).values, torch.mean(x, dim=-1), x.std(2, keepdim=True), x.amin(-2))


class Resizes(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(8, 4, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: Any) -> Any:
        y = self.down(x)
        return (F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False),
                F.interpolate(y, scale_factor=2.0), self.up(y),
                F.interpolate(y, size=(x.size(2) + 1, 5)), F.pad(y, (1, 2, 0, 3)))


class LayerNorm2d(nn.LayerNorm):
    """ConvNeXt's channels-first LayerNorm: a torch.nn subclass with its own forward."""

    def forward(self, x: Any) -> Any:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerScaleBlock(nn.Module):
    """ConvNeXt/timm style: layer scale (a parameter read in arithmetic), eval identities."""

    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.norm = LayerNorm2d(8, eps=1e-6)
        self.gamma = nn.Parameter(torch.ones(8, 1, 1))
        self.shift = nn.Parameter(torch.zeros(8))
        self.register_buffer("offset", torch.zeros(1, 8, 1, 1))

    def drop_path(self, x: Any) -> Any:
        if not self.training:  # identity in eval mode, as stochastic depth is
            return x
        return x * torch.rand(x.shape[0], 1, 1, 1)

    def forward(self, x: Any) -> Any:
        y = self.gamma * self.norm(self.dw(x)) + self.shift.view(1, -1, 1, 1)
        y = F.dropout(y, 0.5, self.training) - self.offset
        return x + self.drop_path(y)


class BatchNormAct2d(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a BatchNorm2d subclass whose forward calls F.batch_norm."""

    def __init__(self, c: int) -> None:
        super().__init__(c)
        self.act = nn.ReLU()

    def forward(self, x: Any) -> Any:
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         self.training, self.momentum, self.eps)
        return self.act(x)


class MyConv(nn.Conv2d):
    """A subclass that keeps Conv2d's forward: still a Conv2d row."""


class Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(6, 4, 3, 3))
        self.bias = nn.Parameter(torch.zeros(6))
        self.bn = BatchNormAct2d(6)
        self.conv = MyConv(6, 6, 1)
        self.gn_w = nn.Parameter(torch.ones(6))
        self.gn_b = nn.Parameter(torch.zeros(6))
        self.fc = nn.Parameter(torch.zeros(10, 6))

    def forward(self, x: Any) -> Any:
        y = F.conv2d(x, self.weight, self.bias, stride=2, padding=1, groups=2)
        y = self.conv(self.bn(y))
        y = F.group_norm(y, 3, self.gn_w, self.gn_b)
        return F.linear(F.adaptive_avg_pool2d(y, 1).flatten(1), self.fc)


class AuxHead(nn.Module):
    """Inception style: an aux head the forward runs only in training mode."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Conv2d(8, 8, 3)
        self.aux = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))

    def forward(self, x: Any) -> Any:
        y = self.body(x)
        if self.training:
            return y, self.aux(y)
        return y


class DictOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(8, 4, 1)
        self.b = nn.Conv2d(8, 2, 3, stride=2)

    def forward(self, x: Any) -> Any:
        return {"out": self.a(x), "aux": self.b(x), "both": [x.mean(1), x.amax(1)]}


class DecidedBranch(nn.Module):
    """Branches on sizes that are decided for every input size: followed."""

    def forward(self, x: Any) -> Any:
        if x.shape[1] != 8:
            raise ValueError("wrong channels")
        if x.shape[-1] >= 1 and x.size(2) + 1 > x.size(2):
            x = x[:, :4]
        return x


class MatchSkip(nn.Module):
    """The usual U-Net decoder: a transposed convolution told the skip's size."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x: Any) -> Any:
        return self.up(self.down(x), output_size=x.size()) + x


class FixedOutputSize(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(8, 8, 4, stride=3)

    def forward(self, x: Any) -> Any:
        return self.up(x, [3 * x.size(2) + 3, 3 * x.size(3) + 1])


def _same_padding(x: Any, k: int, s: int, d: int = 1) -> Any:
    """TF "same" padding computed in forward, as timm's ``get_same_padding`` writes it."""
    return max((math.ceil(x / s) - 1) * s + (k - 1) * d + 1 - x, 0)


class SamePadding(nn.Module):
    """timm's ``Conv2dSame`` / ``MaxPool2dSame``: ``pad_same`` then an unpadded layer."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(8, 8, k, s, dilation=d)
                                    for k, s, d in ((3, 2, 1), (5, 2, 1), (3, 1, 2), (7, 4, 1))])
        self.pool = nn.MaxPool2d(3, 2)

    def pad(self, x: Any, k: int, s: int, d: int = 1, value: float = 0.0) -> Any:
        ih, iw = x.size()[-2:]
        ph, pw = _same_padding(ih, k, s, d), _same_padding(iw, k, s, d)
        return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2], value=value)

    def forward(self, x: Any) -> Any:
        outs = []
        for conv in self.convs:
            outs.append(conv(self.pad(x, conv.kernel_size[0], conv.stride[0],
                                      conv.dilation[0])))
        outs.append(self.pool(self.pad(x, 3, 2, value=-float("inf"))))
        return outs


class InstanceForward(nn.Module):
    """The forward chosen per instance in ``__init__`` (timm's ``Partial_conv3``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.forward = self.split_cat

    def split_cat(self, x: Any) -> Any:
        a, b = torch.split(x, [4, 4], dim=1)
        return torch.cat((self.conv(a), b), 1)


class TokensBack(nn.Module):
    """Flatten to tokens, then back with ``reshape(b, -1, h, w)`` (sizes read after a stride)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 6, 3, 2, 1)

    def forward(self, x: Any) -> Any:
        y = self.conv(x)
        b, _, h, w = y.shape
        return y.flatten(2).reshape(b, -1, h, w)


class ComputedWeights(nn.Module):
    """Weights computed in forward: a blur filter from a buffer (timm's ``BlurPool2d``), a
    standardised weight scaled by a gain (``ScaledStdConv2d``), a linear map from a buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("blur", torch.ones(8, 1, 3, 3) / 9)
        self.weight = nn.Parameter(torch.randn(6, 8, 3, 3))
        self.gain = nn.Parameter(torch.ones(6, 1, 1, 1))
        self.bias = nn.Parameter(torch.zeros(6))
        self.register_buffer("mix", torch.randn(5, 6))
        self.skip_gain = nn.Parameter(torch.tensor(0.5))

    def forward(self, x: Any) -> Any:
        x = F.conv2d(F.pad(x, [1, 1, 1, 1], mode="reflect"), self.blur, stride=2, groups=8)
        w = F.batch_norm(self.weight.reshape(1, 6, -1), None, None, training=True)
        x = F.conv2d(x, w.reshape_as(self.weight) * self.gain, self.bias, padding=1)
        x = x * self.skip_gain  # a 0-d parameter (timm's NormFreeBlock skipinit_gain)
        return F.linear(x.permute(0, 2, 3, 1), self.mix)


class GlobalResponseNorm(nn.Module):
    """ConvNeXt-V2's GRN: ``addcmul(bias, weight, x * n)``, and an ``addcdiv`` after it."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 8, 1, 1))
        self.bias = nn.Parameter(torch.zeros(8))

    def forward(self, x: Any) -> Any:
        gx = x.norm(p=2, dim=(2, 3), keepdim=True)
        nx = gx / (gx.mean(dim=1, keepdim=True) + 1e-6)
        x = x + torch.addcmul(self.bias.view(1, -1, 1, 1), self.weight, x * nx)
        return x.addcdiv(x, nx, value=0.5)


class Attention2d(nn.Module):
    """Self-attention over a feature map's positions, by hand (``q @ k.transpose``) and with
    ``F.scaled_dot_product_attention``, as hybrid conv nets write it (timm's LowFormer)."""

    def __init__(self, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Conv2d(8, 3 * 8, 1)
        self.down = nn.Conv2d(8, 8, 3, 2, 1)

    def forward(self, x: Any) -> Any:
        b, c, h, w = x.shape
        q, k, v = self.qkv(x).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        scores = (q.transpose(-2, -1) @ k).softmax(dim=-1)  # (b, heads, hw, hw)
        mixed = torch.matmul(scores, v.transpose(-2, -1))
        y = mixed.transpose(-2, -1).reshape(b, c, h, w)
        kv = self.down(y).flatten(2)  # fewer keys than queries: S != L
        out = F.scaled_dot_product_attention(y.flatten(2).transpose(1, 2).unsqueeze(1),
                                             kv.transpose(1, 2).unsqueeze(1),
                                             kv.transpose(1, 2).unsqueeze(1))
        return out.squeeze(1).transpose(1, 2).reshape(b, c, h, w)


class TokenAttention(nn.Module):
    """A vision transformer's attention over tokens: one linear makes q, k and v, and a permute
    moves the batch axis until ``unbind(0)`` / ``qkv[i]`` / unpacking takes them apart."""

    def __init__(self, heads: int = 2, way: str = "unbind") -> None:
        super().__init__()
        self.heads, self.way = heads, way
        self.qkv = nn.Linear(8, 24)
        self.proj = nn.Linear(8, 8)

    def forward(self, x: Any) -> Any:
        tokens = x.flatten(2).transpose(1, 2)  # (b, n, c)
        b, n, c = tokens.shape
        qkv = self.qkv(tokens).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if self.way == "unbind":
            q, k, v = qkv.unbind(0)
        elif self.way == "index":
            q, k, v = qkv[0], qkv[1], qkv[2]
        else:
            q, k, v = qkv
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        out = self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))
        return out.transpose(1, 2).reshape(b, c, x.shape[2], x.shape[3])


class TinyViT(nn.Module):
    """A vision transformer's stem and head: patches, a class token (and a distillation
    token after the patches) joined with ``torch.cat``, a position embedding added."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = nn.Conv2d(8, 8, 4, 4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.attn = TokenAttention()

    def forward(self, x: Any) -> Any:
        t = self.patch(x).flatten(2).transpose(1, 2)
        t = torch.cat((self.cls_token.expand(t.shape[0], -1, -1), t,
                       self.dist_token.expand(t.shape[0], -1, -1)), dim=1)
        return t[:, 0] + t[:, -1]


class TokenTwice(nn.Module):
    """One parameter in two pieces of a ``torch.cat``, and a token computed in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.reg = nn.Parameter(torch.zeros(1, 4, 8))
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.pos = nn.Parameter(torch.zeros(1, 3, 8))

    def forward(self, x: Any) -> Any:
        t = x.flatten(2).transpose(1, 2)
        b = t.shape[0]
        t = torch.cat((self.reg[:, :2].expand(b, -1, -1), t, self.reg[:, 2:].expand(b, -1, -1)),
                      dim=1)
        first = self.cls + self.pos[:, :1]
        return torch.cat((first.expand(b, -1, -1), t), dim=1)


class TokensUsed(nn.Module):
    """Fixed tensors expanded over the batch, used beyond ``torch.cat``: PiT reads the
    expanded class token's ``.shape``, CaiT adds attention to it, a buffer grows a size-1
    axis to the token count (ConViT's position grid), a gate is added as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.gate = nn.Parameter(torch.zeros(1, 8, 1, 1))
        self.register_buffer("grid", torch.zeros(1, 1, 3))
        self.proj = nn.Linear(8, 8)
        self.pos = nn.Linear(3, 8)

    def forward(self, x: Any) -> Any:
        b = x.shape[0]
        t = x.flatten(2).transpose(1, 2)
        cls = self.cls.expand(b, -1, -1)
        n = cls.shape[1]
        tokens = torch.cat((cls, t), dim=1)
        cls = cls + self.proj(tokens[:, :n])
        grid = self.pos(self.grid.expand(b, t.shape[1], -1))
        return x + self.gate.expand(b, -1, -1, -1), cls, t + grid


class ClassTokenHeads(nn.Module):
    """BEiT's attention: a class token joined, then ``qkv.reshape(B, N, 3, heads, -1)``, the
    ``-1`` divided out of an element count of ``N + 1`` tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.qkv = nn.Linear(8, 24)

    def forward(self, x: Any) -> Any:
        t = x.flatten(2).transpose(1, 2)
        t = torch.cat((self.cls.expand(t.shape[0], -1, -1), t), dim=1)
        b, n, _ = t.shape
        q, k, v = self.qkv(t).reshape(b, n, 3, 2, -1).permute(2, 0, 3, 1, 4).unbind(0)
        return (q @ k.transpose(-2, -1)).softmax(-1) @ v


class PadsAxes(nn.Module):
    """``F.pad`` on more axes than ``ZeroPad*d`` pads: CoaT's ``(0, 0, 1, 0, 0, 0)`` on a
    channels-last tensor, a crop, a symbolic pad (Swin's ``(ws - W % ws) % ws``) and the
    channels of a flattened tensor."""

    def forward(self, x: Any) -> Any:
        t = x.permute(0, 2, 3, 1)
        w = t.shape[2]
        return (F.pad(t, (0, 0, 1, 0, 0, 0)),
                F.pad(t, (1, 2, -1, (4 - w % 4) % 4, 0, 3), value=1.0),
                F.pad(x.flatten(1), (2, 3)))


class BiasedAttention(nn.Module):
    """BEiT's attention: a relative position bias gathered from a parameter table by a
    buffer of indices, passed as ``attn_mask`` (``tokens`` fixes the token count, or None
    for a bias that broadcasts over any)."""

    def __init__(self, tokens: int | None = None) -> None:
        super().__init__()
        n = tokens or 1
        self.table = nn.Parameter(torch.zeros(7, 2))
        self.register_buffer("index", torch.zeros(n, n, dtype=torch.long))
        self.qkv = nn.Linear(8, 24)
        self.n = n

    def forward(self, x: Any) -> Any:
        t = x.flatten(2).transpose(1, 2)
        b, n, _ = t.shape
        q, k, v = self.qkv(t).reshape(b, n, 3, 2, 4).permute(2, 0, 3, 1, 4).unbind(0)
        bias = self.table[self.index.view(-1)].view(self.n, self.n, -1).permute(2, 0, 1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias.unsqueeze(0))


class BiasFromAnotherModule(nn.Module):
    """The relative-position ViTs: the bias is an MLP (another module) run on a buffer; the
    MLP is no row (it runs on a fixed tensor: ``fixed_calls``), its parameters are counted
    where the mask is read."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = nn.Linear(2, 2)
        self.register_buffer("coords", torch.zeros(1, 1, 2))

    def forward(self, x: Any) -> Any:
        t = x.flatten(2).transpose(1, 2).reshape(x.shape[0], -1, 2, 4).transpose(1, 2)
        bias = self.mlp(self.coords).permute(2, 0, 1).unsqueeze(0)
        return F.scaled_dot_product_attention(t, t, t, attn_mask=bias)


class FixedProducts(nn.Module):
    """Products with a fixed matrix: SwiftFormer's ``query @ self.w_g`` (a parameter), a
    buffer on the left, a matrix computed from a parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.w_g = nn.Parameter(torch.zeros(8, 1))
        self.register_buffer("mix", torch.zeros(3, 8))
        self.scale = nn.Parameter(torch.zeros(5, 8))

    def forward(self, x: Any) -> Any:
        q = x.flatten(2).transpose(1, 2)
        return q @ self.w_g, self.mix @ x.flatten(2), torch.matmul(x.permute(0, 2, 3, 1),
                                                                   self.scale.t())


class Einsums(nn.Module):
    """MaxViT's relative attention (torchvision): scores and the weighted sum written with
    ``torch.einsum`` (spaces in the equation), a transpose and a sum of one operand."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x: Any) -> Any:
        b = x.shape[0]
        t = x.flatten(2).transpose(1, 2).reshape(b, 1, -1, 8)
        q, k, v = self.qkv(t).reshape(b, 1, -1, 3, 2, 4).permute(3, 0, 1, 4, 2, 5).unbind(0)
        scores = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k).softmax(-1)
        out = torch.einsum("bghij,bghjd->bghid", scores, v)
        return out, torch.einsum("bghid->bgdih", out), torch.einsum("bghij->bgi", scores)


class EinsumMovesBatch(nn.Module):
    def forward(self, x: Any) -> Any:
        return torch.einsum("bchw->cbhw", x)


class EinsumParameter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(8, 4))

    def forward(self, x: Any) -> Any:
        return torch.einsum("bchw,cd->bdhw", x, self.w)


class Gathers(nn.Module):
    """CSATv2's ``x[:, :, self.permutation]`` (a buffer of indices), a list of channels,
    negative indices after an ellipsis."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("permutation", torch.tensor([0, 2, 1]))

    def forward(self, x: Any) -> Any:
        return x[:, :, self.permutation], x[:, [7, 0, 3, 3]], x[..., [-1, 0], :]


class GatherTwoLists(nn.Module):
    def forward(self, x: Any) -> Any:
        return x[:, [0, 1], [2, 3]]


class GatherPastTheEnd(nn.Module):
    def forward(self, x: Any) -> Any:
        return x[:, :, [0, 20]]


class Repeats(nn.Module):
    """``x.repeat(1, ...)`` with counts (one read from a size), and a class token repeated
    over the batch (``cls_token.repeat(b, 1, 1)``, as many hand-written ViTs do)."""

    def __init__(self) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))

    def forward(self, x: Any) -> Any:
        t = x.flatten(2).transpose(1, 2)
        tokens = torch.cat((self.cls.repeat(x.shape[0], 1, 1), t), dim=1)
        return x.repeat(1, 2, 1, x.shape[3]), tokens, self.cls.repeat(x.shape[0], 2, 1)


class RepeatsBatch(nn.Module):
    def forward(self, x: Any) -> Any:
        return x.repeat(2, 1, 1, 1)


class PadsBatch(nn.Module):
    def forward(self, x: Any) -> Any:
        return F.pad(x, (0, 0, 0, 0, 0, 0, 1, 0))


class ExpandedBatchOne(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 8, 1, 1))

    def forward(self, x: Any) -> Any:
        return x + self.token.expand(-1, -1, x.shape[2], -1)


class ExpandedGrows(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 2, 8))

    def forward(self, x: Any) -> Any:
        t = x.flatten(2).transpose(1, 2)
        return torch.cat((self.token.expand(x.shape[0], t.shape[1], -1), t), dim=1)


class TorchAttention(nn.Module):
    """``nn.MultiheadAttention`` batch first (a ViT block) and sequence first (DETR's
    ``flatten(2).permute(2, 0, 1)``), with keys of other sizes, bias_kv and zero attention,
    the weights averaged or per head."""

    def __init__(self) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.cross = nn.MultiheadAttention(8, 4, kdim=6, vdim=5, add_bias_kv=True,
                                           add_zero_attn=True)
        self.keys = nn.Conv2d(8, 6, 3, 2, 1)
        self.values = nn.Conv2d(8, 5, 3, 2, 1)

    def forward(self, x: Any) -> Any:
        tokens = x.flatten(2).transpose(1, 2)
        y, _ = self.self_attn(tokens, tokens, tokens, need_weights=False)
        q = y.permute(1, 0, 2)  # (L, B, E)
        k = self.keys(x).flatten(2).permute(2, 0, 1)
        v = self.values(x).flatten(2).permute(2, 0, 1)
        z, w = self.cross(q, k, v)
        _, heads = self.cross(q, k, v, average_attn_weights=False)
        return z.permute(1, 2, 0), w, heads


class MovedBatchUsed(nn.Module):
    def forward(self, x: Any) -> Any:
        return x.permute(1, 0, 2, 3) * 2  # arithmetic on a tensor whose batch moved
class Comparisons(nn.Module):
    """Comparisons and clamps broadcast their tensors as a sum does (``m > x`` is larger
    than ``m``), and a parameter bound is counted."""

    def __init__(self) -> None:
        super().__init__()
        self.floor = nn.Parameter(torch.zeros(8, 1, 1))
        self.register_buffer("ceiling", torch.ones(1, 1, 1))

    def forward(self, x: Any) -> Any:
        m = x.mean(1, keepdim=True)
        y = x.clone()
        y.clamp_(min=self.floor)
        return (m > x, torch.clamp(m, min=x), m.lt(x), x >= 0.5, y, x.clamp(max=m),
                torch.clamp(m, max=self.ceiling), x)


@pytest.mark.parametrize("module", [CenterCrop(), Slices(), Reshapes(), Pieces(), Reductions(),
                                    TokenAttention(), TokenAttention(way="index"),
                                    TokenAttention(way="unpack"), TinyViT(), TorchAttention(),
                                    TokenTwice(), TokensUsed(), ClassTokenHeads(), PadsAxes(),
                                    BiasedAttention(), FixedProducts(), Einsums(), Gathers(),
                                    Repeats(),
                                    SymbolicArguments(), SqueezeExcite(), UNetUp(), Resizes(),
                                    LayerScaleBlock(),
                                    Functional(), DictOut(), DecidedBranch(), MatchSkip(),
                                    FixedOutputSize(), SamePadding(), TokensBack(),
                                    ComputedWeights(), GlobalResponseNorm(), Attention2d(),
                                    Comparisons()],
                         ids=lambda m: type(m).__name__)
def test_construct_matches_pytorch(module: Any) -> None:
    check(module)


def test_center_crop_is_a_closed_form() -> None:
    import sympy

    from convsym.expr import symbols

    H, W = symbols("H W")
    net = from_torch(CenterCrop(), (8, "H", "W"))
    assert net.output_shape == (16, sympy.floor((H - 1) / 2), sympy.floor((W - 1) / 2))
    assert from_torch(UNetUp(), (8, "H", "W")).output_shape == (16, H, W)


def test_subclass_with_own_forward_is_followed() -> None:
    net = check(Functional())
    types = [(r.name, r.type) for r in net.rows]
    assert ("bn.batch_norm", "BatchNorm2d") in types and ("bn.act", "ReLU") in types
    assert ("conv", "Conv2d") in types


def test_layer_scale_counts_the_parameter_once() -> None:
    net = check(LayerScaleBlock())
    rows = {r.name: (r.type, r.params) for r in net.rows}
    assert rows["gamma"] == ("TensorOperand", 8) and rows["shift"] == ("TensorOperand", 8)
    assert rows["norm.layer_norm"] == ("LayerNorm", 16)


def test_modules_never_run_are_reported_and_totals_say_so() -> None:
    net = check(AuxHead())
    assert [(n.name, n.kind, n.params) for n in net.not_run] == [("aux", "Sequential", 27)]
    assert int(net.total_params) == 584 and net.torch_params == 611
    assert "aux (Sequential, 27)" in net.params_convention
    assert "611" in net.params_convention
    summary = net.summary()
    # the text summary wraps its note to the terminal's width
    assert f"Note: {net.params_convention}" in " ".join(str(summary).split())
    assert summary.to_dict()["notes"] == [net.params_convention]
    assert "notes" not in from_torch(CenterCrop(), (8, 9, 9)).summary().to_dict()


def test_the_forward_runs_in_eval_mode_and_each_module_keeps_its_own_mode() -> None:
    model = AuxHead()  # built in training mode: the aux head would run
    model.aux[2].eval()  # one submodule already in eval mode
    before = [(name, m.training) for name, m in model.named_modules()]
    net = from_torch(model, (8, "H", "W"))
    assert [n.name for n in net.not_run] == ["aux"] and len(net.output_shapes) == 1
    assert [(name, m.training) for name, m in model.named_modules()] == before
    model.eval()
    assert from_torch(model, (8, "H", "W")).output_shapes == net.output_shapes
    assert not any(m.training for m in model.modules())


class MadeInForward(nn.Module):
    """Modules that are not in the tree: made inside forward, and one held in a plain list."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3)
        self.loose = [nn.MaxPool2d(2)]

    def forward(self, x: Any) -> Any:
        return self.loose[0](nn.ReLU()(self.conv(x)))


def test_modules_outside_the_tree_and_compiled_modules_are_rows() -> None:
    model = MadeInForward()
    net = check(model, channels=4)
    assert [(r.name, r.type) for r in net.rows] == [
        ("conv", "Conv2d"), ("ReLU", "ReLU"), ("MaxPool2d", "MaxPool2d")]
    # Module.compile() sets _compiled_call_impl, which Module.__call__ then calls instead of
    # _call_impl (set here as compile() would, without loading torch.compile)
    model.conv._compiled_call_impl = model.conv._call_impl
    assert [(r.name, r.type) for r in from_torch(model, (4, "H", "W")).rows] == \
        [(r.name, r.type) for r in net.rows]
    del model.conv._compiled_call_impl
    model.conv.__class__ = _OwnCallImpl  # a class with its own _call_impl: still a row
    assert [(r.name, r.type) for r in from_torch(model, (4, "H", "W")).rows] == \
        [(r.name, r.type) for r in net.rows]


class _OwnCallImpl(nn.Conv2d):
    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)


def test_dict_outputs_are_each_an_output() -> None:
    net = check(DictOut())
    assert len(net.output_shapes) == 4


def test_module_outputs_follow_every_call() -> None:
    net = from_torch(CenterCrop(), (8, "H", "W"))
    assert set(net.module_outputs) == {"", "down"}


class SizeBranch(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.shape[2] > 20:
            return x[:, :, :20]
        return x


class SizeEquals(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.shape[2] == 20:
            return x[:, :, :10]
        return x


class FlippingBranch(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.shape[2] // 3 * 3 < x.shape[2]:  # H not a multiple of 3: no side for large H
            return x[:, :, 1:]
        return x


class SizeToInt(nn.Module):
    def forward(self, x: Any) -> Any:
        return x.new_zeros(int(x.shape[2]))


@pytest.mark.parametrize(("module", "code", "words"), [
    (SizeEquals(), "branches_on_size", "H == 20"),
    (FlippingBranch(), "branches_on_size", "3*floor(H/3) < H"),
    (SizeToInt(), "size_not_concrete", "where Python needs a number"),
    (MovedBatchUsed(), "batch_size", "whose batch axis a permute moved"),
    (ExpandedBatchOne(), "batch_size", "of batch size 1 expanded over the batch axis"),
    (ExpandedGrows(), "bad_expand", "axis 1 of size 2 cannot become H*W"),
    (EinsumMovesBatch(), "batch_axis", "the batch axis, used nowhere else"),
    (EinsumParameter(), "unsupported_operation", "einsum of tensors that are not all traced"),
    (GatherTwoLists(), "unsupported_operation", "other than one 1-D list"),
    (RepeatsBatch(), "batch_size", "the batch's 1"),
    (PadsBatch(), "wrong_tuple_length", "(before, after) pairs for 1 to 3 axes (not the batch)"),
])
def test_symbolic_refusals_name_the_source_line(module: Any, code: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(module, (8, "H", "W"))
    assert info.value.code == code
    assert words in str(info.value)
    assert "test_torch_forward_ops.py:" in str(info.value)  # the line of the forward



class LargeInputBranch(nn.Module):
    """timm's ConvMlp: small maps are pooled up to 5 x 5 first (``max`` and an ``if``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 4, 5)

    def forward(self, x: Any) -> Any:
        x = F.max_pool2d(x, 2)
        if x.shape[-2] < 5 or x.shape[-1] < 5:
            x = F.adaptive_avg_pool2d(x, (max(5, x.shape[-2]), max(5, x.shape[-1])))
        return self.conv(x)


def _grid(module: Any, net: Any) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The sizes PyTorch runs and those convsym accepts, and that they agree on shapes."""
    from convsym.errors import ConvsymError

    torch_ok, mine_ok = set(), set()
    for h in range(1, 30):
        for w in range(1, 14):
            try:
                real = tuple(module(torch.zeros(1, 8, h, w)).shape[1:])
                torch_ok.add((h, w))
            except (AssertionError, RuntimeError, ValueError):
                real = None
            try:
                mine = net.subs(H=h, W=w).output_shape
            except ConvsymError:
                continue
            mine_ok.add((h, w))
            assert mine == real, (h, w)  # never a shape PyTorch does not give
    return torch_ok, mine_ok


def test_asserts_on_sizes_are_the_networks_conditions() -> None:
    module = Asserts().eval()
    net = from_torch(module, (8, "H", "W"))
    assert [str(c) for c in net.conditions] == ["Eq(H - 4*floor(H/4), 0)", "W >= 6",
                                                "Ne(W, 9)", "H >= 3"]
    assert [r.name for r in net.rows][:3] == ["assert", "assert_1", "assert_2"]
    torch_ok, mine_ok = _grid(module, net)
    assert mine_ok == torch_ok  # accepted exactly where the forward passes its asserts
    assert all("size_asserts.py:" in c.rule for c in net.condition_records[:3])


class RewrittenAssert(nn.Module):
    def forward(self, x: Any) -> Any:
        assert x.shape[-1] % 4 == 0, "pytest rewrites this assert into an if and a raise"
        return x


def test_raises_on_sizes_are_the_networks_conditions() -> None:
    for module in (Raises().eval(), RewrittenAssert().eval()):
        net = from_torch(module, (8, "H", "W"))
        torch_ok, mine_ok = _grid(module, net)
        assert mine_ok == torch_ok  # accepted exactly where the forward does not raise
    assert [str(c) for c in from_torch(RewrittenAssert(), (8, "H", "W")).conditions] == [
        "Eq(W - 4*floor(W/4), 0)"]


class SquareOnly(nn.Module):
    def forward(self, x: Any) -> Any:
        if len({x.shape[2], x.shape[3]}) == 1:  # a set of sizes asks ==
            return x[:, :, 1:]
        return x


class WiderThanTall(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.shape[-1] > x.shape[-2]:  # no side for large inputs: either may be larger
            return x[..., 1:]
        return x


class Transposed(nn.Module):
    def forward(self, x: Any) -> Any:
        return x + x.mT  # square maps, or a side of 1 broadcast


def test_properties_and_sets_of_sizes_are_exact_or_refused() -> None:
    for module in (SquareOnly(), WiderThanTall()):
        with pytest.raises(SpecError) as info:
            from_torch(module, (8, "H", "W"))
        assert info.value.code == "branches_on_size"
    net = from_torch(Transposed(), (8, "H", "W"))
    torch_ok, mine_ok = _grid(Transposed(), net)
    assert mine_ok == torch_ok  # square, or broadcast along a side of 1


def test_an_order_branch_is_followed_as_it_goes_for_large_inputs() -> None:
    module = LargeInputBranch().eval()
    net = from_torch(module, (8, "H", "W"))
    assert [str(c) for c in net.conditions] == ["H >= 10", "W >= 10"]
    torch_ok, mine_ok = _grid(module, net)
    # claimed only where the branch followed is the one PyTorch takes, and exact there
    assert mine_ok == {(h, w) for h, w in torch_ok if h >= 10 and w >= 10}
    narrow = from_torch(SizeBranch(), (8, "H", "W"))
    assert [str(c) for c in narrow.conditions] == ["H >= 21"]
    assert narrow.subs(H=25, W=3).output_shape == (8, 20, 3)


def test_a_branch_on_a_concrete_size_takes_pytorchs_branch() -> None:
    for h, w in [(25, 7), (21, 30)]:
        real = SizeBranch()(torch.zeros(1, 8, h, w)).shape[1:]
        assert from_torch(SizeBranch(), (8, h, w)).output_shape == tuple(real)


@pytest.mark.parametrize("runner", ["torch", "numpy"])
@pytest.mark.parametrize("module", [CenterCrop(), Slices(), Reshapes(), Pieces(), Reductions(),
                                    SqueezeExcite(), LayerScaleBlock(), Attention2d(),
                                    TokensBack(), SamePadding(), LargeInputBranch(),
                                    TokenAttention(), TinyViT(), TorchAttention(),
                                    TokensUsed(), PadsAxes(), BiasedAttention(),
                                    FixedProducts(), Einsums(), Gathers(), Repeats()],
                         ids=lambda m: type(m).__name__)
def test_imported_rows_replay(module: Any, runner: str) -> None:
    """convsym's rows, rebuilt one by one as torch calls or in the NumPy reference (whose
    arrays have no batch axis, while the importer's dims count it), agree too."""
    from convsym.intdiv import to_sympy
    from convsym.runners.numpy_ref import NumpyRunner
    from convsym.runners.torch_run import TorchRunner

    net = from_torch(module.eval(), (8, "H", "W")).subs(H=17, W=23)
    outcomes = (TorchRunner() if runner == "torch" else NumpyRunner()).run(net)
    assert len(outcomes) == len(net.nodes)
    for index, shape in outcomes.items():
        assert shape == tuple(int(to_sympy(s)) for s in net.shapes[index]), net.nodes[index]


def test_output_size_out_of_range_is_pytorchs_error() -> None:
    import sympy

    from convsym.expr import symbols

    H, W = symbols("H W")
    assert from_torch(MatchSkip(), (8, "H", "W")).output_shape == (8, H, W)
    module = FixedOutputSize().eval()
    with pytest.raises(ValueError, match="valid sizes range from"):
        module.up(torch.zeros(1, 8, 5, 5), output_size=[20, 20])
    up = nn.ConvTranspose1d(2, 2, 3, stride=2)

    class Wrong(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = up

        def forward(self, x: Any) -> Any:
            return self.up(x, output_size=[12])

    with pytest.raises(SpecError, match="valid sizes range from 7 to 8"):
        from_torch(Wrong(), (2, 3))
    assert from_torch(Wrong(), (2, 5)).output_shape == (2, 12)
    assert sympy.Integer(12) == from_torch(Wrong(), (2, "L")).subs(L=5).output_shape[-1]


class _Residual(nn.Module):
    def __init__(self, k: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, k, padding=k // 2)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: Any) -> Any:
        return torch.relu(self.bn(self.conv(x)) + x)


_BLOCKS = {
    "conv3": lambda: nn.Conv2d(4, 4, 3, padding=1),
    "conv3s2": lambda: nn.Conv2d(4, 4, 3, stride=2, padding=1),
    "conv1": lambda: nn.Conv2d(4, 4, 1, bias=False),
    "bn": lambda: nn.BatchNorm2d(4),
    "relu": lambda: nn.ReLU(),
    "pool": lambda: nn.MaxPool2d(2, ceil_mode=True),
    "res3": lambda: _Residual(3),
    "res1": lambda: _Residual(1),
}


def _same_inference(a: Any, b: Any) -> bool:
    return (a.shape == b.shape and a.macs == b.macs and a.ops == b.ops
            and a.bias_macs == b.bias_macs and a.trainable == b.trainable
            and a.non_trainable == b.non_trainable and a.conditions == b.conditions
            and a.notes == b.notes and a.warnings == b.warnings)


def test_reused_inferences_are_what_each_row_infers_afresh() -> None:
    # repeated blocks make the trace reuse layers and inferences; a network built from the
    # same nodes without them infers every row itself, and must agree row by row
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    from convsym.network import Network

    @hypothesis.settings(max_examples=20, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(st.lists(st.sampled_from(sorted(_BLOCKS)), min_size=1, max_size=10))
    def check_blocks(blocks: list[str]) -> None:
        model = nn.Sequential(*(_BLOCKS[b]() for b in blocks))
        net = from_torch(model, (4, "H", "W"))
        fresh = Network(net.nodes, net.input_shapes, dialect="torch",
                        hidden=sorted(net.input_shapes), outputs=net.outputs)
        assert len(fresh.rows) == len(net.rows)
        for mine, theirs in zip(net.rows, fresh.rows):
            assert mine.name == theirs.name
            assert _same_inference(mine.inference, theirs.inference), mine.name
        assert net.condition_records == fresh.condition_records

    check_blocks()


def test_same_padding_gives_the_ceiling() -> None:
    import sympy

    from convsym.expr import symbols

    H, W = symbols("H W")
    net = from_torch(SamePadding(), (8, "H", "W"))
    assert net.output_shapes[0] == (8, sympy.ceiling(H / 2), sympy.ceiling(W / 2))
    assert net.output_shapes[3] == (8, sympy.ceiling(H / 4), sympy.ceiling(W / 4))


def test_a_forward_set_on_the_instance_is_followed() -> None:
    net = check(InstanceForward(), sizes=[(9, 12)])
    assert [r.type for r in net.rows][:2] == ["Split", "Conv2d"] or \
        "Conv2d" in [r.type for r in net.rows]


class SpaceToDepth(nn.Module):
    """timm's ``SpaceToDepth``: ``view`` with ``H // 4``, which only fits when 4 divides H."""

    def forward(self, x: Any) -> Any:
        n, c, h, w = x.size()
        x = x.view(n, c, h // 4, 4, w // 4, 4)
        x = x.permute(0, 3, 5, 1, 2, 4).contiguous()
        return x.view(n, c * 16, h // 4, w // 4)


def test_a_view_that_fits_only_some_sizes_is_a_condition() -> None:
    """convsym accepts exactly the sizes PyTorch runs, with PyTorch's shapes there."""
    net = from_torch(SpaceToDepth(), (3, "H", "W"))
    for h in range(1, 14):
        for w in (4, 6, 8):
            try:
                real = tuple(SpaceToDepth()(torch.zeros(1, 3, h, w)).shape[1:])
            except RuntimeError:
                real = None
            assert net.accepts(H=h, W=w) == (real is not None), (h, w)
            if real is not None:
                assert tuple(int(s) for s in net.subs(H=h, W=w).output_shape) == real


class SamePaddingTooSmall(nn.Module):
    def forward(self, x: Any) -> Any:
        ph = _same_padding(x.shape[-2], 1, 2)  # -1 or 0 by parity: max() branches on it
        return F.pad(x, [0, 0, ph // 2, ph - ph // 2])


class SizeAsFloat(nn.Module):
    def forward(self, x: Any) -> Any:
        return x[..., : round(x.shape[-1] / 2)]


@pytest.mark.parametrize(("module", "code", "words"), [
    (SamePaddingTooSmall(), "branches_on_size", "holds for some input sizes"),
    (SizeAsFloat(), "size_arithmetic", "round()"),
])
def test_size_fractions_refuse_what_they_cannot_keep_exact(module: Any, code: str,
                                                           words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(module, (8, "H", "W"))
    assert info.value.code == code
    assert words in str(info.value)
    assert "test_torch_forward_ops.py:" in str(info.value)


def test_computed_weights_hold_their_modules_parameters() -> None:
    """The blur (a buffer) holds none; the scaled conv its weight, gain and bias; the linear
    map (a buffer) none."""
    net = check(ComputedWeights())
    assert [int(r.params) for r in net.rows if r.type in ("Conv2d", "Linear")] == \
        [0, 6 * 8 * 9 + 6 + 6, 0]
    assert int(net.total_params) == 6 * 8 * 9 + 6 + 6 + 1


class WeightFromInput(nn.Module):
    def forward(self, x: Any) -> Any:
        return F.conv2d(x, x)  # the input as its own weight


def test_a_weight_computed_from_the_input_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        from_torch(WeightFromInput(), (8, "H", "W"))
    assert "not a parameter of the model" in str(info.value)


def test_frozen_parameters_are_counted_and_stay_frozen() -> None:
    module = ComputedWeights()
    module.weight.requires_grad_(False)
    module.gain.requires_grad_(False)
    with torch.no_grad():
        net = from_torch(module, (8, "H", "W"))
    assert int(net.total_params) == 6 * 8 * 9 + 6 + 6 + 1 and not net.not_run
    assert not module.weight.requires_grad and not module.gain.requires_grad
    assert module.bias.requires_grad


def test_attention_products_count_their_multiply_accumulates() -> None:
    import sympy

    from convsym.expr import symbols

    H, W = symbols("H W")
    net = from_torch(Attention2d(), (8, "H", "W"))
    rows = {r.type: r for r in net.rows}
    hw = H * W
    assert sympy.expand(rows["MatMul"].macs - 2 * hw * hw * 4) == 0  # the second product
    keys = sympy.ceiling(H / 2) * sympy.ceiling(W / 2)
    assert sympy.expand(rows["ScaledDotProductAttention"].macs - 2 * hw * keys * 8) == 0


class ParameterProduct(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Parameter(torch.zeros(2, 8, 8))

    def forward(self, x: Any) -> Any:
        return x.flatten(2).transpose(1, 2) @ self.proj  # (B, HW, 8): the 2 reaches the batch


class StackProduct(ParameterProduct):
    def forward(self, x: Any) -> Any:
        return x.transpose(1, 3) @ self.proj  # (W, H, 8) @ (2, 8, 8): W must be 1 or 2


def test_a_stack_of_fixed_matrices_broadcasts_as_in_pytorch() -> None:
    module = StackProduct().eval()
    net = from_torch(module, (8, "H", "W"))
    assert net.total_params == 128
    for w in (1, 2, 3):
        ok = net.accepts(H=5, W=w)
        try:
            real = tuple(module(torch.zeros(2, 8, 5, w)).shape[1:])
        except RuntimeError:
            assert not ok
        else:
            assert ok and net.subs(H=5, W=w).output_shape == real


class MaskedAttention(nn.Module):
    def forward(self, x: Any) -> Any:
        t = x.flatten(2)
        return F.scaled_dot_product_attention(t, t, t, attn_mask=t[:, :1, :1] > 0)


class FlatTimesMap(nn.Module):
    def forward(self, x: Any) -> Any:
        return x.flatten(2) @ x  # rank 2 against rank 3: the batch axes would not meet


@pytest.mark.parametrize(("module", "words"), [
    (ParameterProduct(), "which it may not reach"),
    (MaskedAttention(), "mask computed from the input"),
    (FlatTimesMap(), "a matrix product of a rank-2 and a rank-3 tensor"),
])
def test_products_refuse_what_they_do_not_follow(module: Any, words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(module, (8, "H", "W"))
    assert words in str(info.value)


def test_verify_on_an_imported_network_compares_with_the_reference() -> None:
    import convsym

    result = convsym.verify(from_torch(Reshapes().eval(), (8, "H", "W")), samples=4)
    assert result.ok and "reference" in result.compared


class OtherModulesWeight(nn.Module):
    """A weight computed from another module's parameter, that module run as well."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(8, 8, 3), nn.Conv2d(8, 8, 3)

    def forward(self, x: Any) -> Any:
        return self.a(F.conv2d(x, self.a.weight + self.b.weight))


class SiblingsWeight(nn.Module):
    """A weight computed in one submodule from its sibling's parameter."""

    class Uses(nn.Module):
        def __init__(self, other: nn.Module) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(()))
            self.other = [other]  # (not a submodule)

        def forward(self, x: Any) -> Any:
            return F.conv2d(x, self.other[0].weight * self.scale)

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(8, 8, 3)
        self.b = self.Uses(self.a)

    def forward(self, x: Any) -> Any:
        return self.b(x)


class DetachedWeight(nn.Conv2d):
    def forward(self, x: Any) -> Any:
        return F.conv2d(x, self.weight.detach(), self.bias)


class BiasReadFirst(nn.Module):
    """A module's parameter read in arithmetic before the module runs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 1)

    def forward(self, x: Any) -> Any:
        return self.conv(x * self.conv.bias.view(1, -1, 1, 1))


class WeightUsedFirst(BiasReadFirst):
    def forward(self, x: Any) -> Any:
        return self.conv(F.conv2d(x, self.conv.weight))


class TiedConvolutions(nn.Module):
    """Two modules holding one parameter object (PyTorch counts it once)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)
        self.b.weight = self.a.weight

    def forward(self, x: Any) -> Any:
        return self.b(self.a(x))


@pytest.mark.parametrize(("module", "words"), [
    (BiasReadFirst(), "runs after its parameter 'conv.bias' was counted"),
    (WeightUsedFirst(), "runs after its parameter 'conv.weight' was counted"),
    (TiedConvolutions(), "runs after its parameter 'a.weight' was counted"),
    (OtherModulesWeight(), "runs after its parameter 'a.weight' was counted"),
    (SiblingsWeight(), "parameters of another module"),
    (DetachedWeight(8, 8, 3), "autograd did not record"),
])
def test_what_could_be_counted_or_shaped_wrongly_is_refused(module: Any, words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(module, (8, "H", "W"))
    assert words in str(info.value)


def test_a_computed_weight_under_inference_mode_is_refused() -> None:
    module = DetachedWeight(8, 8, 3)
    module.forward = lambda x: F.conv2d(x, module.weight / 2, module.bias)  # type: ignore
    with torch.inference_mode(), pytest.raises(SpecError, match="autograd did not record"):
        from_torch(module, (8, "H", "W"))


class FloatSize(nn.Module):
    def forward(self, x: Any) -> Any:
        return F.pad(x, [0, 0, 0, x.shape[-2] / 2 * 2])


def test_a_size_divided_back_is_still_pythons_float() -> None:
    with pytest.raises(SpecError) as info:
        from_torch(FloatSize(), (8, "H", "W"))
    assert "SymRatio" in str(info.value) or info.value.code == "size_arithmetic"


class NarrowPastTheEnd(nn.Module):
    """``narrow`` does not clamp as a slice does: past the end is PyTorch's error."""

    def forward(self, x: Any) -> Any:
        return x.narrow(2, -3, 2), x.narrow(3, 1, 9), torch.narrow(x, 2, 2, x.shape[2] - 2)


def test_a_narrow_past_the_end_is_pytorchs_error() -> None:
    net = from_torch(NarrowPastTheEnd(), (8, "H", "W"))
    for h, w in [(4, 10), (3, 12), (2, 10), (5, 9), (6, 40)]:
        try:
            real = _shapes(NarrowPastTheEnd()(torch.zeros(1, 8, h, w)))
        except (RuntimeError, IndexError):
            with pytest.raises(SpecError):
                from_torch(NarrowPastTheEnd(), (8, h, w))
            with pytest.raises(ConvsymError):
                net.subs(H=h, W=w)
            continue
        assert [tuple(int(s) for s in shape) for shape in net.subs(H=h, W=w).output_shapes] \
            == real
        assert list(from_torch(NarrowPastTheEnd(), (8, h, w)).output_shapes) == real
    assert "W >= 10" in [str(c) for c in net.conditions]  # (the 9 from 1 fits)


def test_a_fixed_attention_mask_fixes_the_token_count() -> None:
    module = BiasedAttention(tokens=20).eval()
    net = from_torch(module, (8, "H", "W"))
    for h, w in [(4, 5), (5, 4), (2, 10), (4, 4), (3, 3)]:
        try:
            real = tuple(module(torch.zeros(1, 8, h, w)).shape[1:])
        except RuntimeError:
            real = None
        try:
            mine = net.subs(H=h, W=w).output_shape
        except ConvsymError:
            mine = None
        assert mine == real, (h, w)
    assert sum(r.params for r in net.rows) == 14 + 8 * 24 + 24


def test_a_gathered_index_must_exist() -> None:
    net = from_torch(GatherPastTheEnd(), (8, "H", "W"))
    assert [str(c) for c in net.conditions] == ["H >= 21"]
    assert net.subs(H=21, W=3).output_shape == (8, 2, 3)
    with pytest.raises(ConvsymError):
        net.subs(H=20, W=3)
    with pytest.raises(IndexError):
        GatherPastTheEnd()(torch.zeros(1, 8, 20, 3))


def test_a_mask_computed_by_a_module_on_a_buffer_holds_its_parameters() -> None:
    """The relative-position ViTs' bias MLP runs on a buffer: no row (``fixed_calls``, so
    its multiply-accumulates are not counted), its parameters counted where the mask is read."""
    module = BiasFromAnotherModule().eval()
    net = check(module)
    assert "mlp" in net.fixed_calls
    assert int(net.total_params) == sum(int(p.numel()) for p in module.parameters()) == 6


class RelPosTable(nn.Module):
    """A bias table read by a method, as timm's RelPosBias.get_bias() reads its own."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(2, 16, 16))

    def get_bias(self) -> Any:
        return self.table.unsqueeze(0)


class ChildBiasAttention(nn.Module):
    """Attention whose mask is its child's table (timm's MaxxViT and CoAtNet)."""

    def __init__(self) -> None:
        super().__init__()
        self.rel_pos = RelPosTable()

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        q = x.flatten(2).transpose(1, 2).reshape(B, H * W, 2, C // 2).transpose(1, 2)
        return F.scaled_dot_product_attention(q, q, q, attn_mask=self.rel_pos.get_bias())


def test_a_bias_read_from_a_child_module_is_followed() -> None:
    module = ChildBiasAttention().eval()
    with torch.no_grad():
        out = module(torch.randn(2, 8, 4, 4))
    net = from_torch(module, (8, 4, 4))
    assert net.output_shapes == [tuple(out.shape[1:])]
    assert int(net.total_params) == sum(int(p.numel()) for p in module.parameters())


class SharedBiasMLP(nn.Module):
    """timm's shared relative-position bias (``vit_srelpos``): an MLP on a buffer, run once by
    the model and read by every block."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("coords", torch.zeros(16, 16, 2))

    def forward(self) -> Any:
        return self.fc(self.coords).permute(2, 0, 1).unsqueeze(0)


class SharedBiasBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, x: Any, bias: Any, table: Any) -> Any:
        q = self.proj(x).reshape(x.shape[0], 16, 2, 4).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, q, q, attn_mask=bias)
        return y.transpose(1, 2).reshape(x.shape[0], 16, 8) + table


class SharedBias(nn.Module):
    """Blocks reading tensors their parent computed from other modules' parameters: a bias
    MLP at the root (read as an attention mask) and a table scaled by a root-level module."""

    def __init__(self) -> None:
        super().__init__()
        self.rel_pos = SharedBiasMLP()
        self.scale = nn.Linear(8, 8, bias=False)
        self.table = nn.Parameter(torch.zeros(16, 8))
        self.blocks = nn.Sequential(SharedBiasBlock(), SharedBiasBlock())

    def forward(self, x: Any) -> Any:
        bias, table = self.rel_pos(), self.scale(self.table)
        t = x.flatten(2).transpose(1, 2)
        for block in self.blocks:
            t = block(t, bias, table)
        return t


def _module_params(net: Any, model: nn.Module) -> dict[str, tuple[int, int]]:
    """Per module run on traced tensors: PyTorch's parameter count and the sum of the rows
    inside it (as the conformance harness compares them)."""
    out = {}
    for name, module in model.named_modules():
        if not name or name in net.fixed_calls:
            continue
        ours = sum(int(r.params) for r in net.rows
                   if r.name == name or r.name.startswith(name + "."))
        out[name] = (sum(int(p.numel()) for p in module.parameters()), ours)
    return out


def test_parameters_computed_outside_a_block_are_not_counted_in_it() -> None:
    """The bias MLP's and the scaled table's parameters belong to root-level modules: the row
    that first reads each holds them under that module's name, not the block's (timm's
    vit_srelpos counted the shared MLP in blocks.0)."""
    module = SharedBias().eval()
    net = from_torch(module, (8, 4, 4))
    with torch.no_grad():
        out = module(torch.randn(2, 8, 4, 4))
    assert net.output_shapes == [tuple(out.shape[1:])]
    assert int(net.total_params) == sum(int(p.numel()) for p in module.parameters())
    for name, (real, ours) in _module_params(net, module).items():
        assert real == ours, (name, real, ours)


class TableChild(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.t = nn.Parameter(torch.ones(8, 1, 1))

    def forward(self, x: Any) -> Any:
        return x


class RootReadsChild(nn.Module):
    """The model itself reads a tensor computed from a child's parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.c = TableChild()

    def forward(self, x: Any) -> Any:
        return self.c(x) + self.c.t * 2


class OwnAndShared(nn.Module):
    """A block multiplies its own parameter by one its parent computed: one tensor holding
    parameters of two modules that both run on the input."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(8, 1, 1))
        self.inner = OwnTimesShared()

    def forward(self, x: Any) -> Any:
        return self.inner(x, self.scale * 2)


class OwnTimesShared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(8, 1, 1))

    def forward(self, x: Any, shared: Any) -> Any:
        return x + self.w * shared


def test_a_child_parameter_read_by_the_model_is_counted_in_the_child() -> None:
    module = RootReadsChild().eval()
    net = check(module)
    assert [r.name for r in net.rows] == ["c.add"]
    for name, (real, ours) in _module_params(net, module).items():
        assert real == ours, (name, real, ours)


def test_one_tensor_from_parameters_of_two_modules_on_the_input_is_refused() -> None:
    with pytest.raises(ConvsymError, match="computed from parameters of '\\(root\\)', 'inner'"):
        from_torch(OwnAndShared().eval(), (8, "H", "W"))


class HalfAffineNorms(nn.Module):
    """``F.batch_norm`` / ``F.group_norm`` with a weight but no bias: convsym's norm layers
    have both or neither, so the count would be off by the missing one."""

    def __init__(self, norm: str) -> None:
        super().__init__()
        self.norm = norm
        self.weight = nn.Parameter(torch.ones(8))
        self.register_buffer("mean", torch.zeros(8))
        self.register_buffer("var", torch.ones(8))

    def forward(self, x: Any) -> Any:
        if self.norm == "batch_norm":
            return F.batch_norm(x, self.mean, self.var, weight=self.weight)
        return F.group_norm(x, 2, weight=self.weight)


@pytest.mark.parametrize("norm", ["batch_norm", "group_norm"])
def test_a_norm_with_a_weight_and_no_bias_is_refused(norm: str) -> None:
    with pytest.raises(ConvsymError, match=f"{norm} with only one of weight and bias"):
        from_torch(HalfAffineNorms(norm).eval(), (8, "H", "W"))


class SizeOverSize(nn.Module):
    """``(C * n) // n`` with ``n = H // 8``: Python divides by zero for H < 8."""

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        n = H // 8
        return x.view(B, (C * n) // n, H * W)


class MaskOverSize(nn.Module):
    """A mask ``(H // 8, W)`` viewed as ``(-1, H // 8)``: PyTorch refuses the -1 beside a 0."""

    def forward(self, x: Any) -> Any:
        B, C, H, W = x.shape
        m = x.new_zeros((H // 8, W)).view(-1, H // 8)
        return x[:, :1, :1, :1] + m


@pytest.mark.parametrize("module", [SizeOverSize(), MaskOverSize()],
                         ids=["floordiv", "mask_view"])
def test_no_size_is_accepted_where_the_forward_divides_by_zero(module: Any) -> None:
    with pytest.raises((ZeroDivisionError, RuntimeError)):
        module(torch.randn(2, 8, 4, 4))
    net = from_torch(module.eval(), (8, "H", "W"))
    assert not net.accepts(H=4, W=4)
    assert net.accepts(H=16, W=4)
    with torch.no_grad():
        real = tuple(module(torch.randn(2, 8, 16, 4)).shape[1:])
    assert net.subs(H=16, W=4).output_shape == real


class EmptyMaskRows(nn.Module):
    """``(B, 1, W) + new_zeros((H // 4, W))``: no rows at all for H < 4, as in PyTorch."""

    def forward(self, x: Any) -> Any:
        return x[:, 0, :1] + x.new_zeros((x.shape[2] // 4, x.shape[3]))


def test_an_operand_of_size_zero_broadcasts_as_in_pytorch() -> None:
    module = EmptyMaskRows().eval()
    net = from_torch(module, (8, "H", "W"))
    for h, w in [(1, 4), (3, 5), (9, 2)]:
        real = tuple(module(torch.zeros(2, 8, h, w)).shape[1:])
        assert net.accepts(H=h, W=w)
        assert net.subs(H=h, W=w).output_shape == real
