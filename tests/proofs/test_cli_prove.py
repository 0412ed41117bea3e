"""``convsym prove``: exit status 0 proved, 1 refuted, 3 unknown, 2 bad input; ``--json``."""

from __future__ import annotations

import json

import pytest

from convsym.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["prove", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_proved(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)",
                          "--assume", "n >= k")
    assert status == 0
    assert out.startswith("proved by rewriting:")


def test_refuted_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "floor(n/s) == ceiling(n/s)", "--json")
    assert status == 1
    data = json.loads(out)
    assert set(data) == {"status", "method", "counterexample", "steps"}
    assert data["status"] == "refuted"
    env = data["counterexample"]
    assert env["n"] // env["s"] != -(-env["n"] // env["s"])


def test_several_assumptions(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "floor((n + 2*p - k)/s) + 1 >= 1", "--assume", "p >= 0",
                          "--assume", "n + 2*p >= k", "--json")
    assert status == 0
    assert json.loads(out)["status"] == "proved"


def test_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "a**3 + b**3 != c**3", "--timeout", "1", "--json")
    assert status == 3
    data = json.loads(out)
    assert data["status"] == "unknown" and data["counterexample"] is None
    assert "holds for every value up to" in data["steps"][-1]


def test_too_large_to_expand_is_unknown_as_in_the_api(
        capsys: pytest.CaptureFixture[str]) -> None:
    import convsym

    statement = "(a+b+c+d+e+f+g+h)**64 >= 1"  # over max_terms once expanded
    status, out, err = _run(capsys, statement, "--json")
    assert status == 3 and err == ""
    data = json.loads(out)
    assert data["status"] == "unknown" and data["steps"][-1].startswith("size limit")
    api = convsym.prove(statement)
    assert api.status == "unknown" and api.to_dict() == data
    status, out, _ = _run(capsys, statement)
    assert status == 3 and "max_terms" in out and out == str(api) + "\n"


@pytest.mark.parametrize("argv", [
    ["n >= "],
    ["n + 1"],
    ["n >= 1", "--assume", "k >"],
    ["n >= 1", "--timeout", "0"],
    ["n >= 1", "--timeout", "soon"],
])
def test_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("convsym: error:") and err.count("\n") == 1
