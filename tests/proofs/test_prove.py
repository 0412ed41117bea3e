"""``convsym.proof.prove``: results, domains, relations, bad input, and the honest unknown."""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from convsym.errors import ConvsymError
from convsym.expr import parse_relation, symbol
from convsym.proof import Proof, ProofStep, prove, quick_decide
from convsym.proof import engine as engine_module
from convsym.proof.goal import Outcome


def test_a_proof_is_data() -> None:
    proof = prove("floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)", ["n >= k"])
    assert isinstance(proof, Proof)
    assert (proof.status, proof.method, proof.counterexample) == ("proved", "rewriting", None)
    assert proof.assumptions == (parse_relation("n >= k"),)
    assert proof.domain == {"k": (1, None), "n": (1, None), "s": (1, None)}
    assert all(isinstance(s, ProofStep) for s in proof.steps)
    assert all(isinstance(s.before, sympy.Basic) and isinstance(s.after, sympy.Basic)
               for s in proof.steps)
    assert proof.steps[0].lemma == "substitution"
    data = proof.to_dict()
    assert set(data) == {"status", "method", "counterexample", "steps"}
    assert all(isinstance(s, str) for s in data["steps"])
    text = str(proof)
    assert text.startswith("proved by rewriting: ") and "assuming n >= k" in text


def test_a_refutation_carries_a_checked_counterexample() -> None:
    proof = prove("floor(n/s) + 1 == ceiling(n/s)")
    assert proof.status == "refuted"
    n, s = proof.counterexample["n"], proof.counterexample["s"]  # type: ignore[index]
    assert n // s + 1 != -(-n // s)
    assert proof.to_dict()["counterexample"] == proof.counterexample
    assert "counterexample: " in str(proof)


@pytest.mark.parametrize(("statement", "status"), [
    ("floor(n/2) != n", "proved"),           # never equal
    ("floor(n/2) != 0", "refuted"),          # equal at n = 1
    ("floor(n/s) != n + 1", "proved"),
    ("n % s != s", "proved"),
    ("ceiling(n/s) != floor(n/s)", "refuted"),
    ("floor(n/2) < n", "proved"),
    ("floor(n/2) > 0", "refuted"),
    ("ceiling(n/3) <= ceiling(n/2)", "proved"),
    ("ceiling(n/3) >= ceiling(n/2)", "refuted"),
])
def test_every_relation(statement: str, status: str) -> None:
    proof = prove(statement, timeout=30.0)
    assert proof.status == status, proof
    if status == "refuted" and "!=" in statement:
        a, b = parse_relation(statement).args
        env = {sympy.Symbol(k, integer=True, positive=True): v
               for k, v in proof.counterexample.items()}  # type: ignore[union-attr]
        assert a.subs(env) == b.subs(env)  # refuting != means finding a point of equality


@pytest.mark.parametrize(("statement", "status"), [
    ("n/2 >= floor(n/2)", "proved"),
    ("n/2 == floor(n/2)", "refuted"),
    ("n/s <= ceiling(n/s)", "proved"),
    ("(n + 1)/2 > n/2", "proved"),
])
def test_parts_that_are_not_integers(statement: str, status: str) -> None:
    assert prove(statement, timeout=30.0).status == status


def test_widening_a_domain_reparses_the_text() -> None:
    # parsed with a positive p, SymPy would already have turned abs(p - 1) into p - 1
    proof = prove("abs(p - 1) == p - 1", ["p >= 0"])
    assert proof.status == "refuted" and proof.counterexample == {"p": 0}
    assert proof.domain == {"p": (0, None)}
    proof = prove("floor((n + 2*p - 3)/1) + 1 == n + 2*p - 2", ["p >= 0"])
    assert proof.status == "proved"
    assert prove("abs(q) >= q", ["q >= -5"]).status == "proved"
    assert prove("abs(q) == q", ["q >= -5"]).counterexample == {"q": -5}


def test_a_sympy_symbol_narrower_than_its_domain_is_refused() -> None:
    p = symbol("p")
    with pytest.raises(ConvsymError) as info:
        prove(sympy.Eq(sympy.Abs(p - 1), p - 1, evaluate=False), ["p >= 0"])
    assert info.value.code == "symbol_domain"
    q = symbol("p", nonnegative=True)
    proof = prove(sympy.Eq(sympy.Abs(q - 1), q - 1, evaluate=False), ["p >= 0"])
    assert proof.status == "refuted" and proof.counterexample == {"p": 0}
    assert prove(sympy.Ge(q, 0, evaluate=False)).status == "proved"


