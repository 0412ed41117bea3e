"""``--update-golden``: rewrite the generated files in ``derivations/`` instead of comparing.

Run ``python -m pytest tests/golden --update-golden`` after an intended change to the
derivations, then review the diff with ``git diff derivations/``.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite derivations/ from the catalog instead of comparing")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run should rewrite the golden files."""
    return bool(request.config.getoption("--update-golden"))
