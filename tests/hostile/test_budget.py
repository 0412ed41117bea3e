"""convsym.budget: the killable worker and the cooperative deadline."""

from __future__ import annotations

import os
import time

import pytest

from convsym.budget import Deadline, WorkerCrashed, run_bounded
from convsym.errors import BudgetExceeded, ConvsymError, LayerConfigError, SpecError, UsageError


def _hang() -> None:
    while True:
        pass


def _sleep() -> None:
    time.sleep(60)


def _allocate() -> bytearray:
    return bytearray(4 * 1024**3)


def _exit() -> None:
    os._exit(7)


def _kill_self() -> None:
    os.kill(os.getpid(), 9)


def _bad_layer() -> None:
    from convsym.layers.keras import Conv2D

    Conv2D(0, 3)


def _bug() -> None:
    raise ZeroDivisionError("a bug")


def test_returns_the_result() -> None:
    assert run_bounded(divmod, 17, 5) == (3, 2)
    assert run_bounded(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]


def test_a_closure_runs_in_the_worker() -> None:
    base = 40
    assert run_bounded(lambda: base + 2) == 42


@pytest.mark.parametrize("fn", [_hang, _sleep])
def test_work_past_its_time_is_killed(fn: object) -> None:
    with pytest.raises(BudgetExceeded) as info:
        run_bounded(fn, timeout=0.3, what="a loop")  # type: ignore[arg-type]
    assert info.value.code == "time_limit"
    assert "a loop" in str(info.value) and "0.3 s" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_memory_beyond_the_budget_is_refused() -> None:
    with pytest.raises(BudgetExceeded) as info:
        run_bounded(_allocate, memory_mb=256, what="allocating")
    assert info.value.code == "memory_limit"
    assert "256 MiB" in str(info.value)


@pytest.mark.parametrize(("fn", "fragment"), [(_exit, "exit status 7"),
                                              (_kill_self, "SIGKILL")])
def test_a_worker_that_dies_is_reported(fn: object, fragment: str) -> None:
    with pytest.raises(BudgetExceeded) as info:
        run_bounded(fn)  # type: ignore[arg-type]
    assert info.value.code == "worker_died"
    assert fragment in str(info.value)


def test_convsym_errors_come_back_whole() -> None:
    with pytest.raises(LayerConfigError) as info:
        run_bounded(_bad_layer)
    err = info.value
    assert (err.code, err.kind, err.field, err.rule) == (
        "below_minimum", "Conv2D", "filters", "must be an integer >= 1")
    made = run_bounded(lambda: SpecError("x", source="f.yaml", path="layers[0]", code="zz"))
    assert (made.source, made.path, made.code, str(made)) == ("f.yaml", "layers[0]", "zz",
                                                              "f.yaml, layers[0]: x")


def test_errors_inside_results_come_back_whole() -> None:
    from convsym.layers.keras import Conv2D

    def collect() -> list[object]:
        found: list[object] = []
        try:
            Conv2D(0, 3)
        except ConvsymError as err:
            found.append(err)
        return [found, {"nested": (ValueError("plain"),)}]

    (errors, extra) = run_bounded(collect)
    assert isinstance(errors[0], LayerConfigError) and errors[0].field == "filters"
    assert str(extra["nested"][0]) == "plain"


def test_a_bug_stays_a_bug_with_the_worker_traceback() -> None:
    with pytest.raises(ZeroDivisionError) as info:
        run_bounded(_bug)
    assert not isinstance(info.value, ConvsymError)
    assert any("_bug" in note for note in getattr(info.value, "__notes__", []))


def test_an_unpicklable_result_is_a_crash_not_a_budget() -> None:
    with pytest.raises(WorkerCrashed, match="pickle"):
        run_bounded(lambda: (lambda: 1))


def test_nested_workers() -> None:
    assert run_bounded(lambda: run_bounded(sum, [1, 2, 3], timeout=5), timeout=10) == 6


@pytest.mark.parametrize("kw", [{"timeout": 0}, {"timeout": -1}, {"timeout": True},
                                {"timeout": float("nan")}, {"memory_mb": "1"},
                                {"memory_mb": float("inf")}])
def test_bad_limits(kw: dict[str, object]) -> None:
    with pytest.raises(UsageError) as info:
        run_bounded(int, **kw)  # type: ignore[arg-type]
    assert info.value.code == "bad_budget"


def test_no_limits() -> None:
    assert run_bounded(int, "5", timeout=None, memory_mb=None) == 5


