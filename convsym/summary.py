"""Network summaries: a Keras-like table (``str``) and a JSON-ready dict (``to_dict``).

>>> from convsym.layers.keras import Input, Conv2D
>>> from convsym import Sequential
>>> s = Sequential([Input((28, 28, 1)), Conv2D(32, 3), Conv2D(64, 3)]).summary()
>>> s.to_dict()["total_params"]
18816
>>> print(s)  # doctest: +NORMALIZE_WHITESPACE
Model: "sequential" (keras)
Layer (type)        Output Shape   Param #
==========================================
conv2d (Conv2D)     (26, 26, 32)       320
conv2d_1 (Conv2D)   (24, 24, 64)    18,496
==========================================
Total params: 18,816
Trainable params: 18,816
Non-trainable params: 0
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from convsym.collector import collector_paused
from convsym.conditions import reduced_conditions
from convsym.printing.display import Rich
from convsym.printing.text import count_text as text_count
from convsym.printing.text import fit_widths, shape_text, sstr, table_lines, wrap_math

if TYPE_CHECKING:
    from convsym.network import Network


WIDTH = 100
"""Text summaries keep within this many columns (the CLI uses the terminal's width)."""


def json_value(value: sympy.Basic | int) -> int | str:
    """An integer when numeric, otherwise the expression's text form."""
    if isinstance(value, int):
        return value
    if isinstance(value, sympy.Integer):
        return int(value)
    return sstr(value)


def count_text(value: sympy.Basic) -> str:
    """``18,496``, ``288*c + 18,528``: :func:`convsym.printing.text.count_text`."""
    return text_count(value)


@dataclass(frozen=True)
class SummaryRow:
    """One row: name, type, output shape (no batch), parameter counts, MACs."""

    name: str
    type: str
    output_shape: tuple[sympy.Expr, ...]
    params: sympy.Expr
    trainable: sympy.Expr
    non_trainable: sympy.Expr
    macs: sympy.Expr


@dataclass(frozen=True, repr=False)
class Summary(Rich):
    """A network's per-layer rows, totals and side conditions."""

    _display = "summary"

    name: str
    dialect: str
    rows: tuple[SummaryRow, ...]
    total_params: sympy.Expr
    trainable_params: sympy.Expr
    non_trainable_params: sympy.Expr
    total_macs: sympy.Expr
    conditions: tuple[sympy.Basic, ...]
    notes: tuple[str, ...] = ()
    """E.g. which parameters the totals count, when a PyTorch forward never runs some."""

    @staticmethod
    @collector_paused()
    def of(net: Network) -> Summary:
        """Summarise a network."""
        rows = tuple(SummaryRow(r.name, r.type, r.output_shape, r.params, r.trainable,
                                r.non_trainable, r.macs) for r in net.rows)
        notes = tuple(n for n in [getattr(net, "params_note", None)] if isinstance(n, str))
        return Summary(net.name, net.dialect, rows, net.total_params, net.trainable_params,
                       net.non_trainable_params, net.total_macs,
                       tuple(r for _, r in reduced_conditions(net.condition_records)), notes)

    @collector_paused()
    def to_dict(self) -> dict[str, Any]:
        """The JSON form; each value an integer when numeric, else the expression's text."""
        return {
            "layers": [
                {
                    "name": r.name,
                    "type": r.type,
                    "output_shape": [json_value(s) for s in r.output_shape],
                    "params": json_value(r.params),
                    "trainable": json_value(r.trainable),
                    "non_trainable": json_value(r.non_trainable),
                    "macs": json_value(r.macs),
                }
                for r in self.rows
            ],
            "total_params": json_value(self.total_params),
            "trainable_params": json_value(self.trainable_params),
            "non_trainable_params": json_value(self.non_trainable_params),
            "total_macs": json_value(self.total_macs),
            "conditions": [sstr(c) for c in self.conditions],
            **({"notes": list(self.notes)} if self.notes else {}),
        }

    def __str__(self) -> str:
        return self.text()

    @collector_paused()
    def text(self, width: int = WIDTH) -> str:
        """The Keras-like table, kept within ``width`` columns where it can break: a long
        shape or count goes on to the next lines of its cell, conditions one to a line."""
        head = ("Layer (type)", "Output Shape", "Param #")
        body = [(f"{r.name} ({r.type})", shape_text(r.output_shape, batch=False),
                 count_text(r.params)) for r in self.rows]
        gap = "   "
        widths = fit_widths([list(head), *map(list, body)], width, len(gap))
        rule = "=" * (sum(widths) + 2 * len(gap))
        out = [f'Model: "{self.name}" ({self.dialect})', *table_lines(list(head), widths, "llr",
                                                                      gap), rule]
        for row in body:
            out += table_lines(list(row), widths, "llr", gap)
        out.append(rule)
        out += _labelled("Total params: ", count_text(self.total_params), width)
        out += _labelled("Trainable params: ", count_text(self.trainable_params), width)
        out += _labelled("Non-trainable params: ", count_text(self.non_trainable_params), width)
        if self.conditions:
            shown = [sstr(c) for c in self.conditions]
            one = "Valid when: " + ", ".join(shown)
            if len(one) <= width:
                out.append(one)
            else:
                out.append("Valid when:")
                for c in shown:
                    out += _labelled("  ", c, width, indent="      ")
        for note in self.notes:
            out += textwrap.wrap(f"Note: {note}", width, subsequent_indent="  ",
                                 break_long_words=False, break_on_hyphens=False)
        return "\n".join(out)


def _labelled(label: str, text: str, width: int, indent: str | None = None) -> list[str]:
    """``label`` and a formula, the formula broken onto indented lines when it is long."""
    if len(label) + len(text) <= width:
        return [label + text]
    pad = " " * len(label) if indent is None else indent
    parts = wrap_math(text, max(width - len(pad), 20))
    return [label + parts[0], *(pad + p for p in parts[1:])]
