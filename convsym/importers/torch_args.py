"""Plain values of a traced call's arguments: lists spread out, ints compared without touching a
symbolic size, nested containers copied, a layer or the reason it cannot be made.

>>> spread([1, (2, 3), [4]]), is_plain(None, None, 0), is_plain(2, 1)
([1, 2, 3, 4], True, False)
"""

from __future__ import annotations

from typing import Any

from convsym.errors import LayerError


def spread(items: list[Any]) -> list[Any]:
    """``items`` with lists and tuples (one level, as torch's tensor lists) spread out."""
    out: list[Any] = []
    for item in items:
        out.extend(item if isinstance(item, (list, tuple)) else [item])
    return out


def is_plain(v: Any, *plain: object) -> bool:
    """``v`` is one of the given None/int values (never compares a SymInt)."""
    return any(v is p if p is None else type(v) is int and v == p for p in plain)


def as_tuple(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def plain_values(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: plain_values(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(plain_values(x) for x in v)
    return v


def _build(make: Any) -> Any:
    """A layer, or the reason it cannot be made (a string, reported with the line)."""
    try:
        return make()
    except LayerError as err:
        return str(err)


def parameter_of(value: Any) -> Any:
    """The parameter a tensor is, or is a view of (``gamma.view(1, -1, 1, 1)``), else None."""
    # why: PyTorch is optional (the frameworks extra) and heavy
    import torch

    while value is not None and not isinstance(value, torch.nn.Parameter):
        value = getattr(value, "_base", None)
    return value
