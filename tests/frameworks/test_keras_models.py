"""Real Keras models, imported from ``model.to_json()``, against what Keras itself reports.

Every layer's output shape (``layer.output.shape``), parameter count (``count_params``) and
trainable / non-trainable split (``trainable_weights``), plus the model totals, must match
convsym's rows.  Each model is also imported once with a symbolic input shape, and the closed
forms evaluated at several sizes must match the Keras model built at those sizes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

from convsym.importers.keras_json import from_keras  # noqa: E402
from convsym.intdiv import evaluate  # noqa: E402

pytestmark = pytest.mark.frameworks


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Any:
    """Small models on a shared machine: torch's thread pool costs more than it gives."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

Build = Callable[[tuple[int, ...]], Any]


def _count(weights: Any) -> int:
    return sum(math.prod(int(v) for v in w.shape) for w in weights)


def _sizes(net: Any, symbols: dict[str, int], names: Any = None) -> dict[str, tuple[int, ...]]:
    """Row name -> output shape of a symbolic network evaluated at ``symbols``.

    ``names`` (a network imported from the same architecture built again) renames the rows
    by position: Keras numbers automatic names per session, so a rebuild has new names.
    """
    env = {s: symbols[s.name] for s in net.all_symbols()}
    rows = names.rows if names is not None else net.rows
    assert len(rows) == len(net.rows)
    return {named.name: tuple(evaluate(x, env) for x in r.shape)
            for r, named in zip(net.rows, rows)}


def assert_rows_match(model: Any, net: Any, *, symbolic: Any = None,
                      values: dict[str, int] | None = None) -> int:
    """Compare every layer; returns how many layers were compared."""
    rows = {r.name: r for r in net.rows}
    closed = _sizes(symbolic, values or {}, net) if symbolic is not None else {}
    compared = 0
    for layer in model.layers:
        row = rows[layer.name]
        want = tuple(int(v) for v in layer.output.shape[1:])
        assert tuple(row.output_shape) == want, (layer.name, row.output_shape, want)
        if closed:
            assert closed[layer.name] == want, (layer.name, closed[layer.name], want)
        assert row.params == layer.count_params(), (layer.name, row.params)
        assert row.trainable == _count(layer.trainable_weights), layer.name
        assert row.non_trainable == _count(layer.non_trainable_weights), layer.name
        compared += 1
    assert net.total_params == model.count_params()
    assert net.trainable_params == _count(model.trainable_weights)
    assert net.non_trainable_params == _count(model.non_trainable_weights)
    return compared


def check_model(build: Build, sizes: list[tuple[int, ...]], symbolic_shape: tuple[object, ...],
                names: tuple[str | None, ...], *, other_sizes: tuple[tuple[int, ...], ...] = ()
                ) -> None:
    """Build at each size, import, compare; and compare the symbolic import's closed forms.

    ``other_sizes`` are compared by direct import only (for models whose JSON depends on the
    size they were built at).
    """
    symbolic = from_keras(build(sizes[0]).to_json(), input_shape=symbolic_shape)
    for size in [*sizes, *other_sizes]:
        model = build(size)
        net = from_keras(model.to_json())
        values = {n: v for n, v in zip(names, size) if isinstance(n, str)}
        closed = symbolic if size in sizes else None
        assert assert_rows_match(model, net, symbolic=closed, values=values) == \
            len(model.layers)


# --- the seed questions ---------------------------------------------------------------------


def seed1(size: tuple[int, ...]) -> Any:
    return keras.Sequential([keras.Input(size), L.Conv2D(32, (3, 3), activation="relu"),
                             L.Conv2D(64, (3, 3))])


def seed2(size: tuple[int, ...]) -> Any:
    return keras.Sequential([
        keras.Input(size),
        L.Conv2D(32, 5, activation="relu", use_bias=False),
        L.Conv2D(64, 5, activation="relu", use_bias=False)])


def seed3(size: tuple[int, ...]) -> Any:
    x = keras.Input(size)
    y = L.Conv2D(filters=10, kernel_size=(4, 4), strides=2, padding="same")(x)
    y = L.Conv2D(filters=20, kernel_size=(3, 3), strides=2, padding="same")(y)
    y = L.Flatten()(y)
    return keras.Model(x, L.Dense(units=10, activation="softmax")(y))


