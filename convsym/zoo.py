"""Built-in example networks: classic architectures with symbolic input sizes.

Each is listed in :data:`ZOO`, which :mod:`convsym.examples` adds to its table, and built
fresh on request (``convsym summary example:resnet50 --set H=224 --set W=224``).  The
torchvision models use the PyTorch dialect with input ``(3, H, W)`` and torchvision's module
names; the parameter totals match torchvision exactly.

>>> from convsym.examples import example
>>> example("resnet18").total_params
11689512
>>> example("resnet50").output_shapes[0]
(1000,)
"""

from __future__ import annotations

from collections.abc import Callable

from convsym.graph import Graph, Model
from convsym.layers import keras as K
from convsym.layers import torch as T
from convsym.layers.base import Layer, Tensor, input_tensor
from convsym.network import Network, Sequential


def lenet5() -> Network:
    """LeNet-5 (LeCun et al. 1998) in PyTorch: tanh, average pooling, 61,706 parameters.

    ``fc1`` is ``Linear(400, 120)``, so only inputs whose last feature map is 16x5x5 fit
    (H, W in {32, 33}); that condition is kept.
    """
    g = Graph(input_shape=(1, "H", "W"), name="lenet5")
    x = g.add(T.Conv2d(1, 6, 5), name="conv1")
    x = g.add(T.Tanh(), x, name="tanh1")
    x = g.add(T.AvgPool2d(2), x, name="pool1")
    x = g.add(T.Conv2d(6, 16, 5), x, name="conv2")
    x = g.add(T.Tanh(), x, name="tanh2")
    x = g.add(T.AvgPool2d(2), x, name="pool2")
    x = g.add(T.Flatten(), x, name="flatten")
    for i, (a, b) in enumerate([(400, 120), (120, 84), (84, 10)], start=1):
        x = g.add(T.Linear(a, b), x, name=f"fc{i}")
        if i < 3:
            x = g.add(T.Tanh(), x, name=f"tanh{i + 2}")
    return g.build()


def vgg16() -> Network:
    """torchvision ``vgg16``: 138,357,544 parameters; ``AdaptiveAvgPool2d((7, 7))``."""
    g = Graph(input_shape=(3, "H", "W"), name="vgg16")
    x, channels, i = g.input, 3, 0
    for v in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]:
        if v == 0:  # "M": max pooling
            x = g.add(T.MaxPool2d(2, stride=2), x, name=f"features.{i}")
            i += 1
            continue
        x = g.add(T.Conv2d(channels, v, 3, padding=1), x, name=f"features.{i}")
        x = g.add(T.ReLU(inplace=True), x, name=f"features.{i + 1}")
        channels, i = v, i + 2
    x = g.add(T.AdaptiveAvgPool2d((7, 7)), x, name="avgpool")
    x = g.add(T.Flatten(), x, name="flatten")
    head = [T.Linear(512 * 7 * 7, 4096), T.ReLU(True), T.Dropout(), T.Linear(4096, 4096),
            T.ReLU(True), T.Dropout(), T.Linear(4096, 1000)]
    for j, layer in enumerate(head):
        x = g.add(layer, x, name=f"classifier.{j}")
    return g.build()


def _basic(g: Graph, x: Tensor, inplanes: int, planes: int, stride: int, p: str
           ) -> tuple[Tensor, int]:
    y = g.add(T.Conv2d(inplanes, planes, 3, stride, 1, bias=False), x, name=f"{p}.conv1")
    y = g.add(T.BatchNorm2d(planes), y, name=f"{p}.bn1")
    y = g.add(T.ReLU(inplace=True), y, name=f"{p}.relu")
    y = g.add(T.Conv2d(planes, planes, 3, 1, 1, bias=False), y, name=f"{p}.conv2")
    y = g.add(T.BatchNorm2d(planes), y, name=f"{p}.bn2")
    return _residual(g, x, y, inplanes, planes, stride, p), planes


