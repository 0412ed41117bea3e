"""Suite-wide settings (tests and doctests): Keras on the torch backend, no skips in CI.

Tests that need PyTorch, Keras or pdflatex skip on a user's machine without them.  In CI
(``CI`` set to a true value) every skip is turned into a failure, so the real parts always
run there.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, None, None]:
    outcome = yield
    _fail_skip(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, None, None]:
    outcome = yield
    _fail_skip(outcome.get_result())  # type: ignore[attr-defined]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite derivations/ from the catalog instead of comparing "
                          "(then review with git diff derivations/)")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run should rewrite the golden files (``pytest --update-golden``)."""
    return bool(request.config.getoption("--update-golden"))
