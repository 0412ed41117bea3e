"""Trainable and frozen parameters of imported PyTorch models, as PyTorch reports them.

``sum(p.numel() for p in model.parameters() if p.requires_grad)`` is what users compare the
trainable count with: a parameter with ``requires_grad`` off (a frozen backbone,
``nn.Parameter(..., requires_grad=False)``) is non-trainable wherever convsym counts it (a
module's row, a functional layer, a weight computed in forward, a parameter in arithmetic),
and buffers are no parameters.  Where autograd cannot say which parameters a weight computed
in forward uses (``torch.no_grad``, ``detach``), the import refuses rather than report the
parameters as never run.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from convsym.errors import SpecError  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402

pytestmark = pytest.mark.frameworks


def split(module: Any) -> tuple[int, int]:
    """PyTorch's trainable and frozen parameter counts."""
    params = list(module.parameters())
    return (sum(int(p.numel()) for p in params if p.requires_grad),
            sum(int(p.numel()) for p in params if not p.requires_grad))


def check(module: Any, shape: tuple[Any, ...] = (8, "H", "W")) -> Any:
    """convsym's trainable / non-trainable split is PyTorch's, and every flag is kept."""
    module.eval()
    flags = [p.requires_grad for p in module.parameters()]
    net = from_torch(module, shape)
    assert not net.not_run
    assert (int(net.trainable_params), int(net.non_trainable_params)) == split(module)
    assert [p.requires_grad for p in module.parameters()] == flags
    h, w = 9, 11
    with torch.no_grad():
        real = module(torch.randn(2, shape[0], h, w))
    values = {k: v for k, v in (("H", h), ("W", w)) if k in shape}
    assert net.subs(**values).output_shape == tuple(real.shape[1:])
    return net


LEAVES = {
    "Conv2d": lambda: nn.Conv2d(8, 4, 3),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(8, 4, 3, stride=2),
    "Linear": lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5)),
    "BatchNorm2d": lambda: nn.BatchNorm2d(8),
    "LayerNorm": lambda: nn.LayerNorm([11]),
    "GroupNorm": lambda: nn.GroupNorm(2, 8),
    "InstanceNorm2d": lambda: nn.InstanceNorm2d(8, affine=True),
    "PReLU": lambda: nn.PReLU(8),
}


def _freeze(module: Any, which: str) -> Any:
    for name, p in module.named_parameters():
        if which == "all" or name.endswith(which):
            p.requires_grad_(False)
    return module


@pytest.mark.parametrize("which", ["weight", "bias", "all"])
@pytest.mark.parametrize("kind", sorted(LEAVES))
def test_a_modules_frozen_parameters_are_non_trainable(kind: str, which: str) -> None:
    module = _freeze(LEAVES[kind](), which)
    shape = (8, "H", 11) if kind == "LayerNorm" else (8, "H", "W")
    net = check(module, shape)
    if kind != "PReLU" or which != "bias":  # (PReLU has no bias: nothing frozen)
        assert int(net.non_trainable_params) > 0


class Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.block = nn.Conv2d(16, 16, 3, padding=1)

    def forward(self, x: Any) -> Any:
        y = self.stem(x)
        return y + self.block(y) + self.block(y)  # a module called twice counts once


class Detector(nn.Module):
    """A frozen backbone (``requires_grad_(False)``) under a trainable head."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = Backbone().requires_grad_(False)
        self.head = nn.Conv2d(16, 6, 1)

    def forward(self, x: Any) -> Any:
        return self.head(self.backbone(x))


def test_a_frozen_backbone_under_a_trainable_head() -> None:
    net = check(Detector())
    assert int(net.trainable_params) == 16 * 6 + 6
    rows = {r.name: (int(r.trainable), int(r.non_trainable)) for r in net.rows}
    assert rows["backbone.stem.0"] == (0, 8 * 16 * 9 + 16)
    assert rows["head"] == (16 * 6 + 6, 0)


class FunctionalFrozen(nn.Module):
    """Functional layers with a module's parameters, some of them frozen, and a frozen
    layer scale read in arithmetic."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 8, 3, 3))
        self.bias = nn.Parameter(torch.zeros(6), requires_grad=False)
        self.ln_w = nn.Parameter(torch.ones(6), requires_grad=False)
        self.ln_b = nn.Parameter(torch.zeros(6))
        self.bn_w = nn.Parameter(torch.ones(6))
        self.bn_b = nn.Parameter(torch.zeros(6), requires_grad=False)
        self.register_buffer("mean", torch.zeros(6))
        self.register_buffer("var", torch.ones(6))
        self.scale = nn.Parameter(torch.ones(6, 1, 1), requires_grad=False)
        self.shift = nn.Parameter(torch.zeros(6, 1, 1))
        self.register_buffer("offset", torch.zeros(6, 1, 1))

    def forward(self, x: Any) -> Any:
        x = F.conv2d(x, self.weight, self.bias, padding=1)
        x = F.layer_norm(x.permute(0, 2, 3, 1), [6], self.ln_w, self.ln_b).permute(0, 3, 1, 2)
        x = F.batch_norm(x, self.mean, self.var, self.bn_w, self.bn_b)
        return (x * self.scale + self.shift) - self.offset


