"""``convsym verify`` with real PyTorch and real Keras: built-in and imported networks agree,
and a planted bug is caught by the framework runner and shrunk."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from convsym import Sequential  # noqa: E402
from convsym.cli import main  # noqa: E402
from convsym.examples import example  # noqa: E402
from convsym.importers.keras_json import from_keras  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402
from convsym.intdiv import QPoly, add  # noqa: E402
from convsym.layers.base import Inference, Shape  # noqa: E402
from convsym.layers.frontend import layer_class  # noqa: E402
from convsym.layers.torch import Conv1d  # noqa: E402
from convsym.verification import verify  # noqa: E402

pytestmark = pytest.mark.frameworks


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(("name", "framework", "samples"), [
    ("seed1_symbolic", "keras", 4), ("seed3_symbolic", "keras", 4), ("wavenet", "keras", 2),
    ("lenet5", "torch", 4), ("dcgan", "torch", 1), ("resnet18", "torch", 2),
])
def test_built_in_examples_agree_with_the_frameworks(name: str, framework: str,
                                                     samples: int) -> None:
    net = example(name)
    assert net.dialect == framework
    result = verify(net, samples=samples, max_size=40)
    assert result.ok, result.mismatch
    assert result.compared[framework] >= result.compared["reference"] > 0
    assert not result.unavailable


def test_imported_networks_verify() -> None:
    nn = torch.nn

    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 6, 3, stride=2, padding=1)
            self.b = nn.Conv2d(3, 6, 1, stride=2)
            self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)

        def forward(self, x: Any) -> Any:
            return self.pool(torch.cat([self.a(x), self.b(x)], dim=1))

    result = verify(from_torch(Skip(), (3, "H", "W")), samples=8, seed=2)
    assert result.ok, result.mismatch
    assert result.compared["torch"] > 0

    L = keras.layers
    x = keras.Input((12, 3))
    y = L.Conv1D(4, 3, padding="causal", dilation_rate=2)(x)
    y = L.Concatenate()([y, L.Conv1D(4, 5, padding="same")(x)])
    model = keras.Model(x, L.MaxPooling1D(3, strides=2, padding="same")(y))
    net = from_keras(model.to_json(), input_shape=("T", 3))
    result = verify(net, samples=6)
    assert result.ok, result.mismatch
    assert result.compared["keras"] > 0


@layer_class
class Conv1dWrongSame(Conv1d):
    """A planted bug: 'same' with an even kernel is one short on odd inputs."""

    @property
    def type_name(self) -> str:
        return "Conv1d"

    def infer_one(self, shape: Shape) -> Inference:
        out = super().infer_one(shape)
        n = shape[1]
        if isinstance(n, QPoly) and n.as_int() is not None and int(n.as_int() or 0) % 2:
            out.shape = (out.shape[0], add(out.shape[1], QPoly.const(-1)))
        return out


def test_torch_runner_catches_a_planted_bug_and_shrinks_it() -> None:
    net = Sequential([Conv1dWrongSame(2, 3, 4, padding="same")], input_shape=(2, "n"))
    result = verify(net, samples=10, backends=["torch"], seed=5)
    mismatch = result.mismatch
    assert mismatch is not None
    assert mismatch.values == {"n": 1}
    assert mismatch.backend in ("torch", "concrete propagation")


def test_cli_verify_with_frameworks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "example:lenet5", "--samples", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "OK: every layer agrees" in out


def test_output_size_is_a_forward_argument_in_torch() -> None:
    """A ConvTranspose1d with output_size verifies against PyTorch (the size is passed to
    forward, not to the constructor)."""
    from convsym.spec import load

    net = load({"dialect": "torch", "input": [2, "n"],
                "layers": [{"ConvTranspose1d": {"in_channels": 2, "out_channels": 2,
                                                "kernel_size": 3, "stride": 2,
                                                "output_size": ["2*n + 2"]}}]})
    result = verify(net, samples=3, max_size=20)
    assert result.ok and result.compared["torch"] > 0 and not result.unavailable, result