def _bottleneck(g: Graph, x: Tensor, inplanes: int, planes: int, stride: int, p: str
                ) -> tuple[Tensor, int]:
    width, out = planes, planes * 4
    y = g.add(T.Conv2d(inplanes, width, 1, bias=False), x, name=f"{p}.conv1")
    y = g.add(T.BatchNorm2d(width), y, name=f"{p}.bn1")
    y = g.add(T.ReLU(inplace=True), y, name=f"{p}.relu")
    y = g.add(T.Conv2d(width, width, 3, stride, 1, bias=False), y, name=f"{p}.conv2")
    y = g.add(T.BatchNorm2d(width), y, name=f"{p}.bn2")
    y = g.add(T.ReLU(inplace=True), y, name=f"{p}.relu_1")
    y = g.add(T.Conv2d(width, out, 1, bias=False), y, name=f"{p}.conv3")
    y = g.add(T.BatchNorm2d(out), y, name=f"{p}.bn3")
    return _residual(g, x, y, inplanes, out, stride, p), out


def _residual(g: Graph, x: Tensor, y: Tensor, inplanes: int, out: int, stride: int, p: str
              ) -> Tensor:
    if stride != 1 or inplanes != out:
        x = g.add(T.Conv2d(inplanes, out, 1, stride, bias=False), x, name=f"{p}.downsample.0")
        x = g.add(T.BatchNorm2d(out), x, name=f"{p}.downsample.1")
    z = g.add(T.Add(), y, x, name=f"{p}.add")
    return g.add(T.ReLU(inplace=True), z, name=f"{p}.relu_out")


Block = Callable[[Graph, Tensor, int, int, int, str], tuple[Tensor, int]]


def _resnet(name: str, block: Block, blocks: list[int]) -> Network:
    g = Graph(input_shape=(3, "H", "W"), name=name)
    x = g.add(T.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), name="conv1")
    x = g.add(T.BatchNorm2d(64), x, name="bn1")
    x = g.add(T.ReLU(inplace=True), x, name="relu")
    x = g.add(T.MaxPool2d(3, stride=2, padding=1), x, name="maxpool")
    channels = 64
    for stage, (planes, count, stride) in enumerate(zip((64, 128, 256, 512), blocks,
                                                        (1, 2, 2, 2)), start=1):
        for b in range(count):
            x, channels = block(g, x, channels, planes, stride if b == 0 else 1,
                                f"layer{stage}.{b}")
    x = g.add(T.AdaptiveAvgPool2d((1, 1)), x, name="avgpool")
    x = g.add(T.Flatten(), x, name="flatten")
    g.add(T.Linear(channels, 1000), x, name="fc")
    return g.build()


def resnet18() -> Network:
    """torchvision ``resnet18``: 11,689,512 parameters."""
    return _resnet("resnet18", _basic, [2, 2, 2, 2])


def resnet50() -> Network:
    """torchvision ``resnet50`` (v1.5, stride on the 3x3): 25,557,032 parameters;
    4,089,184,256 MACs at 224x224; last feature map ``ceiling(H/32)``."""
    return _resnet("resnet50", _bottleneck, [3, 4, 6, 3])


def _cna(g: Graph, x: Tensor, c_in: int, c_out: int, k: int, stride: int, p: str,
         groups: int = 1) -> Tensor:
    """torchvision ``Conv2dNormActivation`` with ReLU6."""
    x = g.add(T.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False), x,
              name=f"{p}.0")
    x = g.add(T.BatchNorm2d(c_out), x, name=f"{p}.1")
    return g.add(T.ReLU6(inplace=True), x, name=f"{p}.2")


def mobilenet_v2() -> Network:
    """torchvision ``mobilenet_v2`` (width 1.0): 3,504,872 parameters."""
    g = Graph(input_shape=(3, "H", "W"), name="mobilenet_v2")
    x = _cna(g, g.input, 3, 32, 3, 2, "features.0")
    c_in, index = 32, 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride, p = (s if i == 0 else 1), f"features.{index}.conv"
            hidden = c_in * t
            y, j = x, 0
            if t != 1:
                y, j = _cna(g, y, c_in, hidden, 1, 1, f"{p}.0"), 1
            y = _cna(g, y, hidden, hidden, 3, stride, f"{p}.{j}", groups=hidden)
            y = g.add(T.Conv2d(hidden, c, 1, bias=False), y, name=f"{p}.{j + 1}")
            y = g.add(T.BatchNorm2d(c), y, name=f"{p}.{j + 2}")
            if stride == 1 and c_in == c:
                y = g.add(T.Add(), x, y, name=f"features.{index}.add")
            x, c_in, index = y, c, index + 1
    x = _cna(g, x, 320, 1280, 1, 1, "features.18")
    x = g.add(T.AdaptiveAvgPool2d((1, 1)), x, name="avgpool")
    x = g.add(T.Flatten(), x, name="flatten")
    x = g.add(T.Dropout(p=0.2), x, name="classifier.0")
    g.add(T.Linear(1280, 1000), x, name="classifier.1")
    return g.build()


