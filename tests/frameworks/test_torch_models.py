"""Real PyTorch models, imported with ``from_torch``, against what PyTorch itself computes.

Each model is imported once with a symbolic input shape.  At several sizes the model runs
forward for real with hooks on every module; each module's output shape must equal the
closed form of its row evaluated at that size, and each module's parameter count (sum of
``p.numel()``) must equal its row's count.  Sizes the closed forms reject must make PyTorch
fail too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from convsym.errors import ConvsymError, SpecError  # noqa: E402
from convsym.expr import symbols  # noqa: E402
from convsym.importers.torch_module import from_torch  # noqa: E402
from convsym.intdiv import evaluate  # noqa: E402

pytestmark = pytest.mark.frameworks


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_with_hooks(model: Any, shape: tuple[int, ...]) -> tuple[dict[str, list[tuple[int, ...]]],
                                                                 tuple[int, ...]]:
    """Every module's output shapes (without the batch axis) for one forward pass."""
    seen: dict[str, list[tuple[int, ...]]] = {}
    handles = []
    for name, module in model.named_modules():
        if not list(module.children()):
            def hook(mod: Any, args: Any, out: Any, name: str = name) -> None:
                seen.setdefault(name or type(mod).__name__, []).append(tuple(out.shape[1:]))
            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            out = model.eval()(torch.zeros((1, *shape)))
    finally:
        for h in handles:
            h.remove()
    return seen, tuple(out.shape[1:])


def check_model(model: Any, symbolic: tuple[object, ...], sizes: list[tuple[int, ...]]) -> Any:
    """Import with symbols; compare every module at each size; compare parameters."""
    net = from_torch(model, symbolic)
    rows = {r.name: r for r in net.rows}
    for size in sizes:
        values = {n: v for n, v in zip(symbolic, size) if isinstance(n, str)}
        env = {s: values[s.name] for s in net.all_symbols()}
        for cond in net.condition_records:  # the sizes are admissible
            value = evaluate(cond.expr, env)
            assert value == 0 if cond.kind == "eq" else value >= 0, (size, cond)
        seen, out = run_with_hooks(model, size)
        compared = 0
        for name, shapes in seen.items():
            for call, shape in enumerate(shapes):
                row = rows[name if call == 0 else f"{name}[{call}]"]
                assert tuple(evaluate(x, env) for x in row.shape) == shape, (name, size)
                compared += 1
        assert compared == sum(len(v) for v in seen.values())
        assert tuple(evaluate(x, env) for x in net.rows[-1].shape) == out, size
    own = {name: sum(p.numel() for p in m.parameters()) for name, m in model.named_modules()
           if not list(m.children())}
    for name, count in own.items():
        if name in rows:
            assert rows[name].params == count, name
    assert net.total_params == sum(p.numel() for p in model.parameters())
    return net


def assert_torch_rejects(model: Any, net: Any, shape: tuple[int, ...]) -> None:
    """convsym's closed forms reject ``shape`` and PyTorch fails (or changes the batch)."""
    values = {s.name: v for s, v in zip(_symbols(net), shape) if s is not None}
    with pytest.raises(ConvsymError):
        net.subs(values)
    try:
        _, out = run_with_hooks(model, shape)
    except (RuntimeError, ValueError):
        return
    pytest.fail(f"PyTorch accepted {shape} with output {out}")


def _symbols(net: Any) -> list[Any]:
    (shape,) = net.input_shapes.values()
    out = []
    for size in shape:
        free = sorted(size.free_symbols(), key=str) if hasattr(size, "free_symbols") else []
        out.append(free[0] if free else None)
    return out


# --- the seed questions, ported -------------------------------------------------------------


def test_seed_models() -> None:
    seed1 = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3))
    net = check_model(seed1, (1, "H", "W"), [(1, 28, 28), (1, 5, 9)])
    assert [r.params for r in net.rows] == [320, 0, 18496]
    seed2 = nn.Sequential(nn.Conv2d(3, 32, 5, bias=False), nn.ReLU(),
                          nn.Conv2d(32, 64, 5, bias=False), nn.ReLU())
    net = check_model(seed2, (3, "H", "W"), [(3, 28, 28), (3, 9, 40)])
    assert [r.params for r in net.rows] == [2400, 0, 51200, 0]
    # seed 3 in PyTorch: padding=1 gives Keras's sizes for k=4, s=2 on even inputs
    seed3 = nn.Sequential(nn.Conv2d(3, 10, 4, stride=2, padding=1),
                          nn.Conv2d(10, 20, 3, stride=2, padding=1), nn.Flatten(),
                          nn.Linear(1280, 10))
    net = check_model(seed3, (3, "H", "W"), [(3, 32, 32), (3, 30, 33)])
    assert [r.params for r in net.rows] == [490, 1820, 0, 12810]
    assert_torch_rejects(seed3, net, (3, 36, 32))


# --- classic architectures, written as their reference implementations are ------------------