def test_seed_models_match_keras_and_the_questions() -> None:
    check_model(seed1, [(28, 28, 1), (9, 13, 1)], ("n", "m", 1), ("n", "m", None))
    check_model(seed2, [(28, 28, 3), (11, 30, 3)], ("n", "m", 3), ("n", "m", None))
    check_model(seed3, [(32, 32, 3), (17, 9, 3), (1, 2, 3)], ("n", "m", 3), ("n", "m", None))
    # the numbers the seed questions quote
    rows = from_keras(seed1((28, 28, 1)).to_json()).rows
    assert [(r.output_shape, r.params) for r in rows] == [((26, 26, 32), 320),
                                                         ((24, 24, 64), 18496)]
    rows = from_keras(seed2((28, 28, 3)).to_json()).rows
    assert [(r.output_shape, r.params) for r in rows] == [((24, 24, 32), 2400),
                                                         ((20, 20, 64), 51200)]
    rows = from_keras(seed3((32, 32, 3)).to_json()).rows
    assert [r.params for r in rows] == [0, 490, 1820, 0, 12810]
    assert rows[2].output_shape == (8, 8, 20)


# --- classic architectures --------------------------------------------------------------------


def lenet5(size: tuple[int, ...]) -> Any:
    return keras.Sequential([
        keras.Input(size),
        L.Conv2D(6, 5, activation="tanh"), L.AveragePooling2D(2),
        L.Conv2D(16, 5, activation="tanh"), L.AveragePooling2D(2),
        L.Flatten(), L.Dense(120, activation="tanh"), L.Dense(84, activation="tanh"),
        L.Dense(10, activation="softmax")])


def test_lenet5() -> None:
    check_model(lenet5, [(32, 32, 1), (28, 41, 1)], ("H", "W", 1), ("H", "W", None))


def test_vgg16_from_keras_applications() -> None:
    def build(size: tuple[int, ...]) -> Any:
        return keras.applications.VGG16(weights=None, input_shape=size, classes=10)

    check_model(build, [(32, 32, 3), (47, 36, 3)], ("H", "W", 3), ("H", "W", None))


def test_resnet50_from_keras_applications() -> None:
    def build(size: tuple[int, ...]) -> Any:
        return keras.applications.ResNet50(weights=None, input_shape=size, classes=10)

    check_model(build, [(32, 32, 3), (75, 41, 3)], ("H", "W", 3), ("H", "W", None))


def test_mobilenet_v2_from_keras_applications() -> None:
    def build(size: tuple[int, ...]) -> Any:
        return keras.applications.MobileNetV2(weights=None, input_shape=size, classes=10)

    # keras.applications pads with correct_pad(), which reads the parity of the size each
    # stride-2 block sees in the model being built: the JSON records padding for that build.
    # The closed forms are compared at sizes that agree mod 32; an odd build directly.
    check_model(build, [(32, 32, 3), (96, 64, 3)], ("H", "W", 3), ("H", "W", None),
                other_sizes=((57, 45, 3),))


def unet(size: tuple[int, ...]) -> Any:
    """A two-level U-Net with 'same' convolutions, transposed-conv upsampling, Concatenate."""
    x = keras.Input(size)
    c1 = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    p1 = L.MaxPooling2D(2)(c1)
    c2 = L.Conv2D(16, 3, padding="same", activation="relu")(p1)
    p2 = L.MaxPooling2D(2)(c2)
    b = L.Conv2D(32, 3, padding="same", activation="relu")(p2)
    u2 = L.Conv2DTranspose(16, 2, strides=2)(b)
    m2 = L.Concatenate()([u2, c2])
    c3 = L.Conv2D(16, 3, padding="same")(m2)
    u1 = L.UpSampling2D(2)(c3)
    m1 = L.Concatenate(axis=-1)([u1, c1])
    return keras.Model(x, L.Conv2D(1, 1, activation="sigmoid")(m1))


def unet_valid(size: tuple[int, ...]) -> Any:
    """The original U-Net's style: valid convolutions and cropped skip connections."""
    x = keras.Input(size)
    c1 = L.Conv2D(4, 3, activation="relu")(L.Conv2D(4, 3, activation="relu")(x))
    p1 = L.MaxPooling2D(2)(c1)
    c2 = L.Conv2D(8, 3, activation="relu")(L.Conv2D(8, 3, activation="relu")(p1))
    u1 = L.Conv2DTranspose(4, 2, strides=2)(c2)
    crop = L.Cropping2D(4)(c1)
    m1 = L.Concatenate()([u1, crop])
    return keras.Model(x, L.Conv2D(2, 1)(L.Conv2D(4, 3)(m1)))