def unet() -> Network:
    """The original U-Net (Ronneberger et al. 2015) in Keras: 572 -> 388, 31,030,658 params.

    Valid 3x3 convolutions, 2x2 max pooling, 2x2 up-convolutions halving the channels, and
    FIXED crops of the skip connections (4, 16, 40, 88 per side, as for 572).  The
    concatenations therefore hold only for some H and W: those conditions are kept.
    """
    def twice(x: Tensor, filters: int) -> Tensor:
        x = K.Conv2D(filters, 3, activation="relu")(x)
        return K.Conv2D(filters, 3, activation="relu")(x)

    inputs = K.Input(("H", "W", 1))
    x: Tensor = input_tensor(inputs)
    skips: list[Tensor] = []
    for filters in (64, 128, 256, 512):
        x = twice(x, filters)
        skips.append(x)
        x = K.MaxPooling2D(2)(x)
    x = twice(x, 1024)
    for filters, skip, crop in zip((512, 256, 128, 64), reversed(skips), (4, 16, 40, 88)):
        up = K.Conv2DTranspose(filters, 2, strides=2)(x)
        x = K.Concatenate()([K.Cropping2D(crop)(skip), up])
        x = twice(x, filters)
    outputs = K.Conv2D(2, 1)(x)
    return Model(inputs=inputs, outputs=outputs, name="unet")


def dcgan() -> Network:
    """The PyTorch DCGAN tutorial's generator (nz=100, ngf=64, nc=3): 3,576,704 params."""
    layers: list[Layer] = [T.ConvTranspose2d(100, 512, 4, 1, 0, bias=False), T.BatchNorm2d(512),
              T.ReLU(True)]
    for c_in, c_out in [(512, 256), (256, 128), (128, 64)]:
        layers += [T.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), T.BatchNorm2d(c_out),
                   T.ReLU(True)]
    layers += [T.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), T.Tanh()]
    return Sequential(layers, input_shape=(100, 1, 1), name="dcgan")


def wavenet() -> Network:
    """A WaveNet-style stack in Keras: causal dilated Conv1D with gated units, residual and
    skip connections (dilations 1..512, receptive field 1024 samples); input ``(T, 1)``."""
    inputs = K.Input(("T", 1))
    x = K.Conv1D(32, 2, padding="causal", name="causal_conv")(inputs)
    skips = []
    for d in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512):
        tanh = K.Conv1D(32, 2, dilation_rate=d, padding="causal", activation="tanh")(x)
        gate = K.Conv1D(32, 2, dilation_rate=d, padding="causal", activation="sigmoid")(x)
        z = K.Multiply()([tanh, gate])
        skips.append(K.Conv1D(64, 1)(z))
        x = K.Add()([x, K.Conv1D(32, 1)(z)])
    y = K.ReLU()(K.Add()(skips))
    y = K.ReLU()(K.Conv1D(256, 1)(y))
    y = K.Softmax()(K.Conv1D(256, 1)(y))
    return Model(inputs=inputs, outputs=y, name="wavenet")


def c3d() -> Network:
    """A small C3D-style video network in Keras, input ``(D, H, W, 3)``."""
    return Sequential([
        K.Input(("D", "H", "W", 3)),
        K.Conv3D(64, 3, padding="same", activation="relu"),
        K.MaxPooling3D((1, 2, 2)),
        K.Conv3D(128, 3, padding="same", activation="relu"),
        K.MaxPooling3D(2),
        K.Conv3D(256, 3, padding="same", activation="relu"),
        K.Conv3D(256, 3, padding="same", activation="relu"),
        K.MaxPooling3D(2),
        K.GlobalAveragePooling3D(),
        K.Dense(101, activation="softmax"),
    ], name="c3d")


ZOO: dict[str, Callable[[], Network]] = {
    "lenet5": lenet5, "vgg16": vgg16, "resnet18": resnet18, "resnet50": resnet50,
    "mobilenet_v2": mobilenet_v2, "unet": unet, "dcgan": dcgan, "wavenet": wavenet,
    "c3d": c3d,
}
"""The zoo by example name."""
