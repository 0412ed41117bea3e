"""Transposed convolutions against real PyTorch and Keras: ``forward(x, output_size=...)`` with
PyTorch's range check, and empty outputs (Keras answers 0, PyTorch refuses) (issue 12)."""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from convsym import Sequential  # noqa: E402
from convsym.errors import ConvsymError  # noqa: E402
from convsym.importers.keras_json import from_keras  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402
from convsym.intdiv import evaluate  # noqa: E402
from convsym.layers import torch as T  # noqa: E402
from convsym.layers.torch_conv import with_output_size  # noqa: E402

pytestmark = pytest.mark.frameworks


def _torch_out(module: Any, shape: tuple[int, ...], output_size: Any) -> tuple[int, ...] | str:
    try:
        with torch.no_grad():
            return tuple(module(torch.zeros(1, *shape), output_size=output_size).shape[1:])
    except (ValueError, RuntimeError) as err:
        return f"error: {err}"


def _convsym_out(layer: Any, shape: tuple[int, ...]) -> tuple[int, ...] | str:
    try:
        return tuple(int(v) for v in Sequential([layer], input_shape=shape).output_shape)
    except ConvsymError as err:
        return f"error: {err}"


GRID = [(n, k, s, p, d) for n, k, s, p, d in itertools.product(
    (1, 5), (1, 2, 3), (1, 3), (0, 2), (1, 2))]


@pytest.mark.parametrize(("n", "k", "s", "p", "d"), GRID)
def test_output_size_range_matches_pytorch(n: int, k: int, s: int, p: int, d: int) -> None:
    module = torch.nn.ConvTranspose1d(2, 3, k, stride=s, padding=p, dilation=d)
    layer = T.ConvTranspose1d(2, 3, k, stride=s, padding=p, dilation=d)
    smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
    for o in range(smallest - 1, smallest + s + 1):
        for given in ([o], [1, 2, o]):  # spatial only, or PyTorch's (N, C, L)
            want = _torch_out(module, (2, n), given)
            if o < 0 and isinstance(want, str):
                continue  # convsym refuses a negative size as an argument
            got = _convsym_out(with_output_size(layer, given), (2, n))
            assert isinstance(got, str) == isinstance(want, str), (n, k, s, p, d, o, got, want)
            if isinstance(want, str):
                if "valid sizes range" in want:  # the range check, with PyTorch's words
                    words = want.removeprefix("error: ").split(" (for")[0]
                    assert words.replace("[", "").replace("]", "") in got, (got, want)
            else:
                assert got == want, (n, k, s, p, d, o)


def test_output_size_in_two_dimensions_and_its_length() -> None:
    module = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    layer = T.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    for size in ((9, 10), (10, 9), (1, 2, 10, 10)):
        assert _convsym_out(with_output_size(layer, size), (4, 5, 5)) == \
            _torch_out(module, (4, 5, 5), size)
    want = _torch_out(module, (4, 5, 5), (2, 10, 10))
    assert "output_size must have 2 or 4 elements (got 3)" in want
    with pytest.raises(ConvsymError, match=r"output_size must have 2 or 4 elements \(got 3\)"):
        with_output_size(layer, (2, 10, 10))


def test_symbolic_output_size_keeps_the_range_as_conditions() -> None:
    module = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    layer = T.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    # the U-Net way: twice the size, always in range, no condition
    net = Sequential([with_output_size(layer, ("2*H", "2*W"))], input_shape=(4, "H", "W"))
    assert net.conditions == [] and [str(x) for x in net.output_shape] == ["2", "2*H", "2*W"]
    # a fixed size from a symbolic input: in range only for some H, W
    net = Sequential([with_output_size(layer, (10, 9))], input_shape=(4, "H", "W"))
    for h, w in itertools.product(range(1, 8), range(1, 8)):
        want = _torch_out(module, (4, h, w), (10, 9))
        values = {str(sym): v for sym, v in zip(("H", "W"), (h, w))}
        holds = all(c.subs({s: values[str(s)] for s in c.free_symbols}) for c in
                    net.conditions)
        assert holds == (not isinstance(want, str)), (h, w, want)
        if holds:
            env = {s: values[s.name] for s in net.all_symbols()}
            assert tuple(evaluate(x, env) for x in net.rows[-1].shape) == want


def test_the_fx_importer_follows_output_size() -> None:
    class Up(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)

        def forward(self, x: Any) -> Any:
            return self.up(x, output_size=[10, 9])

    assert from_torch(Up(), (4, 5, 5)).output_shape == (2, 10, 9) == \
        tuple(Up()(torch.zeros(1, 4, 5, 5)).shape[1:])
    with pytest.raises(ConvsymError, match="valid sizes range from 7 to 8"):
        from_torch(Up(), (4, 5, 4))


@pytest.mark.parametrize(("n", "k", "s", "p", "d"), GRID)
def test_pytorch_refuses_every_empty_output(n: int, k: int, s: int, p: int, d: int) -> None:
    for op in range(max(s, d)):
        size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        module = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d,
                                          output_padding=op)
        with torch.no_grad():
            try:
                want: Any = tuple(module(torch.zeros(1, 1, n)).shape[1:])
            except RuntimeError as err:
                assert "Output size is too small" in str(err) and size <= 0
                want = "error"
        layer = T.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d, output_padding=op)
        got = _convsym_out(layer, (1, n))
        assert (want == "error") == isinstance(got, str) == (size <= 0), (size, got, want)
        if not isinstance(got, str):
            assert got == want


KERAS_GRID = [(n, k, s, d, pad, op) for n, k, s, d, pad in itertools.product(
    (1, 2), (1, 2, 3, 4), (1, 2, 3), (1, 2), ("valid", "same"))
    for op in (None, *range(s)) if s == 1 or d == 1]


def test_keras_answers_zero_where_its_formula_gives_zero() -> None:
    L = keras.layers
    seen_zero = 0
    for n, k, s, d, pad, op in KERAS_GRID:
        model = keras.Sequential([keras.Input((n, 1)), L.Conv1DTranspose(
            2, k, strides=s, padding=pad, dilation_rate=d, output_padding=op)])
        ran = tuple(int(v) for v in model(torch.zeros(1, n, 1)).shape[1:])
        assert ran == tuple(int(v) for v in model.output_shape[1:])
        row = from_keras(model.to_json()).rows[-1]
        assert tuple(row.output_shape) == ran, (n, k, s, d, pad, op)
        assert bool(row.warnings) == (ran[0] == 0), (n, k, s, d, pad, op, row.warnings)
        seen_zero += ran[0] == 0
    assert seen_zero >= 6


def test_keras_zero_in_two_dimensions_and_symbolically() -> None:
    L = keras.layers
    layer = L.Conv2DTranspose(3, 2, strides=2, padding="same", output_padding=0)
    model = keras.Sequential([keras.Input((1, 5, 2)), layer])
    ran = tuple(int(v) for v in model(torch.zeros(1, 1, 5, 2)).shape[1:])
    row = from_keras(model.to_json()).rows[-1]
    assert ran == tuple(row.output_shape) == (0, 8, 3)
    assert row.warnings and row.params == model.count_params()
    sym = from_keras(model.to_json(), input_shape=("H", "W", 2))
    assert sym.conditions == [] and any("for some inputs" in w for w in sym.rows[-1].warnings)
