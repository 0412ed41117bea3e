"""convsym.examples and ``convsym examples [NAME]``: each example has a one-line description,
what it demonstrates, a definition (a spec that reads back to the same network) and commands
to try that run."""

from __future__ import annotations

import shlex

import pytest
import yaml

import convsym
from convsym.cli import main
from convsym.examples import about, definition, example, names


def test_listing_has_one_described_line_per_example(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    assert main(["examples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == names()
    for line in lines:
        assert len(line.split(None, 1)[1]) > 20 and len(line) <= 100, line


@pytest.mark.parametrize("name", [n for n in names() if n.startswith("seed")])
def test_spec_definitions_read_back_to_the_same_network(name: str) -> None:
    kind, text = definition(name)
    assert kind == "yaml"
    again = convsym.load(yaml.safe_load(text))
    assert again.summary().to_dict() == example(name).summary().to_dict()


def test_python_definitions_show_the_builder_without_its_docstring() -> None:
    kind, text = definition("lenet5")
    assert kind == "python" and text.startswith("def lenet5() -> Network:\n")
    assert '"""' not in text and "T.Conv2d(1, 6, 5)" in text


@pytest.mark.parametrize("name", ["seed1", "seed3_symbolic", "lenet5", "dcgan"])
def test_show_one_example(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples", f"example:{name}"]) == 0
    out = capsys.readouterr().out
    line, demonstrates, tries = about(name)
    assert out.startswith(f"example:{name}: {line}\n")
    assert demonstrates in out and "Try:" in out
    assert ("Spec (YAML" in out) == name.startswith("seed")


def test_every_suggested_command_runs(capsys: pytest.CaptureFixture[str]) -> None:
    for name in names():
        for command in about(name)[2]:
            argv = shlex.split(command)
            assert argv[0] == "convsym"
            assert main(argv[1:]) == 0, command
            capsys.readouterr()


def test_unknown_example_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples", "seed9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convsym: error: unknown example 'seed9' (did you mean")
