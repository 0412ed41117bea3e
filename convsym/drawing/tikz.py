r"""Write a :class:`~convsym.drawing.scene.Scene` as TikZ (plain ``tikz``, nothing else).

The picture defines its own styles (``csinput``, ``cspad``, ...), so a fragment needs only
``\usepackage{tikz}``; :func:`standalone` wraps it in a ``standalone`` document that
pdflatex compiles (Debian's texlive-latex-base/recommended/extra have everything).

>>> from convsym.drawing.scene import Rect, Scene, Text
>>> print(to_tikz(Scene([Rect(0, 0, 1, 1, "input"), Text(0.5, 1.5, "50% & 1_2")])))
... # doctest: +NORMALIZE_WHITESPACE
% convsym picture; needs \usepackage{tikz}
\begin{tikzpicture}[x=0.45cm, y=-0.45cm,
 csinput/.style={fill={rgb,255:red,143;green,191;blue,224}, draw={rgb,255:red,43;green,95;blue,138},
 line width=0.4pt}]
\draw[csinput] (0,0) rectangle +(1,1);
\node[font=\footnotesize, anchor=center] at (0.5,1.5) {50\% \& 1\_2};
\end{tikzpicture}
"""

from __future__ import annotations

from collections.abc import Sequence

from convsym.drawing.scene import STYLES, Dot, Group, Item, Line, Rect, Scene, Style, Text

UNIT_CM = 0.45
MAX_WIDTH_CM = 12.0
"""Pictures fit the text width of LaTeX's default ``article`` (345 pt)."""
FONTS = {"small": r"\scriptsize", "normal": r"\footnotesize", "large": r"\small"}

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "%": r"\%", "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


def escape(text: str) -> str:
    r"""``text`` safe inside a TikZ node (LaTeX specials escaped, non-ASCII dropped to ``?``).

    >>> escape("a_b {x} ~ \\")
    'a\\_b \\{x\\} \\~{} \\textbackslash{}'
    """
    body = "".join(_SPECIAL.get(ch, ch if 32 <= ord(ch) < 127 else "?") for ch in text)
    return body.replace("->", r"$\rightarrow$").replace("<", r"\textless{}").replace(
        ">", r"\textgreater{}").replace(r"$\rightarrow$", "$\\rightarrow$")


def _color(value: str) -> str:
    r, g, b = (int(value[i:i + 2], 16) for i in (1, 3, 5))
    return f"{{rgb,255:red,{r};green,{g};blue,{b}}}"


def _style(st: Style) -> str:
    parts = []
    if st.fill != "none":
        parts.append(f"fill={_color(st.fill)}")
    parts.append("draw=none" if st.stroke == "none" else f"draw={_color(st.stroke)}")
    if st.dash:
        parts.append(st.dash)
    if st.opacity != 1:
        parts.append(f"fill opacity={st.opacity:g}")
    parts.append(f"\n line width={0.4 * st.width:g}pt")
    return ", ".join(parts)


def _n(v: float) -> str:
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _item(item: Item | Group, out: list[str], fonts: dict[str, str]) -> None:
    if isinstance(item, Group):
        note = f" % {item.role} {','.join(map(str, item.key))}" if item.role else ""
        out.append(f"\\begin{{scope}}[shift={{({_n(item.dx)},{_n(item.dy)})}}]{note}")
        for child in item.items:
            _item(child, out, fonts)
        out.append("\\end{scope}")
    elif isinstance(item, Rect):
        corners = ", rounded corners=1pt" if item.rounded else ""
        out.append(f"\\draw[cs{item.style}{corners}] ({_n(item.x)},{_n(item.y)}) "
                   f"rectangle +({_n(item.w)},{_n(item.h)});")
    elif isinstance(item, Dot):
        out.append(f"\\draw[cs{item.style}] ({_n(item.x)},{_n(item.y)}) "
                   f"circle[radius={_n(item.r)}];")
        if item.label:
            out.append(f"\\node[font={fonts['normal']}] at ({_n(item.x)},{_n(item.y)}) "
                       f"{{{escape(item.label)}}};")
    elif isinstance(item, Line):
        path = " -- ".join(f"({_n(x)},{_n(y)})" for x, y in item.points)
        arrow = ", -latex" if item.arrow else ""
        out.append(f"\\draw[cs{item.style}{arrow}] {path};")
    else:
        assert isinstance(item, Text)
        anchor = {"start": "west", "end": "east"}.get(item.anchor, "center")
        body = item.tex if item.tex is not None else escape(item.text)
        out.append(f"\\node[font={fonts[item.size]}, anchor={anchor}] at "
                   f"({_n(item.x)},{_n(item.y)}) {{{body}}};")


def _used(items: Sequence[Item | Group], found: set[str]) -> set[str]:
    for item in items:
        if isinstance(item, Group):
            _used(item.items, found)
        elif not isinstance(item, Text):
            found.add(item.style)
    return found


def to_tikz(scene: Scene) -> str:
    """The scene as one ``tikzpicture`` (a fragment for ``\\input``), at most 12 cm wide."""
    x0, _, x1, _ = scene.bounds()
    # a wide picture shrinks as a whole, text included, so labels keep their places
    scale = min(1.0, MAX_WIDTH_CM / max((x1 - x0 + 1) * UNIT_CM, 1e-9))
    fonts = FONTS
    styles = [f" cs{name}/.style={{{_style(STYLES[name])}}}"
              for name in STYLES if name in _used(scene.items, set())]
    shrink = f", scale={scale:.3f}, transform shape" if scale < 1 else ""
    out = ["% convsym picture; needs \\usepackage{tikz}",
           f"\\begin{{tikzpicture}}[x={_n(UNIT_CM)}cm, y=-{_n(UNIT_CM)}cm{shrink}" +
           ("," if styles else "]")]
    if styles:
        out.append(",\n".join(styles) + "]")
    for item in scene.items:
        _item(item, out, fonts)
    out.append("\\end{tikzpicture}")
    return "\n".join(out) + "\n"


def standalone(scene: Scene) -> str:
    """A whole LaTeX document with just the picture (``standalone`` class, cropped)."""
    return ("\\documentclass[tikz,border=6pt]{standalone}\n\\begin{document}\n"
            + to_tikz(scene) + "\\end{document}\n")
