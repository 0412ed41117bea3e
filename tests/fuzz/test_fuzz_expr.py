"""Fuzz: hostile and broken expression text through every text entry point.

Entry points: ``parse_expr``, ``parse_relation``, ``as_expr``, ``as_relation``, ``symbol``
and ``symbols``; every hyperparameter of every layer in both dialects (then the layer inside a
network); ``Network.subs``; spec ``input`` sizes; ``prove`` statements and assumptions;
``solve`` conditions and bounds.  (``--set``, ``--where`` and the other options of the
command line are fuzzed in ``test_fuzz_cli.py``.)  Each input must give a result or a convsym
error, within budget, and must never run code: a canary file in the working directory is
never written.  The session summary prints the number of inputs each test ran.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import pytest
import sympy
from fuzzkit import (
    TOKENS,
    batch,
    call,
    expression_text,
    fuzz,
    relation_text,
    scratch_dir,
)
from hypothesis import given
from hypothesis import strategies as st

from convsym.errors import ConvsymError
from convsym.expr import MAX_INT, as_expr, as_relation, parse_expr, parse_relation, symbol, symbols
from convsym.layers import keras, torch
from convsym.spec import load


@pytest.fixture(autouse=True)
def _no_canary() -> Iterator[None]:
    """Run in a scratch directory and check that no payload wrote a file there."""
    with scratch_dir() as path:
        yield
        assert os.listdir(path) == [], "a payload wrote a file"


def _small_numbers(expr: sympy.Basic) -> None:
    """Every number in a parsed expression is within the integer budget; no floats."""
    for atom in expr.atoms(sympy.Rational):
        assert abs(int(atom.p)) <= MAX_INT and abs(int(atom.q)) <= MAX_INT, atom
    assert not expr.atoms(sympy.Float), expr


@fuzz(900)
@given(batch(expression_text(), 16))
def test_parse_expr(texts: list[str]) -> None:
    for text in texts:
        result = call(parse_expr, text, field="fuzz")
        if not isinstance(result, ConvsymError):
            assert isinstance(result, sympy.Expr)
            assert all(s.is_integer for s in result.free_symbols)
            _small_numbers(result)


@fuzz(600)
@given(batch(relation_text(), 16))
def test_parse_relation(texts: list[str]) -> None:
    for text in texts:
        result = call(parse_relation, text)
        if not isinstance(result, ConvsymError):
            assert isinstance(result, sympy.core.relational.Relational)
            _small_numbers(result)


JUNK = st.one_of(st.integers(-2**70, 2**70), st.sampled_from([10**12, 2**62, 2**61 - 1]),
                 st.floats(allow_nan=True), st.booleans(),
                 st.none(), st.binary(max_size=8), st.lists(st.integers(-3, 3), max_size=3),
                 st.sampled_from([object(), sympy.Float(2.0), sympy.oo, sympy.I, sympy.nan,
                                  sympy.zoo, sympy.Symbol("x"), sympy.Symbol("r", real=True) / 2,
                                  sympy.Eq(symbol("n"), 3), sympy.true, sympy.Integer(2)**100,
                                  {"n": 1}, (1, 2), 3 + 4j]))
VALUES = st.one_of(expression_text(), JUNK)


@fuzz(250)
@given(batch(st.tuples(VALUES, st.booleans()), 16))
def test_as_expr_and_as_relation(cases: list[tuple[object, bool]]) -> None:
    for value, relation in cases:
        call(as_relation if relation else as_expr, value)


NAME_TEXT = st.one_of(st.sampled_from(TOKENS), st.text(max_size=20), st.integers(), st.none())


@fuzz(200)
@given(batch(st.tuples(NAME_TEXT, st.booleans()), 16))
def test_symbol_names(cases: list[tuple[Any, bool]]) -> None:
    for name, several in cases:
        call(symbols if several else symbol, name)


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init]


LAYER_CLASSES = sorted(
    [("keras", name, cls) for name, cls in keras.LAYERS.items()] +
    [("torch", name, cls) for name, cls in torch.LAYERS.items()])
KERAS_INPUTS = {1: (16, 4), 2: (12, 12, 4), 3: (6, 6, 6, 4)}
TORCH_INPUTS = {1: (4, 16), 2: (4, 12, 12), 3: (4, 6, 6, 6)}
PLAUSIBLE = {"filters": 4, "out_channels": 4, "in_channels": 4, "kernel_size": 3, "units": 4,
             "in_features": 4, "out_features": 4, "num_features": 4, "pool_size": 2,
             "output_size": 2, "size": 2, "shape": (4,), "target_shape": (4,), "dims": (1,),
             "normalized_shape": 4, "num_groups": 2, "groups": 1, "num_channels": 4,
             "depth_multiplier": 1, "padding": 1, "cropping": 1, "scale_factor": 2,
             "dim": 1, "unflattened_size": (2, 2), "axis": -1}


@st.composite
def layer_calls(draw: st.DrawFn) -> tuple[str, type, dict[str, Any]]:
    """A layer class, one argument given hostile text or junk, the rest plausible."""
    dialect, _, cls = draw(st.sampled_from(LAYER_CLASSES))
    fields = _fields(cls)
    kwargs: dict[str, Any] = {f: PLAUSIBLE[f] for f in fields if f in PLAUSIBLE}
    for f in list(kwargs):
        if draw(st.integers(0, 3)) == 0:
            del kwargs[f]
    if fields:
        target = draw(st.sampled_from(fields))
        kwargs[target] = draw(st.one_of(expression_text(), JUNK,
                                        st.tuples(expression_text(), expression_text())))
    return dialect, cls, kwargs


def _build_and_apply(dialect: str, cls: type, kwargs: dict[str, Any]) -> None:
    from convsym.network import Sequential

    layer = cls(**kwargs)
    rank = getattr(layer, "rank", 2) or 2
    if dialect == "keras":
        if cls in (keras.LAYERS.get("Input"), keras.LAYERS.get("InputLayer")):
            net = Sequential([layer, keras.Flatten()])
        else:
            net = Sequential([layer], input_shape=KERAS_INPUTS.get(rank, (12, 12, 4)))
    else:
        net = Sequential([layer], input_shape=TORCH_INPUTS.get(rank, (4, 12, 12)))
    net.summary().to_dict()


@fuzz(300)
@given(batch(layer_calls(), 8))
def test_layer_arguments(cases: list[tuple[str, type, dict[str, Any]]]) -> None:
    for dialect, cls, kwargs in cases:
        call(_build_and_apply, dialect, cls, kwargs)


_NETS: dict[str, Any] = {}


def _example(name: str) -> Any:
    if name not in _NETS:
        from convsym.examples import example

        _NETS[name] = example(name)
    return _NETS[name]


def _subs(net: Any, name: str, value: object) -> None:
    net.subs({name: value}).summary().to_dict()


def _load_summary(doc: dict[str, Any]) -> None:
    load(doc).summary().to_dict()


@fuzz(100)
@given(batch(st.tuples(st.sampled_from(["seed1_symbolic", "seed3_symbolic"]),
                       st.sampled_from(["n", "c", "zz", "N", "__class__"]), VALUES), 8))
def test_subs(cases: list[tuple[str, str, object]]) -> None:
    for name, symbol_name, value in cases:
        call(_subs, _example(name), symbol_name, value)


@fuzz(100)
@given(batch(st.tuples(st.lists(st.one_of(expression_text(), st.integers(-5, 40)),
                                min_size=1, max_size=4), st.booleans()), 8))
def test_spec_input_sizes(cases: list[tuple[list[Any], bool]]) -> None:
    for sizes, keras_dialect in cases:
        layers = [{"Conv2D": {"filters": 2, "kernel_size": 3}}] if keras_dialect else \
            [{"Conv2d": {"in_channels": "c", "out_channels": 2, "kernel_size": 3}}]
        doc = {"dialect": "keras" if keras_dialect else "torch", "input": sizes,
               "layers": layers}
        call(_load_summary, doc)


@fuzz(60)
@given(batch(st.tuples(relation_text(), st.lists(relation_text(), max_size=2)), 8))
def test_prove(cases: list[tuple[str, list[str]]]) -> None:
    from convsym.proof import prove

    for statement, assume in cases:
        result = call(prove, statement, assume, timeout=2)
        if not isinstance(result, ConvsymError):
            assert result.status in ("proved", "refuted", "unknown")


@fuzz(40)
@given(batch(st.tuples(st.lists(relation_text(), min_size=1, max_size=2),
                       st.one_of(st.none(), relation_text()),
                       st.sampled_from(["n", "c", "k", "__import__", "n, c"])), 8))
def test_solve(cases: list[tuple[list[str], str | None, str]]) -> None:
    from convsym.whatif import solve

    net = _example("seed1_symbolic")
    for where, bounds, unknowns in cases:
        call(solve, net, [u.strip() for u in unknowns.split(",")], where, bounds, timeout=2)
