"""Notebook display hooks for result objects, one mixin so each class only names its printers.

A class that mixes in :class:`Rich` sets ``_display`` to a name; the hooks then call
``convsym.printing.html.<name>``, ``convsym.printing.results.<name>_markdown`` and
``<name>_latex`` (where they exist: IPython skips a hook that returns None).  ``repr`` is one
short line; IPython's pretty printer shows the full text form.  The printers load on first
display, so ``import convsym`` stays light.

>>> from convsym.guarded import prove
>>> p = prove("n + 1 > n")
>>> p._repr_html_().count("<strong>"), p._repr_markdown_().startswith("**proved**")
(1, True)
>>> from convsym.keras import Input, Conv2D
>>> from convsym import Sequential
>>> s = Sequential([Input((8, 8, 1)), Conv2D(4, 3)]).summary()
>>> s._repr_markdown_() is None, s
(True, <Summary 'sequential' (keras): 1 layers, 40 params>)
"""

from __future__ import annotations

from typing import Any, ClassVar


class Rich:
    """``__repr__``, ``_repr_pretty_``, ``_repr_html_``, ``_repr_markdown_``, ``_repr_latex_``.

    Dataclasses that mix this in pass ``repr=False`` (else theirs would replace ours).
    """

    _display: ClassVar[str]
    """The printers' name for this kind of object (``"proof"``, ``"summary"``...)."""

    def __repr__(self) -> str:
        from convsym.printing.results import repr_of

        return repr_of(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        from convsym.printing.results import pretty

        pretty(self, p, cycle)

    def _repr_html_(self) -> str:
        from convsym.printing import html

        return str(getattr(html, self._display)(self))

    def _repr_markdown_(self) -> str | None:
        return self._printer("markdown")

    def _repr_latex_(self) -> str | None:
        return self._printer("latex")

    def _printer(self, fmt: str) -> str | None:
        from convsym.printing import results

        render = getattr(results, f"{self._display}_{fmt}", None)
        return None if render is None else str(render(self))
