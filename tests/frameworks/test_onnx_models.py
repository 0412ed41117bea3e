"""Real torch models exported to ONNX (TorchScript exporter, dynamic N, H, W), read by convsym
and checked against onnxruntime at three sizes: every node's output shape, every shape
tensor's values, and the parameter total against the file's initializers."""

from __future__ import annotations

import io
import os
import sys

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
sys.path.insert(0, os.path.dirname(__file__))

import onnxcheck  # noqa: E402

nn = torch.nn
F = torch.nn.functional
pytestmark = pytest.mark.frameworks

SIZES = [{"H": 64, "W": 64}, {"H": 37, "W": 50}, {"H": 45, "W": 33}]


def export(module: torch.nn.Module, channels: int = 3) -> onnx.ModelProto:
    """The legacy (TorchScript) exporter: it handles dynamic H and W here and is ~40x faster
    than the dynamo exporter (which also works, with torch.export.Dim)."""
    buf = io.BytesIO()
    x = torch.randn(2, channels, 64, 64)
    torch.onnx.export(module.eval(), (x,), buf, dynamo=False, input_names=["x"],
                      output_names=["y"], opset_version=17,
                      dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}})
    return onnx.load_from_string(buf.getvalue())


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNetish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, 2, 3, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1)
        return self.fc(torch.flatten(y, 1))


class Inverted(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU6(), nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):  # type: ignore[no-untyped-def]
        return x + self.body(x) if self.use_res else self.body(x)


class MobileNetish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
            Inverted(16, 16, 1, 1), Inverted(16, 24, 2, 6), Inverted(24, 24, 1, 6),
            Inverted(24, 32, 2, 6), nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64),
            nn.ReLU6())
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.features(x).mean([2, 3])
        return self.head(y)


class Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())

    def forward(self, x1, x2):  # type: ignore[no-untyped-def]
        x1 = self.up(x1)
        dy = x2.size()[2] - x1.size()[2]
        dx = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class UNet(nn.Module):
    """Milesial-style: skips concatenated after padding the upsampled map to the skip's size."""

    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.d1 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.d2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.u1 = Up(32, 16)
        self.u2 = Up(16, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x1 = self.inc(x)
        x2 = self.d1(x1)
        x3 = self.d2(x2)
        return self.out(self.u2(self.u1(x3, x2), x1))


class CeilAndResize(nn.Module):
    """ceil_mode pools, interpolation to a skip's size and by a factor, a view by the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.p = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.a = nn.AvgPool2d(2, 3, 1, ceil_mode=True)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):  # type: ignore[no-untyped-def]
        y = self.c(x)
        z = self.a(self.p(y))
        z = F.interpolate(z, size=y.shape[2:], mode="nearest")
        z = F.interpolate(z + y, scale_factor=2, mode="nearest")
        v = F.adaptive_max_pool2d(z, 1)
        return self.fc(v.view(v.size(0), -1))


MODELS = {"resnetish": ResNetish, "mobilenetish": MobileNetish, "unet": UNet,
          "ceil_and_resize": CeilAndResize}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_node_matches_onnxruntime(name: str) -> None:
    from convsym.importers.onnx_model import from_onnx

    torch.manual_seed(0)
    model = export(MODELS[name]())
    report = onnxcheck.compare(model, SIZES)
    assert not report.mismatches, report.mismatches[:5]
    assert report.compared >= 3 * 5
    assert from_onnx(model).total_params == onnxcheck.initializer_total(model)


@pytest.mark.slow
def test_dynamo_exporter_file_matches_onnxruntime(tmp_path: object) -> None:
    """The dynamo exporter (torch.export, ~10 s here) writes other patterns: ReduceMean with
    an axes input, Reshape to an initializer target with the batch as a number."""
    from torch.export import Dim

    from convsym.importers.onnx_model import from_onnx

    path = os.path.join(str(tmp_path), "resnetish.onnx")
    x = torch.randn(2, 3, 64, 64)
    dims = ({2: Dim("H", min=16, max=1024), 3: Dim("W", min=16, max=1024)},)
    torch.onnx.export(ResNetish().eval(), (x,), path, dynamo=True, input_names=["x"],
                      dynamic_shapes=dims)
    model = onnx.load(path)
    report = onnxcheck.compare(model, SIZES)
    assert not report.mismatches, report.mismatches[:5]
    assert report.compared >= 3 * 20
    assert from_onnx(model).total_params == onnxcheck.initializer_total(model)
