"""Plots with matplotlib: output size against input size (the staircase), with the inputs
the network refuses marked, and parameters/MACs against a hyperparameter.

Every value plotted is convsym's closed form evaluated at an integer (exact SymPy
arithmetic); whether an input is admissible is :func:`convsym.whatif.accepts`.

>>> from convsym.examples import example
>>> data = size_series(example("seed3_symbolic"), range(1, 9))
>>> data.symbol, data.layer, data.expr
('n', 'conv2d_1', 'ceiling(n/4)')
>>> data.values[:8], data.admissible[:3]
([1, 1, 1, 1, 2, 2, 2, 2], [True, True, True])
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from convsym.drawing.instantiate import instantiate, spatial_names
from convsym.drawing.raster import FORMATS, pyplot, save
from convsym.errors import UsageError

MAX_POINTS = 2000


@dataclass
class Series:
    """y against x: what a plot shows, as data (tests read it)."""

    symbol: str
    layer: str
    expr: str
    xs: list[int]
    values: list[int | None]
    admissible: list[bool]
    fixed: dict[str, int]


def _pick_symbol(net: Any, vary: str | None, symbols: set[str]) -> str:
    if vary is not None:
        if vary not in symbols:
            raise UsageError(f"--vary {vary!r}: the network's symbols are "
                             f"{', '.join(sorted(symbols)) or 'none'}", code="unknown_symbol")
        return vary
    spatial = sorted(spatial_names(net) & symbols)
    if not spatial:
        raise UsageError(f"{net.name!r} has no symbolic input size to vary; write the input "
                         "sizes as symbols (e.g. H, W)", code="nothing_to_vary")
    return spatial[0]


def _row(net: Any, layer: str | None, sym: sympy.Symbol) -> Any:
    if layer is not None:
        return named_row(net, layer)
    rows = [r for r in net.rows if len(r.output_shape) >= 2
            and any(sym in s.free_symbols for s in r.output_shape)]
    if not rows:
        raise UsageError(f"no layer's output depends on {sym}", code="nothing_to_vary")
    return rows[-1]


def named_row(net: Any, layer: str) -> Any:
    """The row called ``layer``, or a clear error suggesting a close name."""
    for row in net.rows:
        if row.name == layer:
            return row
    close = difflib.get_close_matches(layer, [r.name for r in net.rows], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"--layer {layer!r}: no such layer in {net.name!r}{hint}",
                     code="unknown_layer")


def size_series(net: Any, xs: Sequence[int], *, layer: str | None = None,
                vary: str | None = None, values: dict[str, Any] | None = None) -> Series:
    """The output size of ``layer`` (default: the last spatial one) for each input in ``xs``."""
    if len(xs) > MAX_POINTS or not xs or min(xs) < 1:
        raise UsageError(f"the range must hold 1 to {MAX_POINTS} positive sizes",
                         code="bad_range")
    symbols = {str(s) for s in net.free_symbols}
    name = _pick_symbol(net, vary, symbols)
    sym = next(s for s in net.free_symbols if str(s) == name)
    others = {k: v for k, v in (values or {}).items() if k != name}
    rest = [s for s in net.free_symbols if str(s) != name and str(s) not in others]
    if rest:
        _, chosen = instantiate(net, {**others, name: max(xs)})
        others.update({k: v for k, v in chosen.items() if k != name})
    row = _row(net, layer, sym)
    expr = next((s for s in row.output_shape if sym in s.free_symbols), row.output_shape[0])
    fixed = {s: others[str(s)] for s in expr.free_symbols if str(s) in others}
    ys: list[int | None] = []
    ok: list[bool] = []
    for x in xs:
        accepted = bool(net.accepts({**others, name: x}))
        value = expr.subs({**fixed, sym: x})
        ys.append(int(value) if accepted and value.is_Integer else None)
        ok.append(accepted)
    return Series(name, row.name, str(expr), list(xs), ys, ok,
                  {k: int(v) for k, v in others.items()})


def cost_series(net: Any, xs: Sequence[int], *, vary: str,
                values: dict[str, Any] | None = None) -> tuple[Series, Series]:
    """Parameters and MACs of the whole network for each value of hyperparameter ``vary``."""
    symbols = {str(s) for s in net.free_symbols}
    if vary not in symbols:
        raise UsageError(f"--vary {vary!r}: the network's symbols are "
                         f"{', '.join(sorted(symbols)) or 'none'}", code="unknown_symbol")
    others = {k: v for k, v in (values or {}).items() if k != vary}
    if any(str(s) not in others for s in net.free_symbols if str(s) != vary):
        _, chosen = instantiate(net, {**others, vary: max(xs)})
        others.update({k: v for k, v in chosen.items() if k != vary})
    sym = next(s for s in net.free_symbols if str(s) == vary)
    out = []
    for expr, label in ((net.total_params, "parameters"), (net.total_macs, "MACs")):
        subs = {s: others[str(s)] for s in expr.free_symbols if str(s) in others}
        ys: list[int | None] = []
        for x in xs:
            v = expr.subs({**subs, sym: x})
            ys.append(int(v) if v.is_Integer else None)
        out.append(Series(vary, label, str(expr), list(xs), ys, [True] * len(xs),
                          {k: int(v) for k, v in others.items()}))
    return out[0], out[1]


def size_plot(series: Series, fmt: str) -> bytes:
    """The staircase: output size against input size, refused inputs marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    good = [(x, y) for x, y in zip(series.xs, series.values) if y is not None]
    bad = [x for x, ok in zip(series.xs, series.admissible) if not ok]
    if good:
        ax.step([x for x, _ in good], [y for _, y in good], where="post", color="#1f7a72",
                lw=1.4, label=f"{series.layer}: {series.expr}")
        ax.plot([x for x, _ in good], [y for _, y in good], "o", ms=2.5, color="#1f7a72")
    if bad:
        ax.plot(bad, [0] * len(bad), "x", color="#c0392b", ms=4,
                label="refused (not admissible)")
    ax.set_xlabel(f"input size {series.symbol}" + _fixed(series))
    ax.set_ylabel("output size")
    # why: matplotlib is optional (the draw extra) and heavy
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _save(plt, fig, fmt)


def cost_plot(params: Series, macs: Series, fmt: str) -> bytes:
    """Parameters and MACs against a hyperparameter (two y axes)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(params.xs, params.values, "-o", ms=3.5, lw=2.2, color="#b3671b",
            label="parameters")
    ax.set_xlabel(f"{params.symbol}" + _fixed(params))
    ax.set_ylabel("parameters", color="#b3671b")
    twin = ax.twinx()
    twin.plot(macs.xs, macs.values, "--s", ms=2.5, lw=1.2, color="#54488a", label="MACs")
    twin.set_ylabel("MACs", color="#54488a")
    # both curves can coincide once scaled (both linear in a width): a legend tells them apart
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper left", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"parameters = {params.expr}", fontsize=8)
    return _save(plt, fig, fmt)


def _fixed(series: Series) -> str:
    if not series.fixed:
        return ""
    return "  (" + ", ".join(f"{k} = {v}" for k, v in sorted(series.fixed.items())) + ")"


def _save(plt: Any, fig: Any, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise UsageError(f"format {fmt!r}: plots are {', '.join(FORMATS)}", code="bad_format")
    fig.tight_layout()
    return save(plt, fig, fmt, 150)
