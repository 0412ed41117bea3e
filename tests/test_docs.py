"""The documentation in ``docs/`` stays true: its spec examples load, its links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convsym.readers import parse_json, parse_yaml
from convsym.spec import load

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
BLOCK = re.compile(r"```(yaml|json)\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _spec_blocks() -> list[tuple[str, str, str]]:
    return [(path.name, kind, text) for path in DOCS
            for kind, text in BLOCK.findall(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize(("doc", "kind", "text"), _spec_blocks())
def test_spec_examples_load(doc: str, kind: str, text: str) -> None:
    data = parse_yaml(text, doc) if kind == "yaml" else parse_json(text, doc)
    net = load(data, name=doc)
    assert net.rows, doc


@pytest.mark.parametrize("path", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_links_resolve_inside_the_repository(path: Path) -> None:
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        resolved = (path.parent / target).resolve()
        assert resolved.exists(), f"{path.name} links to {target}, which does not exist"
        assert ROOT in resolved.parents or resolved == ROOT, f"{path.name} links outside: {target}"
