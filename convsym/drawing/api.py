"""``convsym.draw``: one entry point for every picture, and the figure objects it returns.

>>> import convsym
>>> fig = convsym.draw("example:seed3", layer="conv2d", input_size=(6, 6))
>>> fig.kind, fig.to_svg().count('class="panel"')
('arithmetic', 9)
>>> "\\\\begin{tikzpicture}" in fig.to_tikz()
True
>>> convsym.draw("example:resnet18").kind
'architecture'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from convsym.drawing import plots, tikz
from convsym.drawing.animate import animate
from convsym.drawing.architecture import architecture_figure
from convsym.drawing.arithmetic import arithmetic_figure
from convsym.drawing.instantiate import instantiate
from convsym.drawing.plots import named_row
from convsym.drawing.raster import render
from convsym.drawing.scene import Scene
from convsym.drawing.svg import to_svg
from convsym.errors import ConvsymTypeError, UsageError
from convsym.intdiv import QPoly, as_int
from convsym.network import require_mapping, require_network
from convsym.readers import write_file
from convsym.sources import resolve

KINDS = ("arithmetic", "architecture", "size-plot", "cost-plot")
MAX_AXIS = 40
"""An arithmetic figure draws at most this many cells per axis (else: ``input_size``)."""


@dataclass
class Figure:
    """A drawn picture (arithmetic figure or architecture diagram); shows itself in notebooks
    as SVG."""

    kind: str
    scene: Scene
    model: Any

    def to_svg(self) -> str:
        """SVG text."""
        return to_svg(self.scene)

    def to_tikz(self, *, standalone: bool = False) -> str:
        """A ``tikzpicture`` for ``\\input`` (needs ``\\usepackage{tikz}``), or with
        ``standalone=True`` a whole document for pdflatex."""
        return tikz.standalone(self.scene) if standalone else tikz.to_tikz(self.scene)

    def render(self, fmt: str) -> bytes:
        """The picture in ``fmt``: tikz, latex (standalone document), svg, png, pdf, or for
        arithmetic figures an animation (gif, apng: a frame per output cell)."""
        if fmt == "tikz":
            return self.to_tikz().encode()
        if fmt == "latex":
            return self.to_tikz(standalone=True).encode()
        if fmt == "svg":
            return self.to_svg().encode()
        if fmt in ("gif", "apng"):
            if self.kind != "arithmetic":
                raise UsageError("only arithmetic figures animate (gif, apng)",
                                 code="bad_format")

            return animate(self.model, fmt)

        return render(self.scene, fmt)

    def save(self, path: str, fmt: str | None = None) -> str:
        """Write to ``path`` (format from the extension unless given); returns the path."""
        return write(path, self.render(fmt or format_of(path)))

    def _repr_svg_(self) -> str:
        return self.to_svg()


@dataclass
class Plot:
    """A matplotlib plot with the data it shows (``series``)."""

    kind: str
    series: Any
    make: Any

    def render(self, fmt: str) -> bytes:
        """PNG, PDF, SVG or PGF bytes."""
        return bytes(self.make(fmt))

    def save(self, path: str, fmt: str | None = None) -> str:
        """Write to ``path``; returns the path."""
        return write(path, self.render(fmt or format_of(path)))

    def _repr_svg_(self) -> str:
        return self.render("svg").decode()


def format_of(path: str) -> str:
    """The format a file name asks for (``.tex`` is a standalone LaTeX document)."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    return {"tex": "latex", "tikz": "tikz"}.get(ext, ext)


def write(path: str, data: bytes) -> str:
    """Write bytes, reporting a failure as one clear line."""
    write_file(path, data)
    return path


def _network(source: Any) -> Any:
    if isinstance(source, str):
        return resolve(source)

    return require_network(source, "draw")