class LeNet5(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: Any) -> Any:
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 5 * 5)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def test_lenet5_with_view() -> None:
    model = LeNet5()
    net = check_model(model, (1, "H", "W"), [(1, 32, 32), (1, 35, 33)])
    assert net.total_params == 61706
    assert_torch_rejects(model, net, (1, 36, 32))  # 400 features needed: view changes batch


def vgg16(num_classes: int = 10) -> Any:
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
           512, 512, 512, "M"]
    layers: list[Any] = []
    channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(v), kernel_size=3, padding=1), nn.ReLU(True)]
            channels = int(v)

    class VGG(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, num_classes))

        def forward(self, x: Any) -> Any:
            x = self.avgpool(self.features(x))
            return self.classifier(torch.flatten(x, 1))

    return VGG()


def test_vgg16() -> None:
    model = vgg16()
    net = check_model(model, (3, "H", "W"), [(3, 32, 32), (3, 45, 37)])
    assert net.total_params == 134301514
    assert_torch_rejects(model, net, (3, 31, 40))  # five 2x2 pools need H >= 32


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Any = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Any) -> Any:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet50(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, stride=2)
        self.layer3 = self._make_layer(256, 6, stride=2)
        self.layer4 = self._make_layer(512, 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * 4, num_classes)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> Any:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Any) -> Any:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_resnet50() -> None:
    model = ResNet50()
    net = check_model(model, (3, "H", "W"), [(3, 32, 32), (3, 1, 1), (3, 57, 70)])
    assert net.total_params == 23528522
    names = {r.name for r in net.rows}
    assert {"layer1.0.downsample.0", "layer4.2.conv3", "layer1.0.add", "fc"} <= names


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups,
                                   bias=False), nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[Any] = [ConvBNReLU(cin, hidden, kernel=1)] if expand != 1 else []
        layers += [ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Any) -> Any:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                    [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
        features: list[Any] = [ConvBNReLU(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in settings:
            for i in range(n):
                features.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(ConvBNReLU(cin, 1280, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: Any) -> Any:
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(torch.flatten(x, 1))


def test_mobilenet_v2() -> None:
    model = MobileNetV2()
    net = check_model(model, (3, "H", "W"), [(3, 32, 32), (3, 45, 19), (3, 1, 2)])
    assert net.total_params == 2236682
    assert "features.1.conv.0.0" in {r.name for r in net.rows}  # depthwise conv, groups=32


class UNet(nn.Module):
    """A two-level U-Net: padded convs, max-pool down, transposed-conv up, torch.cat skips."""

    def __init__(self) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> Any:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())

        self.down1, self.down2, self.bottom = block(3, 8), block(8, 16), block(16, 32)
        self.up2 = nn.ConvTranspose2d(32, 16, 2, stride=2)
        self.dec2 = block(32, 16)
        self.up1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec1 = block(16, 8)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x: Any) -> Any:
        d1 = self.down1(x)
        d2 = self.down2(F.max_pool2d(d1, 2))
        b = self.bottom(F.max_pool2d(d2, 2))
        u2 = self.dec2(torch.cat([self.up2(b), d2], dim=1))
        u1 = self.dec1(torch.cat((self.up1(u2), d1), 1))
        return self.head(u1)


def test_unet_with_cat() -> None:
    model = UNet()
    net = check_model(model, (3, "H", "W"), [(3, 32, 32), (3, 12, 40)])
    assert_torch_rejects(model, net, (3, 30, 32))  # two pools and two ups: H % 4 == 0


class DCGANGenerator(nn.Module):
    """The PyTorch DCGAN tutorial's generator (nz=100, ngf=64, nc=3)."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, x: Any) -> Any:
        return self.main(x)


def test_dcgan_generator() -> None:
    model = DCGANGenerator()
    net = check_model(model, (100, "h", "w"), [(100, 1, 1), (100, 3, 2)])
    assert net.subs(h=1, w=1).output_shape == (3, 64, 64)
    assert net.total_params == 3576704


def test_depthwise_and_separable_convolutions() -> None:
    model = nn.Sequential(
        nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=8),   # depthwise, multiplier 2
        nn.Conv2d(16, 12, 1),                                # pointwise
        nn.Conv2d(12, 12, (3, 5), dilation=(2, 1), padding="same", groups=12, bias=False),
        nn.Conv2d(12, 6, 1, groups=3), nn.ReLU6(), nn.AvgPool2d(3, 2, 1, ceil_mode=True))
    net = check_model(model, (8, "H", "W"), [(8, 32, 32), (8, 7, 13), (8, 1, 1)])
    assert [r.params for r in net.rows][:4] == [160, 204, 180, 30]


class CausalStack(nn.Module):
    """Dilated causal Conv1d (left padding) with residual adds, WaveNet style."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Conv1d(1, 16, 1)
        self.pads = nn.ModuleList([nn.ConstantPad1d((d, 0), 0.0) for d in (1, 2, 4, 8)])
        self.convs = nn.ModuleList([nn.Conv1d(16, 16, 2, dilation=d) for d in (1, 2, 4, 8)])
        self.out = nn.Conv1d(16, 1, 3, stride=2, padding=1)

    def forward(self, x: Any) -> Any:
        h = self.inp(x)
        for pad, conv in zip(self.pads, self.convs):
            h = h + torch.tanh(conv(pad(h)))
        return self.out(h)


def test_causal_conv1d_stack() -> None:
    model = CausalStack()
    net = check_model(model, (1, "T"), [(1, 16), (1, 1), (1, 37)])
    assert str(net.output_shape) == "(1, ceiling(T/2))"


def test_conv3d_net() -> None:
    model = nn.Sequential(
        nn.Conv3d(1, 4, 3), nn.BatchNorm3d(4), nn.ReLU(), nn.MaxPool3d(2, ceil_mode=True),
        nn.Conv3d(4, 8, (3, 3, 1), stride=2, padding=(1, 0, 1)), nn.ReplicationPad3d(1),
        nn.Conv3d(8, 8, 2, dilation=(1, 2, 1)), nn.AvgPool3d(2, padding=1),
        nn.AdaptiveMaxPool3d((2, None, 1)), nn.Flatten(), nn.LazyLinear(5))
    with pytest.raises(SpecError, match="lazy module"):
        from_torch(model, (1, 16, 16, 16))
    model(torch.zeros(1, 1, 16, 17, 16))  # the lazy Linear learns in_features = 8*2*?*1
    model[-1] = nn.Linear(model[-1].in_features, 5)
    net = check_model(model, (1, "D", 17, "W"), [(1, 16, 17, 16), (1, 11, 17, 25)])
    assert net.rows[-1].params == model[-1].weight.numel() + 5


# --- forward code convsym follows or refuses -----------------------------------------------


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: Any) -> Any:
        return self.conv(F.relu(self.conv(x))) * 0.5


def test_a_module_called_twice_counts_its_weights_once() -> None:
    model = Shared()
    net = check_model(model, (4, "H", "W"), [(4, 6, 7)])
    assert [r.name for r in net.rows] == ["conv", "conv[1]"]
    assert net.total_params == 148


class Sliced(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3)

    def forward(self, x: Any) -> Any:
        return self.conv(x)[:, :2]


class ReadsParameter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(4, 1, 1))

    def forward(self, x: Any) -> Any:
        return x + self.bias


