"""The import structure of docs/architecture.md: layers that never import upward, no circles.

``lint-imports`` checks the contracts in ``.importlinter``; these tests run it (so CI cannot
skip it) and check what import-linter does not: every module is placed in a layer, the
contract's type-only exceptions stay type-only, the one seam upward lists only real targets
above its callers, and every import left inside a function says why.
"""

from __future__ import annotations

import ast
import configparser
import importlib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "convsym"


def _config() -> configparser.ConfigParser:
    config = configparser.ConfigParser(inline_comment_prefixes=(";",))
    config.read(ROOT / ".importlinter")
    return config


def _layers() -> list[list[str]]:
    """The layers, top first, each a list of module names."""
    text = _config()["importlinter:contract:layers"]["layers"]
    return [[m.strip() for m in line.split(":")] for line in text.strip().splitlines()]


def _sources() -> dict[str, Path]:
    """Every module of the package by name, with its file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _modules() -> list[str]:
    return list(_sources())


def _layer_of(module: str) -> int | None:
    """The index of the layer holding ``module`` (0 is the top), or None."""
    for i, layer in enumerate(_layers()):
        if any(module == m or module.startswith(m + ".") for m in layer):
            return i
    return None


def test_the_contracts_are_kept() -> None:
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def test_every_module_has_a_layer() -> None:
    # the root package (the lazy public facade) and printing/__init__ (it re-exports sstr)
    # are containers; every other module must be placed, so a new module is placed on purpose
    containers = {"convsym", "convsym.printing"}
    unplaced = [m for m in _modules() if m not in containers and _layer_of(m) is None]
    assert unplaced == []


def _imports_of(module: str, target: str) -> list[tuple[ast.stmt, bool]]:
    """Each import of ``target`` in ``module``, with whether it sits under TYPE_CHECKING."""
    path = _sources()[module]
    found: list[tuple[ast.stmt, bool]] = []

    def walk(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            under = typing_only or (isinstance(child, ast.If) and isinstance(child.test, ast.Name)
                                    and child.test.id == "TYPE_CHECKING")
            if isinstance(child, ast.ImportFrom) and child.module == target:
                found.append((child, typing_only))
            walk(child, under)

    walk(ast.parse(path.read_text()), False)
    return found


def test_ignored_imports_stay_type_only() -> None:
    ignored = _config()["importlinter:contract:acyclic"]["ignore_imports"]
    for line in ignored.strip().splitlines():
        importer, imported = (s.strip() for s in line.split("->"))
        if importer in ("convsym.printing.proofdoc", "convsym.derivation"):
            continue  # the two rooms of printing/ meet: explained in .importlinter
        found = _imports_of(importer, imported)
        assert found and all(typing_only for _, typing_only in found), (importer, imported)


def test_the_seam_upward_reaches_real_targets_above_its_callers() -> None:
    from convsym.seam import UPWARD, upward

    callers = max(_layer_of("convsym.network") or 0, _layer_of("convsym.derivation") or 0)
    for name, (module, attr) in UPWARD.items():
        assert upward(name) is getattr(importlib.import_module(module), attr)
        layer = _layer_of(module)
        assert layer is not None and layer < callers, (name, module)


def test_only_the_seam_and_the_facades_import_by_name() -> None:
    # a name-based import hides an edge from import-linter: the public facade (convsym),
    # the CLI's subcommand registry and the seam are the only places allowed to do it
    allowed = {"convsym", "convsym.cli", "convsym.seam"}
    users = [module for module, path in _sources().items()
             if "import_module(" in path.read_text() or "__import__(" in path.read_text()]
    assert sorted(set(users) - allowed) == []


def test_every_import_inside_a_function_says_why() -> None:
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                for field in ("body", "orelse", "finalbody"):
                    stmts = getattr(node, field, None)
                    if not isinstance(stmts, list):
                        continue
                    previous = None
                    for st in stmts:
                        if isinstance(st, (ast.Import, ast.ImportFrom)):
                            block_start = previous is None or not isinstance(
                                previous, (ast.Import, ast.ImportFrom))
                            said = "# why" in lines[st.lineno - 1] or (
                                block_start and lines[st.lineno - 2].strip().startswith("# why"))
                            if block_start and not said:
                                missing.append(f"{path.relative_to(ROOT)}:{st.lineno}")
                        previous = st
    assert missing == []
