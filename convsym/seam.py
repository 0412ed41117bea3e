"""The one declared seam upward: convenience methods that call code built on their object.

``net.costs()`` is :func:`convsym.costing.costs` applied to ``net``.  A network (layer 5 of
``docs/architecture.md``) may not import the analyses built on it (layer 6): they import the
network.  So :class:`~convsym.network.Network`'s convenience methods, and a derivation's
``to_latex`` / ``to_markdown`` / ``to_text``, find their function here, by name, when first
called.  :data:`UPWARD` lists every such target; nothing else in convsym reaches upward
(``lint-imports`` checks the imports; ``tests/test_architecture.py`` checks this table).

>>> upward("costs").__module__
'convsym.costing'
"""

from __future__ import annotations

import importlib
from typing import Any

UPWARD: dict[str, tuple[str, str]] = {
    # Network's conveniences (convsym.network)
    "costs": ("convsym.costing", "costs"),
    "receptive_field": ("convsym.receptive", "receptive_field"),
    "summary": ("convsym.summary", "Summary"),
    "accepts": ("convsym.whatif", "accepts"),
    "solve": ("convsym.api", "solve"),
    "admissible_inputs": ("convsym.api", "admissible_inputs"),
    "compare": ("convsym.whatif", "compare"),
    # Derivation's printers (convsym.derivation)
    "render_latex": ("convsym.printing.render", "render_latex"),
    "render_markdown": ("convsym.printing.render", "render_markdown"),
    "render_text": ("convsym.printing.render", "render_text"),
}
"""Name -> (module, attribute) of everything a lower object calls upward."""


def upward(name: str) -> Any:
    """The function (or class) :data:`UPWARD` names, its module imported on first use."""
    module, attr = UPWARD[name]
    return getattr(importlib.import_module(module), attr)


__all__ = ["UPWARD", "upward"]
