"""Python's cyclic garbage collector paused while convsym works, then restored.

Building a deep network and its summary allocate hundreds of thousands of small objects
that all survive (sizes, SymPy expressions, memos) and form almost no reference cycles.
The collector scans each survivor again at every generation-1 and generation-2 pass, and
the full passes walk every live object, so the scans grow with the network: on a
1,000-layer chain they were 13-15 % of the CPU time of ``summary().to_dict()``, and the
largest part of the super-linear growth from 100 to 1,000 layers.  Reference counting
still frees everything that is not in a cycle; cycles made during the call are collected
by the first pass after it.  It is paused only around bounded work that keeps what it
makes: building a network (:func:`convsym.budget.building`, under ``build_seconds``) and
making and printing its summary; never around open-ended loops (``verify``), whose garbage
must be collected as they go.

:func:`collector_paused` nests (only the outermost restores the state it found, from any
thread: a count under a lock), never enables a collector the caller had disabled, and a
forked child (a verification worker started inside a paused call) starts with the
collector as the parent found it.

>>> import gc
>>> with collector_paused():
...     with collector_paused():
...         gc.isenabled()
...     gc.isenabled()
False
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator

__all__ = ["collector_paused"]

_LOCK = threading.Lock()
_state = {"depth": 0, "was_enabled": False}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the ``with`` block (see the module doc)."""
    with _LOCK:
        if _state["depth"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _state["depth"] = max(0, _state["depth"] - 1)
            if _state["depth"] == 0 and _state["was_enabled"]:
                gc.enable()


def _after_fork_in_child() -> None:
    # the child runs its own work from here (a forked worker does not return through the
    # parent's with-blocks): the collector as the parent found it, and no pause held
    if _state["depth"] and _state["was_enabled"]:
        gc.enable()
    _state["depth"] = 0
    global _LOCK
    _LOCK = threading.Lock()  # (a lock held by another parent thread stays held in a child)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
