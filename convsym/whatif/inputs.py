"""Admissible input sizes: the exact set a network accepts, per symbol and jointly.

A network accepts an input when every layer is valid (windows fit), merge shapes agree and a
Flatten -> Dense match holds.  :func:`admissible_inputs` solves the network's side conditions
for its input symbols (:func:`~convsym.whatif.solve`): per symbol (the values it takes in
some accepted input) and jointly (a union of products).  :func:`accepts` decides concrete
sizes with the same conditions (:func:`admits`), so the two agree by construction.

>>> from convsym import Sequential
>>> from convsym.layers.torch import Conv2d, Flatten, Linear
>>> net = Sequential([Conv2d(3, 4, 3, stride=2), Flatten(), Linear(3844, 10)],
...                  input_shape=(3, "H", "W"))
>>> a = admissible_inputs(net)
>>> a.values("H").describe("H")
'H in {3, 4, 63, 64, 1923, 1924}'
>>> accepts(net, H=63, W=64), accepts(net, H=63, W=1923), {"H": 64, "W": 64} in a
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sympy

from convsym.budget import Deadline
from convsym.errors import ConvsymTypeError, LayerError, UsageError, did_you_mean, said
from convsym.intdiv import free_symbols, to_sympy
from convsym.network import require_mapping, require_network
from convsym.printing.display import Rich
from convsym.printing.text import shape_text, sstr
from convsym.whatif.intset import IntSet
from convsym.whatif.solution import Solution
from convsym.whatif.solve import DEFAULT_TIMEOUT, domain_lo, network_constraints, solve
from convsym.whatif.univariate import Limits

if TYPE_CHECKING:
    from convsym.network import Network


@dataclass(frozen=True, repr=False)
class Admissible(Rich):
    """The input sizes a network accepts: per symbol, jointly, with the smallest ones."""

    _display = "admissible"

    network: str
    symbols: tuple[str, ...]
    solution: Solution
    input_shapes: tuple[tuple[str, tuple[sympy.Expr, ...]], ...]
    output_shape: tuple[sympy.Expr, ...]

    @property
    def exact(self) -> bool:
        """True when the set is proved exact (else see ``reason``)."""
        return self.solution.exact

    @property
    def reason(self) -> str:
        """Why the answer is unknown (empty when exact)."""
        return self.solution.reason

    def values(self, name: str) -> IntSet:
        """The sizes symbol ``name`` takes in some accepted input."""
        return self.solution.values_of(name)

    @property
    def per_symbol(self) -> dict[str, IntSet]:
        """Every input symbol's admissible values."""
        return {n: self.values(n) for n in self.symbols}

    @property
    def independent(self) -> bool:
        """True when any combination of admissible per-symbol values is accepted."""
        return len(self.solution.cells) <= 1

    def __contains__(self, sizes: object) -> bool:
        return sizes in self.solution

    def smallest(self, name: str, count: int = 5) -> list[int]:
        """The ``count`` smallest admissible values of ``name``."""
        return self.values(name).smallest(count)

    def example(self) -> dict[str, int] | None:
        """The smallest accepted input of the first joint part, or None when none is."""
        if not self.solution.exact or not self.solution.cells:
            return None
        best = min(self.solution.cells, key=lambda c: tuple(c[n].min() or 0
                                                            for n in self.symbols))
        return {n: best[n].min() or 0 for n in self.symbols}

    def describe(self) -> str:
        """Per symbol, then jointly, then the smallest example and its output shape."""
        if not self.exact:
            return f"unknown: {self.reason}"
        if not self.symbols:
            return "the input shape is concrete; the network is valid"
        if not self.solution.cells:
            return "no input size is accepted"
        lines = [f"{n}: {self.values(n).describe(n)}" for n in self.symbols]
        if len(self.symbols) > 1:
            if self.independent:
                lines.append("jointly: every combination of the above")
            else:
                lines.append("jointly: only these combinations:")
                lines.extend("  " + line for line in self.solution.describe().splitlines())
        smallest = self.smallest_example()
        if smallest is not None:
            pairs = ", ".join(f"{k}={v}" for k, v in smallest[0].items())
            lines.append(f"smallest: {pairs} -> output {shape_text(smallest[1], batch=False)}")
        return "\n".join(lines)

    def smallest_example(self) -> tuple[dict[str, int], tuple[int | sympy.Expr, ...]] | None:
        """:meth:`example` with the output shape it gives, or None when none is accepted.

        A size that also depends on a symbol of the layers (``Dense(units="U")``), not of the
        input, stays an expression in it."""
        example = self.example()
        return None if example is None else (example, self._output_at(example))

    def _output_at(self, values: Mapping[str, int]) -> tuple[int | sympy.Expr, ...]:
        out: list[int | sympy.Expr] = []
        for size in self.output_shape:  # (a concrete size may be a plain int)
            value = size.xreplace({s: values[s.name] for s in size.free_symbols
                                   if s.name in values}) if isinstance(size, sympy.Basic) \
                else size
            out.append(int(value) if isinstance(value, (int, sympy.Integer)) else value)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data: dict[str, Any] = {
            "network": self.network,
            "status": self.solution.status,
            "symbols": list(self.symbols),
            "inputs": {name: [sstr(s) for s in shape] for name, shape in self.input_shapes},
            "output": [sstr(s) for s in self.output_shape],
        }
        if not self.exact:
            data["reason"] = self.reason
        else:
            data["per_symbol"] = {n: {"description": self.values(n).describe(n),
                                      **self.values(n).to_dict()} for n in self.symbols}
            data["independent"] = self.independent
            data["joint"] = self.solution.to_dict()["cells"]
            example = self.example()
            if example is not None:
                data["smallest"] = {"input": example, "output": [
                    x if isinstance(x, int) else sstr(x) for x in self._output_at(example)]}
        data["derivation"] = [s.to_dict() for s in self.solution.steps]
        return data

    def __str__(self) -> str:
        head = f"Admissible inputs of {self.network!r} ({self.solution.status}):"
        body = "\n".join("  " + line for line in self.describe().splitlines())
        tail = "Derivation:\n" + self.solution.derivation("text") if self.solution.steps else ""
        return "\n".join(x for x in (head, body, tail) if x)


