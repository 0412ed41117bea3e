"""A layer's requirement that two sizes agree: nothing, a refusal, or a side condition.

The three-valued verdict itself is :func:`convsym.sizes.agreement` (the size algebra);
:func:`require_equal` turns it into what a layer does with it.

>>> from convsym.expr import symbol
>>> from convsym.intdiv import QPoly, floordiv
>>> from convsym.layers.keras import Add
>>> n = QPoly.sym(symbol("n"))
>>> two = QPoly.const(2)
>>> [c.kind for c in require_equal(Add(), "inputs", two * floordiv(n, two), n,
...                                rule="equal sizes", what="the two inputs")]
['eq']
"""

from __future__ import annotations

from collections.abc import Callable

from convsym.intdiv import QExpr
from convsym.layers.base import Condition, Layer, sentence
from convsym.sizes import agreement, difference, show_point


def require_equal(layer: Layer, where: str, a: QExpr, b: QExpr, *, rule: str,
                  what: str | Callable[[], str], proved: list[str] | None = None
                  ) -> list[Condition]:
    """Three-valued ``a == b`` for a layer: nothing if proved, raise if never, else a condition.

    ``what`` describes the two sides in words (``"'conv2d' gives n - 2 and 'crop' gives
    n - 4"``); ``rule`` is the general rule, kept with the side condition.  When ``proved``
    is a list, a proved equality adds a note saying how it was proved.
    """
    diff = None if a is b else difference(a, b)  # (formed once, for both uses)
    # a 'sometimes' is kept without its point
    verdict = agreement(a, b, witness=False, diff=diff)
    if verdict.verdict == "always":
        if proved is not None:
            proved.append(f"{where}: equal for every input ({verdict.reason})")
        return []
    if verdict.verdict == "never":
        example = ""
        if verdict.values is not None and verdict.counterexample:
            x, y = verdict.values
            example = f" (for {show_point(verdict.counterexample)}: {x} vs {y})"
        raise layer.shape_error(where, None, f"{sentence(what)}, which never agree{example}",
                                code="never_equal")
    assert diff is not None  # (identical sides agree always)
    return [Condition(diff, "eq", "", where, rule, (a, b))]


