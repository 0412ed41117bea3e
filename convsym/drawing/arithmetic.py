"""Convolution-arithmetic figures (after Dumoulin & Visin) for one layer on concrete sizes.

A *panel* per output cell shows the padded input, the kernel's taps for that cell and the
output with that cell marked; for large outputs a compact *overlay* shows every window's
start as a dot, the first window (blue) and the last (orange; ceil_mode's overhanging last
window reads cells past the padding, drawn dotted red).  A transposed convolution is drawn as
its equivalent direct convolution: zeros inserted between input cells, then padding.

>>> from convsym.torch import MaxPool1d
>>> from convsym.intdiv import QPoly
>>> fig = arithmetic_figure(MaxPool1d(2, stride=3, padding=1, ceil_mode=True),
...                         (QPoly.const(1), QPoly.const(4)))
>>> fig.mode, [ax.out for ax in fig.axes]
('panels', [2])
>>> print(fig.scene().title)
MaxPool1d: input 4, kernel 2, stride 3, padding (1, 1), ceil_mode -> output 2
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from convsym.drawing.geometry import Axis, window_axes
from convsym.drawing.scene import Dot, Group, Item, Rect, Scene, Text
from convsym.errors import UsageError
from convsym.layers.base import Layer, Shape

PANEL_LIMIT = 16
"""At most this many output cells get a panel each; more are drawn as one overlay."""
GAP = 1.2
LEGEND = {"input": "input", "pad": "padding", "zero": "inserted zero",
          "cropped": "cropped", "overhang": "past the padding (ceil_mode)", "tap": "kernel",
          "last": "last window", "start": "window start", "out": "output"}


@dataclass
class ArithmeticFigure:
    """The figure of one sliding-window layer: its geometry and how to lay it out."""

    title: str
    axes: list[Axis]
    mode: str

    def scene(self) -> Scene:
        """The picture as a :class:`Scene`."""
        rows, cols = _grid_axes(self.axes)
        body = _panels(rows, cols) if self.mode == "panels" else _overlay(rows, cols)
        x0, y0, x1, y1 = Scene(body).bounds()
        legend = _legend(rows, cols, y1 + 1.0, x0, self.mode == "overlay")
        caption = Text(x0, y0 - 1.0, self.title, "normal", "start")
        return Scene([caption, *body, Group(list(legend), role="legend")], title=self.title)


    def frames(self) -> list[Scene]:
        """One scene per output cell, in order: the frames of an animation."""
        rows, cols = _grid_axes(self.axes)
        out = []
        for i, j in product(range(rows.out), range(cols.out)):
            body = _panel(rows, cols, i, j)
            x0, y0, x1, y1 = Scene(body).bounds()
            legend = _legend(rows, cols, y1 + 1.0, x0, False)
            out.append(Scene([Text(x0, y0 - 1.0, self.title, "normal", "start"), *body,
                              Group(list(legend), role="legend")], title=self.title))
        return out


def arithmetic_figure(layer: Layer, shape: Shape, *, mode: str = "auto", name: str = ""
                      ) -> ArithmeticFigure:
    """The arithmetic figure of ``layer`` applied to a concrete ``shape``."""
    axes = window_axes(layer, shape)
    if len(axes) > 2:
        raise UsageError(f"{layer.type_name} has {len(axes)} spatial axes; arithmetic figures "
                         "draw 1-D and 2-D layers", code="too_many_axes")
    if mode not in ("auto", "panels", "overlay"):
        raise UsageError(f"mode {mode!r}: use auto, panels or overlay", code="bad_option")
    cells = 1
    for ax in axes:
        cells *= ax.out
    if mode == "auto":
        mode = "panels" if cells <= PANEL_LIMIT else "overlay"
    label = f"{layer.type_name} {name!r}" if name else layer.type_name
    return ArithmeticFigure(f"{label}: {_describe(axes, layer)}", axes, mode)


def _describe(axes: list[Axis], layer: Layer) -> str:
    def each(values: list[int]) -> str:
        return "x".join(map(str, values)) if len(set(values)) > 1 else str(values[0])

    transposed = axes[0].spacing != 1 or axes[0].rule.startswith("conv_transpose_")
    parts = [f"input {'x'.join(str(a.n) for a in axes)}", f"kernel {each([a.k for a in axes])}"]
    if transposed:
        parts.append(f"stride {each([a.spacing for a in axes])} (as zeros between inputs)")
    else:
        parts.append(f"stride {each([a.stride for a in axes])}")
    if any(a.d != 1 for a in axes):
        parts.append(f"dilation {each([a.d for a in axes])}")
    pads = [(a.before, a.after) for a in axes]
    shown = ", ".join(f"({b}, {e})" for b, e in pads) if len(set(pads)) > 1 else \
        f"({pads[0][0]}, {pads[0][1]})"
    parts.append(("equivalent padding " if transposed else "padding ") + shown)
    if axes[0].rule == "pool_ceil_torch":
        parts.append("ceil_mode")
    return ", ".join(parts) + f" -> output {'x'.join(str(a.out) for a in axes)}"


class _Flat:
    """A stand-in row axis for 1-D layers: one row at position 0, window 0."""

    out = 1
    starts = (0,)
    d = 1
    k = 1

    def positions(self) -> range:
        return range(0, 1)

    def kind(self, x: int) -> str:
        return "input"

    def taps(self, i: int) -> list[int]:
        return [0]


def _grid_axes(axes: list[Axis]) -> tuple[Axis | _Flat, Axis]:
    return (axes[0], axes[1]) if len(axes) == 2 else (_Flat(), axes[0])


def _combine(a: str, b: str) -> str:
    """The kind of a 2-D cell from its row and column kinds (the rarer one wins)."""
    order = ["overhang", "cropped", "pad", "zero", "input"]
    return min(a, b, key=order.index)


def _input_grid(rows: Axis | _Flat, cols: Axis) -> list[Item]:
    r0, c0 = rows.positions()[0], cols.positions()[0]
    items: list[Item] = []
    for y in rows.positions():
        for x in cols.positions():
            kind = _combine(rows.kind(y), cols.kind(x))
            cell = (x,) if isinstance(rows, _Flat) else (y, x)
            items.append(Rect(x - c0, y - r0, 1, 1, kind, cell=cell))
    return items


def _taps(rows: Axis | _Flat, cols: Axis, i: int, j: int, style: str) -> list[Item]:
    r0, c0 = rows.positions()[0], cols.positions()[0]
    return [Rect(x - c0 + 0.12, y - r0 + 0.12, 0.76, 0.76, style,
                 cell=(x,) if isinstance(rows, _Flat) else (y, x))
            for y in rows.taps(i) for x in cols.taps(j)]


def _output_grid(rows: Axis | _Flat, cols: Axis, marks: dict[tuple[int, int], str],
                 dx: float, dy: float) -> Group:
    items: list[Item | Group] = []
    for i in range(rows.out):
        for j in range(cols.out):
            cell = (j,) if isinstance(rows, _Flat) else (i, j)
            items.append(Rect(j, i, 1, 1, marks.get((i, j), "out"), cell=cell))
    return Group(items, dx, dy, role="output")


def _extent(rows: Axis | _Flat, cols: Axis) -> tuple[int, int]:
    return len(rows.positions()), len(cols.positions())


def _panel(rows: Axis | _Flat, cols: Axis, i: int, j: int) -> list[Item | Group]:
    """The input with the taps of window (i, j), and the output with cell (i, j) marked."""
    height, width = _extent(rows, cols)
    key = (j,) if isinstance(rows, _Flat) else (i, j)
    return [
        Group(_input_grid(rows, cols), role="input"),
        Group(_taps(rows, cols, i, j, "tap"), role="window", key=key),
        _output_grid(rows, cols, {(i, j): "outcur"}, width + 1.5, (height - rows.out) / 2),
    ]


def _panels(rows: Axis | _Flat, cols: Axis) -> list[Item | Group]:
    height, width = _extent(rows, cols)
    panel_w = width + 1.5 + cols.out + GAP + 0.5
    panel_h = max(height, rows.out) + GAP
    flat = isinstance(rows, _Flat)
    per_row = cols.out if not flat else 1
    panels: list[Item | Group] = []
    for n, (i, j) in enumerate(product(range(rows.out), range(cols.out))):
        pi, pj = (n // per_row, n % per_row)
        panels.append(Group(_panel(rows, cols, i, j), pj * panel_w, pi * panel_h,
                            role="panel", key=(i, j) if not flat else (j,)))
    return panels


def _overlay(rows: Axis | _Flat, cols: Axis) -> list[Item | Group]:
    height, width = _extent(rows, cols)
    r0, c0 = rows.positions()[0], cols.positions()[0]
    flat = isinstance(rows, _Flat)
    last = (rows.out - 1, cols.out - 1)
    starts: list[Item] = [
        Dot(x - c0 + 0.5, y - r0 + 0.5, 0.16, "start", cell=(x,) if flat else (y, x))
        for y in rows.starts for x in cols.starts]
    out_dx = width + 2.0
    out_dy = max((height - rows.out) / 2, 0)
    return [
        Group(_input_grid(rows, cols), role="input"),
        Group(_taps(rows, cols, 0, 0, "tap"), role="window", key=(0, 0) if not flat else (0,)),
        Group(_taps(rows, cols, *last, "last"), role="window",
              key=last if not flat else (last[1],)),
        Group(starts, role="starts"),
        _output_grid(rows, cols, {(0, 0): "outcur", last: "outlast"}, out_dx, out_dy),
    ]


def _legend(rows: Axis | _Flat, cols: Axis, y: float, x: float, overlay: bool
            ) -> list[Item]:
    kinds = {_combine(rows.kind(a), cols.kind(b))
             for a in rows.positions() for b in cols.positions()} | {"tap", "out"}
    if overlay:
        kinds |= {"last", "start"}
    items: list[Item] = []
    for key, label in LEGEND.items():
        if key in kinds:
            items.append(Rect(x, y - 0.35, 0.7, 0.7, key))
            items.append(Text(x + 0.9, y, label, "small", "start"))
            x += 1.8 + 0.75 * 0.45 * len(label)
    return items
