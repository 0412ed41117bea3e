"""Issue 14: every case of the hostile campaign ends with an answer or one short clean line.

Time is not asserted here (no wall-clock limits in unit tests): the expensive classes are
also fuzzed in ``tests/fuzz/test_fuzz_budgets.py``, each input in a worker capped in time
and memory.  Here: the codes, the messages (short, naming the limit and how to raise it),
and the answers.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

import convsym
from convsym.budget import Budgets, current, raised
from convsym.cli import main
from convsym.errors import BudgetExceeded, ConvsymError, InternalError, UsageError

BINOMIALS = "*".join(f"(a{i}+b{i})" for i in range(30))


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _one_budget_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convsym: error:"), err
    assert "the limit is max_terms = " in lines[0] and "CONVSYM_MAX_TERMS" in lines[0]
    assert len(lines[0]) < 400
    return lines[0]


@pytest.mark.parametrize("sizes", [
    ["(a+b+c+d)**12", "(e+f+g+h)**12", 1],
    [BINOMIALS, 1],
])
def test_sizes_that_explode_when_expanded_are_refused(tmp_path: Path, sizes: list[Any]) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"input": sizes, "layers": ["Flatten"]}))
    status, _, err = _cli(["summary", str(path)])
    assert status == 2
    assert str(path) in _one_budget_line(err)
    with pytest.raises(ConvsymError) as info:
        convsym.load({"input": sizes, "layers": ["Flatten"]})
    assert info.value.code == "budget_exceeded"


def test_a_substitution_that_explodes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"  # --set takes expressions in the network's own symbols
    path.write_text(json.dumps({"input": list("abcdefgh"), "layers": ["Flatten"]}))
    status, _, err = _cli(["summary", str(path), "--set", "a=(a+b+c+d+e+f+g+h)**64"])
    assert status == 2 and "--set a = " in _one_budget_line(err)
    with pytest.raises(ConvsymError) as info:
        convsym.load(str(path)).subs(a="(a+b+c+d+e+f+g+h)**64")
    assert "subs: a = " in str(info.value) and info.value.code == "budget_exceeded"


def test_an_expansion_inside_a_floor_is_capped_too() -> None:
    with pytest.raises(ConvsymError) as info:
        convsym.load({"input": ["floor((a+b+c+d+e+f+g+h)**64/2)", 1], "layers": ["Flatten"]})
    assert info.value.code == "budget_exceeded"


def test_the_term_budget_can_be_raised() -> None:
    spec = {"input": ["(a+b+c)**20", 1], "layers": ["Flatten"]}  # 231 terms
    with raised(max_terms=100), pytest.raises(ConvsymError) as info:
        convsym.load(spec)
    assert info.value.code == "budget_exceeded"
    with raised(max_terms=1000):
        assert len(convsym.load(spec).output_shape) == 1


def test_budgets_are_validated_and_read_from_the_environment() -> None:
    with pytest.raises(UsageError) as info:
        Budgets(max_terms=0)
    assert info.value.code == "bad_budget"
    with pytest.raises(UsageError), raised(verify_seconds=float("nan")):
        pass
    code = ("from convsym.budget import current; print(current().max_terms)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "CONVSYM_MAX_TERMS": "123"})
    assert done.stdout.strip() == "123"
    assert current().max_terms == Budgets().max_terms


def test_messages_never_quote_a_huge_value() -> None:
    with pytest.raises(ConvsymError) as info:
        convsym.load({"input": [8, 8, 1], "layers": [{"Conv2D": {
            "filters": 2, "kernel_size": "-" + "(a+b+c+d)*" * 30 + "1"}}]})
    assert len(str(info.value)) <= 800


def _nested(depth: int, calls: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent.parent / "fuzz"))
    try:
        from test_fuzz_budgets import nested_keras
    finally:
        sys.path.pop(0)
    return nested_keras(depth, calls)


def test_a_nested_keras_model_called_many_times_is_counted_before_it_is_built() -> None:
    doc = json.dumps(_nested(6, 8))
    with pytest.raises(ConvsymError) as info:
        convsym.from_keras(doc)
    assert info.value.code == "budget_exceeded" and "max_layers" in str(info.value)
    assert len(convsym.from_keras(json.dumps(_nested(2, 3))).rows) == 1 + 3 * 3  # inlined


def test_many_layers_with_one_name_are_renamed_uniquely() -> None:
    doc = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "in"}},
        *[{"class_name": "ReLU", "config": {"name": "x"}}] * 300]}}
    names = [row.name for row in convsym.from_keras(doc).rows]
    assert len(set(names)) == len(names) == 300
    assert names[:3] == ["x", "x_1", "x_2"]


def test_a_document_with_shared_sub_lists_is_counted_not_walked() -> None:
    layers: Any = ["Flatten"]
    for _ in range(28):
        layers = [layers, layers]
    with pytest.raises(ConvsymError) as info:
        convsym.load({"input": [8, 8, 1], "layers": layers})
    assert info.value.code == "budget_exceeded"
    assert "max_document_values" in str(info.value) and "<dict>" in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    status, _, err = _cli(["summary", str(fifo)])
    assert status == 2 and "FIFO" in err and "regular files" in err
    with pytest.raises(ConvsymError) as info:
        convsym.from_keras(str(fifo))
    assert info.value.code == "unreadable"


def test_verify_skips_sizes_over_the_tensor_budget() -> None:
    net = convsym.example("seed1_symbolic")
    result = convsym.verify(net, samples=6, max_size=4096, backends=["reference"])
    assert result.ok and result.too_large > 0
    with raised(verify_elements=1), pytest.raises(BudgetExceeded) as info:
        convsym.verify(net, samples=2, backends=["reference"])
    assert "verify_elements" in str(info.value)


def test_verify_stops_at_its_time_budget() -> None:
    with raised(verify_seconds=1e-9), pytest.raises(BudgetExceeded) as info:
        convsym.verify(convsym.example("seed1_symbolic"), samples=50, backends=["reference"])
    assert info.value.code == "budget_exceeded" and "verify_seconds" in str(info.value)


@pytest.mark.parametrize("kwargs", [{"seed": 1.5}, {"seed": "x"}, {"seed": -1},
                                    {"progress": 3}])
def test_verify_arguments_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        convsym.verify(convsym.example("seed1"), samples=1, **kwargs)


def test_prove_timeout_is_a_real_bound() -> None:
    proof = convsym.prove("(a+b+c+d+e)**20 >= 1", timeout=0.5)
    assert proof.status in ("proved", "unknown")
    if proof.status == "unknown":  # out of time, or too large to expand (max_terms)
        assert "0.5" in proof.reason or "max_terms" in proof.reason, proof.reason


def test_solve_and_admissible_inputs_answer_through_the_worker() -> None:
    answer = convsym.solve(["n <= 4611686018427387904"], ["n"],
                           bounds=["-4611686018427387904 <= n"], timeout=5)
    assert answer.exact and answer.describe() == \
        "-4611686018427387904 <= n <= 4611686018427387904"
    net = convsym.example("seed3_symbolic")
    assert net.admissible_inputs(timeout=5).exact
    assert convsym.solve(net, "n", ["conv2d_1_H == 8"], timeout=5).describe() == \
        "n in {29, 30, 31, 32}"


@pytest.mark.parametrize(("call", "code"), [
    (lambda: convsym.prove("n >= 1", timout=1), "bad_call"),
    (lambda: convsym.solve(["n == 1"], "n", wher=["x"]), "bad_call"),
    (lambda: convsym.load({"input": [3], "layers": ["Flatten"]}, foo=1), "bad_call"),
    (lambda: convsym.solve(["n == 1"], "n", limits="x"), "wrong_type"),
    (lambda: convsym.solve(["n == 1"], "n", deadline=5), "wrong_type"),
    (lambda: convsym.admissible_inputs(convsym.example("seed1"), limits=3), "wrong_type"),
    (lambda: convsym.prove("n >= 1", timeout=float("nan")), "bad_timeout"),
    (lambda: convsym.compare(convsym.example("seed1_symbolic"),
                             convsym.example("seed1_symbolic"), at={"n": 2.5}), "wrong_type"),
    (lambda: convsym.compare(convsym.example("seed1_symbolic"),
                             convsym.example("seed1_symbolic"), at={"n": "x"}), "wrong_type"),
    (lambda: convsym.compare(convsym.example("seed1_symbolic"),
                             convsym.example("seed1_symbolic"), at={"q": 2}),
     "unknown_symbol"),
])
def test_public_api_errors_are_convsym_errors(call: Any, code: str) -> None:
    with pytest.raises(ConvsymError) as info:
        call()
    assert info.value.code == code
    assert "run_bounded" not in str(info.value)


def test_a_bug_behind_the_public_api_is_an_internal_error() -> None:
    from convsym.guarded import public

    def broken() -> None:
        raise KeyError("oops")

    with pytest.raises(InternalError) as info:
        public(broken)()
    assert info.value.code == "internal_error" and isinstance(info.value.__cause__, KeyError)


@pytest.mark.parametrize("values", [{"n": -3, "c": 1}, {"n": 0, "c": 1}, {"n": 28, "c": 0},
                                    {"n": 28, "c": -3}])
def test_accepts_rejects_sizes_below_one_like_subs(values: dict[str, int]) -> None:
    net = convsym.example("seed1_symbolic")
    assert not net.accepts(**values)
    with pytest.raises(ConvsymError):
        net.subs(values)
    assert net.accepts(n=28, c=1)


@pytest.mark.parametrize(("config", "code"), [
    ({"Dropout": {"rate": "0.5"}}, "not_a_number"),
    ({"Dropout": {"rate": 1.5}}, "bad_rate"),
    ({"Conv2D": {"filters": 2, "kernel_size": 3, "activation": "evil"}}, "bad_activation"),
    ({"Conv2D": {"filters": 2, "kernel_size": 3, "activation": "glu"}}, "bad_activation"),
    ({"Conv2D": {"filters": 2, "kernel_size": 3,
                 "activation": {"class_name": "__lambda__"}}}, "bad_activation"),
    ({"LeakyReLU": {"negative_slope": "0.3"}}, "not_a_number"),
])
def test_values_are_type_exact(config: dict[str, Any], code: str) -> None:
    with pytest.raises(ConvsymError) as info:
        convsym.load({"input": [8, 8, 1], "layers": [config]})
    assert info.value.code == code


def test_trainable_must_be_a_json_bool() -> None:
    doc = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "in"}},
        {"class_name": "Dense", "config": {"units": 3, "name": "d", "trainable": "no"}}]}}
    with pytest.raises(ConvsymError) as info:
        convsym.from_keras(doc)
    assert info.value.code == "not_a_bool" and "trainable" in str(info.value)


def test_the_keras_runner_gets_the_activation_function_not_its_name() -> None:
    pytest.importorskip("keras")
    from convsym.runners.keras_run import KerasRunner

    layer = convsym.load({"input": [8, 8, 1], "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 3, "activation": "relu"}}]}).layers[-1]
    built = KerasRunner().layer(layer)
    assert callable(built.activation) and not isinstance(built.activation, str)


@pytest.mark.parametrize("argv", [
    ["solve", "-", "--for", "n", "--where", "n <= 4611686018427387904", "--bounds",
     "-4611686018427387904 <= n", "--quiet"],
    ["compare", "example:seed1", "--depthwise", "\u00b2"],
])
def test_former_cli_tracebacks_end_cleanly(argv: list[str]) -> None:
    status, out, err = _cli(argv)
    assert "Traceback" not in err and "internal error" not in err
    assert status in (0, 2) and len(err.strip().splitlines()) <= 1


def test_a_non_ascii_name_prints_on_an_ascii_stdout(tmp_path: Path) -> None:
    path = tmp_path / "uni.json"
    path.write_text(json.dumps({"name": "r\u00e9seau\u2603", "input": [8, 8, 1], "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 3, "name": "c\u00e9"}}]}))
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-m", "convsym", "summary", str(path)],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "r\\xe9seau\\u2603" in done.stdout and "Traceback" not in done.stderr


def test_the_cli_reports_a_bug_as_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from convsym.commands import summary

    def boom(args: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(summary, "run", boom)
    status, _, err = _cli(["summary", "example:seed1"])
    assert status == 4
    assert err.strip().splitlines() == [err.strip()]
    assert "internal error: ZeroDivisionError: a bug" in err and "report" in err


def test_graph_spec_errors_name_the_spec_entry() -> None:
    doc = {"dialect": "keras", "inputs": {"a": [8, 8, 16], "b": [8, 8, 16]}, "layers": [
        {"Conv2D": {"filters": 16, "kernel_size": 3, "padding": "same"}, "name": "conv",
         "inputs": ["a"]},
        {"Conv2D": {"filters": 8, "kernel_size": 3}, "name": "conv3", "inputs": ["b"]},
        {"Add": {}, "inputs": ["conv", "conv3"]}]}
    with pytest.raises(ConvsymError) as info:
        convsym.load(doc)
    assert str(info.value).startswith("<dict>, layers[2]: Add 'add', axis 0:")


def test_a_parse_error_in_a_hyperparameter_is_not_prefixed_twice() -> None:
    with pytest.raises(ConvsymError) as info:
        convsym.load({"input": [8, 8, 1], "layers": [{"Conv2D": {"filters": 2,
                                                                  "kernel_size": "k//0"}}]})
    assert str(info.value).count("kernel_size") == 2  # the path and the field, once each


def test_keras_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"units": 0}}]}}))
    status, _, err = _cli(["summary", str(path)])
    assert status == 2 and str(path) in err and "<dict>" not in err


# --- found by the campaign (tests/fuzz/campaign.py) ------------------------------------------


def _torch_module(forward: Any) -> Any:
    """A module whose ``forward`` is ``forward(x)``."""
    torch = pytest.importorskip("torch")

    class Module(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            return forward(x)

    return Module()


def _raise(error: type[Exception]) -> Any:
    def forward(x: Any) -> Any:
        raise error("from the forward")
    return forward


def _loop(x: Any) -> Any:
    while True:
        x = x + 0


@pytest.mark.parametrize("error", [OverflowError, LookupError, StopIteration, UnicodeError,
                                   OSError, ArithmeticError])
def test_any_exception_from_a_forward_is_refused_cleanly(error: type[Exception]) -> None:
    """Not only the usual TypeError/ValueError/...: an OverflowError was an internal error."""
    with pytest.raises(ConvsymError) as info:
        convsym.from_torch(_torch_module(_raise(error)), (3, 8, 8))
    assert info.value.code == "untraceable" and error.__name__ in str(info.value)


def test_a_forward_looping_on_tensors_stops_at_the_build_budget() -> None:
    with raised(build_seconds=0.3), pytest.raises(BudgetExceeded) as info:
        convsym.from_torch(_torch_module(_loop), (3, "H", 8))
    assert info.value.code == "budget_exceeded" and "build_seconds" in str(info.value)


def test_a_solve_condition_too_large_to_expand_is_a_budget_error() -> None:
    """It was code not_integer; with a constant divisor SymPy expanded it without a limit."""
    for condition in ["(a+b+c+d+e)**20 <= 4611686018427387904",
                      "(a+b+c+d+e+f+g+h)**60/3 <= 5"]:
        with pytest.raises(BudgetExceeded) as info:
            convsym.solve([condition], ["a"], timeout=None)
        assert info.value.code == "budget_exceeded" and "max_terms" in str(info.value)
        assert str(info.value).startswith("condition: ")


def test_compare_networks_with_a_symbolic_kernel_per_layer() -> None:
    """12 kernels took minutes (multivariate factoring for display); 120 over max_terms."""
    spec = {"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": f"k{i}"}}
        for i in range(12)]}
    a, b = convsym.load(spec), convsym.load(spec)
    comparison = convsym.compare(a, b)
    assert comparison.totals.delta_params == 0 and comparison.totals.delta_macs == 0
    assert "Total" in comparison.text()
    c = convsym.load(dict(spec, layers=spec["layers"][:-1]))
    assert convsym.compare(c, a).totals.delta_macs != 0


@pytest.mark.parametrize("kwargs", [{"values": "n"}, {"values": ["n"]}, {"values": (3, "H")},
                                    {"xs": "n"}, {"xs": 0}, {"vary": []}, {"layer": 0},
                                    {"kind": 3}])
def test_draw_refuses_arguments_of_the_wrong_type(kwargs: dict[str, Any]) -> None:
    """Each was an internal error (a TypeError or ValueError deep in the drawing code)."""
    with pytest.raises(ConvsymError) as info:
        convsym.draw(convsym.example("seed1_symbolic"), **{"kind": "size-plot", **kwargs})
    assert info.value.code in ("wrong_type", "bad_usage"), info.value.code


def test_an_argument_error_quoting_a_huge_word_stays_short() -> None:
    status, _, err = _cli(["verify", "example:seed1", "--backend", "n//" * 700])
    assert status == 2 and len(err.strip().splitlines()) == 1 and len(err) < 900


@pytest.mark.parametrize("argv", [["compare", "example:seed1_symbolic", "--at=--"],
                                  ["prove", "n >= 1", "--assume=--"]])
def test_an_option_whose_value_is_a_lone_double_dash_is_refused(argv: list[str]) -> None:
    """argparse drops the "--" and stored an empty list: compare crashed on it."""
    status, _, err = _cli(argv)
    assert status == 2 and "expected one argument" in err and len(err.splitlines()) == 1


def test_a_figure_format_whose_tex_system_is_missing_is_one_clean_line() -> None:
    from convsym.drawing.raster import save

    class Figure:
        def savefig(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("'xelatex' not found; install it")

    class Pyplot:
        def close(self, fig: Any) -> None:
            pass

    with pytest.raises(UsageError) as info:
        save(Pyplot(), Figure(), "pgf", 150)
    assert info.value.code == "missing_tool" and "xelatex" in str(info.value)


def _spin(x: Any) -> Any:
    while True:  # plain Python: no tensor operation where the trace could check the clock
        pass


def _busy(x: Any) -> Any:
    total = 0
    for i in range(10**10):  # a long pure-Python loop that swallows every Exception
        try:
            total += i
        except Exception:  # noqa: BLE001, S112 - the point: the alarm is no Exception
            continue
    return x


@pytest.mark.parametrize("forward", [_spin, _busy], ids=["while-true", "catches-exception"])
def test_a_forward_looping_in_plain_python_stops_at_the_build_budget(forward: Any) -> None:
    import signal

    start = time.monotonic()
    with raised(build_seconds=0.3), pytest.raises(BudgetExceeded) as info:
        convsym.from_torch(_torch_module(forward), (3, 8, 8))
    assert time.monotonic() - start < 30  # stopped, not run to its end
    assert info.value.code == "budget_exceeded" and "build_seconds" in str(info.value)
    assert "stopped by the alarm" in str(info.value)
    # the process is left as it was: default SIGALRM, no timer, and building works again
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    torch = pytest.importorskip("torch")
    assert convsym.from_torch(torch.nn.Conv2d(3, 4, 3), (3, 8, 8)).output_shape == (4, 6, 6)


def _deep_symbolic(depth: int) -> dict[str, Any]:
    return {"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": f"k{i}",
                    "stride": f"s{i}"}} for i in range(depth)]}


def test_compare_deep_networks_with_a_symbolic_kernel_and_stride_per_layer() -> None:
    """300 vs 150 such layers ran for minutes (factoring the totals' difference, printing
    it fresh) and padded every row to the width of the megabyte totals."""
    a, b = convsym.load(_deep_symbolic(40)), convsym.load(_deep_symbolic(20))
    table = convsym.compare(a, b)
    text = table.text()
    lines = text.splitlines()
    assert len(lines[-1]) > 50_000  # the totals: every layer's nested floors
    assert max(len(line) for line in lines[:-1]) < 10_000  # rows not padded to the totals
    total = table.totals
    point = {s: 2 for s in total.delta_macs.free_symbols}
    point.update({s: 1_000_000 for s in total.delta_macs.free_symbols if s.name in "HW"})
    assert total.delta_macs.xreplace(point) == \
        (total.macs_b - total.macs_a).xreplace(point)  # exact: B - A
    with raised(compare_seconds=1e-9), pytest.raises(BudgetExceeded) as info:
        convsym.compare(a, b)
    assert "compare_seconds" in str(info.value) and "CONVSYM_COMPARE_SECONDS" in str(info.value)


def test_derive_is_bounded_by_derive_seconds_in_the_api_and_the_cli(
        capsys: pytest.CaptureFixture[str]) -> None:
    from convsym.cli import main

    net = convsym.example("seed1_symbolic")
    with raised(derive_seconds=1e-9), pytest.raises(BudgetExceeded) as info:
        convsym.derive(net)
    message = str(info.value)
    assert info.value.code == "budget_exceeded"
    assert message.startswith("deriving 'seed1_symbolic': out of time")
    assert "derive_seconds" in message and "CONVSYM_DERIVE_SECONDS" in message
    with raised(derive_seconds=1e-9):
        assert main(["derive", "example:seed1_symbolic"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "derive_seconds" in err
    assert convsym.derive(net).steps  # within the default budget