def test_unet_with_concatenate() -> None:
    check_model(unet, [(32, 32, 3), (64, 48, 3)], ("H", "W", 3), ("H", "W", None))
    check_model(unet_valid, [(28, 28, 1), (36, 20, 1)], ("H", "W", 1), ("H", "W", None))
    net = from_keras(unet_valid((28, 28, 1)).to_json(), input_shape=("H", "W", 1))
    admitted = [h for h in range(1, 60) if _admits(net, H=h, W=h)]
    # the last 3x3 conv needs H - 12 >= 3; the skip connection needs H even
    assert admitted[:4] == [16, 18, 20, 22]
    for h in range(12, 24):  # Keras agrees on which sizes fit
        assert _keras_accepts(unet_valid, (h, h, 1)) == (h in admitted), h


def _admits(net: Any, **values: int) -> bool:
    from convsym.errors import ConvsymError

    try:
        net.subs(values)
    except ConvsymError:
        return False
    return True


def _keras_accepts(build: Build, size: tuple[int, ...]) -> bool:
    try:
        build(size)
    except ValueError:
        return False
    return True


def dcgan_generator(latent: tuple[int, ...]) -> Any:
    """TensorFlow's DCGAN tutorial generator: Dense -> Reshape -> Conv2DTranspose stack."""
    return keras.Sequential([
        keras.Input(latent),
        L.Dense(7 * 7 * 256, use_bias=False), L.BatchNormalization(), L.LeakyReLU(),
        L.Reshape((7, 7, 256)),
        L.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(),
        L.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
        L.BatchNormalization(), L.LeakyReLU(),
        L.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False,
                          activation="tanh")])


def test_dcgan_generator() -> None:
    model = dcgan_generator((100,))
    net = from_keras(model.to_json())
    assert assert_rows_match(model, net) == len(model.layers)
    assert net.output_shape == (28, 28, 1)
    check_model(dcgan_generator, [(100,), (7,)], ("z",), ("z",))


def depthwise_separable(size: tuple[int, ...]) -> Any:
    x = keras.Input(size)
    y = L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same")(x)
    y = L.SeparableConv2D(16, 3, depth_multiplier=1, activation="relu")(y)
    y = L.DepthwiseConv2D((3, 1), dilation_rate=2, padding="same", use_bias=False)(y)
    y = L.SeparableConv2D(8, (1, 3), strides=(1, 2), padding="same", depth_multiplier=3)(y)
    return keras.Model(x, L.GlobalAveragePooling2D()(y))


def separable_1d(size: tuple[int, ...]) -> Any:
    return keras.Sequential([
        keras.Input(size), L.DepthwiseConv1D(5, depth_multiplier=3, padding="same"),
        L.SeparableConv1D(12, 3, strides=2, padding="same"), L.MaxPooling1D(2, padding="same"),
        L.GlobalMaxPooling1D()])


def test_depthwise_and_separable_convolutions() -> None:
    check_model(depthwise_separable, [(32, 32, 8), (17, 30, 8)], ("H", "W", 8),
                ("H", "W", None))
    check_model(separable_1d, [(40, 4), (13, 4)], ("T", 4), ("T", None))
    # CONVENTIONS.md: SeparableConv2D(16, 3) on 128 channels has 3,216 parameters (one bias)
    model = keras.Sequential([keras.Input((8, 8, 128)), L.SeparableConv2D(16, 3)])
    assert from_keras(model.to_json()).rows[0].params == 3216 == model.count_params()


def causal_stack(size: tuple[int, ...]) -> Any:
    """A WaveNet-style stack of dilated causal convolutions with residual adds."""
    x = keras.Input(size)
    h = L.Conv1D(16, 1)(x)
    for rate in (1, 2, 4, 8):
        y = L.Conv1D(16, 2, dilation_rate=rate, padding="causal", activation="tanh")(h)
        h = L.Add()([h, y])
    h = L.Conv1D(8, 3, strides=2, padding="causal")(h)
    return keras.Model(x, L.Conv1D(1, 1)(h))


def test_causal_conv1d_stack() -> None:
    check_model(causal_stack, [(16, 1), (37, 1), (1, 1)], ("T", 1), ("T", None))


