"""Compare two variants of a network: per-row shapes, parameters and MACs, and the totals.

Variants usually come from ``net.subs(k=5)`` or an edited spec.  Rows are matched by name
(and type) in order; rows only one variant has are shown as added or removed.  Values stay
symbolic where the networks are symbolic; ``at`` evaluates both at given symbol values too.
Differences are exact (canonical forms subtracted), e.g. ``+18*c`` parameters.

>>> from convsym.examples import example
>>> a = example("seed1_symbolic")
>>> table = compare(a, a.subs(n=28))
>>> [(r.name, r.params_a, r.params_b, r.delta_params) for r in table.rows]
[('conv2d', 288*c + 32, 288*c + 32, 0), ('conv2d_1', 18496, 18496, 0)]
>>> print(table.text().splitlines()[2])  # doctest: +NORMALIZE_WHITESPACE
* conv2d (Conv2D) (n - 2, n - 2, 32) (26, 26, 32) 288*c + 32 288*c + 32 0 288*c*(n - 2)**2
  194,688*c -288*c*(n - 28)*(n + 24)
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any

import sympy

from convsym.budget import checkpoint, timed
from convsym.errors import BudgetExceeded, OutOfTime, said, shorten
from convsym.intdiv import FACTOR_ATOMS, QExpr, QPoly, add, scale, to_sympy
from convsym.network import require_network, require_sizes
from convsym.printing.display import Rich
from convsym.printing.text import shape_text
from convsym.summary import count_text, json_value

if TYPE_CHECKING:
    from convsym.network import Network, Row

Shape = tuple[sympy.Expr, ...]


_PAD_WIDTH = 200
"""Widest cell that sets its column's width in :meth:`Comparison.text`."""


@dataclass(frozen=True)
class CompareRow:
    """One matched (or unmatched) row: both variants' output shape, parameters and MACs."""

    name: str
    type_a: str | None
    type_b: str | None
    shape_a: Shape | None
    shape_b: Shape | None
    params_a: sympy.Expr | None
    params_b: sympy.Expr | None
    macs_a: sympy.Expr | None
    macs_b: sympy.Expr | None
    delta_params: sympy.Expr | None
    delta_macs: sympy.Expr | None
    status: str

    @property
    def changed(self) -> bool:
        """True unless the row is the same in both variants."""
        return self.status != "same"