def test_assumptions_relating_symbols_and_residues() -> None:
    assert prove("floor((n - k)/2) >= 0", "n >= k").status == "proved"
    assert prove("floor(n/2)*2 == n", ["n % 2 == 0"]).method == "rewriting"
    proof = prove("floor((n + 2*p - k)/s) + 1 >= 1", ["p >= 0", "n + 2*p >= k"])
    assert proof.status == "proved"
    proof = prove("floor((n + 2*p - k)/s) + 1 >= 1", ["p >= 0"])
    assert proof.status == "refuted"
    env = proof.counterexample
    assert env is not None and env["p"] >= 0
    assert (env["n"] + 2 * env["p"] - env["k"]) // env["s"] + 1 < 1


def test_contradictory_assumptions_prove_vacuously() -> None:
    proof = prove("n == 1", ["n >= 5", "n <= 3"])
    assert proof.status == "proved" and "vacuous" in proof.reason
    assert prove("n == 1", ["n % 3 == 7"]).status == "proved"


def test_a_finite_domain_is_decided() -> None:
    proof = prove("floor(n/3) <= 3", ["n <= 11"])
    assert proof.status == "proved"
    proof = prove("floor(n/3) <= 2", ["n <= 11"])
    assert proof.status == "refuted" and proof.counterexample == {"n": 9}


def test_unknown_is_honest() -> None:
    proof = prove("a**3 + b**3 != c**3", timeout=1.0)
    assert proof.status == "unknown"
    assert proof.method == "bounded"
    assert proof.reason.startswith("holds for every value up to ")
    assert proof.counterexample is None
    assert proof.steps[-1].lemma == "bounded check"
    assert "not a proof" in proof.steps[-1].sentence


def test_a_counterexample_that_fails_the_recheck_is_never_reported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def lying_z3(problem: Any, timeout: float) -> Outcome:
        return Outcome("refuted", [], "made up", {"n": 4, "s": 2})

    monkeypatch.setattr(engine_module, "by_z3", lying_z3)
    proof = prove("s*floor(n/s) <= n", timeout=1.0)
    assert proof.status == "unknown"
    assert proof.counterexample is None
    assert "failed the re-check" in proof.reason


@pytest.mark.parametrize(("statement", "assume", "code"), [
    ("n + 1", (), "syntax"),
    ("floor(n/2) ==", (), "syntax"),
    ("n >= 1.5", (), "syntax"),
    ("sqrt(n) >= 1", (), "syntax"),
    (3, (), "wrong_type"),
    ("n >= 1", 5, "wrong_type"),
    ("n >= 1", [None], "wrong_type"),
    (sympy.Ge(sympy.sin(symbol("n")), 0, evaluate=False), (), "unsupported_expression"),
    (sympy.Ge(sympy.Float(0.5) * symbol("n"), 0, evaluate=False), (),
     "unsupported_expression"),
])
def test_bad_input(statement: object, assume: object, code: str) -> None:
    with pytest.raises(ConvsymError) as info:
        prove(statement, assume)  # type: ignore[arg-type]
    assert isinstance(info.value, (ValueError, TypeError))
    if code != "syntax":
        assert info.value.code == code


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "3"])
def test_bad_timeout(timeout: object) -> None:
    with pytest.raises(ConvsymError):
        prove("n >= 1", timeout=timeout)  # type: ignore[arg-type]


def test_sympy_relations_and_text_mix() -> None:
    n, k = symbol("n"), symbol("k")
    statement = sympy.Eq(sympy.floor((n - k) / 2) + 1, sympy.ceiling((n - k + 1) / 2),
                         evaluate=False)
    assert prove(statement, [sympy.Ge(n, k, evaluate=False)]).status == "proved"
    assert prove(statement, "n >= k").status == "proved"


def test_quick_decide() -> None:
    assert quick_decide("ceiling(n/2) - floor(n/2)") is True
    assert quick_decide("floor(n/2) - ceiling(n/2)") is False
    assert quick_decide("floor(n/s)") is True  # n >= 0 once the floor is removed
    assert quick_decide("floor(n/s) - floor(n/t)") is None
    assert quick_decide("abs(n - m)") is None


