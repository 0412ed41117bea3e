"""``derivations/`` is exactly what ``python -m convsym.catalog derivations`` generates.

Everything is regenerated into a temporary folder and compared file by file; any difference
fails with a unified diff.  ``python -m pytest tests/golden --update-golden`` rewrites the
folder instead.
"""

from __future__ import annotations

import difflib
import pathlib

import pytest

from convsym import catalog

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "derivations"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("derivations")
    catalog.generate(str(folder))
    return folder


def test_same_files(generated: pathlib.Path, update_golden: bool) -> None:
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        for old in GOLDEN.iterdir():
            if old.is_file() and old.name not in {p.name for p in generated.iterdir()}:
                old.unlink()
        catalog.generate(str(GOLDEN))
    want = sorted(p.name for p in generated.iterdir())
    have = sorted(p.name for p in GOLDEN.iterdir()) if GOLDEN.is_dir() else []
    assert have == want, ("derivations/ does not hold exactly the generated files; run "
                          "python -m pytest tests/golden --update-golden")


def test_same_content(generated: pathlib.Path) -> None:
    problems = []
    for new in sorted(generated.iterdir()):
        old = GOLDEN / new.name
        if not old.exists():
            continue
        a = old.read_text(encoding="utf-8")
        b = new.read_text(encoding="utf-8")
        if a != b:
            diff = "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                                f"derivations/{new.name}", "generated", n=1))
            problems.append(diff[:3000])
    assert not problems, ("derivations/ differs from what the catalog generates (run "
                          "python -m pytest tests/golden --update-golden if intended):\n"
                          + "\n".join(problems))


def test_every_entry_has_three_formats(generated: pathlib.Path) -> None:
    names = {p.name for p in generated.iterdir()}
    for entry in catalog.ENTRIES:
        for ext, _ in catalog.FORMATS:
            assert f"{entry.name}.{ext}" in names
    assert "README.md" in names


def test_update_golden_option_is_registered(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getoption("--update-golden") in (True, False)