def conv3d_net(size: tuple[int, ...]) -> Any:
    return keras.Sequential([
        keras.Input(size), L.Conv3D(4, 3, activation="relu"), L.MaxPooling3D(2),
        L.Conv3D(8, (3, 3, 1), strides=2, padding="same"), L.ZeroPadding3D(1),
        L.Conv3D(8, 2, dilation_rate=(1, 2, 1)), L.AveragePooling3D(2, padding="same"),
        L.GlobalAveragePooling3D(), L.Dense(5)])


def test_conv3d_net() -> None:
    check_model(conv3d_net, [(16, 16, 16, 1), (11, 14, 19, 2)], ("D", "H", "W", "c"),
                ("D", "H", "W", "c"))


# --- more layers, graph features, frozen and shared layers ----------------------------------


def assorted(size: tuple[int, ...]) -> Any:
    x = keras.Input(size)
    a = L.ZeroPadding2D(((1, 2), (0, 3)))(x)
    a = L.Conv2D(6, 3, strides=(2, 1), padding="same", groups=2)(a)
    a = L.BatchNormalization(trainable=False, name="frozen_bn")(a)
    b = L.Cropping2D(((0, 1), (2, 0)))(x)
    b = L.Conv2D(6, (2, 4), activation="gelu")(b)
    b = L.Conv2DTranspose(6, 3, strides=(2, 1), output_padding=(1, 0))(b)
    b = L.Cropping2D(((0, 0), (0, 0)))(b)
    shared = L.Conv2D(6, 1, name="shared_1x1")
    a, b = shared(a), shared(b)
    m = L.Multiply()([L.GlobalMaxPooling2D(keepdims=True)(a), a])
    m = L.LayerNormalization()(m)
    m = L.GroupNormalization(groups=3)(m)
    y = L.Conv2D(4, 3, padding="same", data_format="channels_first")(L.Permute((3, 1, 2))(m))
    y = L.Permute((2, 3, 1))(y)
    y = L.Reshape((-1, 4))(y)
    y = L.Dropout(0.5)(L.Activation("softmax")(L.ReLU()(y)))
    z = L.Flatten()(L.MaxPooling2D(3, strides=2, padding="same")(b))
    return keras.Model(x, [L.Dense(3)(L.GlobalAveragePooling1D()(y)), L.Dense(2)(z)])


def test_assorted_layers_frozen_and_shared() -> None:
    model = assorted((20, 20, 4))
    net = from_keras(model.to_json())
    assert_rows_match_shared(model, net)
    symbolic = from_keras(model.to_json(), input_shape=("H", "W", 4))
    for size in [(20, 20, 4), (13, 22, 4)]:
        model = assorted(size)
        closed = _sizes(symbolic, {"H": size[0], "W": size[1]}, from_keras(model.to_json()))
        for layer in model.layers:
            if "shared_1x1" not in layer.name:
                assert closed[layer.name] == tuple(int(v) for v in layer.output.shape[1:])


def assert_rows_match_shared(model: Any, net: Any) -> None:
    """A shared layer's second call is row ``name[1]`` without weights; a frozen layer's
    weights are all non-trainable."""
    rows = {r.name: r for r in net.rows}
    shared = model.get_layer("shared_1x1")
    assert rows["shared_1x1"].params == shared.count_params() == 42
    assert rows["shared_1x1[1]"].params == 0
    frozen = model.get_layer("frozen_bn")
    assert rows[frozen.name].trainable == 0
    assert rows[frozen.name].non_trainable == _count(frozen.non_trainable_weights) == 24
    assert net.total_params == model.count_params()
    assert net.trainable_params == _count(model.trainable_weights)
    assert net.non_trainable_params == _count(model.non_trainable_weights)


def test_nested_models_are_inlined() -> None:
    inner = keras.Sequential([keras.Input((16, 16, 3)), L.Conv2D(8, 3, name="inner_conv"),
                              L.MaxPooling2D(name="inner_pool")], name="backbone")
    inner.trainable = False
    x = keras.Input((16, 16, 3))
    y = L.GlobalAveragePooling2D()(inner(x))
    model = keras.Model(x, L.Dense(2)(y))
    net = from_keras(model.to_json())
    rows = {r.name: r for r in net.rows}
    assert rows["inner_conv"].output_shape == tuple(inner.get_layer("inner_conv").output.shape[1:])
    assert rows["inner_conv"].non_trainable == 224 and rows["inner_conv"].trainable == 0
    assert net.total_params == model.count_params()
    assert net.trainable_params == _count(model.trainable_weights) == 18


