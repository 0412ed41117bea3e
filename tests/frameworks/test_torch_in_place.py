"""In-place operations in a forward, against PyTorch itself: the result keeps the shape of the
tensor written into (``a.add_(b)``, ``a += b``, ``x.unsqueeze_(1)``), and a broadcast that
would grow it is PyTorch's error, which convsym refuses or keeps as a side condition.

Each module is imported with a symbolic input, then at each size run for real (batch 2):
where PyTorch succeeds, every output shape must equal convsym's, instantiated and imported at
that size; where PyTorch raises, convsym must refuse at that size too.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from convsym.errors import ConvsymError, SpecError  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402

pytestmark = pytest.mark.frameworks

SIZES = [(1, 1), (1, 6), (5, 1), (5, 6), (7, 7)]


def _shapes(value: Any) -> list[tuple[int, ...]]:
    if isinstance(value, torch.Tensor):
        return [tuple(value.shape[1:])]
    return [s for v in value for s in _shapes(v)]


def compare(module: Any, sizes: list[tuple[int, int]] = SIZES) -> tuple[Any, list[bool]]:
    """convsym equals PyTorch at every size where PyTorch runs, and refuses where it fails;
    returns the symbolic network and, per size, whether PyTorch ran."""
    module.eval()
    net = from_torch(module, (8, "H", "W"))
    ran = []
    for h, w in sizes:
        try:
            with torch.no_grad():
                real = _shapes(module(torch.randn(2, 8, h, w)))
        except RuntimeError:
            ran.append(False)
            with pytest.raises(ConvsymError):
                net.subs(H=h, W=w)
            with pytest.raises(SpecError):
                from_torch(module, (8, h, w))
            continue
        ran.append(True)
        for mine in (net.subs(H=h, W=w), from_torch(module, (8, h, w))):
            assert [tuple(int(s) for s in shape) for shape in mine.output_shapes] == real, \
                (h, w)
    return net, ran


class PooledAddInput(nn.Module):
    """``a`` (8, 1, 1) plus ``x`` (8, H, W) in place: PyTorch runs only for H = W = 1."""

    def forward(self, x: Any) -> Any:
        return x.mean((2, 3), keepdim=True).add_(x)


class RowPlusInput(nn.Module):
    """``a += x`` with ``a`` (8, 1, W): runs only for H = 1."""

    def forward(self, x: Any) -> Any:
        a = x[:, :, :1]
        a += x
        return a


class InputPlusPooled(nn.Module):
    """The other way round: the pooled tensor broadcasts into ``x``, which keeps its shape;
    the result is never reassigned (``x`` itself changed)."""

    def forward(self, x: Any) -> Any:
        x.mul_(x.amax(3, keepdim=True))
        x.sub_(x.mean(1, keepdim=True))
        x /= x[:, :1]
        return x


class InputPlusParameter(nn.Module):
    """The traced input with a parameter of (8, 5, 1) added in place: runs only for H = 5."""

    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.zeros(8, 5, 1))

    def forward(self, x: Any) -> Any:
        x.add_(self.p)
        return x


class BiasInPlace(nn.Module):
    """A bias and a gain that broadcast into the tensor: every size runs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 4, 1)
        self.bias = nn.Parameter(torch.zeros(1, 4, 1, 1))
        self.gain = nn.Parameter(torch.ones(4, 1, 1))

    def forward(self, x: Any) -> Any:
        y = self.conv(x)
        y += self.bias
        y.mul_(self.gain)
        return y


class InPlaceAddcmul(nn.Module):
    """``a.addcmul_(x, x)`` writes ``x * x`` into ``a`` (8, H, 1): runs only for W = 1; and
    ``addcdiv_`` into a tensor of ``x``'s shape runs everywhere."""

    def forward(self, x: Any) -> Any:
        y = x.clone()
        y.addcdiv_(x, x.amax(1, keepdim=True), value=0.5)
        return x.mean(dim=3, keepdim=True).addcmul_(x, x), y


class AliasesInPlace(nn.Module):
    """Names for one tensor (``clone`` and ``relu`` are followed without a row) written
    into: every name keeps its shape."""

    def forward(self, x: Any) -> Any:
        y = F.relu(x.clone())
        y += x.mean(1, keepdim=True)
        z = x.clone()
        z.add_(x[:, :, :1])
        return x, y, z


class UnsqueezeInPlace(nn.Module):
    def forward(self, x: Any) -> Any:
        y = x.clone()
        y.unsqueeze_(1)
        return y


@pytest.mark.parametrize(("module", "runs"), [
    (PooledAddInput(), [True, False, False, False, False]),
    (RowPlusInput(), [True, True, False, False, False]),
    (InputPlusPooled(), [True] * 5),
    (InputPlusParameter(), [False, False, True, True, False]),
    (BiasInPlace(), [True] * 5),
    (AliasesInPlace(), [True] * 5),
    (InPlaceAddcmul(), [True, False, True, False, False]),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_in_place_results_keep_the_shape_written_into(module: Any, runs: list[bool]) -> None:
    net, ran = compare(module)
    assert ran == runs  # (the sizes exercise both outcomes where the construct has both)


def test_an_in_place_result_is_never_the_grown_broadcast() -> None:
    """Symbolically, the result is the pooled shape, with H = 1 and W = 1 as conditions."""
    net = from_torch(PooledAddInput(), (8, "H", "W"))
    assert net.output_shape == (8, 1, 1)
    assert sorted(str(c) for c in net.conditions) == ["Eq(H, 1)", "Eq(W, 1)"]
    net = from_torch(InputPlusParameter(), (8, "H", "W"))
    assert [str(c) for c in net.conditions] == ["Eq(H, 5)"]
    assert int(net.total_params) == 40  # the parameter, counted by its in-place row


def test_a_growth_decided_for_every_size_is_refused_with_the_line() -> None:
    with pytest.raises(SpecError) as info:
        from_torch(PooledAddInput(), (8, "H + 1", "W"))  # H + 1 is never 1
    assert info.value.code == "never_equal"
    assert "test_torch_in_place.py:" in str(info.value) and "in-place" in str(info.value)


class IntoParameter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.zeros(2, 8, 4, 4))

    def forward(self, x: Any) -> Any:
        return self.p.data.add_(x)


class OutArgument(nn.Module):
    def forward(self, x: Any) -> Any:
        y = x[:, :, :1].clone()
        torch.add(x, x, out=y)
        return y


@pytest.mark.parametrize(("module", "words"), [
    (IntoParameter(), "not traced"),
    (OutArgument(), "out="),
    (UnsqueezeInPlace(), "in-place unsqueeze_ changes the shape of the tensor itself"),
])
def test_writes_into_other_tensors_are_refused(module: Any, words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(module, (8, 4, 4))
    assert words in str(info.value)


@pytest.mark.parametrize("runner", ["torch", "numpy"])
def test_in_place_rows_replay(runner: str) -> None:
    from convsym.intdiv import to_sympy
    from convsym.runners.numpy_ref import NumpyRunner
    from convsym.runners.torch_run import TorchRunner

    for module, h in ((InputPlusPooled(), 6), (BiasInPlace(), 6), (InputPlusParameter(), 5)):
        net = from_torch(module.eval(), (8, "H", "W")).subs(H=h, W=7)
        outcomes = (TorchRunner() if runner == "torch" else NumpyRunner()).run(net)
        assert len(outcomes) == len(net.nodes)
        for index, shape in outcomes.items():
            assert shape == tuple(int(to_sympy(s)) for s in net.shapes[index])
