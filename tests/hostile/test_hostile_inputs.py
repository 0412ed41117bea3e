"""A table of hostile inputs through every text entry point: each rejected, nothing run.

Code-execution payloads (``__import__('os').system('touch CANARY')`` and friends, sympify-style
payloads), YAML python tags, Keras JSON with a Lambda layer carrying a marshalled function,
``10**10**10``, deeply nested and very long expressions, YAML alias bombs ("billion
laughs"), huge files.  Each case runs in a worker process under a time and memory budget
(:func:`convsym.budget.run_bounded`), must raise a convsym error with the expected code and
message fragments, and must leave the canary file unwritten.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import marshal
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from convsym.budget import run_bounded
from convsym.errors import ConvsymError

TIME = 30.0
MEMORY_MB = 1024


def _payloads(canary: Path) -> dict[str, str]:
    touch = f"touch {canary}"
    return {
        "os.system": f"__import__('os').system('{touch}')",
        "subclasses": "().__class__.__bases__[0].__subclasses__()",
        "eval": f"eval(\"__import__('os').system('{touch}')\")",
        "exec": f"exec('import os; os.system(\"{touch}\")')",
        "lambda": f"(lambda: __import__('os').system('{touch}'))()",
        "sympify": f"sympify(\"__import__('os').system('{touch}')\")",
        "Symbol attr": "Symbol('x').__class__.__mro__[-1].__subclasses__()",
        "S string": f"S('__import__(\"os\").system(\"{touch}\")')",
        "walrus": f"(x := __import__('os')).system('{touch}')",
        "getattr": f"getattr(__import__('os'), 'system')('{touch}')",
        "fstring": f"f'{{__import__(\"os\").system(\"{touch}\")}}'",
        "comprehension": f"[__import__('os').system('{touch}') for _ in [1]]",
        "open": f"open('{canary}', 'w')",
    }


@pytest.fixture
def canary(tmp_path: Path) -> Any:
    path = tmp_path / "CANARY"
    yield path
    assert not path.exists(), "a payload ran: the canary file was written"


def _rejected(fn: Callable[[], object]) -> ConvsymError:
    """Run ``fn`` in a bounded worker; it must raise a convsym error (returned here)."""

    def work() -> ConvsymError | str:
        try:
            result = fn()
        except ConvsymError as err:
            return err
        return f"accepted: {result!r:.200}"

    outcome = run_bounded(work, timeout=TIME, memory_mb=MEMORY_MB, what="a hostile input")
    assert isinstance(outcome, ConvsymError), outcome
    assert isinstance(outcome, (ValueError, TypeError))
    return outcome


def _cli(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` in a bounded worker: (status, stderr)."""
    from convsym.cli import main

    def work() -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = main(argv)
        return status, err.getvalue()

    return run_bounded(work, timeout=TIME, memory_mb=MEMORY_MB, what="a hostile command")


def _net() -> Any:
    from convsym.examples import example

    return example("seed1_symbolic")


def _entry_points() -> dict[str, Callable[[str], object]]:
    from convsym.expr import as_expr, parse_expr, parse_relation
    from convsym.layers import keras, torch
    from convsym.network import Sequential
    from convsym.proof import prove
    from convsym.spec import load
    from convsym.whatif import solve

    return {
        "parse_expr": lambda p: parse_expr(p),
        "parse_relation": lambda p: parse_relation(f"n == {p}"),
        "as_expr": lambda p: as_expr(p),
        "Conv2D(filters=)": lambda p: keras.Conv2D(filters=p, kernel_size=3),
        "Conv2d(out_channels=)": lambda p: torch.Conv2d(3, p, 3),
        "Input(shape=)": lambda p: keras.Input(shape=(p, 8, 1)),
        "Sequential(input_shape=)": lambda p: Sequential([torch.ReLU()], input_shape=(p, 8)),
        "subs": lambda p: _net().subs(n=p),
        "spec input": lambda p: load({"input": [p, 8, 1], "layers": ["Flatten"]}),
        "spec argument": lambda p: load({"input": [8, 8, 1],
                                         "layers": [{"Conv2D": {"filters": 2,
                                                                "kernel_size": p}}]}),
        "prove": lambda p: prove(f"n >= {p}", timeout=5),
        "prove assume": lambda p: prove("n >= 1", [f"n <= {p}"], timeout=5),
        "solve where": lambda p: solve(_net(), "n", [f"n == {p}"], timeout=5),
        "solve bounds": lambda p: solve(_net(), "n", ["n >= 3"], f"n <= {p}", timeout=5),
    }


