"""Concrete sizes for a symbolic network, to size the blocks of a picture.

The user's ``--set`` values win; any symbol left gets the first of a few customary sizes
for which the whole network is valid (convsym checks it, as for any substitution).

>>> from convsym.examples import example
>>> net, values = instantiate(example("seed1_symbolic"))
>>> values, net.output_shape
({'c': 3, 'n': 224}, (220, 220, 64))
"""

from __future__ import annotations

from typing import Any

from convsym.errors import ConvsymError, UsageError, said

CANDIDATES = (224, 256, 572, 512, 128, 64, 32, 28, 16)
"""Sizes tried for a spatial symbol, in order (ImageNet, U-Net's 572, small images)."""
CHANNELS = (3, 1, 16, 64)
"""Sizes tried for any other symbol (channels, widths)."""


def spatial_names(net: Any) -> set[str]:
    """The symbols in the input shapes' spatial axes (not channels)."""
    names: set[str] = set()
    for shape in net.input_shapes.values():
        if len(shape) < 2:
            continue
        spatial = shape[1:] if net.dialect == "torch" else shape[:-1]
        for size in spatial:
            names |= {str(s) for s in size.free_symbols()}
    return names


def instantiate(net: Any, values: dict[str, Any] | None = None) -> tuple[Any, dict[str, int]]:
    """``(concrete network, the values used)``; a clear error when nothing fits."""
    given = dict(values or {})
    free = sorted(str(s) for s in net.free_symbols if str(s) not in given)
    if not free:
        return (net.subs(given) if given else net), {}
    spatial = spatial_names(net)
    chosen: dict[str, int] = {}
    for name in free:
        if name not in spatial:
            chosen[name] = CHANNELS[0]
    for size in CANDIDATES:
        trial = {**chosen, **{name: size for name in free if name in spatial}}
        try:
            concrete = net.subs({**given, **trial})
        except ConvsymError:
            continue
        if not concrete.free_symbols:
            return concrete, dict(sorted(trial.items()))
    raise UsageError(f"no customary size makes {net.name!r} valid for {', '.join(free)}; "
                     + said("give sizes with values={NAME: VALUE}",
                            "give sizes with --set NAME=VALUE"), code="no_default_size")