def test_nested_functional_called_twice() -> None:
    """Keras 3 numbers a nested Functional's calls from 1 in output_layers only."""
    i = keras.Input((8, 8, 3))
    inner = keras.Model(i, L.Conv2D(3, 3, padding="same", name="ic")(i), name="innerf")
    x = keras.Input((8, 8, 3))
    y = inner(x)
    z = inner(L.Conv2D(3, 1, name="between")(y))
    model = keras.Model(x, [z, y])
    net = from_keras(model.to_json())
    assert [(r.name, r.parents) for r in net.rows][1:] == [
        ("ic", (net.rows[0].name,)), ("between", ("ic",)), ("ic[1]", ("between",))]
    assert net.total_params == model.count_params() == 96


def test_sequential_without_input_layer_is_built_from_its_build_shape() -> None:
    model = keras.Sequential([L.Conv2D(4, 3), L.Flatten()])
    model.build((None, 10, 12, 2))
    net = from_keras(model.to_json())
    assert [r.output_shape for r in net.rows] == [(8, 10, 4), (320,)]
    unbuilt = keras.Sequential([L.Conv2D(4, 3)])
    from convsym.errors import SpecError

    with pytest.raises(SpecError, match="input_shape") as info:
        from_keras(unbuilt.to_json())
    assert info.value.code == "missing_input"
    assert from_keras(unbuilt.to_json(), input_shape=(5, 5, 1)).output_shape == (3, 3, 4)


def test_unknown_sizes_become_symbols() -> None:
    model = keras.Sequential([keras.Input((None, None, 3)), L.Conv2D(4, 3, strides=2)])
    net = from_keras(model.to_json())
    from convsym.expr import parse_expr

    assert net.output_shape == (parse_expr("(H - 1)//2"), parse_expr("(W - 1)//2"), 4)


def test_lambda_and_custom_layers_are_refused_by_name() -> None:
    from convsym.errors import SpecError

    x = keras.Input((8, 8, 3))
    model = keras.Model(x, L.Lambda(lambda t: t * 2, name="double")(x))
    with pytest.raises(SpecError) as info:
        from_keras(model.to_json())
    assert info.value.code == "lambda_layer"
    assert "'double' (class Lambda)" in str(info.value)
    assert "arbitrary Python code" in str(info.value)

    @keras.saving.register_keras_serializable(package="mine")
    class Twice(L.Layer):  # type: ignore[misc]
        def call(self, t: Any) -> Any:
            return t * 2

    model = keras.Model(x, Twice(name="twice")(x))
    with pytest.raises(SpecError) as info:
        from_keras(model.to_json())
    assert info.value.code == "custom_layer"
    assert "'twice' (class Twice" in str(info.value)


def test_every_subcommand_reads_keras_json(tmp_path: Any, capsys: Any) -> None:
    from convsym.cli import main

    # named: Keras's automatic names depend on how many layers the process built before
    model = keras.Sequential([keras.Input((None, None, 3)), L.Conv2D(8, 3, strides=2,
                                                                     padding="same"),
                              L.MaxPooling2D(2), L.Conv2D(4, 3, name="conv2d_1")])
    path = tmp_path / "fcn.json"
    path.write_text(model.to_json())
    assert main(["summary", "--from", "keras", str(path)]) == 0
    assert "Valid when: H >= 11, W >= 11" in capsys.readouterr().out
    assert main(["summary", str(path), "--set", "H=32", "--set", "W=20"]) == 0
    assert "(6, 3, 4)" in capsys.readouterr().out
    assert main(["inputs", str(path)]) == 0
    assert "H >= 11" in capsys.readouterr().out
    assert main(["derive", str(path), "--format", "text"]) == 0
    assert "conv2d_1" in capsys.readouterr().out
    assert main(["verify", str(path), "--samples", "2", "--quiet"]) == 0
    assert "keras" in capsys.readouterr().out


def test_efficientnet_b0_with_preprocessing_layers() -> None:
    """Rescaling and Normalization (adapted: mean, variance, count are non-trainable
    weights), squeeze-and-excitation blocks with Multiply and Reshape."""
    def build(size: tuple[int, ...]) -> Any:
        return keras.applications.EfficientNetB0(weights=None, input_shape=size, classes=10)

    check_model(build, [(32, 32, 3), (64, 96, 3)], ("H", "W", 3), ("H", "W", None))
