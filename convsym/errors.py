"""Errors raised by convsym: one root, each naming where, what, the value and the rule.

Every error a user can trigger is a :class:`ConvsymError`.  Each subclass also inherits
``ValueError`` or ``TypeError`` so that code written against the standard exceptions keeps
working.  Each error has a stable ``code`` (a short slug) that tests and tools can match on.

>>> err = LayerConfigError("Conv2D", "strides", 0, "must be an integer >= 1",
...                        code="stride_not_positive")
>>> print(err)
Conv2D: strides = 0: must be an integer >= 1
>>> err.locate("'conv2d' at layers[1]")
>>> print(err)
Conv2D 'conv2d' at layers[1]: strides = 0: must be an integer >= 1
>>> isinstance(err, ValueError), err.code
(True, 'stride_not_positive')
"""

from __future__ import annotations

import contextvars
import difflib
from collections.abc import Iterable

MAX_MESSAGE = 800
"""Characters of one error message; longer ones keep their start and end (see :func:`shorten`)."""

MAX_QUOTED = 120
"""Characters of one value quoted in a message (a size may expand to kilobytes)."""


def shorten(value: object, limit: int = MAX_QUOTED) -> str:
    """``str(value)``, with its middle elided when longer than ``limit`` characters.

    >>> shorten("x" * 300, 20)
    'xxxxxxxx ... xxxxxxx'
    >>> shorten(42)
    '42'
    """
    try:
        text = str(value)
    except ValueError:  # an integer beyond Python's 4300-digit limit for str()
        return f"a {type(value).__name__} too large to print"
    if len(text) <= limit:
        return text
    head = (limit - 5) // 2 + (limit - 5) % 2
    return f"{text[:head]} ... {text[len(text) - (limit - 5 - head):]}"


class ConvsymError(Exception):
    """Root of every error convsym raises for bad input."""

    code: str = "convsym_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        message = shorten(message, MAX_MESSAGE)
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ExpressionError(ConvsymError, ValueError):
    """User text that is not an expression or relation our safe parser accepts."""

    code = "bad_expression"


class ConvsymTypeError(ConvsymError, TypeError):
    """A value of the wrong type (a float or a bool where an integer belongs, ...)."""

    code = "wrong_type"


class LayerError(ConvsymError):
    """An error attached to one layer; the network adds where the layer sits.

    ``kind`` is the layer's type (``Conv2D``), ``field`` the argument or axis, ``value`` the
    offending value and ``rule`` the rule it broke, written as a sentence fragment.
    """

    code = "layer_error"

    def __init__(
        self,
        kind: str,
        field: str,
        value: object,
        rule: str,
        *,
        code: str | None = None,
        where: str = "",
    ) -> None:
        self.kind = kind
        self.field = field
        self.value = value
        self.rule = rule
        self.where = where
        super().__init__(self._format(), code=code)

    def _format(self) -> str:
        head = self.kind + (f" {self.where}" if self.where else "")
        if self.field and self.value is not None:
            return f"{head}: {self.field} = {shorten(self.value)}: {self.rule}"
        if self.field:
            return f"{head}, {self.field}: {self.rule}"
        return f"{head}: {self.rule}"

    def locate(self, where: str) -> None:
        """Record where the layer sits (``'conv2d_1' at layers[3]``), once."""
        if not self.where:
            self.where = where
            self.message = shorten(self._format(), MAX_MESSAGE)
            self.args = (self.message,)


class LayerConfigError(LayerError, ValueError):
    """A hyperparameter that breaks its layer's rules (stride 0, groups not dividing, ...)."""

    code = "bad_layer_config"


class LayerTypeError(LayerError, TypeError):
    """A hyperparameter of the wrong type (``kernel_size=3.0``, ``strides=True``)."""

    code = "bad_layer_type"


class ShapeError(LayerError, ValueError):
    """An input shape the layer provably cannot take (kernel larger than padded input, ...)."""

    code = "bad_shape"


class SpecError(ConvsymError, ValueError):
    """A spec document (YAML, JSON, TOML, Keras JSON) that cannot describe a network.

    ``source`` names the file (or ``<dict>``), ``path`` the place inside it
    (``layers[3].kernel_size``).
    """

    code = "bad_spec"

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        path: str = "",
        code: str | None = None,
    ) -> None:
        self.source = source
        self.path = path
        self.detail = message
        where = ", ".join(part for part in (source, path) if part)
        super().__init__(f"{where}: {message}" if where else message, code=code)


class SpecTypeError(SpecError, TypeError):
    """A spec value of the wrong type (a float where an integer belongs, ...)."""

    code = "bad_spec_type"


class BudgetExceeded(ConvsymError, ValueError):
    """Input larger than the budgets we accept (text length, nesting, integer size, ...)."""

    code = "budget_exceeded"


class OutOfTime(BudgetExceeded):
    """A wall-clock budget ran out (building, deriving, comparing, verifying, solving).

    Its ``code`` stays the budget's (``budget_exceeded``, or ``time_limit`` for a deadline);
    the class lets code that turns a *size* budget into "undecided" let time run out.
    """


class InternalError(ConvsymError, RuntimeError):
    """A bug in convsym, not bad input: reported as one line with a request to report it.

    The original exception is the ``__cause__``.
    """

    code = "internal_error"


class UsageError(ConvsymError, ValueError):
    """A public function called with arguments it does not take."""

    code = "bad_usage"


SURFACE: contextvars.ContextVar[str] = contextvars.ContextVar("convsym_surface", default="api")
"""Where the user is: ``"api"`` (Python) or ``"cli"`` (the ``convsym`` command sets it while a
subcommand runs, and the worker processes it forks inherit it)."""


def said(api: str, cli: str) -> str:
    """Words for where the user is: ``api`` in Python, ``cli`` on the command line.

    An error's advice must be something the reader can type: ``net.subs(k=...)`` in Python,
    ``--set k=...`` in a shell.

    >>> said("net.subs(k=...)", "--set k=...")
    'net.subs(k=...)'
    >>> token = SURFACE.set("cli")
    >>> said("net.subs(k=...)", "--set k=...")
    '--set k=...'
    >>> SURFACE.reset(token)
    """
    return cli if SURFACE.get() == "cli" else api


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """A ``did you mean ...?`` suffix for an unknown name, or ``""``.

    >>> did_you_mean("Conv2d", ["Conv2D", "Dense"])
    " (did you mean 'Conv2D'?)"
    >>> did_you_mean("zzz", ["Conv2D"])
    ''
    >>> did_you_mean("Relux", ["ReLU", "Conv2d"])
    " (did you mean 'ReLU'?)"
    """
    if not isinstance(name, str):
        return ""
    pool = [o for o in options if isinstance(o, str)]
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:  # a slip of case as well as of spelling: Relux for ReLU
        lowered = {o.lower(): o for o in pool}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=1,
                                                               cutoff=0.6)]
    return f" (did you mean {close[0]!r}?)" if close else ""
