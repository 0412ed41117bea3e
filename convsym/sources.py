"""Resolve a SOURCE argument (``example:NAME``, a spec file, a Keras JSON file, an ONNX model
``*.onnx``) to a network.

>>> resolve("example:seed1_symbolic", sets=["n=28", "c=1"]).output_shape
(24, 24, 64)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from convsym.budget import building
from convsym.errors import SpecError, UsageError, did_you_mean
from convsym.examples import example
from convsym.expr import parse_expr
from convsym.importers.keras_json import from_keras
from convsym.importers.onnx_model import from_onnx
from convsym.spec import from_mapping, read_document


def parse_sets(sets: Sequence[str]) -> dict[str, Any]:
    """``["n=28", "k=2*m+1"]`` to ``{"n": 28, "k": 2*m + 1}`` (safe parser)."""
    out: dict[str, Any] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--set {item!r}: write NAME=VALUE, e.g. --set n=28",
                             code="bad_set")
        expr = parse_expr(value, field=f"--set {name}")
        out[name] = int(expr) if expr.is_Integer else expr
    return out


def is_keras_json(doc: Any) -> bool:
    """True for a ``model.to_json()`` document (``class_name`` and ``config`` keys)."""
    return isinstance(doc, dict) and "class_name" in doc and "config" in doc


def resolve(source: str, *, sets: Sequence[str] = (), from_: str | None = None) -> Any:
    """The network a SOURCE names, with ``--set`` values substituted.

    Reading, importing, building and substituting share one wall-clock budget
    (``build_seconds``, default 60 s; ``CONVSYM_BUILD_SECONDS=N`` raises it), checked
    before each layer: over it, one line with code ``budget_exceeded``.
    """
    with building():
        return _resolve(source, sets, from_)


def _resolve(source: str, sets: Sequence[str], from_: str | None) -> Any:
    if source.startswith("example:"):
        net = example(source.split(":", 1)[1])
    elif from_ == "onnx" or (from_ is None and source.lower().endswith(".onnx")):
        net = from_onnx(source)
    else:
        if not os.path.exists(source):
            raise SpecError("no such file (or write example:NAME for a built-in example)",
                            source=source, code="no_file")
        doc = read_document(source)
        if from_ == "keras" or (from_ is None and is_keras_json(doc)):
            # a JSON file by its path (the importer's own reader and limits); a document in
            # another format as read, named by its file in errors
            if source.lower().endswith(".json") or not isinstance(doc, dict):
                net = from_keras(source)
            else:
                net = from_keras(doc, origin=source)
        else:
            net = from_mapping(doc, origin=source)
    values = parse_sets(sets)
    check_sets(net, values)
    return net.subs(values) if values else net


def check_sets(net: Any, values: dict[str, Any]) -> None:
    """Refuse a ``--set`` of a name the network lacks, or a value naming a symbol it lacks.

    ``--set`` gives symbols values: integers, or expressions in the network's own symbols
    (``--set W=H`` makes the input square).  A value naming a new symbol (``--set n=abc``)
    would silently rename ``n``; it is almost always a typo, so it is refused.

    >>> net = resolve("example:seed1_symbolic")
    >>> check_sets(net, parse_sets(["n=abc"]))
    Traceback (most recent call last):
    convsym.errors.UsageError: --set n=abc: abc is not a symbol of 'seed1_symbolic' (its symbols are c, n); a value is an integer or an expression in those symbols
    >>> check_sets(net, parse_sets(["n=2*c + 1"]))
    """  # noqa: E501
    known = sorted(s.name for s in net.all_symbols())
    listed = ", ".join(known) or "none"
    for name, value in values.items():
        if name not in known:
            raise UsageError(f"--set {name}={value}: {name} is not a symbol of {net.name!r}"
                             f"{did_you_mean(name, known)}; its symbols are {listed}",
                             code="unknown_symbol")
        new = sorted(s.name for s in getattr(value, "free_symbols", ()) if s.name not in known)
        if new:
            are = "is not a symbol" if len(new) == 1 else "are not symbols"
            raise UsageError(f"--set {name}={value}: {', '.join(new)} {are} of {net.name!r} "
                             f"(its symbols are {listed}); a value is an integer or an "
                             "expression in those symbols", code="unknown_symbol")
