"""Fuzz suite: report how many generated inputs each test ran, and the measured ones' worst
time and memory."""

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
    for test, cases in sorted(fuzzkit.MEASURED.items()):
        slowest = max(seconds for seconds, _ in cases)
        largest = max(peak for _, peak in cases)
        terminalreporter.write_line(f"{len(cases):>8,}  {test}: measured in a worker, slowest "
                                    f"{slowest:.2f} s, largest peak {largest:.0f} MiB")