ENTRY_NAMES = sorted(_entry_points())


@pytest.mark.parametrize("entry", ENTRY_NAMES)
def test_code_payloads_are_rejected_at_every_entry_point(entry: str, canary: Path) -> None:
    """Every payload, at one entry point, in one bounded worker."""
    payloads = _payloads(canary)

    def each() -> list[tuple[str, ConvsymError | str]]:
        fn = _entry_points()[entry]
        out: list[tuple[str, ConvsymError | str]] = []
        for name, text in payloads.items():
            try:
                out.append((name, f"accepted: {fn(text)!r:.200}"))
            except ConvsymError as err:
                out.append((name, err))
        return out

    for name, outcome in run_bounded(each, timeout=TIME, memory_mb=MEMORY_MB, what=entry):
        assert isinstance(outcome, ConvsymError), (name, outcome)
        assert isinstance(outcome, (ValueError, TypeError)), name
        text = str(outcome)
        assert "cannot" in text or "not allowed" in text or "unknown" in text, (name, text)


CLI_ENTRIES: dict[str, Callable[[str], list[str]]] = {
    "--set": lambda p: ["summary", "example:seed1_symbolic", "--set", f"n={p}"],
    "prove": lambda p: ["prove", f"n >= {p}", "--timeout", "5"],
    "prove --assume": lambda p: ["prove", "n >= 1", "--assume", f"n <= {p}"],
    "solve --where": lambda p: ["solve", "example:seed1_symbolic", "--for", "n", "--where",
                                f"n == {p}"],
    "solve --bounds": lambda p: ["solve", "example:seed1_symbolic", "--for", "n", "--where",
                                 "n >= 3", "--bounds", f"n <= {p}"],
    "compare --at": lambda p: ["compare", "example:seed1_symbolic", "--at", f"n={p}"],
    "derive --set": lambda p: ["derive", "example:seed1_symbolic", "--set", f"c={p}"],
    "inputs --set": lambda p: ["inputs", "example:seed1_symbolic", "--set", f"c={p}"],
}


@pytest.mark.parametrize("entry", sorted(CLI_ENTRIES))
def test_code_payloads_on_the_command_line(entry: str, canary: Path) -> None:
    from convsym.cli import main

    payloads = _payloads(canary)

    def each() -> list[tuple[str, int, str]]:
        out = []
        for name in ("os.system", "eval", "sympify", "getattr", "walrus", "open"):
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                status = main(CLI_ENTRIES[entry](payloads[name]))
            out.append((name, status, err.getvalue()))
        return out

    for name, status, err in run_bounded(each, timeout=TIME, memory_mb=MEMORY_MB, what=entry):
        assert status == 2, (name, err)
        assert err.startswith("convsym: error: ") and err.count("\n") == 1, (name, err)


# --- budgets: huge numbers, deep nesting, long text ------------------------------------------

