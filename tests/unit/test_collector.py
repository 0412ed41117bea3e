"""convsym.collector: the garbage collector paused for convsym's work, restored after."""

from __future__ import annotations

import gc
import os
import threading

import pytest

import convsym
from convsym.collector import collector_paused
from convsym.errors import ConvsymError


def test_restores_after_an_error_and_keeps_a_disabled_collector_disabled() -> None:
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        1 // 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # never enables what the caller disabled
    finally:
        gc.enable()


def test_public_calls_and_builds_leave_the_collector_as_they_found_it() -> None:
    net = convsym.load({"dialect": "torch", "input": [3, "H", "W"],
                        "layers": [{"Conv2d": {"in_channels": 3, "out_channels": 4,
                                               "kernel_size": 3, "stride": "s"}}]})
    assert gc.isenabled()
    assert net.summary().to_dict()["layers"][0]["output_shape"][1] == "ceiling((H - 2)/s)"
    assert "Total params" in net.summary().text()
    with pytest.raises(ConvsymError):
        convsym.load({"dialect": "torch", "input": [3, "H"], "layers": [{"Nope": {}}]})
    assert gc.isenabled()


def test_threads_share_one_pause_the_last_one_out_restores() -> None:
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(10)
    with collector_paused():
        pass
    assert not gc.isenabled()  # the other thread still works
    leave.set()
    t.join()
    assert gc.isenabled()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_child_forked_inside_a_pause_collects_again() -> None:
    with collector_paused():
        pid = os.fork()
        if pid == 0:  # the child: report whether its collector runs
            os._exit(0 if gc.isenabled() else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert gc.isenabled()