def input_symbols(net: Network) -> list[sympy.Symbol]:
    """The symbols of the input shapes, in order of appearance."""
    out: list[sympy.Symbol] = []
    for _, shape in sorted(net.input_shapes.items()):
        for size in shape:
            for s in sorted(free_symbols(size), key=lambda s: s.name):
                if s not in out:
                    out.append(s)
    return out


def admissible_inputs(net: Network, *, timeout: float | None = DEFAULT_TIMEOUT,
                      deadline: Deadline | None = None, limits: Limits | None = None
                      ) -> Admissible:
    """The exact set of input sizes ``net`` accepts (or "unknown" with the reason)."""
    syms = input_symbols(require_network(net, "admissible_inputs"))
    inputs = tuple((net.nodes[i].name, tuple(_show(s) for s in shape))
                   for i, shape in sorted(net.input_shapes.items()))
    others = sorted({s for c in network_constraints(net) for s in c.symbols} - set(syms),
                    key=lambda s: s.name)
    if others:
        names = ", ".join(s.name for s in others)
        first = others[0].name
        advice = said(f"give them values first (net.subs({first}=...)) or use "
                      f"net.solve([{first!r}, ...], where=...) with them as unknowns",
                      f"give them values first (--set {first}=...) or use "
                      f"convsym solve SOURCE --for {first} --where ...")
        raise UsageError(f"{said('admissible_inputs', 'inputs')}: {net.name!r} has symbols "
                         f"{names} that are not input sizes; {advice}",
                         code="symbolic_hyperparameters")
    if not syms:
        solution = Solution((), "exact", ({},))
    else:
        solution = solve(net, [s.name for s in syms], timeout=timeout, deadline=deadline,
                         limits=limits)
    return Admissible(net.name, tuple(s.name for s in syms), solution, inputs,
                      tuple(net.output_shape))


def _show(size: object) -> sympy.Expr:
    return to_sympy(size)  # type: ignore[arg-type]


def accepts(net: Network, values: Mapping[str, int] | None = None, **sizes: int) -> bool:
    """Whether ``net`` accepts concrete values for its symbols (keyed by name).

    Every symbol of the network needs a value.  The network is rebuilt with them; any
    layer that rejects its input makes the answer False.
    """
    given = dict(require_mapping(values, "accepts"), **sizes)
    symbols = require_network(net, "accepts").all_symbols()
    known = {s.name for s in symbols}
    for name, value in given.items():
        if name not in known:
            raise UsageError(f"accepts: {name!r} is not a symbol of {net.name!r}"
                             f"{did_you_mean(name, known)}; its symbols are "
                             f"{', '.join(sorted(known)) or 'none'}", code="unknown_symbol")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConvsymTypeError(f"accepts: {name} = {value!r}: sizes must be integers")
    missing = sorted(known - set(given))
    if missing:
        raise UsageError(f"accepts: give a value for every symbol; missing "
                         f"{', '.join(missing)}", code="missing_value")
    # a value below its symbol's domain (sizes >= 1, nonnegative symbols >= 0) is rejected
    # here as subs() rejects it: the fast path below propagates sizes without the layers' checks
    if any(given[s.name] < (1 if s.is_positive else 0) for s in symbols):
        return False
    return _by_rebuild(net, given)


def admits(net: Network, values: Mapping[sympy.Symbol, int]) -> bool:
    """The one decision behind :func:`accepts` and :func:`admissible_inputs`.

    Every symbol within its domain (sizes >= 1, non-negative symbols >= 0) and every side
    condition of ``net`` true at ``values`` (which give every symbol of the conditions a
    value).  :func:`admissible_inputs` solves exactly this system (the same constraints,
    :func:`~convsym.whatif.solve.network_constraints`, over the same domains), so a size is
    accepted exactly when it is in the admissible set.
    """
    if any(v < domain_lo(s) for s, v in values.items()):
        return False
    return all(c.holds(values) for c in network_constraints(net))


def _by_rebuild(net: Network, given: Mapping[str, int]) -> bool:
    """:func:`admits` at ``given``; symbols that are not input sizes are substituted first.

    A hyperparameter symbol (``Conv2D(8, 3, strides="s")``) changes what a layer's
    configuration allows (Keras forbids strides > 1 with dilation > 1), which the layer
    checks only once the value is known: the network is rebuilt with such values.
    """
    symbols = {s.name: s for s in net.all_symbols()}
    if any(given[name] < domain_lo(sym) for name, sym in symbols.items()):
        return False
    inputs = {s.name for s in input_symbols(net)}
    if set(symbols) <= inputs:
        return admits(net, {symbols[name]: given[name] for name in symbols})
    try:
        fixed = net.subs(dict(given))
    except LayerError:
        return False
    return admits(fixed, {})

