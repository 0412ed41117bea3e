"""Fuzz: small inputs whose honest cost is huge end within their budget (issue 14).

Each generated input runs in a worker (:func:`fuzzkit.measured`) capped in memory and time,
with its time and peak memory recorded: it must end with an answer or a convsym error (for
these classes, mostly ``budget_exceeded``), never run out of memory, hang, or raise anything
else.  The classes: sizes whose expansion explodes (products and powers of sums, in input
shapes, hyperparameters and substitutions), Keras documents nesting a model called many
times many levels deep, documents sharing sub-lists (exponentially many paths), many layers
with one name, and the bounded API calls (``prove``, ``solve``) with small timeouts.
"""

from __future__ import annotations

import json
from typing import Any

from fuzzkit import NAMES, batch, fuzz, measured
from hypothesis import given
from hypothesis import strategies as st

import convsym
from convsym.errors import BudgetExceeded

SYMBOLS = [n for n in NAMES[:12] if n.isidentifier()]


@st.composite
def exploding_sizes(draw: st.DrawFn) -> str:
    """A product of powers of sums: small text, possibly billions of terms expanded."""
    factors = []
    for _ in range(draw(st.integers(1, 4))):
        terms = draw(st.lists(st.sampled_from(SYMBOLS + ["1", "2"]), min_size=1, max_size=8))
        power = draw(st.integers(1, 64))
        factors.append(f"({'+'.join(terms)})**{power}")
    return "*".join(factors)


def _build_input(sizes: list[str]) -> Any:
    return convsym.load({"input": [*sizes, 1], "layers": ["Flatten", {"Dense": {"units": 3}}]})


def _build_hyper(size: str) -> Any:
    return convsym.load({"input": [8, 8, 1], "layers": [{"Dense": {"units": size}}]}).total_params


def _substitute(size: str) -> Any:
    return convsym.example("seed1_symbolic").subs(n=size).output_shape


def _floor_of(size: str) -> Any:
    return convsym.load({"input": [f"floor(({size})/2)", 4, 1], "layers": ["Flatten"]})


@fuzz(8)
@given(batch(st.tuples(st.lists(exploding_sizes(), min_size=1, max_size=3),
                       st.sampled_from([_build_hyper, _substitute, _floor_of])), 4))
def test_exploding_sizes_end_within_budget(cases: list[tuple[list[str], Any]]) -> None:
    for sizes, other in cases:
        for outcome in (measured(_build_input, sizes), measured(other, sizes[0])):
            if isinstance(outcome, BudgetExceeded):
                assert outcome.code == "budget_exceeded" and len(str(outcome)) < 800
                assert "raise it with" in str(outcome)


def _tensor(history: list[Any]) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, 4], "dtype": "float32", "keras_history": history}}


def nested_keras(depth: int, calls: int) -> dict[str, Any]:
    """A Keras 3 functional document: a Dense model called ``calls`` times, ``depth`` deep."""
    inner: dict[str, Any] = {"class_name": "Functional", "name": "m0", "config": {
        "name": "m0", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in0"},
             "name": "in0", "inbound_nodes": []},
            {"class_name": "Dense", "config": {"name": "d", "units": 4}, "name": "d",
             "inbound_nodes": [{"args": [_tensor(["in0", 0, 0])], "kwargs": {}}]}],
        "input_layers": ["in0", 0, 0], "output_layers": ["d", 0, 0]}}
    for level in range(1, depth + 1):
        below = f"m{level - 1}"
        nodes = [{"args": [_tensor([f"in{level}", 0, 0])], "kwargs": {}}]
        nodes += [{"args": [_tensor([below, i, 0])], "kwargs": {}} for i in range(calls - 1)]
        inner = {"class_name": "Functional", "name": f"m{level}", "config": {
            "name": f"m{level}", "layers": [
                {"class_name": "InputLayer",
                 "config": {"batch_shape": [None, 4], "name": f"in{level}"},
                 "name": f"in{level}", "inbound_nodes": []},
                dict(inner, inbound_nodes=nodes)],
            "input_layers": [f"in{level}", 0, 0], "output_layers": [below, calls, 0]}}
    return inner


def _import(text: str) -> Any:
    return len(convsym.from_keras(text).rows)


@fuzz(5)
@given(batch(st.tuples(st.integers(1, 8), st.integers(1, 12)), 4))
def test_nested_keras_models_end_within_budget(shapes: list[tuple[int, int]]) -> None:
    for depth, calls in shapes:
        outcome = measured(_import, json.dumps(nested_keras(depth, calls)))
        if isinstance(outcome, str):  # else a refusal: over max_layers, or nested too deep
            assert int(outcome) >= calls ** depth, outcome  # every call inlined


def _shared(depth: int, leaf: Any) -> Any:
    value = [leaf]
    for _ in range(depth):
        value = [value, value]
    return convsym.load({"input": [8, 8, 1], "layers": value})


@fuzz(4)
@given(batch(st.tuples(st.integers(10, 40), st.sampled_from(["Flatten", {"ReLU": {}}, 3])),
             3))
def test_shared_sub_lists_end_within_budget(cases: list[tuple[int, Any]]) -> None:
    for depth, leaf in cases:
        measured(_shared, depth, leaf)


def _same_names(count: int) -> Any:
    doc = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "in"}},
        *[{"class_name": "ReLU", "config": {"name": "x"}}] * count]}}
    net = convsym.from_keras(doc)
    return len({row.name for row in net.rows}) == len(net.rows)


def test_many_layers_with_one_name_get_unique_names_within_budget() -> None:
    assert measured(_same_names, 6000) == "True"


def _prove(statement: str) -> Any:
    return convsym.prove(statement, timeout=0.5).status


def _solve(condition: str) -> Any:
    return convsym.solve([condition], ["n"], bounds=["-4611686018427387904 <= n"],
                         timeout=0.5).status


@fuzz(3)
@given(batch(exploding_sizes(), 2))
def test_bounded_api_calls_end_within_budget(sizes: list[str]) -> None:
    for size in sizes:
        measured(_prove, f"{size} >= 1")
        measured(_solve, f"{size} <= 4611686018427387904")
