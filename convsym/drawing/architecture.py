"""Architecture diagrams: blocks sized by instantiated shapes, labelled with symbolic ones.

Each layer that changes the shape or carries a matrix of weights is a block; shape-keeping
layers without one (BatchNorm, ReLU, Dropout) fold into the block before them.  Block height
follows the spatial size and width the channels, at the concrete sizes; the label is the
symbolic shape (``64×⌈H/4⌉×⌈W/4⌉``).  Merges are circles, skip connections dashed arcs; long
networks wrap into rows at places no skip connection crosses.

>>> from convsym.examples import example
>>> fig = architecture_figure(example("resnet18"))
>>> fig.values
{'H': 224, 'W': 224}
>>> [b.title for b in fig.blocks[:3]], fig.blocks[1].label
(['Conv2d+BN+ReLU', 'MaxPool2d', 'Conv2d+BN+ReLU'], '64×⌈H/4⌉×⌈W/4⌉')
>>> len([b for b in fig.blocks if b.kind == "merge"])
8
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from convsym.drawing.instantiate import instantiate
from convsym.drawing.labels import shape_tex, shape_text
from convsym.drawing.scene import Dot, Group, Item, Line, Rect, Scene, Text, text_width
from convsym.drawing.tikz import escape
from convsym.intdiv import as_int

ROW_WIDTH = 48.0
"""Wrap rows at about this many cell units."""
SHORT = {"BatchNorm": "BN", "BatchNormalization": "BN", "Dropout": "Drop",
         "Activation": "Act", "LayerNormalization": "LN", "LayerNorm": "LN"}
MERGE_SIGN = {"Add": "+", "Concatenate": "c", "Multiply": "×", "Subtract": "-",
              "Average": "avg", "Maximum": "max", "Minimum": "min"}


@dataclass
class Block:
    """One drawn block: the rows it stands for, its kind, title, label and concrete size."""

    name: str
    kind: str
    title: str
    label: str
    tex: str
    spatial: int
    channels: int
    parents: list[int] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    row: int = 0


@dataclass
class ArchitectureFigure:
    """A network's diagram, as blocks with places."""

    name: str
    blocks: list[Block]
    values: dict[str, int]

    def scene(self) -> Scene:
        """The picture as a :class:`Scene`."""
        items: list[Item | Group] = []
        title = f"{self.name}"
        if self.values:
            title += "   (drawn at " + ", ".join(f"{k} = {v}" for k, v in
                                                self.values.items()) + ")"
        items.append(Text(0, -1.6, title, "large", "start"))
        for index, block in enumerate(self.blocks):
            items.append(_block_items(block, index))
        items += _edges(self.blocks)
        return Scene(items, title=title)


def _short(type_name: str) -> str:
    for stem, short in SHORT.items():
        if type_name.startswith(stem):
            return short
    return type_name


def _kind(row: Any) -> str:
    rules = [step.rule for step in row.inference.steps]
    if row.type == "InputLayer" or not row.parents:
        return "inputblock"
    if len(row.parents) > 1:
        return "merge"
    if any(r.startswith("conv_transpose") for r in rules):
        return "transpose"
    if any(r.startswith("pool") or r in ("global_pool", "adaptive_pool") for r in rules):
        return "pool"
    if any(r in ("valid", "explicit", "same_tf", "same_torch", "causal") for r in rules):
        return "conv"
    if any(len(w.shape) >= 2 for w in row.inference.weights):
        return "dense"
    return "other"


def _foldable(row: Any, parent_shape: Any) -> bool:
    """Shape-keeping, one input, no sliding window and no weight matrix."""
    return (len(row.parents) == 1 and tuple(row.shape) == tuple(parent_shape)
            and _kind(row) == "other")


def _size(shape: Any, dialect: str) -> tuple[int, int]:
    values = [as_int(s) or 1 for s in shape]
    if len(values) <= 1:
        return 1, values[0] if values else 1
    if dialect == "torch":
        return values[1], values[0]
    return values[0], values[-1]


def architecture_figure(net: Any, values: dict[str, Any] | None = None
                        ) -> ArchitectureFigure:
    """The diagram of ``net`` (symbols instantiated with ``values`` or customary sizes)."""
    concrete, chosen = instantiate(net, values)
    shapes = {r.name: r.shape for r in net.rows}
    concrete_rows = {r.name: r for r in concrete.rows}
    home: dict[str, int] = {}  # row name -> index of the block that draws it
    blocks: list[Block] = []
    for row in net.rows:
        parents = [p for p in row.parents]
        first = parents[0] if parents else None
        if first in home and _foldable(row, shapes.get(first, ())):
            blocks[home[first]].title += "+" + _short(row.type)
            home[row.name] = home[first]
            continue
        spatial, channels = _size(concrete_rows[row.name].shape, net.dialect)
        kind = _kind(row)
        block = Block(row.name, kind, row.type, shape_text(row.output_shape),
                      shape_tex(row.output_shape), spatial, channels,
                      sorted({home[p] for p in parents if p in home}))
        if not parents and net.rows and row is not net.rows[0]:
            block.kind = "inputblock"
        home[row.name] = len(blocks)
        blocks.append(block)
    _place(blocks)
    return ArchitectureFigure(net.name, blocks, chosen)


