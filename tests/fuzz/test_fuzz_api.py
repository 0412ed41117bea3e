"""Fuzz: the public functions of ``convsym`` called with junk of every type.

Each public function and class in ``convsym.__all__`` is called with the right number of
arguments, each argument either a valid value or junk (``None``, numbers, floats, bools,
hostile text, lists, dicts, SymPy objects, a network where none belongs, ``object()``).
Bad input must raise a convsym error (a ``ValueError`` or ``TypeError``), never anything
else, within budget.  ``verify`` and the timed functions get small budgets so that a valid
draw stays cheap.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import sympy
from fuzzkit import batch, call, expression_text, fuzz, relation_text
from hypothesis import given
from hypothesis import strategies as st

import convsym
from convsym.expr import symbol


def _net() -> Any:
    return convsym.example("seed1_symbolic")


NET = _net()
CONCRETE = convsym.example("seed1")
JUNK = st.one_of(
    st.sampled_from([None, 0, -1, 1, 3, 2**70, 1.5, float("nan"), True, "", "n", "abc",
                     "example:seed1", "n >= 1", "__import__('os')", [], [1, 2], ["n"], {},
                     {"n": 5}, {"n": "x"}, {1: 2}, (3, "H", "W"), object(), b"x",
                     sympy.Integer(3), symbol("n"), sympy.oo, sympy.Float(2.5), sympy.true,
                     sympy.Eq(symbol("n"), 3), NET, CONCRETE, convsym.keras.Conv2D(2, 3),
                     convsym.torch.ReLU()]),
    expression_text(), relation_text(), st.integers(), st.text(max_size=8))


def _maybe(valid: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(valid), JUNK)


CALLS: dict[str, Callable[[st.DrawFn], tuple[Callable[..., Any], tuple[Any, ...],
                                                dict[str, Any]]]] = {
    "accepts": lambda d: (convsym.accepts, (d(_maybe(NET)), d(_maybe({"n": 9, "c": 1}))), {}),
    "admissible_inputs": lambda d: (convsym.admissible_inputs, (d(_maybe(NET)),),
                                    {"timeout": d(st.sampled_from([0.5, 1, -1, "1", None]))}),
    "compare": lambda d: (convsym.compare, (d(_maybe(NET)), d(_maybe(CONCRETE))),
                          {"at": d(_maybe({"n": 28}))}),
    "costs": lambda d: (convsym.costs, (d(_maybe(NET)),),
                        {"bias": d(_maybe(True)), "include": d(_maybe("conv"))}),
    "depthwise_whatif": lambda d: (convsym.depthwise_whatif, (d(_maybe(NET)), d(_maybe(1))),
                                   {}),
    "derive": lambda d: (convsym.derive, (d(_maybe(NET)),), {"explain": d(_maybe("first"))}),
    "draw": lambda d: (convsym.draw, (d(_maybe(CONCRETE)),),
                       {"layer": d(_maybe("conv2d")), "kind": d(st.sampled_from(
                           ["arithmetic", "architecture", "size-plot", "nope", None, 3])),
                        "values": d(_maybe(None)), "input_size": d(_maybe((5, 5))),
                        "xs": d(_maybe([8, 9, 10]))}),
    "example": lambda d: (convsym.example, (d(_maybe("seed1")),), {}),
    "from_keras": lambda d: (convsym.from_keras, (d(JUNK),), {}),
    "from_torch": lambda d: (convsym.from_torch, (d(JUNK), d(_maybe((3, 8, 8)))), {}),
    "from_onnx": lambda d: (convsym.from_onnx, (d(st.one_of(JUNK, st.binary(max_size=300))),),
                            {"input_shape": d(_maybe(None))}),
    "load": lambda d: (convsym.load, (d(_maybe({"input": [8], "layers": ["Flatten"]})),),
                       {"name": d(_maybe("x"))}),
    "parse_expr": lambda d: (convsym.parse_expr, (d(JUNK),), {"field": d(_maybe("f"))}),
    "parse_relation": lambda d: (convsym.parse_relation, (d(JUNK),), {}),
    "prove": lambda d: (convsym.prove, (d(_maybe("n >= 1")), d(_maybe(["n >= 2"]))),
                        {"timeout": d(st.sampled_from([1, 0.5, -1, 0, float("nan"), "1",
                                                       True]))}),
    "receptive_field": lambda d: (convsym.receptive_field, (d(_maybe(NET)),), {}),
    "solve": lambda d: (convsym.solve, (d(_maybe(NET)), d(_maybe("n")), d(_maybe(
        ["n >= 5"])), d(_maybe(None))), {"timeout": d(st.sampled_from([1, -1, "1", None]))}),
    "symbol": lambda d: (convsym.symbol, (d(JUNK),), {"nonnegative": d(_maybe(False))}),
    "symbols": lambda d: (convsym.symbols, (d(JUNK),), {}),
    "verify": lambda d: (convsym.verify, (d(_maybe(CONCRETE)),),
                         {"samples": d(st.sampled_from([1, 2, 0, -1, 1.5, "2", True])),
                          "max_size": d(st.sampled_from([8, 0, -3, "8", None])),
                          "backends": d(st.sampled_from([["reference"], ["nope"], "reference",
                                                         [], None, [3]]))}),
    "Sequential": lambda d: (convsym.Sequential, (d(_maybe([convsym.keras.Conv2D(2, 3)])),),
                             {"input_shape": d(_maybe((8, 8, 1)))}),
    "Graph": lambda d: (convsym.Graph, (d(_maybe((3, 8, 8))),), {"name": d(_maybe("g"))}),
    "Model": lambda d: (convsym.Model, (d(JUNK), d(JUNK)), {}),
    "keras.Input": lambda d: (convsym.keras.Input, (d(JUNK),), {}),
}


@st.composite
def api_calls(draw: st.DrawFn) -> tuple[str, Callable[..., Any], tuple[Any, ...],
                                        dict[str, Any]]:
    name = draw(st.sampled_from(sorted(CALLS)))
    fn, args, kwargs = CALLS[name](draw)
    return name, fn, args, kwargs


def _verify_is_light(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """verify runs real computations: keep valid draws to the NumPy reference."""
    if name != "verify":
        return True
    backends = kwargs.get("backends")
    return backends is not None and backends != [] and "torch" not in backends


@fuzz(200)
@given(batch(api_calls(), 8))
def test_public_functions_with_junk(cases: list[tuple[str, Callable[..., Any],
                                                      tuple[Any, ...], dict[str, Any]]]
                                    ) -> None:
    for name, fn, args, kwargs in cases:
        if _verify_is_light(name, args, kwargs):
            call(fn, *args, **kwargs)


def test_every_public_function_is_fuzzed() -> None:
    """A function added to the public API must get a row in CALLS."""
    skip = {"ConvsymError", "Network", "Tensor", "Proof", "Solution", "IntSet",
            "Comparison", "Admissible", "Derivation", "__version__", "keras", "torch"}
    missing = [n for n in convsym.__all__ if n not in CALLS and n not in skip]
    assert not missing, missing


def test_public_functions_are_not_shadowed_by_their_modules() -> None:
    # issue 8: the modules were once named like the functions they define, so importing
    # them replaced convsym.verify / convsym.costs by the modules
    code = ("import convsym, convsym.verification, convsym.costing, convsym.commands.verify; "
            "assert callable(convsym.verify), convsym.verify; "
            "assert callable(convsym.costs), convsym.costs")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-500:]
