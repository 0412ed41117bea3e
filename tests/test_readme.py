"""The README's console examples produce the output it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convsym.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().out


def test_two_commands_for_a_fresh_machine() -> None:
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["pip install . && convsym derive example:seed1 --format text",
                        "bash scripts/test"]
    assert "bash scripts/test" in (Path(__file__).resolve().parent.parent / ".ci/run").read_text()


def test_seed_excerpt_is_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(["derive", "example:seed1", "--format", "text"], capsys)
    assert status == 0
    excerpt = README.split("```text", 1)[1].split("```", 1)[0].strip()
    assert excerpt in out


def test_summary_block_is_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    block = README.split("$ convsym summary example:seed3_symbolic", 1)[1].split("```", 1)[0]
    status, out = run(["summary", "example:seed3_symbolic"], capsys)
    assert status == 0
    assert out.strip() == block.strip()


def test_prove_examples(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(["prove", "floor((n - k)/s) + 1 == ceiling((n - k + 1)/s)",
                       "--assume", "n >= k"], capsys)
    assert (status, out.split(":")[0]) == (0, "proved by rewriting")
    status, out = run(["prove", "floor(n/2) + floor(n/3) == floor(5*n/6)"], capsys)
    assert status == 1
    assert "counterexample: n = 5" in out
    assert "counterexample: n = 5" in README


def test_whatif_examples(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(["inputs", "example:unet"], capsys)
    assert status == 0
    for line in ("H: H = 16t + 12, t >= 11 (188, 204, 220, ...)",
                 "W: W = 16t + 12, t >= 11 (188, 204, 220, ...)"):
        assert line in out and line in README
    status, out = run(["solve", "-", "--for", "s", "--where", "floor((32 - 3)/s) + 1 == 8"],
                      capsys)
    assert status == 0
    assert "Answer (exact): s in {4}" in out


def test_python_example_values() -> None:
    import convsym
    from convsym.keras import Conv2D, Input

    net = convsym.Sequential([Input(("n", "n", "c")), Conv2D(32, 3), Conv2D(64, 3)])
    shown = dict(re.findall(r"^(net\.\S+?)\s+# (.+)$", README, flags=re.M))
    assert str(net.output_shape) == shown["net.output_shape"]
    assert str(net.rows[0].params) == shown["net.rows[0].params"]
    assert str(net.conditions) == shown["net.conditions"]
    assert str(net.subs(n=28, c=1).output_shape) == "(24, 24, 64)"