class Branches(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.mean((1, 2, 3)) > 0:
            return x
        return -x


class BranchesOnSize(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.shape[-1] % 2:
            return x[..., :-1]
        return x


class Diff(nn.Module):
    def forward(self, x: Any) -> Any:
        return torch.diff(x, dim=1)


def _old_weight_norm(module: Any) -> Any:
    """The deprecated hook-based weight_norm: the class stays Conv2d, parameters change."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nn.utils.weight_norm(module)


@pytest.mark.parametrize(("model", "code", "words"), [
    (Branches(), "value_dependent", "depends on tensor values"),
    (Diff(), "unsupported_operation", "diff is not an operation convsym follows"),
    (nn.Sequential(nn.LSTM(4, 4)), "unknown_module", "'0' (torch.nn.modules.rnn.LSTM)"),
    (nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Conv2d(4, 4, 1))),
     "unknown_module", "its weights are parametrized"),
    (nn.Sequential(_old_weight_norm(nn.Conv2d(4, 4, 1))), "parameter_mismatch",
     "has 24 parameters but convsym counts 20"),  # weight_g 4 + weight_v 16 + bias 4
])
def test_refusals_name_the_module_or_operation(model: Any, code: str, words: str) -> None:
    with pytest.raises(SpecError) as info:
        from_torch(model, (4, 8, 8))
    assert info.value.code == code
    assert words in str(info.value)


def test_branching_on_a_symbolic_size_names_the_line() -> None:
    with pytest.raises(SpecError) as info:
        from_torch(BranchesOnSize(), (4, "H", "W"))
    assert info.value.code == "branches_on_size"
    assert "test_torch_models.py" in str(info.value) and "x.shape[-1] % 2" in str(info.value)
    # at a concrete size the branch is decided, and the branch taken is the one torch takes
    assert from_torch(BranchesOnSize(), (4, 8, 9)).output_shape == (4, 8, 8)


def test_slicing_and_parameter_reads_are_followed() -> None:
    assert from_torch(Sliced(), (4, 8, 8)).output_shape == (2, 6, 6)
    net = from_torch(ReadsParameter(), (4, "H", "W"))
    H, W = symbols("H W")
    assert [(r.name, r.type, r.output_shape, r.params) for r in net.rows] == \
        [("bias", "TensorOperand", (4, H, W), 4)]


def test_rows_are_qualified_module_names() -> None:
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU()), nn.Flatten())
    net = from_torch(model, (3, "H", "W"))
    assert [(r.name, r.type) for r in net.rows] == [("0.0", "Conv2d"), ("0.1", "GELU"),
                                                    ("1", "Flatten")]
