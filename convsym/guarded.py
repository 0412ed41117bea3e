"""The public API's guard: every exception a convsym error, ``timeout=`` a true upper bound.

:func:`public` wraps each function ``convsym`` exports: a call with arguments the function
does not take (a keyword typo) raises :class:`~convsym.errors.UsageError` (code
``bad_call``) naming the closest keyword, and any other exception that is not a convsym
error becomes :class:`~convsym.errors.InternalError` (code ``internal_error``; the original
is its ``__cause__``.  The bounded calls (``timeout=`` a true upper bound) are in
:mod:`convsym.api`.

>>> import convsym
>>> convsym.prove("n >= 1", timout=1)
Traceback (most recent call last):
convsym.errors.UsageError: prove: no keyword argument 'timout' (did you mean 'timeout'?)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from convsym.errors import (
    BudgetExceeded,
    ConvsymError,
    ConvsymTypeError,
    InternalError,
    UsageError,
    did_you_mean,
)

__all__ = ["check_timeout", "public"]

F = TypeVar("F", bound=Callable[..., Any])


def public(fn: F) -> F:
    """``fn`` with the public API's error contract (see the module docstring).

    >>> public(lambda: 1 // 0)()
    Traceback (most recent call last):
    convsym.errors.InternalError: <lambda>: internal error (ZeroDivisionError: integer \
division or modulo by zero); please report it at the convsym issue tracker
    """
    if getattr(fn, "__convsym_public__", False):
        return fn
    name = getattr(fn, "__name__", "convsym")

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConvsymError:
            raise
        except MemoryError:
            raise BudgetExceeded(f"{name}: ran out of memory", code="memory_limit") from None
        except TypeError as err:
            problem = _call_problem(fn, name, args, kwargs)
            if problem:
                raise UsageError(problem, code="bad_call") from None
            raise InternalError(_internal(name, err)) from err
        except Exception as err:
            raise InternalError(_internal(name, err)) from err

    guarded.__convsym_public__ = True  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def _internal(name: str, err: BaseException) -> str:
    return (f"{name}: internal error ({type(err).__name__}: {err}); please report it at the "
            "convsym issue tracker")


def _call_problem(fn: Callable[..., Any], name: str, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> str:
    """Why ``fn`` does not take these arguments, or ``""`` when it does."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as err:
        keywords = [p.name for p in signature.parameters.values()
                    if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for key in kwargs:
            if key not in keywords:
                return f"{name}: no keyword argument {key!r}{did_you_mean(key, keywords)}"
        return f"{name}: {err}"
    return ""


def check_timeout(value: object, *, optional: bool, name: str = "timeout") -> float | None:
    """``value`` as seconds: a number more than 0 and at most 3600 (or None if optional).

    >>> check_timeout(-5, optional=False, name="--timeout")
    Traceback (most recent call last):
    convsym.errors.UsageError: --timeout = -5: must be more than 0 and at most 3600 seconds
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConvsymTypeError(f"{name} = {value!r:.60}: expected a number of seconds")
    if not 0 < value <= 3600:  # also refuses NaN
        raise UsageError(f"{name} = {value!r}: must be more than 0 and at most 3600 seconds",
                         code="bad_timeout")
    return float(value)


