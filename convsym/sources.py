"""Resolve a SOURCE argument (``example:NAME``, a spec file, a Keras JSON file, an ONNX model
``*.onnx``) to a network.

>>> resolve("example:seed1_symbolic", sets=["n=28", "c=1"]).output_shape
(24, 24, 64)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from convsym.errors import SpecError, UsageError
from convsym.expr import parse_expr


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
    import convsym.examples
    import convsym.importers.keras_json
    import convsym.spec  # noqa: F401 - imported before the clock starts, as a bare
    from convsym.budget import building

    if from_ == "onnx" or source.lower().endswith(".onnx"):
        import convsym.importers.onnx_model  # noqa: F401
    with building():
        return _resolve(source, sets, from_)


def _resolve(source: str, sets: Sequence[str], from_: str | None) -> Any:
    from convsym.examples import example
    from convsym.spec import from_mapping, read_document

    if source.startswith("example:"):
        net = example(source.split(":", 1)[1])
    elif from_ == "onnx" or (from_ is None and source.lower().endswith(".onnx")):
        from convsym.importers.onnx_model import from_onnx

        net = from_onnx(source)
    else:
        if not os.path.exists(source):
            raise SpecError("no such file (or write example:NAME for a built-in example)",
                            source=source, code="no_file")
        doc = read_document(source)
        if from_ == "keras" or (from_ is None and is_keras_json(doc)):
            from convsym.importers.keras_json import from_keras

            # the path, not the parsed document, so that errors name the file
            net = from_keras(source if source.lower().endswith(".json") or
                             not isinstance(doc, dict) else doc)
        else:
            net = from_mapping(doc, origin=source)
    values = parse_sets(sets)
    return net.subs(values) if values else net
