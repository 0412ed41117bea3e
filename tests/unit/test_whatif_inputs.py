"""Admissible input sizes and accepts(): the U-Net and the Flatten -> Linear(3844) examples."""

from __future__ import annotations

import itertools

import pytest
import sympy

from convsym import Sequential, load
from convsym.errors import ConvsymError, ShapeError, UsageError
from convsym.examples import example
from convsym.layers.torch import Conv2d, Flatten, Linear
from convsym.whatif import accepts, admissible_inputs
from convsym.whatif.intset import IntSet, Progression


def flatten_linear(shape: tuple[object, ...]) -> Sequential:
    return Sequential([Conv2d(3, 4, 3, stride=2), Flatten(), Linear(3844, 10)],
                      input_shape=shape)


def test_3844_square_input_is_exactly_63_or_64() -> None:
    found = admissible_inputs(flatten_linear((3, "n", "n")))
    assert found.exact and found.values("n").values() == [63, 64]


def test_3844_per_axis_and_jointly() -> None:
    """Per axis the projection holds 3, 4 and 1923, 1924 too: H = 3, W = 1923 flattens to
    4 * 1 * 961 = 3844.  Within torch.export's [8, 1024] only 63 and 64 remain."""
    found = admissible_inputs(flatten_linear((3, "H", "W")))
    assert found.values("H").values() == [3, 4, 63, 64, 1923, 1924]
    assert found.values("W") == found.values("H")
    assert not found.independent
    pairs = {(h, w) for h, w in itertools.product([3, 4, 63, 64, 1923, 1924], repeat=2)
             if 4 * ((h - 1) // 2) * ((w - 1) // 2) == 3844}
    assert set(found.solution.points()) == pairs
    assert {p for p in pairs if all(8 <= v <= 1024 for v in p)} == {
        (63, 63), (63, 64), (64, 63), (64, 64)}
    assert "divisors" in {s.kind for s in found.solution.steps}


def test_3844_brute_force_on_a_box() -> None:
    net = flatten_linear((3, "H", "W"))
    found = admissible_inputs(net)
    for h in range(1, 80):
        for w in (3, 4, 62, 63, 64, 65):
            assert ({"H": h, "W": w} in found) == accepts(net, H=h, W=w)


def test_accepts_with_real_torch() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.Flatten(),
                                torch.nn.Linear(3844, 10))
    net = flatten_linear((3, "H", "W"))
    for h, w in [(63, 64), (3, 1923), (1924, 4), (64, 64), (65, 64), (3, 1925), (62, 62)]:
        try:
            model(torch.zeros(1, 3, h, w))
            ran = True
        except RuntimeError:
            ran = False
        assert ran == accepts(net, H=h, W=w), (h, w)


def _unet_reference_1d(n: int) -> int | None:
    """The U-Net along one axis, run by the NumPy reference; None when it fails."""
    np = pytest.importorskip("numpy")
    from convsym import reference as R

    def conv(x: object, k: int) -> object:
        w = np.ones((1, x.shape[0], k))  # type: ignore[attr-defined]
        return R.conv(x, w, stride=(1,), padding=((0, 0),), dilation=(1,))

    x = np.zeros((1, n))
    try:
        skips = []
        for _ in range(4):
            x = conv(conv(x, 3), 3)
            skips.append(x)
            x = R.pool(x, "max", kernel=(2,), stride=(2,), padding=((0, 0),))
        x = conv(conv(x, 3), 3)
        for skip, amount in zip(reversed(skips), (4, 16, 40, 88)):
            up = R.conv_transpose(x, np.ones((1, 1, 2)), stride=(2,), padding=((0, 0),),
                                  output_padding=(0,), dilation=(1,))
            cropped = R.crop(skip, ((amount, amount),))
            if cropped.shape[1:] != up.shape[1:]:
                return None
            x = np.concatenate([cropped, up], axis=0)
            x = conv(conv(x, 3), 3)
        return int(conv(x, 1).shape[1])
    except ShapeError:
        return None


def test_unet_admissible_sizes_match_the_reference_for_every_n_up_to_1000() -> None:
    net = example("unet")
    found = admissible_inputs(net)
    assert found.exact and found.independent
    expected = IntSet.of([Progression(188, 16)])  # n = 16t + 12, t >= 11
    assert found.values("H") == expected and found.values("W") == expected
    assert found.values("H").describe("H") == "H = 16t + 12, t >= 11 (188, 204, 220, ...)"
    assert found.example() == {"H": 188, "W": 188}
    for n in range(1, 1001):
        out = _unet_reference_1d(n)
        assert (n in found.values("H")) == (out is not None), n
        if out is not None:
            assert out == n - 184
    # plain integer propagation through convsym's own layers, on a sample
    for n in [1, 187, 188, 189, 203, 204, 572, 573, 1000]:
        assert accepts(net, H=n, W=188) == (n in expected), n


def test_admissible_text_and_json() -> None:
    found = admissible_inputs(example("unet"))
    text = str(found)
    assert "H = 16t + 12, t >= 11" in text and "smallest: H=188, W=188 -> output (4, 4, 2)" \
        in text
    data = found.to_dict()
    assert data["per_symbol"]["H"]["smallest"][:3] == [188, 204, 220]
    assert data["smallest"] == {"input": {"H": 188, "W": 188}, "output": [4, 4, 2]}


def test_concrete_and_symbolic_hyperparameters() -> None:
    concrete = admissible_inputs(example("seed3"))
    assert concrete.symbols == () and "concrete" in concrete.describe()
    net = Sequential([Conv2d(3, 8, "k")], input_shape=(3, "n", "n"))
    with pytest.raises(UsageError) as info:
        admissible_inputs(net)
    assert info.value.code == "symbolic_hyperparameters"
    assert admissible_inputs(net.subs(k=5)).values("n").smallest(1) == [5]


def test_smallest_example_keeps_a_symbolic_width() -> None:
    """A layer symbol that no condition constrains (``Linear(..., "U")``) is not refused, and
    the smallest example's output keeps it (was an internal error converting it to int)."""
    net = Sequential([Conv2d(3, 4, 3, stride=2), Flatten(), Linear(3844, "U")],
                     input_shape=(3, "n", "n"))
    found = admissible_inputs(net)
    assert found.smallest_example() == ({"n": 63}, (sympy.Symbol("U", integer=True,
                                                                 positive=True),))
    assert "smallest: n=63 -> output (U,)" in str(found)
    assert found.to_dict()["smallest"] == {"input": {"n": 63}, "output": ["U"]}


def test_smallest_example_of_a_graph_with_a_concrete_channel_count() -> None:
    """A graph's output shape holds the channel count as a plain int."""
    net = load({"inputs": {"image": ["n", "n", 16]}, "layers": [
        {"Conv2D": {"filters": 16, "kernel_size": 3, "padding": "same"}, "name": "conv",
         "inputs": ["image"]}, {"Add": {}, "inputs": ["image", "conv"]}], "outputs": ["add"]})
    found = admissible_inputs(net)
    assert found.smallest_example() == ({"n": 1}, (1, 1, 16))
    assert "smallest: n=1 -> output (1, 1, 16)" in str(found)


@pytest.mark.parametrize(("sizes", "code"), [
    ({"H": 63}, "missing_value"),
    ({"H": 63, "W": 64, "X": 1}, "unknown_symbol"),
])
def test_accepts_bad_arguments(sizes: dict[str, int], code: str) -> None:
    with pytest.raises(ConvsymError) as info:
        accepts(flatten_linear((3, "H", "W")), **sizes)
    assert info.value.code == code


def test_accepts_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        accepts(flatten_linear((3, "H", "W")), H=63.0, W=64)  # type: ignore[arg-type]
    assert accepts(flatten_linear((3, "H", "W")), {"H": 63}, W=64)
