"""Every named lemma is proved by the engine and holds numerically over a grid."""

from __future__ import annotations

import itertools

import pytest
from corpus import Case, lower_bounds, ranges, violates

from convsym import intdiv
from convsym.proof import LEMMAS, Lemma, lemma, prove
from convsym.proof import lemmas as rules
from convsym.proof.rewrite import SENTENCES


@pytest.mark.parametrize("item", LEMMAS, ids=lambda x: x.name)
def test_the_engine_proves_the_lemma(item: Lemma) -> None:
    proof = prove(item.statement, item.assumptions, timeout=30.0)
    assert proof.status == "proved", proof
    assert proof.method in ("rewriting", "period", "z3")


@pytest.mark.parametrize("item", LEMMAS, ids=lambda x: x.name)
def test_the_lemma_holds_on_a_grid(item: Lemma) -> None:
    case = Case(item.statement, item.assumptions)
    names = sorted(lower_bounds(case))
    width = {1: 60, 2: 25, 3: 12, 4: 7, 5: 5}.get(len(names), 4)
    spans = ranges(case, width)
    checked = 0
    for values in itertools.product(*(spans[n] for n in names)):
        env = dict(zip(names, values))
        assert not violates(case, env), (item.name, env)
        checked += 1
    assert checked >= width ** len(names)


def test_every_lemma_name_used_in_steps_is_in_the_library() -> None:
    used = {intdiv.LEMMA_CEIL, intdiv.LEMMA_EXTRACT, intdiv.LEMMA_NESTED, intdiv.LEMMA_GCD,
            intdiv.LEMMA_MOD, intdiv.LEMMA_MONOTONE, rules.HERMITE, rules.MONOTONE,
            rules.UPPER, rules.POSITIVITY, rules.MAX_ELIMINATION}
    names = {x.name for x in LEMMAS}
    assert used <= names
    assert set(SENTENCES) <= names


def test_lemma_lookup_suggests_a_close_name() -> None:
    assert lemma("Max elimination").statement.startswith("floor((n + max(")
    with pytest.raises(ValueError, match="did you mean \"Hermite's identity\"") as info:
        lemma("Hermites identity")
    assert getattr(info.value, "code", "") == "unknown_lemma"


def test_rewriting_steps_name_the_lemmas() -> None:
    proof = prove("ceiling(ceiling(n/a)/b) == ceiling(n/(a*b))")
    lemmas_used = " ".join(step.lemma for step in proof.steps)
    assert proof.method == "rewriting"
    assert "ceiling as floor" in lemmas_used and "nested floor collapse" in lemmas_used
    proof = prove("floor(n/2) + ceiling(n/2) == n")
    assert any(step.lemma == "Hermite's identity" for step in proof.steps)
    proof = prove("floor((n + max((ceiling(n/s) - 1)*s + k - n, 0) - k)/s) + 1 == ceiling(n/s)")
    assert any(step.lemma == "Max elimination" for step in proof.steps)
    assert proof.method == "rewriting"
