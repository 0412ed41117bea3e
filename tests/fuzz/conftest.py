"""Fuzz suite: report how many generated inputs each test ran."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per fuzz test with its number of generated inputs, and the total."""
    import fuzzkit

    if not fuzzkit.COUNTS:
        return
    total = sum(fuzzkit.COUNTS.values())
    terminalreporter.write_sep("-", f"fuzz: {total:,} generated inputs")
    for test, n in sorted(fuzzkit.COUNTS.items()):
        terminalreporter.write_line(f"{n:>8,}  {test}")
