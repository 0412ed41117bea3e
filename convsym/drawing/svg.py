"""Write a :class:`~convsym.drawing.scene.Scene` as SVG text (escaped; no other library).

Each rectangle carries its style as ``class`` and its grid position as ``data-cell``; each
group its ``role`` and ``key``, so tests (and readers) can count cells in the picture.

>>> from convsym.drawing.scene import Rect, Scene, Text
>>> svg = to_svg(Scene([Rect(0, 0, 1, 1, "input", cell=(0, 0)), Text(0.5, 1.6, "a<b")]))
>>> '<rect class="input" data-cell="0,0"' in svg, "a&lt;b" in svg
(True, True)
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from convsym.drawing.scene import FONT, STYLES, Dot, Group, Item, Line, Rect, Scene, Text

PX = 20.0
"""Pixels per cell unit."""
MARGIN = 0.5


def _n(v: float) -> str:
    """A coordinate in pixels, short."""
    text = f"{v * PX:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _css() -> str:
    rules = []
    for name, st in STYLES.items():
        parts = [f"fill:{st.fill}", f"stroke:{st.stroke}", f"stroke-width:{st.width:g}"]
        if st.dash == "dashed":
            parts.append("stroke-dasharray:4 2")
        elif st.dash == "dotted":
            parts.append("stroke-dasharray:1 2")
        if st.opacity != 1:
            parts.append(f"fill-opacity:{st.opacity:g}")
        rules.append(f".{name}{{{';'.join(parts)}}}")
    rules.append("text{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;fill:#222}")
    return "".join(rules)


def _item(item: Item | Group, out: list[str], indent: str) -> None:
    if isinstance(item, Group):
        attrs = f' transform="translate({_n(item.dx)},{_n(item.dy)})"'
        if item.role:
            attrs += f" class={quoteattr(item.role)}"
        if item.key:
            attrs += f' data-key="{",".join(map(str, item.key))}"'
        out.append(f"{indent}<g{attrs}>")
        for child in item.items:
            _item(child, out, indent + " ")
        out.append(f"{indent}</g>")
    elif isinstance(item, Rect):
        cell = f' data-cell="{",".join(map(str, item.cell))}"' if item.cell is not None else ""
        rx = f' rx="{_n(0.15)}"' if item.rounded else ""
        out.append(f'{indent}<rect class="{item.style}"{cell} x="{_n(item.x)}" '
                   f'y="{_n(item.y)}" width="{_n(item.w)}" height="{_n(item.h)}"{rx}/>')
    elif isinstance(item, Dot):
        cell = f' data-cell="{",".join(map(str, item.cell))}"' if item.cell is not None else ""
        out.append(f'{indent}<circle class="{item.style}"{cell} cx="{_n(item.x)}" '
                   f'cy="{_n(item.y)}" r="{_n(item.r)}"/>')
        if item.label:
            out.append(f'{indent}<text x="{_n(item.x)}" y="{_n(item.y)}" '
                       f'font-size="{_n(FONT["normal"])}" text-anchor="middle" '
                       f'dominant-baseline="central">{escape(item.label)}</text>')
    elif isinstance(item, Line):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in item.points)
        marker = ' marker-end="url(#arrow)"' if item.arrow else ""
        out.append(f'{indent}<polyline class="{item.style}" points="{points}"{marker}/>')
    else:
        assert isinstance(item, Text)
        out.append(f'{indent}<text x="{_n(item.x)}" y="{_n(item.y)}" '
                   f'font-size="{_n(FONT[item.size])}" text-anchor="{item.anchor}" '
                   f'dominant-baseline="central">{escape(item.text)}</text>')


def to_svg(scene: Scene) -> str:
    """The scene as a standalone SVG document."""
    x0, y0, x1, y1 = scene.bounds()
    x0, y0, x1, y1 = x0 - MARGIN, y0 - MARGIN, x1 + MARGIN, y1 + MARGIN
    w, h = x1 - x0, y1 - y0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}" height="{_n(h)}" '
           f'viewBox="{_n(x0)} {_n(y0)} {_n(w)} {_n(h)}">']
    if scene.title:
        out.append(f"<title>{escape(scene.title)}</title>")
    out.append(f"<style>{_css()}</style>")
    out.append('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
               'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               '<path d="M0,0 L10,5 L0,10 z" fill="#333333"/></marker></defs>')
    out.append(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(w)}" height="{_n(h)}" '
               'fill="#ffffff" stroke="none"/>')
    for item in scene.items:
        _item(item, out, "")
    out.append("</svg>")
    return "\n".join(out) + "\n"