def test_issue_3_sympy_mod_evaluation_is_never_triggered() -> None:
    # SymPy 1.14 evaluates Mod(2*Mod(n, 7), 3) to Mod(2*Mod(n, 7)**2, 3); substituting
    # n = k + t for the assumption used to rebuild the Mod that way and "prove" this
    statement = "(2*(n % 7)) % 3 == (2*(n % 7)**2) % 3"
    for assume in ([], ["n >= k"], ["n >= 0"], ["n % 2 == 0"]):
        proof = prove(statement, assume)
        assert proof.status == "refuted", (assume, str(proof))


def test_an_upper_bound_below_one_means_no_lower_bound() -> None:
    # q <= -3 is not an empty domain (q >= 1 by default): q simply is not positive
    proof = prove("abs(q) >= 3", ["q <= -3"])
    assert proof.status == "proved" and proof.domain == {"q": (None, -3)}
    proof = prove("abs(q) >= 4", ["q <= -3"])
    assert proof.status == "refuted" and proof.counterexample == {"q": -3}
    assert prove("floor(n/q) <= -1", ["q <= -1"]).status == "proved"


def test_issue_3_a_name_sympy_cancelled_is_still_widened() -> None:
    # with a positive p, SymPy reads abs(p) - p as 0 and p disappears from the parse
    proof = prove("n != (((n - p) + abs(p)) - n)", ["p <= 0"])
    assert proof.status == "refuted" and proof.counterexample is not None
    n, p = proof.counterexample["n"], proof.counterexample["p"]
    assert p <= 0 and n == n - p + abs(p) - n
    assert prove("abs(p) - p == 0", ["p >= -2"]).counterexample == {"p": -2}


def test_issue_13_assumptions_are_read_on_their_domain() -> None:
    # read in a positive parse, abs(q) >= 3 was q >= 3: an empty domain, "proved"
    proof = prove("1 == 2", ["q <= 0", "abs(q) >= 3"])
    assert proof.status == "refuted" and proof.counterexample == {"q": -3}
    proof = prove("p >= 2", ["p >= -5", "abs(p) >= 2"])
    assert proof.status == "refuted" and proof.counterexample is not None
    assert proof.counterexample["p"] <= -2
    # abs(p) >= -3 is no bound: p keeps its domain p >= 1
    assert prove("p >= 1", ["abs(p) >= -3"]).status == "proved"
    # abs(2*x) == 2 is 2*x == 2 on x >= 1, but it is not a bound and must still restrict
    assert prove("x == 1", ["abs(2*x) == 2"]).status == "proved"
    assert prove("x == 1", ["abs(2*x) == 2", "x >= -4"]).status == "refuted"
    assert prove("floor(p/(p + 1)) == 0", ["p >= 0"]).status == "proved"
    assert prove("floor(p/(p + 2)) == 0", ["p >= -1"]).status == "refuted"


@pytest.mark.parametrize("kw", [{"even": True}, {"odd": True}, {"prime": True},
                                {"real": True}, {"rational": True}])
def test_issue_13_unmodeled_sympy_assumptions_are_refused(kw: dict[str, bool]) -> None:
    x = sympy.Symbol("x", **kw)
    with pytest.raises(ConvsymError) as info:
        prove(sympy.Ge(x + 1, 2, evaluate=False))
    assert info.value.code == "symbol_assumptions"
    with pytest.raises(ConvsymError):
        prove("x >= 1", [sympy.Ge(x, 2, evaluate=False)])


def test_issue_13_polynomial_numerators_are_decided() -> None:
    proof = prove("floor(n*(n+1)*(n+2)/6) == n*(n+1)*(n+2)/6")
    assert proof.status == "proved" and proof.method == "period"
    assert prove("floor(n*(n+1)/2)*2 == n*(n+1)").method == "period"
    proof = prove("floor(n*n/3)*3 == n*n")
    assert proof.status == "refuted" and proof.counterexample == {"n": 1}
    proof = prove("floor((n*n + 1)/5) != n")
    assert proof.status == "refuted" and proof.counterexample == {"n": 5}
    assert prove("floor(n*n*n/4) >= n - 1", ["n >= -3"]).status == "refuted"
    assert prove("n*n % 4 <= 1", ["n >= -9"]).status == "proved"


def test_a_cancelled_divisor_still_bounds_the_domain() -> None:
    """SymPy cancels ``0*floor(n/(k - 3))`` while parsing; k = 3 is still undefined, so it is
    no counterexample (found by test_the_ladder_is_sound: the ladder answered k = 3, n = 1)."""
    proof = prove("n != ((k + -2) + 0*floor(n/(k - 3)))")
    assert proof.status == "refuted", proof
    assert proof.counterexample is not None and proof.counterexample["k"] != 3, proof