@dataclass(frozen=True, repr=False)
class Comparison(Rich):
    """The table of :func:`compare`: rows, totals and the numeric evaluation (if any)."""

    _display = "comparison"

    name_a: str
    name_b: str
    rows: tuple[CompareRow, ...]
    totals: CompareRow
    at: Mapping[str, int]

    def text(self) -> str:
        """A plain-text table; changed rows are marked with ``*``."""
        header = ("Layer (type)", "Output A", "Output B", "Params A", "Params B", "Δ params",
                  "MACs A", "MACs B", "Δ MACs")
        body = []
        for i, r in enumerate(self.rows):
            checkpoint(f"the table's row {i + 1} of {len(self.rows)}")  # when a clock runs
            body.append(self.cells(r))
        total = self.cells(self.totals)
        # a cell longer than _PAD_WIDTH (a deep network's nested floors, megabytes in its
        # totals) overflows its column rather than padding every row to its width
        widths = [max(len(line[i]) if len(line[i]) <= _PAD_WIDTH else 0
                      for line in [header, *body, total])
                  for i in range(len(header))]

        def fmt(mark: str, cells: tuple[str, ...]) -> str:
            parts = [cells[0].ljust(widths[0])] + [
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells[1:], widths[1:]))]
            return (mark + " " + "  ".join(parts)).rstrip()

        lines = [f"Compare A = {self.name_a} vs B = {self.name_b}"
                 + (f" at {', '.join(f'{k}={v}' for k, v in self.at.items())}"
                    if self.at else ""),
                 fmt(" ", header)]
        lines += [fmt("*" if self.differs(r) else " ", c) for r, c in zip(self.rows, body)]
        lines.append("=" * min(max(len(line) for line in lines[1:]), sum(widths) + 20))
        lines.append(fmt("*" if self.differs(self.totals) else " ", total))
        return "\n".join(lines)

    def differs(self, r: CompareRow) -> bool:
        """Whether a row differs (numerically when ``at`` is given)."""
        if not self.at or r.status in ("added", "removed"):
            return r.changed
        pairs = [(r.params_a, r.params_b), (r.macs_a, r.macs_b)]
        pairs += list(zip(r.shape_a or (), r.shape_b or ()))
        return r.type_a != r.type_b or len(r.shape_a or ()) != len(r.shape_b or ()) or any(
            _at(x, self.at) != _at(y, self.at) for x, y in pairs
            if x is not None and y is not None)

    def cells(self, r: CompareRow) -> tuple[str, ...]:
        """A row's cells as text: label, outputs, parameters and MACs (evaluated at ``at``)."""
        types = r.type_a if r.type_a == r.type_b else \
            f"{r.type_a or '-'} -> {r.type_b or '-'}"
        label = f"{r.name} ({types})" if types else r.name
        return (label, _shape_text(r.shape_a, self.at), _shape_text(r.shape_b, self.at),
                _count_text(r.params_a, self.at), _count_text(r.params_b, self.at),
                _delta_text(r.delta_params, self.at), _count_text(r.macs_a, self.at),
                _count_text(r.macs_b, self.at), _delta_text(r.delta_macs, self.at))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every row and the totals, symbolic text and (with ``at``) numbers."""
        rows = []
        for i, r in enumerate(self.rows):
            checkpoint(f"the table's row {i + 1} of {len(self.rows)}")  # when a clock runs
            rows.append(self._row_dict(r))
        return {"a": self.name_a, "b": self.name_b, "at": dict(self.at), "rows": rows,
                "totals": self._row_dict(self.totals)}

    def _row_dict(self, r: CompareRow) -> dict[str, Any]:
        def val(x: sympy.Expr | None) -> object:
            if x is None:
                return None
            return json_value(_at(x, self.at) if self.at else x)

        def shp(s: Shape | None) -> object:
            return None if s is None else [val(x) for x in s]

        status = r.status if r.status in ("added", "removed") else \
            ("changed" if self.differs(r) else "same")
        return {"name": r.name, "type_a": r.type_a, "type_b": r.type_b, "status": status,
                "output_a": shp(r.shape_a), "output_b": shp(r.shape_b),
                "params_a": val(r.params_a), "params_b": val(r.params_b),
                "delta_params": val(r.delta_params), "macs_a": val(r.macs_a),
                "macs_b": val(r.macs_b), "delta_macs": val(r.delta_macs)}

    def __str__(self) -> str:
        return self.text()


def compare(a: Network, b: Network, *, at: Mapping[str, int] | None = None,
            labels: tuple[str, str] | None = None) -> Comparison:
    """The per-row differences between two variants of a network (see the module doc).

    ``at`` evaluates symbolic values at given symbol values; ``labels`` names A and B.
    """
    a, b = require_network(a, "compare"), require_network(b, "compare")
    at = require_sizes(at, a.all_symbols() | b.all_symbols(), said("compare: at", "--at"))
    name_a, name_b = labels or (a.name, b.name)
    with timed("compare_seconds", f"comparing {shorten(name_a)!r} with {shorten(name_b)!r}"):
        pairs = _align(a.rows, b.rows)
        rows = []
        for i, (ra, rb) in enumerate(pairs):
            checkpoint(f"row {i + 1} of {len(pairs)}")
            rows.append(_row(ra, rb))
        checkpoint("the totals")
        totals = _totals(a, b)
    return Comparison(name_a, name_b, tuple(rows), totals, dict(at or {}))


def _align(ra: list[Row], rb: list[Row]) -> list[tuple[Row | None, Row | None]]:
    keys_a = [(r.name, r.type) for r in ra]
    keys_b = [(r.name, r.type) for r in rb]
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    out: list[tuple[Row | None, Row | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += list(zip(ra[i1:i2], rb[j1:j2]))
            continue
        left, right = ra[i1:i2], rb[j1:j2]
        # pair rows of the same name (a layer whose type changed), the rest stand alone
        names_b = {r.name: r for r in right}
        used: set[str] = set()
        for r in left:
            match = names_b.get(r.name)
            if match is not None and r.name not in used:
                out.append((r, match))
                used.add(r.name)
            else:
                out.append((r, None))
        out += [(None, r) for r in right if r.name not in used]
    return out


def _params(r: Row) -> QExpr:
    return r.inference.trainable + r.inference.non_trainable


def _diff(x: QExpr | None, y: QExpr | None) -> sympy.Expr | None:
    if x is None or y is None:
        return None
    if x == y:
        return sympy.Integer(0)
    try:
        if isinstance(x, QPoly):
            return to_sympy(add(y, -x))
        if isinstance(y, QPoly):
            return to_sympy(add(scale(x, QPoly.const(-1)), y))
    except OutOfTime:
        raise
    except BudgetExceeded:  # products too long to expand and cancel: shown as B - A
        pass
    return sympy.Add(to_sympy(y), -to_sympy(x))


def _row(ra: Row | None, rb: Row | None) -> CompareRow:
    pa = _params(ra) if ra else None
    pb = _params(rb) if rb else None
    ma = ra.inference.macs if ra else None
    mb = rb.inference.macs if rb else None
    if ra is None:
        status = "added"
    elif rb is None:
        status = "removed"
    elif (ra.type, tuple(ra.shape), pa, ma) == (rb.type, tuple(rb.shape), pb, mb):
        status = "same"
    else:
        status = "changed"
    return CompareRow(
        (ra or rb).name,  # type: ignore[union-attr]
        ra.type if ra else None, rb.type if rb else None,
        ra.output_shape if ra else None, rb.output_shape if rb else None,
        to_sympy(pa) if pa is not None else None, to_sympy(pb) if pb is not None else None,
        to_sympy(ma) if ma is not None else None, to_sympy(mb) if mb is not None else None,
        _diff(pa, pb), _diff(ma, mb), status)


def _totals(a: Network, b: Network) -> CompareRow:
    pa, pb = a.total_params, b.total_params
    ma, mb = a.total_macs, b.total_macs
    oa, ob = a.output_shape, b.output_shape
    # the differences in convsym's algebra: factored products of long sums (one symbolic
    # kernel per layer) stay factored and cancel, where SymPy's expand multiplied them out
    dp = _total_diff(_params, a, b, pa, pb)
    dm = _total_diff(_macs, a, b, ma, mb)
    same = (oa, pa, ma) == (ob, pb, mb)
    return CompareRow("Total", "", "", oa, ob, pa, pb, ma, mb, dp, dm,
                      "same" if same else "changed")


def _macs(r: Row) -> QExpr:
    return r.inference.macs


def _total_diff(part: Any, a: Network, b: Network, ta: sympy.Expr,
                tb: sympy.Expr) -> sympy.Expr | None:
    """B's total minus A's, cancelled in convsym's algebra; when the rows' products are too
    long to expand, SymPy's sum (which cancels equal terms without expanding)."""
    parts_a, parts_b = [part(r) for r in a.rows], [part(r) for r in b.rows]
    if all(isinstance(p, QPoly) for p in parts_a + parts_b):  # (a Min or Max: SymPy's sum)
        try:
            x = reduce(operator.add, parts_a, QPoly.const(0))
            y = reduce(operator.add, parts_b, QPoly.const(0))
            # a deep network's difference (one floor per layer) is shown as SymPy's sum of
            # the rows' own terms: equal rows cancel there too, and its terms are the ones
            # already shown (a fresh expansion of 150 nested floors took 95 s to print)
            if x == y or len((y - x).atoms()) <= FACTOR_ATOMS:
                return _diff(x, y)
        except OutOfTime:
            raise
        except BudgetExceeded:
            pass
    return sympy.Add(tb, -ta)


