"""convsym: derive, explain and prove the shapes of convolutional networks, in closed form.

>>> import convsym
>>> from convsym.keras import Input, Conv2D
>>> net = convsym.Sequential([Input(("n", "n", 1)), Conv2D(32, 3), Conv2D(64, 3)])
>>> net.output_shape
(n - 4, n - 4, 64)
>>> convsym.prove("floor((n - 3)/2) + 1 == ceiling((n - 2)/2)").status
'proved'

``import convsym`` loads nothing heavy, not even SymPy (so ``convsym --version`` starts
fast): every public name, from ``Sequential`` and the layer modules ``convsym.keras`` /
``convsym.torch`` to proofs, derivations, what-if, importers and verification, loads its
module on first use.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from convsym.errors import ConvsymError

__version__ = "0.1.0"

_LAZY = {
    "keras": "convsym",
    "torch": "convsym",
    "parse_expr": "convsym.expr",
    "parse_relation": "convsym.expr",
    "symbol": "convsym.expr",
    "symbols": "convsym.expr",
    "Network": "convsym.network",
    "Sequential": "convsym.network",
    "load": "convsym.spec",
    "example": "convsym.examples",
    "Graph": "convsym.graph",
    "Model": "convsym.graph",
    "Tensor": "convsym.graph",
    "costs": "convsym.costing",
    "receptive_field": "convsym.receptive",
    "prove": "convsym.api",
    "Proof": "convsym.proof",
    "derive": "convsym.derivation",
    "Derivation": "convsym.derivation",
    "solve": "convsym.api",
    "admissible_inputs": "convsym.api",
    "accepts": "convsym.whatif",
    "compare": "convsym.whatif",
    "depthwise_whatif": "convsym.whatif",
    "Solution": "convsym.whatif",
    "Admissible": "convsym.whatif",
    "Comparison": "convsym.whatif",
    "IntSet": "convsym.whatif",
    "from_keras": "convsym.importers.keras_json",
    "from_torch": "convsym.importers.torch_module",
    "from_onnx": "convsym.importers.onnx_model",
    "verify": "convsym.verification",
    "draw": "convsym.drawing",
}
"""Public names loaded on first use (PEP 562), by the module that defines them."""

__all__ = [
    "Admissible",
    "Comparison",
    "ConvsymError",
    "Derivation",
    "Graph",
    "IntSet",
    "Model",
    "Network",
    "Proof",
    "Sequential",
    "Solution",
    "Tensor",
    "__version__",
    "accepts",
    "admissible_inputs",
    "compare",
    "costs",
    "depthwise_whatif",
    "derive",
    "draw",
    "example",
    "from_keras",
    "from_onnx",
    "from_torch",
    "keras",
    "load",
    "parse_expr",
    "parse_relation",
    "prove",
    "receptive_field",
    "solve",
    "symbol",
    "symbols",
    "torch",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'convsym' has no attribute {name!r}")
    if module == "convsym":  # a submodule (the layer constructors)
        value = importlib.import_module(f"convsym.{name}")
    else:
        value = getattr(importlib.import_module(module), name)
    if inspect.isfunction(value):  # every exception from the public API is a convsym error
        # why: `import convsym` loads only the errors until a public name is used
        from convsym.guarded import public

        value = public(value)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