def test_deadline() -> None:
    d = Deadline(3600, what="the check")
    assert not d.expired() and 3599 < d.remaining() <= 3600
    d.check()
    assert d.within(0.0).expired() and d.within(None).remaining() <= 3600
    forever = Deadline(None)
    assert not forever.expired() and forever.remaining() == float("inf")
    assert forever.within(None).seconds is None
    done = Deadline(0, what="the period check")
    with pytest.raises(BudgetExceeded) as info:
        done.check("axis H")
    assert info.value.code == "time_limit"
    assert str(info.value) == "the period check: out of time during axis H (the budget is 0 s)"


@pytest.mark.parametrize("seconds", [-1, True, "5", float("nan")])
def test_bad_deadline(seconds: object) -> None:
    with pytest.raises(UsageError):
        Deadline(seconds)  # type: ignore[arg-type]


def test_a_huge_timeout_is_only_a_long_wait() -> None:
    assert run_bounded(int, "7", timeout=1e308) == 7


def _stride_chain(depth: int) -> dict[str, object]:
    return {"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "stride": "s",
                    "padding": 1}} for _ in range(depth)]}


def test_building_is_bounded_by_build_seconds_in_the_api_and_the_cli(
        tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    from pathlib import Path

    import convsym
    from convsym.budget import raised
    from convsym.cli import main

    with raised(build_seconds=1e-9), pytest.raises(ConvsymError) as info:
        convsym.load(_stride_chain(5))
    assert info.value.code == "budget_exceeded" and "build_seconds" in str(info.value)
    path = Path(str(tmp_path)) / "deep.json"
    path.write_text(json.dumps(_stride_chain(300)), encoding="utf-8")
    with raised(build_seconds=1e-9):
        assert main(["summary", str(path)]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("convsym: error: ")
    assert "build_seconds" in err and "CONVSYM_BUILD_SECONDS" in err
    assert main(["summary", str(path), "--json"]) == 0  # within the default budget
    assert "ceiling(H/s**300)" in capsys.readouterr().out


# --- wall-clock budgets in process: timed(), checkpoint() and the alarm ----------------------


def _spin_until_stopped() -> None:
    end = time.monotonic() + 30
    while time.monotonic() < end:  # never reaches a check: only the alarm stops it
        pass
    raise AssertionError("the alarm did not stop the loop")


def test_timed_blocks_share_a_budget_and_checkpoint_sees_every_clock() -> None:
    from convsym.budget import building, checkpoint, raised, timed
    from convsym.errors import OutOfTime

    checkpoint()  # no clock: nothing to check
    with raised(build_seconds=30, derive_seconds=1e-9):
        with building() as check:
            check("a layer")  # the build still has time
            with timed("derive_seconds", "deriving 'x'"), pytest.raises(OutOfTime) as info:
                checkpoint("step 1")
            assert str(info.value).startswith("deriving 'x': out of time before step 1")
            checkpoint("after the derivation")  # its clock ended with its block
        with building(), building() as inner:  # nested: the outer block's clock
            inner("a layer")
    with pytest.raises(BudgetExceeded) as error, raised(build_seconds=1e-9), building():
        checkpoint()
    assert error.value.code == "budget_exceeded" and "build_seconds" in str(error.value)


def test_the_alarm_stops_work_that_never_checks_and_restores_sigalrm() -> None:
    import signal

    from convsym.budget import raised, timed
    from convsym.errors import OutOfTime

    for _ in range(2):  # and again: nothing of the first is left behind
        start = time.monotonic()
        with raised(derive_seconds=0.2), pytest.raises(OutOfTime) as info:
            with timed("derive_seconds", "deriving 'spin'"):
                _spin_until_stopped()
        assert time.monotonic() - start < 10
        assert "stopped by the alarm" in str(info.value) and "derive_seconds" in str(info.value)
        assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_alarm_leaves_a_users_handler_and_timer_alone() -> None:
    import signal

    from convsym.budget import checkpoint, raised, timed
    from convsym.errors import OutOfTime

    calls: list[int] = []

    def mine(signum: int, frame: object) -> None:
        calls.append(signum)

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        with raised(derive_seconds=0.05), timed("derive_seconds", "deriving 'x'"):
            assert signal.getsignal(signal.SIGALRM) is mine
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            time.sleep(0.1)
            with pytest.raises(OutOfTime):
                checkpoint()  # the cooperative check still holds
        assert signal.getsignal(signal.SIGALRM) is mine and not calls
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_no_alarm_off_the_main_thread() -> None:
    import signal
    import threading

    from convsym.budget import checkpoint, raised, timed
    from convsym.errors import OutOfTime

    seen: list[object] = []

    def work() -> None:
        with raised(derive_seconds=0.05), timed("derive_seconds", "deriving 'x'"):
            seen.append(signal.getitimer(signal.ITIMER_REAL))
            time.sleep(0.1)
            try:
                checkpoint()
            except OutOfTime as err:
                seen.append(err.code)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [(0.0, 0.0), "budget_exceeded"]
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
