"""Pictures are checked by reading their geometry back: cells, padding, windows, outputs.

The expected numbers are computed here from the frameworks' definitions (TF "same" padding,
PyTorch's explicit and transposed rules) and from the layer's own output shape, then found in
the SVG (``class``/``data-cell``) and the TikZ (``\\draw[cs...]`` coordinates) convsym wrote.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsym import keras as K
from convsym import torch as T
from convsym.cli import main
from convsym.drawing import draw
from convsym.drawing.arithmetic import arithmetic_figure
from convsym.drawing.svg import to_svg
from convsym.drawing.tikz import to_tikz
from convsym.errors import ConvsymError
from convsym.intdiv import QPoly, as_int

SVG = "{http://www.w3.org/2000/svg}"


def _same_tf(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


@st.composite
def layers(draw_: st.DrawFn) -> tuple[object, tuple[int, int], dict[str, object]]:
    """A random 2-D sliding-window layer with an input it accepts, and what to expect."""
    kind = draw_(st.sampled_from(["keras_conv", "torch_conv", "torch_pool", "keras_pool",
                                  "torch_transpose", "keras_transpose"]))
    k = (draw_(st.integers(1, 3)), draw_(st.integers(1, 3)))
    s = draw_(st.integers(1, 3))
    d = draw_(st.integers(1, 2))
    n = (draw_(st.integers(1, 5)), draw_(st.integers(1, 5)))
    ke = [d * (ki - 1) + 1 for ki in k]
    if kind == "keras_conv":
        same = draw_(st.booleans())
        d = 1 if s > 1 else d
        ke = [d * (ki - 1) + 1 for ki in k]
        n = tuple(max(ni, kei) for ni, kei in zip(n, ke))
        layer = K.Conv2D(1, k, strides=s, dilation_rate=d, padding="same" if same else "valid")
        pads = [_same_tf(ni, ki, s, d) if same else (0, 0) for ni, ki in zip(n, k)]
        return layer, n, {"pads": pads, "s": s, "d": d, "k": k, "spacing": 1}
    if kind == "torch_conv":
        same = s == 1 and draw_(st.booleans())
        p = (draw_(st.integers(0, 2)), draw_(st.integers(0, 2)))
        pads = [((d * (ki - 1)) // 2, d * (ki - 1) - (d * (ki - 1)) // 2) if same else (pi, pi)
                for ki, pi in zip(k, p)]
        n = tuple(max(ni, kei - pl - pr) for ni, kei, (pl, pr) in zip(n, ke, pads))
        layer = T.Conv2d(1, 1, k, stride=s, dilation=d, padding="same" if same else p)
        return layer, n, {"pads": pads, "s": s, "d": d, "k": k, "spacing": 1}
    if kind == "torch_pool":
        p = tuple(draw_(st.integers(0, ki // 2)) for ki in k)
        ceil = draw_(st.booleans())
        n = tuple(max(ni, kei - 2 * pi) for ni, kei, pi in zip(n, ke, p))
        layer = T.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        return layer, n, {"pads": [(pi, pi) for pi in p], "s": s, "d": d, "k": k,
                          "spacing": 1, "ceil": ceil}
    if kind == "keras_pool":
        same = draw_(st.booleans())
        n = tuple(max(ni, ki) for ni, ki in zip(n, k))
        layer = K.MaxPooling2D(k, strides=s, padding="same" if same else "valid")
        pads = [_same_tf(ni, ki, s, 1) if same else (0, 0) for ni, ki in zip(n, k)]
        return layer, n, {"pads": pads, "s": s, "d": 1, "k": k, "spacing": 1}
    if kind == "torch_transpose":
        p = tuple(draw_(st.integers(0, (kei - 1) // 2)) for kei in ke)
        op = draw_(st.integers(0, max(s, d) - 1))
        layer = T.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
        return layer, n, {"before": [kei - 1 - pi for kei, pi in zip(ke, p)], "s": 1, "d": d,
                          "k": k, "spacing": s}
    same = draw_(st.booleans())
    d = 1
    ke = list(k)
    layer = K.Conv2DTranspose(1, k, strides=s, padding="same" if same else "valid")
    return layer, n, {"before": [kei - 1 - (kei // 2 if same else 0) for kei in ke], "s": 1,
                      "d": 1, "k": k, "spacing": s}


def _figure(layer: object, n: tuple[int, int], mode: str):  # type: ignore[no-untyped-def]
    channels_first = isinstance(layer, (T.Conv2d, T.MaxPool2d, T.ConvTranspose2d))
    c = QPoly.const
    shape = (c(1), c(n[0]), c(n[1])) if channels_first else (c(n[0]), c(n[1]), c(1))
    out = layer.infer([shape]).shape  # type: ignore[attr-defined]
    sizes = [as_int(v) for v in (out[1:] if channels_first else out[:2])]
    return arithmetic_figure(layer, shape, mode=mode), sizes  # type: ignore[arg-type]


def _cells(group: ET.Element, cls: str) -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in e.get("data-cell", "").split(","))
            for e in group.iter() if e.get("class") == cls and e.tag != f"{SVG}g"]


def _expected_before(info: dict[str, object]) -> list[int]:
    if "before" in info:
        return list(info["before"])  # type: ignore[call-overload]
    return [pl for pl, _ in info["pads"]]  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None)
@given(layers())
def test_svg_panels_read_back(case: tuple[object, tuple[int, int], dict[str, object]]) -> None:
    layer, n, info = case
    fig, out = _figure(layer, n, "panels")
    root = ET.fromstring(to_svg(fig.scene()))
    panels = [g for g in root.iter(f"{SVG}g") if g.get("class") == "panel"]
    assert len(panels) == out[0] * out[1]
    spacing = int(info["spacing"])  # type: ignore[call-overload]
    first = panels[0]
    inputs = _cells(first, "input")
    assert len(inputs) == n[0] * n[1]
    assert set(inputs) == {(i * spacing, j * spacing) for i in range(n[0]) for j in range(n[1])}
    zeros = _cells(first, "zero")
    stretched = [(ni - 1) * spacing + 1 for ni in n]
    assert len(zeros) == stretched[0] * stretched[1] - n[0] * n[1]
    if "pads" in info:
        (t, b), (left, r) = info["pads"]  # type: ignore[misc]
        padded = (n[0] + t + b) * (n[1] + left + r)
        assert len(_cells(first, "pad")) + len(inputs) == padded
    before = _expected_before(info)
    k, s, d = info["k"], int(info["s"]), int(info["d"])  # type: ignore[call-overload]
    for panel in panels:
        i, j = (int(v) for v in panel.get("data-key", "").split(","))
        window = next(g for g in panel.iter(f"{SVG}g") if g.get("class") == "window")
        taps = set(_cells(window, "tap"))
        assert taps == {(i * s - before[0] + a * d, j * s - before[1] + b * d)
                        for a, b in product(range(k[0]), range(k[1]))}  # type: ignore[index]
        output = next(g for g in panel.iter(f"{SVG}g") if g.get("class") == "output")
        assert _cells(output, "outcur") == [(i, j)]
        assert len(_cells(output, "out")) == out[0] * out[1] - 1
        if not info.get("ceil"):
            assert not _cells(panel, "overhang")


@settings(max_examples=40, deadline=None)
@given(layers())
def test_tikz_overlay_reads_back(case: tuple[object, tuple[int, int], dict[str, object]]) -> None:
    layer, n, info = case
    fig, out = _figure(layer, n, "overlay")
    tikz = to_tikz(fig.scene()).split("% legend")[0]
    count = {name: len(re.findall(rf"\\draw\[cs{name}\] ", tikz))
             for name in ("input", "zero", "start", "outcur", "outlast", "out")}
    assert count["input"] == n[0] * n[1]
    assert count["start"] == out[0] * out[1]
    assert count["out"] + count["outcur"] + count["outlast"] == out[0] * out[1]
    # window starts, in cell units from the drawn grid's corner, sit on the stride lattice
    before = _expected_before(info)
    s = int(info["s"])  # type: ignore[call-overload]
    lo = [min(0, -b) for b in before]
    starts = {(float(y), float(x)) for x, y in
              re.findall(r"\\draw\[csstart\] \(([-\d.]+),([-\d.]+)\)", tikz)}
    assert starts == {(i * s - before[0] - lo[0] + 0.5, j * s - before[1] - lo[1] + 0.5)
                      for i in range(out[0]) for j in range(out[1])}


def test_ceil_mode_last_window_overhangs() -> None:
    fig, out = _figure(T.MaxPool2d(2, stride=2, ceil_mode=True), (5, 5), "panels")
    assert out == [3, 3]
    root = ET.fromstring(to_svg(fig.scene()))
    last = next(g for g in root.iter(f"{SVG}g") if g.get("data-key") == "2,2"
                and g.get("class") == "panel")
    assert (5, 5) in _cells(last, "overhang") and (4, 4) in _cells(last, "tap")


def test_issue_16_examples(tmp_path: object) -> None:
    path = f"{tmp_path}/seed1.pdf"
    assert main(["draw", "example:seed1", "--layer", "conv2d_1", "--format", "pdf",
                 "-o", path]) == 0
    assert open(path, "rb").read(5) == b"%PDF-"
    svg = draw("example:resnet18", kind="architecture").to_svg()  # type: ignore[union-attr]
    root = ET.fromstring(svg)
    blocks = [g for g in root.iter(f"{SVG}g") if g.get("class") == "block"]
    assert len(blocks) == 32  # 20 convolutions, 8 adds, 2 pools, flatten, linear
    assert "⌈H/32⌉" in svg
    # 5 identity shortcuts, and 3 downsampling ones that each leave the chain twice (into the
    # 1x1 convolution, and from the second 3x3 convolution to the add): 11 connections drawn
    # as dashed arcs or, across rows, as "from"/"to" labels
    arcs, labels = svg.count('class="skip"'), svg.count(">from ")
    assert arcs + labels == 11 and svg.count(">to ") == labels


def test_size_plot_is_the_closed_form() -> None:
    plot = draw("example:seed3_symbolic", kind="size-plot", xs=range(1, 20))
    assert plot.series.values == [-(-x // 4) for x in range(1, 20)]  # type: ignore[union-attr]
    assert plot.render("png")[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["draw", "example:seed1", "--layer", "conv2d_9"], "no such layer"),
    (["draw", "example:resnet18", "--layer", "conv1"], "too many to draw"),
    (["draw", "example:resnet18", "--layer", "bn1", "--input-size", "5"], "no sliding window"),
    (["draw", "example:seed1", "--layer", "conv2d", "--input-size", "5x"], "positive integers"),
    (["draw", "example:seed1", "--layer", "conv2d", "--input-size", "\u00b2"], "positive integers"),
    (["draw", "example:seed1", "--format", "png"], "binary"),
    (["draw", "example:seed1", "--kind", "cost-plot", "-o", "x.png"], "--vary"),
    (["derive", "example:seed1", "--figures"], "--figures is for --format latex"),
])
def test_bad_input_is_one_line(argv: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_svg_escapes_names() -> None:
    net = K.Conv2D(1, 3)
    with pytest.raises(ConvsymError):
        arithmetic_figure(K.Dense(3), (QPoly.const(4),))
    fig = arithmetic_figure(net, (QPoly.const(3), QPoly.const(3), QPoly.const(1)),
                            name="<b>&x")
    assert "&lt;b&gt;&amp;x" in to_svg(fig.scene())
    assert r"\textless{}b\textgreater{}\&x" in to_tikz(fig.scene())


def test_animation_has_a_frame_per_output_cell() -> None:
    import io

    from PIL import Image

    fig = draw("example:resnet18", layer="maxpool", input_size=(4, 3))
    data = fig.render("gif")  # type: ignore[union-attr]
    frames = Image.open(io.BytesIO(data)).n_frames  # type: ignore[attr-defined]
    assert frames == 2 * 2  # MaxPool2d(3, 2, padding 1): ceil(4/2) x ceil(3/2)
    assert fig.render("apng")[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[union-attr]


@st.composite
def one_axis(draw_: st.DrawFn) -> tuple[int, int, int, int]:
    """Kernel, stride, dilation and input size of a 1-D window."""
    return (draw_(st.integers(1, 4)), draw_(st.integers(1, 3)), draw_(st.integers(1, 2)),
            draw_(st.integers(1, 6)))


@settings(max_examples=40, deadline=None)
@given(one_axis(), st.integers(0, 4), st.integers(0, 2), st.booleans())
def test_transposed_figure_is_the_reference_computation(
        axis: tuple[int, int, int, int], p: int, op: int, keras_same: bool) -> None:
    """Sliding the flipped kernel over the drawn cells (input cells only; zeros and padding
    add nothing) gives the NumPy reference transposed convolution, cell for cell."""
    import numpy as np

    from convsym import reference
    from convsym.drawing.geometry import window_axes

    k, s, d, n = axis
    ke = d * (k - 1) + 1
    c = QPoly.const
    if keras_same:
        layer: object = K.Conv1DTranspose(1, k, strides=s, padding="same")
        shape = (c(n), c(1))
        d, ke = 1, k  # Keras has no dilated strided transposed convolution here
        half = ke // 2
        pads, ops = ((half, half),), (n * s - ((n - 1) * s + ke - 2 * half),)
    else:
        p, op = min(p, (ke - 1) // 2), min(op, max(s, d) - 1)
        layer = T.ConvTranspose1d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d)
        shape = (c(1), c(n))
        pads, ops = ((p, p),), (op,)
    [ax] = window_axes(layer, shape)  # type: ignore[arg-type]
    rng = np.random.default_rng(n * 100 + k * 10 + s)
    x, w = rng.random((1, n)), rng.random((1, 1, k))
    want = reference.conv_transpose(x, w, stride=(s,), padding=pads, output_padding=ops,
                                    dilation=(d,))[0]
    got = [sum(x[0, pos // ax.spacing] * w[0, 0, k - 1 - t]
               for t, pos in enumerate(ax.taps(i)) if ax.kind(pos) == "input")
           for i in range(ax.out)]
    assert np.allclose(got, want)


@settings(max_examples=40, deadline=None)
@given(one_axis(), st.integers(0, 2), st.booleans())
def test_pooling_figure_is_the_reference_computation(
        axis: tuple[int, int, int, int], p: int, ceil_mode: bool) -> None:
    """The max over each drawn window's input cells is the reference max pooling (ceil_mode's
    overhanging cells and the padding contribute nothing)."""
    import numpy as np

    from convsym import reference
    from convsym.drawing.geometry import window_axes

    k, s, d, n = axis
    p = min(p, k // 2)
    n = max(n, d * (k - 1) + 1 - 2 * p)
    [ax] = window_axes(T.MaxPool1d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode),
                       (QPoly.const(1), QPoly.const(n)))
    x = np.random.default_rng(n + 7 * k).random((1, n))
    want = reference.pool(x, "max", kernel=(k,), stride=(s,), padding=((p, p),), dilation=(d,),
                          ceil_mode=ceil_mode)[0]
    # a dilated window can fall entirely on padding: PyTorch's max is then -inf
    got = [max((x[0, pos] for pos in ax.taps(i) if ax.kind(pos) == "input"), default=-np.inf)
           for i in range(ax.out)]
    assert np.allclose(got, want)


def test_cost_plot_is_the_network_at_each_value() -> None:
    from convsym.examples import example

    net = example("seed1_symbolic")
    plot = draw(net, kind="cost-plot", vary="c", xs=[1, 3, 8], values={"n": 28})
    params, macs = plot.series  # type: ignore[union-attr]
    for x, p, m in zip(params.xs, params.values, macs.values):
        concrete = net.subs({"c": x, "n": 28})
        assert (p, m) == (concrete.total_params, concrete.total_macs)
    assert plot.render("svg").startswith(b"<?xml")  # type: ignore[union-attr]
