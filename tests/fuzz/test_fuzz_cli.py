"""Fuzz: command lines for ``convsym.cli.main``, built from the parser itself.

The subcommands and their options are read from :func:`convsym.cli.build_parser`, so every
command that exists is fuzzed, including ones added later.  An argument list is a command,
its positional arguments (built-in examples, spec and Keras files written in the scratch
directory -- valid, broken and hostile --, hostile text, expressions and relations) and a
few options with values (their choices, hostile text, numbers, expressions), sometimes with
junk words or options mixed in.  ``main`` must return 0, 1, 2 or 3, never raise, never print
a traceback, print one line on stderr for bad input, write only UTF-8 encodable output, and
stay within the per-input budget.  Files are written only in the scratch directory.

``verify`` runs real computations at the sizes it is given: its ``--samples`` stay small
here, but ``--max-size`` may be large (its tensor and time budgets skip or stop what is too
large, issue 14).  The hostile files include the budget classes of issue 14: sizes whose
expansion explodes, a Keras model nesting a model called 8 times 6 levels deep, and a FIFO.
:func:`test_raw_argv` also feeds arbitrary words to the parser.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator

import pytest
from fuzzkit import TOKENS, batch, expression_text, fuzz, relation_text, run_cli, scratch_dir
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_budgets import nested_keras

from convsym.cli import build_parser

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _commands() -> dict[str, list[argparse.Action]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: [a for a in p._actions if not isinstance(a, argparse._HelpAction)]
            for name, p in sub.choices.items()}


COMMANDS = _commands()

FILES = {
    "good.yaml": "input: [n, n, 3]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n"
                 "  - MaxPooling2D: {}\n  - Flatten\n  - Dense: {units: 2}\n",
    "good.json": json.dumps({"dialect": "torch", "input": [3, "H", "W"], "layers": [
        {"Conv2d": [3, 4, 3]}, {"MaxPool2d": {"kernel_size": 2, "ceil_mode": True}}]}),
    "good.toml": 'input = [8, 8, 1]\nlayers = [{Conv2D = {filters = 2, kernel_size = 3}}]\n',
    "tag.yaml": "a: !!python/object/apply:os.system ['touch CANARY']\n",
    "bomb.yaml": "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
    "dup.json": '{"input": [8, 8, 1], "input": [9, 9, 1], "layers": ["Flatten"]}',
    "nan.json": '{"input": [NaN, 8, 1], "layers": ["Flatten"]}',
    "deep.json": "[" * 5000 + "]" * 5000,
    "empty.yaml": "",
    "binary.yaml": "\x00\x01\x02",
    "payload.yaml": "input: [\"__import__('os').system('touch CANARY')\", 8, 1]\n"
                    "layers: [Flatten]\n",
    "lambda.json": json.dumps({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
        {"class_name": "Lambda", "config": {"name": "l", "function": {
            "class_name": "__lambda__", "config": {"code": "4wEAAAAA", "defaults": None,
                                                   "closure": None}}}}]}}),
    "expand12.json": json.dumps({"input": ["(a+b+c+d)**12", "(e+f+g+h)**12", 1],
                                 "layers": ["Flatten"]}),
    "expand30.json": json.dumps({"input": ["*".join(f"(a{i}+b{i})" for i in range(30)), 1],
                                 "layers": ["Flatten"]}),
    "nested.json": json.dumps(nested_keras(6, 8)),
    "evil_name.json": json.dumps({"name": "r\u00e9seau``<script>``", "input": ["n", "n", 1],
                                  "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3,
                                                         "activation": "evil"}}]}),
}


@pytest.fixture(scope="module")
def workdir() -> Iterator[str]:
    """A scratch working directory holding the spec files; checked for stray files."""
    with scratch_dir() as path:
        for name, text in FILES.items():
            with open(name, "w", encoding="utf-8") as handle:
                handle.write(text)
        for name in ("keras3_sequential.json", "keras3_functional.json"):
            with open(os.path.join(FIXTURES, name), encoding="utf-8") as src, \
                    open(name, "w", encoding="utf-8") as dst:
                dst.write(src.read())
        if hasattr(os, "mkfifo"):
            os.mkfifo("fifo.yaml")  # must be refused, never opened for a blocking read
        yield path


SOURCES = st.sampled_from(
    ["example:seed1", "example:seed1_symbolic", "example:seed3_symbolic", "example:lenet5",
     "example:", "example:nope", "example:../../etc/passwd", "missing.yaml", ".", "",
     "-", "/dev/null", "fifo.yaml", "keras3_sequential.json", "keras3_functional.json",
     *FILES])
SAFE_OUTPUT = st.sampled_from(["out.tex", "out.md", "sub/none/out.tex", ".", "", "out dir/x",
                               "CANARY.tex", "fifo.yaml"])  # (a FIFO must not block a write)
TEXT_VALUES = st.one_of(expression_text(), relation_text(), st.sampled_from(TOKENS),
                        st.text(max_size=12), st.integers(-10**20, 10**20).map(str),
                        st.sampled_from(["n=28", "n=x/2", "c=0", "n=-1", "n==3", "=3", "n=",
                                         "1e308", "nan", "inf", "-1", "0", "0.001", "2",
                                         "n=(a+b+c+d+e+f+g+h)**64", "\u00b2", "7",
                                         "4611686018427387904", "-4611686018427387904 <= n",
                                         "n <= 4611686018427387904", "--"]))
NUMBER_VALUES = st.one_of(st.sampled_from(["1", "2", "0", "-1", "0.5", "1e308", "inf",
                                           "nan", "abc", "", "3"]), st.text(max_size=5))


def _value(draw: st.DrawFn, command: str, action: argparse.Action) -> str:
    dest = action.dest
    if command == "verify" and dest == "samples":
        return draw(st.sampled_from(["1", "2", "0", "-3", "abc", "1e3", ""]))
    if command == "verify" and dest == "max_size":
        return draw(st.sampled_from(["1", "2", "0", "-3", "abc", "4096", "100000", ""]))
    if command == "verify" and dest == "backends":
        return draw(st.sampled_from(["reference", "torchh", ""]))
    if action.choices is not None and draw(st.integers(0, 4)):
        return str(draw(st.sampled_from(list(action.choices))))
    if dest in ("output",):
        return draw(SAFE_OUTPUT)
    if dest in ("timeout",):
        return draw(NUMBER_VALUES)
    if dest in ("source", "a", "b"):
        return draw(SOURCES)
    return draw(TEXT_VALUES)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """One argument list for ``main``."""
    if draw(st.integers(0, 15)) == 0:  # sometimes no command, junk, or a top-level flag
        return draw(st.lists(st.one_of(st.sampled_from(["--version", "-h", "--help", "",
                                                        "summary", "--", "-x"]),
                                       st.text(max_size=6)), max_size=3))
    command = draw(st.sampled_from(sorted(COMMANDS)))
    argv = [command]
    actions = COMMANDS[command]
    for action in actions:
        if action.option_strings:
            continue
        if action.nargs == "?" and draw(st.booleans()):
            continue
        if action.dest in ("source", "a", "b"):
            argv.append(draw(SOURCES))
        else:
            argv.append(draw(st.one_of(relation_text(), expression_text())))
    options = [a for a in actions if a.option_strings]
    for action in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        elif draw(st.integers(0, 9)):
            argv += [flag, _value(draw, command, action)]
        else:
            argv.append(f"{flag}={_value(draw, command, action)}")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(argv)))
        argv.insert(at, draw(st.sampled_from(["--bogus", "-", "--", "--json", "-o",
                                              "--set", "x"])))
    if command == "verify" and "--backend" not in argv:
        argv += ["--backend", "reference", "--samples", "2"]
    return argv


def _has_canary(path: str) -> bool:
    return any("CANARY" in name and not name.endswith(".tex")
               for _, _, files in os.walk(path) for name in files)


@fuzz(80)
@given(batch(command_lines(), 6))
def test_command_lines(workdir: str, argvs: list[list[str]]) -> None:
    for argv in argvs:
        run_cli(argv)
    assert not _has_canary(workdir), "a payload ran"


READERS = sorted(name for name, actions in COMMANDS.items()
                 if any(a.dest in ("source", "a") for a in actions if not a.option_strings))


@pytest.mark.parametrize("command", READERS)
def test_every_command_rejects_a_hostile_source(workdir: str, command: str) -> None:
    """Each command that reads a network, given the YAML python-tag file: one line, status 2."""
    extra = ["--for", "n"] if command == "solve" else []
    status, _, err = run_cli([command, "tag.yaml", *extra])
    assert status == 2 and "YAML tag" in err, err
    assert not _has_canary(workdir)


def test_commands_exist() -> None:
    """The fuzzer sees the commands the issue names (more may come)."""
    assert {"summary", "derive", "solve", "inputs", "compare", "prove", "verify"} <= \
        set(COMMANDS), sorted(COMMANDS)



@fuzz(60)
@given(batch(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
    ["summary", "derive", "prove", "solve", "inputs", "compare", "verify", "examples", "-",
     "--for", "--where", "--bounds", "--set", "--at", "--depthwise", "--json", "--timeout",
     "--format", "-o", "--samples", "--max-size", "--backend", "example:seed1", "n",
     "\u00b2", "=", "--", "-h"])), max_size=8), 8))
def test_raw_argv(workdir: str, argvs: list[list[str]]) -> None:
    """Arbitrary words as argv: every outcome is a status 0-3 and at most one clean line."""
    for argv in argvs:
        if "verify" in argv:  # real computations: keep them small
            argv = [*argv, "--backend", "reference", "--samples", "1"]
        status, _, err = run_cli(argv)
        assert "internal error" not in err, (argv, err)