def _at(value: sympy.Expr, at: Mapping[str, int]) -> sympy.Expr:
    if not at:  # free_symbols walks the whole tree: a deep network's nested floors
        return value
    env = {s: at[s.name] for s in value.free_symbols if s.name in at}
    return value.xreplace(env) if env else value


def _shape_text(shape: Shape | None, at: Mapping[str, int]) -> str:
    if shape is None:
        return "-"
    return shape_text(tuple(_at(s, at) for s in shape), batch=False)


def _count_text(value: sympy.Expr | None, at: Mapping[str, int]) -> str:
    if value is None:
        return "-"
    return count_text(_compact(_at(value, at)))


_FACTOR_SYMBOLS = 4
_FACTOR_TERMS = 64
"""Largest counts :func:`_compact` tries to factor (symbols, terms): a display nicety only."""


def _compact(value: sympy.Expr) -> sympy.Expr:
    """A polynomial count shown factored (``288*c*(n - 2)**2``), for display only."""
    # cheapest test first: the tree walks cost a deep network's nested floors each time
    if len(sympy.Add.make_args(value)) > _FACTOR_TERMS or \
            value.has(sympy.floor, sympy.ceiling, sympy.Min, sympy.Max):
        return value
    symbols = value.free_symbols
    if not symbols or len(symbols) > _FACTOR_SYMBOLS:
        return value  # multivariate factoring is exponential: 12 kernels took minutes
    factored = sympy.factor(value)
    return factored if len(str(factored)) < len(str(value)) else value


def _delta_text(value: sympy.Expr | None, at: Mapping[str, int]) -> str:
    if value is None:
        return "-"
    shown = _at(value, at)
    if isinstance(shown, sympy.Integer):
        v = int(shown)
        return "0" if v == 0 else f"{v:+,}"
    return _count_text(shown, {})
