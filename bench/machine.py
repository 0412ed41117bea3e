"""The machine and software a benchmark ran on (for the results file and the README)."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from typing import Any


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version(package: str) -> str | None:
    """The installed version of ``package``, or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    """Platform, CPU, cores, load, Python and library versions, date."""
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average_1_5_15_min": load,
        "python": platform.python_version(),
        "versions": {name: version(name) for name in
                     ("torch", "sympy", "numpy", "onnx", "onnxruntime", "z3-solver")},
    }


def load_now() -> float | None:
    """The 1-minute load average."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None