def _dimensions(blocks: list[Block]) -> None:
    top = max((b.spatial for b in blocks), default=1) or 1
    for b in blocks:
        if b.kind == "merge":
            b.w = b.h = 1.0
            continue
        b.h = 1.2 + 5.0 * math.sqrt(b.spatial / top)
        b.w = 0.6 + 0.28 * math.log2(max(b.channels, 1))


def _slot(b: Block) -> float:
    """Horizontal room a block needs: itself or its labels, whichever is wider."""
    # LaTeX sets brackets and symbols wider than the estimate: leave a third more room
    return max(b.w, 1.35 * text_width(b.title, "small"),
               1.35 * text_width(b.label, "small")) + 1.2


def _crossings(blocks: list[Block], cut: int) -> int:
    """Edges a row break before block ``cut`` would cut, besides the chain ``cut-1 -> cut``."""
    return sum(1 for child, b in enumerate(blocks) for p in b.parents
               if p < cut <= child and not (p == cut - 1 and child == cut))


def _place(blocks: list[Block]) -> None:
    _dimensions(blocks)
    rows: list[list[int]] = []
    start = 0
    while start < len(blocks):
        width, end = 0.0, start
        while end < len(blocks) and (end == start or width + _slot(blocks[end]) <= ROW_WIDTH):
            width += _slot(blocks[end])
            end += 1
        if end < len(blocks):
            # break where the fewest skip connections cross, in the row's second half, best
            # right after a merge (a residual block then stays on one row)
            lo = start + max(1, (end - start) // 2)
            end = min(range(lo, end + 1), key=lambda c: (
                _crossings(blocks, c), blocks[c - 1].kind != "merge", -c))
        rows.append(list(range(start, end)))
        start = end
    y = 0.0
    for r, members in enumerate(rows):
        height = max((blocks[i].h for i in members), default=1.0)
        centre = y + 2.2 + height / 2  # room above for skip arcs and titles
        x = 0.0
        for i in members:
            b = blocks[i]
            slot = _slot(b)
            b.x, b.y, b.row = x + (slot - b.w) / 2, centre - b.h / 2, r
            x += slot
        y = centre + height / 2 + 3.2  # room below for labels and the wrap


def _block_items(b: Block, index: int) -> Group:
    cx = b.x + b.w / 2
    shape: Item = Rect(b.x, b.y, b.w, b.h, b.kind, rounded=True)
    if b.kind == "merge":
        sign = MERGE_SIGN.get(b.title.split("+")[0], "·")
        shape = Dot(cx, b.y + 0.5, 0.5, "merge", label=sign)
    items: list[Item | Group] = [
        shape,
        Text(cx, b.y - 0.45, b.title, "small", tex=escape(b.title)),
        Text(cx, b.y + b.h + 0.45, b.label, "small", tex=b.tex),
    ]
    return Group(items, role="block", key=(index,))


def _edges(blocks: list[Block]) -> list[Item | Group]:
    items: list[Item | Group] = []
    lanes: dict[int, int] = {}
    outgoing: dict[int, list[str]] = {}
    incoming: dict[int, list[str]] = {}
    for child, b in enumerate(blocks):
        for p in b.parents:
            a = blocks[p]
            ay, by = a.y + a.h / 2, b.y + b.h / 2
            if a.row == b.row and p == child - 1:
                items.append(Line(((a.x + a.w, ay), (b.x, by)), "edge", arrow=True))
            elif a.row == b.row:
                lane = lanes.get(a.row, 0)
                lanes[a.row] = lane + 1
                top = min(x.y for x in blocks if x.row == a.row) - 1.0 - 0.35 * (lane % 3)
                ax, bx = a.x + a.w / 2, b.x + b.w / 2
                items.append(Line(((ax, a.y), (ax, top), (bx, top), (bx, b.y)), "skip",
                                  arrow=True))
            elif p == child - 1:
                low = max(x.y + x.h for x in blocks if x.row == a.row) + 1.6
                items.append(Line(((a.x + a.w, ay), (a.x + a.w + 0.6, ay),
                                   (a.x + a.w + 0.6, low), (b.x - 0.6, low), (b.x - 0.6, by),
                                   (b.x, by)), "edge", arrow=True))
            else:
                outgoing.setdefault(p, []).append(b.name)
                incoming.setdefault(child, []).append(a.name)
    # one label per block, however many rows its connections cross (WaveNet's last add
    # gathers every skip output)
    for p, names in outgoing.items():
        a = blocks[p]
        items.append(Text(a.x + a.w / 2, a.y + a.h + 1.2, "to " + _names(names), "small"))
    for child, names in incoming.items():
        b = blocks[child]
        items.append(Text(b.x + b.w / 2, b.y - 1.2, "from " + _names(names), "small"))
    return items


def _names(names: list[str], shown: int = 2) -> str:
    """``a, b`` or ``a, b and 5 more``."""
    head = ", ".join(names[:shown])
    return head if len(names) <= shown else f"{head} and {len(names) - shown} more"
