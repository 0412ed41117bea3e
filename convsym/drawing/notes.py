r"""Arithmetic figures for a derivation: one per distinct sliding-window layer, in LaTeX.

Each convolution, pooling or transposed convolution is drawn on a small input (enough for
two windows per axis, at most 12 cells); layers with the same arithmetic share one figure.
:func:`with_figures` appends them to a derivation's LaTeX as a section of its own and, in a
standalone document, loads ``tikz``.

>>> from convsym.examples import example
>>> [(names, size) for names, size, _ in figures(example("seed3"))]
[(['conv2d'], [6, 6]), (['conv2d_1'], [5, 5])]
"""

from __future__ import annotations

from typing import Any

from convsym.drawing.api import draw
from convsym.drawing.geometry import has_window
from convsym.drawing.tikz import escape
from convsym.errors import ConvsymError
from convsym.intdiv import as_int
from convsym.printing.latex import PACKAGES, fragment_header

LARGEST = 12


def _small_input(row: Any) -> list[int] | None:
    sizes = []
    for step in row.inference.steps:
        if not has_window(step):
            continue
        k, s = as_int(step.values.get("k")), as_int(step.values.get("s"))
        d = as_int(step.values["d"]) if "d" in step.values else 1
        if k is None or s is None or d is None:
            return None
        if step.rule.startswith("conv_transpose"):
            sizes.append(3)
        else:
            sizes.append(min(max(d * (k - 1) + 1 + s, 4), LARGEST))
    return sizes or None


def _signature(row: Any) -> str:
    """What decides a layer's arithmetic: its type and its steps' values but the input size."""
    steps = [(step.rule, sorted((k, str(v)) for k, v in step.values.items() if k != "n"))
             for step in row.inference.steps]
    return f"{row.type}{steps}"


def figures(net: Any) -> list[tuple[list[str], list[int], Any]]:
    """``(layer names, input size, figure)`` for each distinct sliding-window layer."""
    seen: dict[str, tuple[list[str], list[int], Any]] = {}
    for row in net.rows:
        size = _small_input(row)
        if size is None or len(size) > 2:
            continue
        key = _signature(row)
        if key in seen:
            seen[key][0].append(row.name)
            continue
        try:
            fig = draw(net, layer=row.name, input_size=size)
        except ConvsymError:
            continue  # a symbolic hyperparameter or padding: nothing concrete to draw
        seen[key] = ([row.name], size, fig)
    return list(seen.values())


def figures_latex(net: Any) -> str:
    """The figures as a LaTeX section (needs ``\\usepackage{tikz}``)."""
    parts = ["\\section*{Convolution arithmetic}\n",
             "Each sliding-window layer drawn on a small input: the input (blue) with its "
             "padding (dashed), the kernel's taps (dark) and the output cell they produce.\n"]
    for names, size, fig in figures(net):
        shown = ", ".join(escape(n) for n in names[:6]) + (", \\dots" if len(names) > 6 else "")
        parts.append("\\begin{center}\n" + fig.to_tikz() +
                     f"\\\\[2pt]{{\\small {shown} on a {'x'.join(map(str, size))} input}}\n"
                     "\\end{center}\n")
    return "\n".join(parts)


def with_figures(latex: str, net: Any, *, standalone: bool) -> str:
    """A derivation's LaTeX with the figures appended (and ``tikz`` loaded if standalone)."""
    section = figures_latex(net)
    if not standalone:
        latex = latex.replace(fragment_header(), fragment_header((*PACKAGES, "tikz")), 1)
        return latex + "\n" + section
    head, sep, tail = latex.partition("\\begin{document}")
    body, end, rest = tail.rpartition("\\end{document}")
    return head + "\\usepackage{tikz}\n" + sep + body + section + end + rest