def draw(source: Any, *, layer: str | None = None, kind: str | None = None,
         values: dict[str, Any] | None = None, input_size: Sequence[int] | None = None,
         mode: str = "auto", vary: str | None = None, xs: Sequence[int] | None = None
         ) -> Figure | Plot:
    """Draw a network (``example:NAME``, a spec or Keras JSON path, or a network object).

    ``kind``: ``arithmetic`` (the figure of ``layer``; default when a layer is named),
    ``architecture`` (default otherwise), ``size-plot`` or ``cost-plot`` (against ``vary``).
    ``values`` fix symbols; ``input_size`` redraws the layer on a smaller input.
    """
    if values is not None:  # a list or a text is not a mapping of symbols to values
        values = dict(require_mapping(values, "draw: values"))
    for name, given in (("vary", vary), ("layer", layer), ("kind", kind), ("mode", mode)):
        if given is not None and not isinstance(given, str):
            raise ConvsymTypeError(f"draw: {name} = {given!r:.60}: expected a name (a str)")
    if xs is not None and (isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence) or
                           not all(isinstance(x, int) and not isinstance(x, bool)
                                   for x in xs)):
        raise ConvsymTypeError(f"draw: xs = {xs!r:.60}: expected a list of integers")
    kind = kind or ("arithmetic" if layer else "architecture")
    if kind not in KINDS:
        raise UsageError(f"kind {kind!r}: use one of {', '.join(KINDS)}", code="bad_option")
    net = _network(source)
    if kind == "architecture":
        model = architecture_figure(net, values)
        return Figure(kind, model.scene(), model)
    if kind == "arithmetic":
        return _arithmetic(net, layer, values, input_size, mode)

    points = list(xs) if xs is not None else list(range(1, 97))
    if kind == "size-plot":
        series = plots.size_series(net, points, layer=layer, vary=vary, values=values)
        return Plot(kind, series, lambda fmt: plots.size_plot(series, fmt))
    if vary is None:
        raise UsageError("a cost plot needs the hyperparameter to vary (--vary NAME)",
                         code="bad_option")
    params, macs = plots.cost_series(net, points, vary=vary, values=values)
    return Plot(kind, (params, macs), lambda fmt: plots.cost_plot(params, macs, fmt))


def _arithmetic(net: Any, layer: str | None, values: dict[str, Any] | None,
                input_size: Sequence[int] | None, mode: str) -> Figure:
    if layer is None:
        raise UsageError("an arithmetic figure needs --layer NAME", code="bad_option")
    if input_size is None:
        net, _ = instantiate(net, values)
    elif values:
        net = net.subs(values)
    row = named_row(net, layer)
    index = next(i for i, node in enumerate(net.nodes) if node.name == row.name)
    parents = net.nodes[index].parents
    if len(parents) != 1:
        raise UsageError(f"{row.name!r} ({row.type}) has {len(parents)} inputs; arithmetic "
                         "figures are for sliding-window layers", code="nothing_to_draw")
    shape = tuple(net.shapes[parents[0]])
    cfg = getattr(row.layer, "config", None)
    first = bool(getattr(cfg, "channels_first", net.dialect == "torch"))
    spatial = list(range(1, len(shape))) if first else list(range(len(shape) - 1))
    if input_size is not None:
        sizes: list[Any] = [input_size] if isinstance(input_size, int) else (
            list(input_size) if isinstance(input_size, (list, tuple)) else [input_size])
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
            raise UsageError(f"--input-size: {input_size!r:.60} is not a list of integers "
                             "(e.g. 5x5)", code="bad_input_size")
        if len(sizes) == 1:
            sizes *= len(spatial)
        if len(sizes) != len(spatial) or min(sizes) < 1:
            raise UsageError(f"--input-size: {row.name!r} has {len(spatial)} spatial axes; "
                             f"give {len(spatial)} positive sizes (e.g. 5x5)",
                             code="bad_input_size")
        shape = tuple(QPoly.const(sizes[spatial.index(i)]) if i in spatial else
                      (s if as_int(s) is not None else QPoly.const(1))
                      for i, s in enumerate(shape))
    figure = arithmetic_figure(row.layer, shape, mode=mode, name=row.name)
    widest = max(len(ax.positions()) for ax in figure.axes)
    if widest > MAX_AXIS:
        raise UsageError(f"{row.name!r} works on {widest} cells per axis here, too many to "
                         f"draw; redraw it on a small input, e.g. --input-size 7",
                         code="too_large")
    return Figure("arithmetic", figure.scene(), figure)
