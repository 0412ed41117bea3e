"""Render a :class:`~convsym.drawing.scene.Scene` with matplotlib (PNG, PDF, SVG, PGF).

matplotlib is imported here only, lazily, with the Agg backend (no display needed); install
it with ``pip install convsym[draw]``.

>>> from convsym.drawing.scene import Rect, Scene
>>> render(Scene([Rect(0, 0, 1, 1, "input")]), "png")[:8]
b'\\x89PNG\\r\\n\\x1a\\n'
"""

from __future__ import annotations

import io
from typing import Any

from convsym.drawing.scene import FONT, STYLES, Dot, Group, Item, Line, Scene, Text
from convsym.errors import UsageError

INCH_PER_UNIT = 0.22
FORMATS = ("png", "pdf", "svg", "pgf")


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or a clear error when it is missing."""
    try:
        # why: matplotlib is optional (the draw extra) and heavy
        import matplotlib
    except ModuleNotFoundError:
        raise UsageError("drawing PNG/PDF and plots needs matplotlib: pip install "
                         "'convsym[draw]'", code="missing_dependency") from None
    matplotlib.use("Agg", force=True)
    # why: matplotlib is optional (the draw extra) and heavy
    import matplotlib.pyplot as plt

    return plt


def _dash(style: str) -> str:
    return {"dashed": "--", "dotted": ":"}.get(STYLES[style].dash, "-")


def _draw(ax: Any, item: Item | Group, dx: float, dy: float, pt: float,
          patches: dict[str, list[Any]]) -> None:
    """Draw text and lines now; collect shapes by style (one collection each is fast)."""
    # why: matplotlib is optional (the draw extra) and heavy
    from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

    if isinstance(item, Group):
        for child in item.items:
            _draw(ax, child, dx + item.dx, dy + item.dy, pt, patches)
        return
    if isinstance(item, Text):
        ha = {"start": "left", "end": "right"}.get(item.anchor, "center")
        ax.text(dx + item.x, dy + item.y, item.text, ha=ha, va="center",
                fontsize=FONT[item.size] * pt, color="#222222", zorder=4)
        return
    if isinstance(item, Line):
        st = STYLES[item.style]
        xs = [dx + x for x, _ in item.points]
        ys = [dy + y for _, y in item.points]
        ax.plot(xs, ys, color=st.stroke, lw=st.width, ls=_dash(item.style), zorder=1)
        if item.arrow and len(xs) >= 2:
            ax.annotate("", xy=(xs[-1], ys[-1]), xytext=(xs[-2], ys[-2]), zorder=1,
                        arrowprops={"arrowstyle": "-|>", "color": st.stroke, "lw": st.width,
                                    "shrinkA": 0, "shrinkB": 0})
        return
    bucket = patches.setdefault(item.style, [])
    if isinstance(item, Dot):
        bucket.append(Circle((dx + item.x, dy + item.y), item.r))
        if item.label:
            ax.text(dx + item.x, dy + item.y, item.label, ha="center", va="center",
                    fontsize=FONT["normal"] * pt, zorder=4)
    elif item.rounded:
        bucket.append(FancyBboxPatch((dx + item.x, dy + item.y), item.w, item.h,
                                     boxstyle="round,pad=0,rounding_size=0.15"))
    else:
        bucket.append(Rectangle((dx + item.x, dy + item.y), item.w, item.h))


def _collections(ax: Any, patches: dict[str, list[Any]]) -> None:
    # why: matplotlib is optional (the draw extra) and heavy
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import to_rgba

    for z, (style, shapes) in enumerate(patches.items()):
        st = STYLES[style]
        face = "none" if st.fill == "none" else to_rgba(st.fill, st.opacity)
        edge = "none" if st.stroke == "none" else st.stroke
        ax.add_collection(PatchCollection(shapes, facecolors=face, edgecolors=edge,
                                          linewidths=0.8 * st.width,
                                          linestyles=_dash(style), zorder=2 + z / 100))


def render(scene: Scene, fmt: str, *, dpi: int = 150) -> bytes:
    """The scene as ``fmt`` bytes (png, pdf, svg or pgf)."""
    if fmt not in FORMATS:
        raise UsageError(f"format {fmt!r}: matplotlib writes {', '.join(FORMATS)}",
                         code="bad_format")
    plt = pyplot()
    x0, y0, x1, y1 = scene.bounds()
    x0, y0, x1, y1 = x0 - 0.5, y0 - 0.5, x1 + 0.5, y1 + 0.5
    fig = plt.figure(figsize=((x1 - x0) * INCH_PER_UNIT, (y1 - y0) * INCH_PER_UNIT))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)
    ax.set_aspect("equal")
    ax.axis("off")
    pt = INCH_PER_UNIT * 72  # points per unit
    patches: dict[str, list[Any]] = {}
    for item in scene.items:
        _draw(ax, item, 0.0, 0.0, pt, patches)
    _collections(ax, patches)
    return save(plt, fig, fmt, dpi)


def save(plt: Any, fig: Any, fmt: str, dpi: int) -> bytes:
    """``fig`` as ``fmt`` bytes, closed after; a TeX system the format needs and this machine
    lacks (pgf runs xelatex) is one clean line, not a crash."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=fmt, dpi=dpi)
    except (RuntimeError, OSError) as err:
        if "not found" not in str(err) and "tex" not in str(err).lower():
            raise
        raise UsageError(f"format {fmt!r}: matplotlib could not write it here ({err}); "
                         "use svg or png", code="missing_tool") from None
    finally:
        plt.close(fig)
    return buffer.getvalue()