BUDGET_CASES = {
    "10**10**10": ("10**10**10", "exponent"),
    "9**9**9**9": ("9**9**9**9", "exponent"),
    "2**64 literal": ("18446744073709551616", "2**62"),
    "40 digits": ("9" * 40, "2**62"),
    "product overflow": ("4611686018427387904 * 4611686018427387904", "2**62"),
    "power overflow": ("(2**40)**2", "2**62"),
    "exponent 65": ("n**65", "64"),
    "power of power": ("(n**64)**64", "64"),
    "nested parens": ("(" * 900 + "n" + ")" * 900, "nest"),
    "nested calls": ("floor(" * 200 + "n" + ")" * 200, "nest"),
    "nested max": ("max(n, " * 100 + "n" + ")" * 100, "nest"),
    "unary chain": ("-" * 1900 + "n", "nest"),
    "floordiv chain": ("n//" * 100 + "2", "nest"),
    "mod chain": ("n%" * 240 + "3", "nest"),
    "long sum": ("+".join(["n"] * 900), "limit"),
    "long text": ("n+" * 5000 + "n", "characters"),
    "many min args": ("min(" + ", ".join(["n"] * 600) + ")", "limit"),
    "fullwidth digit": ("\uff11", "ASCII"),
    "NFKC letter": ("\u210c + 1", "ASCII"),
    "bidi override": ("n\u202e + 1", "ASCII"),
    "NUL": ("n\x00", "not allowed"),
    "float": ("2.5", "float"),
    "inf": ("1e999", "float"),
}


@pytest.mark.parametrize("case", sorted(BUDGET_CASES))
def test_budgets_of_the_expression_parser(case: str) -> None:
    from convsym.expr import parse_expr

    text, fragment = BUDGET_CASES[case]
    err = _rejected(lambda: parse_expr(text))
    assert fragment in str(err), err
    assert len(str(err)) < 600, "the message echoes the whole input"


@pytest.mark.parametrize("case", ["10**10**10", "floordiv chain", "nested parens",
                                  "long text"])
def test_budgets_through_a_layer_and_the_cli(case: str) -> None:
    from convsym.layers import keras

    text, fragment = BUDGET_CASES[case]
    err = _rejected(lambda: keras.Conv2D(2, kernel_size=text))
    assert fragment in str(err) and "kernel_size" in str(err), err
    status, out = _cli(["summary", "example:seed1_symbolic", "--set", f"n={text}"])
    assert status == 2 and fragment in out, out


def test_huge_integer_objects_are_rejected() -> None:
    from convsym.layers import keras

    err = _rejected(lambda: keras.Conv2D(2, kernel_size=10**30))
    assert err.code == "budget_exceeded" and "2**62" in str(err)
    err = _rejected(lambda: _net().subs(n=10**10000))
    assert "2**62" in str(err) or "bit" in str(err)


