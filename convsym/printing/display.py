"""Notebook display hooks for result objects, one mixin so each class only names its printers.

A class that mixes in :class:`Rich` sets ``_display`` to a name; the hooks then call
``convsym.printing.results.<name>_repr``, ``convsym.printing.html.<name>``,
``results.<name>_markdown`` and ``results.<name>_latex`` (where they exist: IPython skips a
hook that returns None).  ``repr`` is one short line; IPython's pretty printer shows the full
text form.  The printers sit below the results they lay out and take them by duck typing.

>>> from convsym.api import prove
>>> p = prove("n + 1 > n")
>>> p._repr_html_().count("<strong>"), p._repr_markdown_().startswith("**proved**")
(1, True)
>>> from convsym.keras import Input, Conv2D
>>> from convsym import Sequential
>>> s = Sequential([Input((8, 8, 1)), Conv2D(4, 3)]).summary()
>>> s._repr_markdown_() is None, s
(True, <Summary 'sequential' (keras): 1 layer, 40 params>)
"""

from __future__ import annotations

from typing import Any, ClassVar

from convsym.printing import html, results


class Rich:
    """``__repr__``, ``_repr_pretty_``, ``_repr_html_``, ``_repr_markdown_``, ``_repr_latex_``.

    Dataclasses that mix this in pass ``repr=False`` (else theirs would replace ours).
    """

    _display: ClassVar[str]
    """The printers' name for this kind of object (``"proof"``, ``"summary"``...)."""

    def __repr__(self) -> str:
        return str(getattr(results, f"{self._display}_repr")(self))

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        results.pretty(self, p, cycle)

    def _repr_html_(self) -> str | None:
        render = getattr(html, self._display, None)
        return None if render is None else str(render(self))

    def _repr_markdown_(self) -> str | None:
        render = getattr(results, f"{self._display}_markdown", None)
        return None if render is None else str(render(self))

    def _repr_latex_(self) -> str | None:
        render = getattr(results, f"{self._display}_latex", None)
        return None if render is None else str(render(self))
