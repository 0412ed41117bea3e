"""The proof engine on a corpus of statements with known truth (``corpus.py``).

No false statement is proved, no true one refuted, every false one is refuted with a
counterexample that an independent evaluator confirms, and at least 90% of the true ones are
proved (not merely checked).  The time limit is generous so that a loaded machine cannot turn
a proof into "unknown"; most statements take well under a second.
"""

from __future__ import annotations

import functools

import pytest
from corpus import CASES, MUST_PROVE, Case, violates

from convsym.proof import Proof, prove

TIMEOUT = 30.0


@functools.cache
def proof_of(case: Case) -> Proof:
    return prove(case.statement, case.assume, timeout=TIMEOUT)


def _id(case: Case) -> str:
    return (case.statement + (" | " + ", ".join(case.assume) if case.assume else ""))[:80]


def test_the_corpus_is_big_and_mixed() -> None:
    true = [c for c in CASES if c.true]
    false = [c for c in CASES if not c.true]
    assert len(CASES) >= 60
    assert len(true) >= 30 and len(false) >= 20
    for group in (true, false):
        assert any(c.symbolic for c in group) and any(not c.symbolic for c in group)
        assert any(c.assume for c in group) and any(not c.assume for c in group)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_never_wrong(case: Case) -> None:
    proof = proof_of(case)
    assert proof.status in ("proved", "refuted", "unknown")
    if case.true:
        assert proof.status != "refuted", proof
    else:
        assert proof.status != "proved", proof
    if proof.status == "refuted":
        assert proof.counterexample is not None
        assert violates(case, proof.counterexample), proof


@pytest.mark.parametrize("case", [c for c in CASES if not c.true], ids=_id)
def test_every_false_statement_is_refuted(case: Case) -> None:
    proof = proof_of(case)
    assert proof.status == "refuted", proof
    assert proof.steps and proof.steps[0].lemma == "counterexample"


@pytest.mark.parametrize("case", MUST_PROVE, ids=_id)
def test_must_prove(case: Case) -> None:
    proof = proof_of(case)
    assert proof.status == "proved", proof
    assert proof.method in ("rewriting", "period", "z3")


def test_at_least_90_percent_of_true_statements_are_proved() -> None:
    true = [c for c in CASES if c.true]
    proved = [c for c in true if proof_of(c).status == "proved"]
    assert len(proved) >= 0.9 * len(true), [c.statement for c in true if c not in proved]
    assert all(proof_of(c).method != "bounded" for c in proved)


def test_every_rung_is_used() -> None:
    methods = {proof_of(c).method for c in CASES if proof_of(c).status == "proved"}
    assert {"rewriting", "period", "z3"} <= methods