# --- YAML ------------------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
input: [28, 28, 1]
layers: [Flatten]
"""

YAML_CASES = {
    "apply os.system": ("a: !!python/object/apply:os.system ['touch {canary}']", "yaml_tag",
                        "!!python/object/apply:os.system"),
    "new os.system": ("a: !!python/object/new:os.system ['touch {canary}']", "yaml_tag",
                      "!!python/object/new:os.system"),
    "name": ("a: !!python/name:os.system", "yaml_tag", "!!python/name:os.system"),
    "module": ("a: !!python/module:os", "yaml_tag", "!!python/module:os"),
    "verbatim tag": ("a: !<tag:yaml.org,2002:python/object/apply:os.system> ['touch {canary}']",
                     "yaml_tag", "python/object/apply:os.system"),
    "tag directive": ("%TAG !p! tag:yaml.org,2002:python/\n---\n"
                      "a: !p!object/apply:os.system ['touch {canary}']", "yaml_tag",
                      "python/object/apply:os.system"),
    "tag in layers": ("input: [8, 8, 1]\nlayers:\n  - !!python/object/apply:os.system "
                      "['touch {canary}']\n", "yaml_tag", "line 3"),
    "billion laughs": (BILLION_LAUGHS, "yaml_alias", "anchors and aliases"),
    "merge key": ("base: &base {filters: 2}\nlayers:\n  - Conv2D: {<<: *base}\n",
                  "yaml_alias", "anchors"),
    "self alias": ("a: &a [*a]\n", "yaml_alias", "anchors"),
    "duplicate key": ("input: [8, 8, 1]\ninput: [9, 9, 1]\nlayers: [Flatten]\n",
                      "duplicate_key", "'input'"),
    "NaN": ("input: [.nan, 8, 1]\nlayers: [Flatten]\n", "not_finite", "NaN"),
    "Infinity": ("input: [.inf, 8, 1]\nlayers: [Flatten]\n", "not_finite", "Infinity"),
    "deep nesting": ("a: " + "[" * 10000 + "]" * 10000, "too_deep", "32 levels"),
    "long integer": ("input: [" + "9" * 5000 + ", 8, 1]\nlayers: [Flatten]\n", "too_large",
                     "5000 digits"),
    "two documents": ("input: [8, 8, 1]\n---\nlayers: [Flatten]\n", "bad_yaml", "document"),
    "payload in a size": ("input: [\"__import__('os').system('touch {canary}')\", 8, 1]\n"
                          "layers: [Flatten]\n", "bad_expression", "input[0]"),
    "escape codes": ("input: [8, 8, 1]\nname: \"\\e[2J\"\nlayers: [Flatten]\n", "bad_text",
                     "U+001B"),
    "Lambda layer": ("input: [8, 8, 1]\nlayers:\n  - Lambda: {function: 'lambda x: x'}\n",
                     "code_layer", "never runs"),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_hostile_yaml_files(case: str, tmp_path: Path, canary: Path) -> None:
    from convsym.spec import load

    text, code, fragment = YAML_CASES[case]
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace("{canary}", str(canary)), encoding="utf-8")
    err = _rejected(lambda: load(path))
    assert err.code == code, (err.code, str(err))
    assert fragment in str(err) and str(path) in str(err), err
    status, out = _cli(["summary", str(path)])
    assert status == 2 and out.count("\n") == 1 and fragment in out, out


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    from convsym.spec import load

    path = tmp_path / "huge.yaml"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("input: [8, 8, 1]\nlayers:\n")
        handle.write("  - Flatten\n" * 200_000)
    err = _rejected(lambda: load(path))
    assert err.code == "too_large" and "200,000 values" in str(err)
    from convsym.readers import MAX_FILE_BYTES

    with open(path, "wb") as handle:  # sparse: one byte over the limit, read no further
        handle.truncate(MAX_FILE_BYTES + 1)
    err = _rejected(lambda: load(path))
    assert err.code == "too_large" and "50,000,000 bytes" in str(err)


def test_an_endless_device_is_refused() -> None:
    from convsym.spec import load

    err = _rejected(lambda: load("/dev/zero"))
    assert err.code == "unreadable" and "not a regular file" in str(err)


@pytest.mark.parametrize(("name", "text", "code"), [
    ("dup.json", '{"input": [8, 8, 1], "input": [1], "layers": ["Flatten"]}', "duplicate_key"),
    ("nan.json", '{"input": [NaN, 8, 1], "layers": ["Flatten"]}', "not_finite"),
    ("inf.json", '{"input": [Infinity, 8, 1], "layers": ["Flatten"]}', "not_finite"),
    ("big.json", '{"input": [1' + "0" * 400 + ', 8, 1], "layers": ["Flatten"]}', "too_large"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "too_deep"),
    ("deep.toml", "a = " + "[" * 5000 + "]" * 5000, "too_deep"),
    ("big.toml", "input = [" + "9" * 5000 + ", 8, 1]\nlayers = ['Flatten']\n", "too_large"),
    ("nan.toml", "input = [nan, 8, 1]\nlayers = ['Flatten']\n", "not_finite"),
    ("dup.toml", "input = [8, 8, 1]\ninput = [1]\n", "bad_toml"),
    ("bin.yaml", "\udcff", "not_text"),
])
def test_hostile_json_and_toml_files(name: str, text: str, code: str, tmp_path: Path) -> None:
    from convsym.spec import load

    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    err = _rejected(lambda: load(path))
    assert err.code == code, (err.code, str(err))


# --- Keras JSON ------------------------------------------------------------------------------

FIXTURE = Path(__file__).parent.parent / "fuzz" / "fixtures" / "keras3_sequential.json"


def _lambda_layer(canary: Path) -> dict[str, Any]:
    """A Keras 3 Lambda layer whose function, if ever unmarshalled and run, writes the canary."""
    module = compile(f"lambda x: __import__('os').system('touch {canary}') or x", "<payload>",
                     "eval")
    function = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    code = base64.b64encode(marshal.dumps(function)).decode("ascii")
    return {"module": "keras.layers", "class_name": "Lambda", "config": {
        "name": "lambda", "trainable": True, "dtype": "float32",
        "function": {"class_name": "__lambda__", "config": {"code": code, "defaults": None,
                                                            "closure": None}},
        "function_type": "lambda", "output_shape": None, "output_shape_type": "raw",
        "output_shape_module": None, "arguments": {}, "mask": None, "mask_type": "raw",
        "mask_module": None}, "registered_name": None}


def _keras_doc(layer: dict[str, Any], at: int = 2) -> dict[str, Any]:
    doc = json.loads(FIXTURE.read_text())
    doc["config"]["layers"].insert(at, layer)
    return doc


KERAS_CASES: dict[str, tuple[Callable[[Path], dict[str, Any]], str, str]] = {
    "Lambda with marshalled code": (lambda c: _keras_doc(_lambda_layer(c)), "lambda_layer",
                                    "Lambda"),
    "custom class": (lambda c: _keras_doc({"module": "evil", "class_name": "Backdoor",
                                           "config": {"name": "x"},
                                           "registered_name": "evil>Backdoor"}),
                     "", "Backdoor"),
    "TFOpLambda": (lambda c: _keras_doc({"class_name": "TFOpLambda",
                                         "config": {"name": "tf.nn.relu",
                                                    "function": "nn.relu"}}), "", "TFOpLambda"),
    "activation object": (lambda c: _keras_doc({"module": "keras.layers",
                                                "class_name": "Activation", "config": {
                                                    "name": "act", "activation": {
                                                        "class_name": "__lambda__",
                                                        "config": {"code": "YWJj"}}}}),
                          "", "act"),
    "payload in kernel_size": (lambda c: _mutate(["config", "layers", 1, "config",
                                                  "kernel_size"],
                                                 f"__import__('os').system('touch {c}')"),
                               "", "kernel_size"),
    "payload in batch_shape": (lambda c: _mutate(["config", "layers", 0, "config",
                                                  "batch_shape"],
                                                 [None, f"__import__('os').system('touch {c}')",
                                                  32, 3]), "", "input size"),
    "huge filters": (lambda c: _mutate(["config", "layers", 1, "config", "filters"], 10**30),
                     "", "2**62"),
    "escape in a name": (lambda c: _mutate(["config", "layers", 1, "config", "name"],
                                           "conv\x1b[2J"), "", "printable"),
}


def _mutate(path: list[Any], value: object) -> dict[str, Any]:
    doc = json.loads(FIXTURE.read_text())
    place: Any = doc
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    return doc


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_hostile_keras_json(case: str, tmp_path: Path, canary: Path) -> None:
    from convsym.importers.keras_json import from_keras

    build, code, fragment = KERAS_CASES[case]
    doc = build(canary)
    for source in (doc, json.dumps(doc)):
        err = _rejected(lambda source=source: from_keras(source))
        assert fragment in str(err), err
        if code:
            assert err.code == code, (err.code, str(err))
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    status, out = _cli(["summary", str(path)])
    assert status == 2 and out.count("\n") == 1, out


# --- extreme but legal sizes: the algebra must finish within budget -------------------------

EXTREME_SPECS: dict[str, dict[str, Any]] = {
    "stride 10**12 then a pool": {"dialect": "torch", "input": [3, "n", "n"], "layers": [
        {"Conv2d": {"in_channels": 3, "out_channels": 3, "kernel_size": 3,
                    "stride": 10**12}}, {"MaxPool2d": {"kernel_size": 3}}]},
    "stride 2**62 then a conv": {"dialect": "torch", "input": [3, "n", "n"], "layers": [
        {"Conv2d": {"in_channels": 3, "out_channels": 3, "kernel_size": 3, "stride": 2**62}},
        {"Conv2d": [3, 3, 5]}]},
    "kernel 2**62": {"input": ["n", "n", 1], "layers": [{"Conv2D": {"filters": 2,
                                                                   "kernel_size": 2**62}}]},
    "same with stride 2**62": {"input": ["n", "m", 1], "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 3, "strides": 2**62, "padding": "same"}},
        {"Conv2D": {"filters": 2, "kernel_size": 2}}]},
    "ceil_mode with coprime huge strides": {"dialect": "torch", "input": [3, "n", "n"],
                                            "layers": [
        {"MaxPool2d": {"kernel_size": 3, "stride": 2**61 - 1, "ceil_mode": True,
                       "padding": 1}},
        {"MaxPool2d": {"kernel_size": 2, "stride": 2**31 - 1, "ceil_mode": True}}]},
    "dilation 2**40": {"dialect": "torch", "input": [3, "n", "n"], "layers": [
        {"MaxPool2d": {"kernel_size": 2, "dilation": 2**40, "padding": 1}}]},
    "30 stride-2 same convs": {"input": ["n", "n", 3], "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}}] * 30},
    "huge flatten": {"input": [2**31, 2**31, 2**31], "layers": ["Flatten",
                                                               {"Dense": {"units": 2**62}}]},
}


@pytest.mark.parametrize("case", sorted(EXTREME_SPECS))
def test_extreme_sizes_finish_within_budget(case: str, tmp_path: Path) -> None:
    from convsym.spec import load

    doc = EXTREME_SPECS[case]

    def build() -> dict[str, Any] | str:
        try:
            return dict(load(doc).summary().to_dict())
        except ConvsymError as err:
            return err.code

    outcome = run_bounded(build, timeout=TIME, memory_mb=MEMORY_MB, what=case)
    assert isinstance(outcome, (dict, str)), outcome
    if case == "30 stride-2 same convs":
        return  # about 3 s a command (the period check's box budget); the API run suffices
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    for argv in (["summary", str(path)], ["inputs", str(path), "--timeout", "5"],
                 ["derive", str(path)]):
        status, err = _cli(argv)
        assert status in (0, 2, 3), (argv, err)


def test_yaml_depth_does_not_depend_on_libyaml_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A libyaml that stops at its own nesting limit (PyYAML 6.0.4 does, at about 1,000 levels,
    before convsym's depth check sees the events) still gives ``too_deep``; a genuine syntax
    error is still ``bad_yaml``."""
    import yaml

    from convsym.readers import parse_yaml

    class LimitedLoader(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            raise yaml.scanner.ScannerError("while increasing flow level", None,
                                            "exceeded maximum nesting depth", None)

    monkeypatch.setattr(yaml, "CSafeLoader", LimitedLoader, raising=False)
    err = _rejected(lambda: parse_yaml("a: " + "[" * 40 + "]" * 40, "spec.yaml"))
    assert err.code == "too_deep", err
    err = _rejected(lambda: parse_yaml("a: [1, 2", "spec.yaml"))
    assert err.code == "bad_yaml" and "line 1" in str(err), err
    assert parse_yaml("a: [[1]]", "spec.yaml") == {"a": [[1]]}
