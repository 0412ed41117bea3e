"""A picture as data: rectangles, dots, lines and text in cell units, y pointing down.

Builders (:mod:`~convsym.drawing.arithmetic`, :mod:`~convsym.drawing.architecture`) make a
:class:`Scene`; writers (:mod:`~convsym.drawing.svg`, :mod:`~convsym.drawing.tikz`) turn it
into text.  Styles are names from :data:`STYLES`, so both writers colour alike and tests can
count the cells of each kind in either output.

>>> s = Scene([Rect(0, 0, 2, 1, "input", cell=(0, 0)), Dot(1, 2, 0.5, "start")])
>>> s.bounds()
(0.0, 0.0, 2.0, 2.5)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Style:
    """Fill and stroke as ``#rrggbb`` (or ``none``), dash pattern, stroke width, opacity."""

    fill: str
    stroke: str
    dash: str = ""  # "", "dashed" or "dotted"
    width: float = 1.0
    opacity: float = 1.0


STYLES: dict[str, Style] = {
    # convolution arithmetic (colours after Dumoulin & Visin: blue input, cyan output)
    "input": Style("#8fbfe0", "#2b5f8a"),
    "pad": Style("#ffffff", "#7a7a7a", "dashed"),
    "zero": Style("#ffffff", "#2b5f8a", "dotted"),
    "cropped": Style("#e6e6e6", "#9a9a9a", "dotted"),
    "overhang": Style("#fff4f0", "#c0392b", "dotted"),
    "tap": Style("#0b3c68", "#0b3c68", opacity=0.55),
    "last": Style("#d35400", "#d35400", opacity=0.55),
    "start": Style("#0b3c68", "none"),
    "out": Style("#a8e0dc", "#1f7a72"),
    "outcur": Style("#1f7a72", "#1f7a72"),
    "outlast": Style("#d35400", "#d35400"),
    # architecture blocks
    "conv": Style("#fdd49e", "#b3671b"),
    "pool": Style("#f4a582", "#a53f1c"),
    "transpose": Style("#c7e9c0", "#2f7a2f"),
    "dense": Style("#cbc3e3", "#54488a"),
    "norm": Style("#e0e0e0", "#777777"),
    "other": Style("#f2f2f2", "#777777"),
    "inputblock": Style("#8fbfe0", "#2b5f8a"),
    "merge": Style("#ffffff", "#333333"),
    "edge": Style("none", "#333333", width=1.2),
    "skip": Style("none", "#1f7a72", "dashed", width=1.2),
    "frame": Style("none", "#b0b0b0", "dashed", width=0.8),
}


@dataclass(frozen=True)
class Rect:
    """A rectangle; ``cell`` is the grid position it stands for (tests read it back)."""

    x: float
    y: float
    w: float
    h: float
    style: str
    cell: tuple[int, ...] | None = None
    rounded: bool = False


@dataclass(frozen=True)
class Dot:
    """A small filled circle (a window's start in the compact overlay, a merge node)."""

    x: float
    y: float
    r: float
    style: str
    cell: tuple[int, ...] | None = None
    label: str = ""


@dataclass(frozen=True)
class Line:
    """A polyline, optionally with an arrow head at the end."""

    points: tuple[tuple[float, float], ...]
    style: str = "edge"
    arrow: bool = False


@dataclass(frozen=True)
class Text:
    """Text centred at (x, y) unless ``anchor`` is ``start``/``end``; ``tex`` is the LaTeX
    form (math allowed) when it differs from the plain text."""

    x: float
    y: float
    text: str
    size: str = "normal"  # "small", "normal" or "large"
    anchor: str = "middle"
    tex: str | None = None


Item = Rect | Dot | Line | Text


@dataclass
class Group:
    """Items shifted by (dx, dy); ``role`` and ``key`` say what the group is (a panel for
    output cell ``key``, say) and travel into both outputs."""

    items: Sequence[Item | Group] = field(default_factory=list)
    dx: float = 0.0
    dy: float = 0.0
    role: str = ""
    key: tuple[int, ...] = ()


@dataclass
class Scene:
    """A whole picture, with a title for accessibility (SVG ``<title>``)."""

    items: list[Item | Group]
    title: str = ""

    def walk(self) -> Iterator[tuple[float, float, Item]]:
        """Every item with its absolute offset."""
        stack: list[tuple[float, float, Item | Group]] = [(0.0, 0.0, i) for i in self.items]
        while stack:
            dx, dy, item = stack.pop()
            if isinstance(item, Group):
                stack.extend((dx + item.dx, dy + item.dy, i) for i in item.items)
            else:
                yield dx, dy, item

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` of everything drawn (text estimated by its length)."""
        xs: list[float] = []
        ys: list[float] = []
        for dx, dy, item in self.walk():
            if isinstance(item, Rect):
                xs += [dx + item.x, dx + item.x + item.w]
                ys += [dy + item.y, dy + item.y + item.h]
            elif isinstance(item, Dot):
                xs += [dx + item.x - item.r, dx + item.x + item.r]
                ys += [dy + item.y - item.r, dy + item.y + item.r]
            elif isinstance(item, Line):
                xs += [dx + x for x, _ in item.points]
                ys += [dy + y for _, y in item.points]
            else:
                width = text_width(item.text, item.size)
                left = {"start": 0.0, "end": -width}.get(item.anchor, -width / 2)
                xs += [dx + item.x + left, dx + item.x + left + width]
                ys += [dy + item.y - FONT[item.size] / 2, dy + item.y + FONT[item.size] / 2]
        if not xs:
            return 0, 0, 0, 0
        return min(xs), min(ys), max(xs), max(ys)


FONT = {"small": 0.45, "normal": 0.6, "large": 0.75}
"""Font sizes in cell units (one cell is 20 px in SVG, 4 mm in TikZ)."""


def text_width(text: str, size: str = "normal") -> float:
    """Estimated width of ``text`` in cell units (0.55 em per character)."""
    return 0.55 * FONT[size] * len(text)