def test_functional_layers_and_parameter_operands_follow_requires_grad() -> None:
    net = check(FunctionalFrozen())
    assert int(net.non_trainable_params) == 6 + 6 + 6 + 6  # bias, ln_w, bn_b, scale
    assert int(net.total_params) == sum(int(p.numel()) for p in FunctionalFrozen().parameters())


class ScaledStd(nn.Module):
    """A weight standardised and scaled in forward (timm's ``ScaledStdConv2d``)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 8, 3, 3))
        self.gain = nn.Parameter(torch.ones(6, 1, 1, 1))
        self.bias = nn.Parameter(torch.zeros(6))
        self.register_buffer("blur", torch.ones(6, 1, 3, 3) / 9)

    def forward(self, x: Any) -> Any:
        w = F.batch_norm(self.weight.reshape(1, 6, -1), None, None, training=True)
        x = F.conv2d(x, w.reshape_as(self.weight) * self.gain, self.bias, padding=1)
        return F.conv2d(x, self.blur * 2, groups=6)  # computed from a buffer: no parameters


@pytest.mark.parametrize("frozen", [(), ("gain",), ("weight", "bias"),
                                    ("weight", "gain", "bias")])
def test_a_computed_weights_frozen_sources_are_non_trainable(frozen: tuple[str, ...]) -> None:
    module = ScaledStd()
    for name in frozen:
        getattr(module, name).requires_grad_(False)
    check(module)


class IntegerParameter(nn.Module):
    """An integer parameter cannot require a gradient: PyTorch reports it frozen."""

    def __init__(self) -> None:
        super().__init__()
        self.offsets = nn.Parameter(torch.zeros(8, 1, 1, dtype=torch.long),
                                    requires_grad=False)

    def forward(self, x: Any) -> Any:
        return x + self.offsets


def test_an_integer_parameter_is_non_trainable() -> None:
    assert int(check(IntegerParameter()).non_trainable_params) == 8


class NoGradWeight(nn.Module):
    """A weight computed from a child's parameters under ``torch.no_grad``: autograd records
    nothing, and the child itself never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 4, 3)

    def forward(self, x: Any) -> Any:
        with torch.no_grad():
            w = self.conv.weight * 2
        return F.conv2d(x, w, self.conv.bias)


class DetachedScaledWeight(nn.Conv2d):
    def forward(self, x: Any) -> Any:
        return F.conv2d(x, self.weight.detach() * 2, self.bias)


@pytest.mark.parametrize("module", [NoGradWeight(), DetachedScaledWeight(8, 4, 3)],
                         ids=lambda m: type(m).__name__)
def test_a_weight_whose_parameters_autograd_missed_is_refused(module: Any) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(module, (8, "H", "W"))
    assert info.value.code == "unattributed_parameters"
    assert "weight" in str(info.value) and "test_torch_trainable.py:" in str(info.value)


class NoGradBufferWeight(nn.Module):
    """A weight computed from a buffer under ``torch.no_grad``, the module's parameters
    used by a row: nothing is missed."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("blur", torch.ones(8, 1, 3, 3) / 9)
        self.conv = nn.Conv2d(8, 4, 1)

    def forward(self, x: Any) -> Any:
        with torch.no_grad():
            w = self.blur * 2
        return self.conv(F.conv2d(x, w, groups=8))


def test_a_buffer_weight_under_no_grad_is_followed() -> None:
    check(NoGradBufferWeight())


class ComputedOperands(nn.Module):
    """Parameters used through a computation in arithmetic (a gate through a sigmoid, a
    detached shift, a 0-d gain through exp): each counted, where it is used."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(8, 1, 1))
        self.shift = nn.Parameter(torch.zeros(8, 1, 1), requires_grad=False)
        self.gain = nn.Parameter(torch.tensor(0.5))
        self.register_buffer("mask", torch.ones(1, 1, 1))

    def forward(self, x: Any) -> Any:
        return x * torch.sigmoid(self.gate) + self.shift.detach() + self.gain.exp() * \
            self.mask


@pytest.mark.parametrize("frozen", [(), ("gate",), ("gate", "gain")])
def test_parameters_computed_into_an_operand_are_counted(frozen: tuple[str, ...]) -> None:
    module = ComputedOperands()
    for name in frozen:
        getattr(module, name).requires_grad_(False)
    net = check(module)
    assert int(net.total_params) == 17


class NoGradOperand(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gate = nn.Parameter(torch.zeros(8, 1, 1))

    def forward(self, x: Any) -> Any:
        with torch.no_grad():
            scale = self.gate * 2
        return x * scale


def test_an_operand_whose_parameters_autograd_missed_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        from_torch(NoGradOperand(), (8, "H", "W"))
    assert info.value.code == "unattributed_parameters" and "gate" in str(info.value)
