"""``torch.einsum(equation, *tensors)`` of traced tensors, as a layer.

The equation names every axis of every operand with a letter, batch axes included (PyTorch's
own form: ``"bghid,bghjd->bghij"``, spaces allowed); an axis named by one letter has one size
wherever the letter appears, and the output lists the letters it keeps.  convsym's shapes
have no batch axis, so each operand's first letter must be one letter, the output's first:
the batch stays in front, and the sizes the layer sees are those after it.  Ellipses
(``...``) and repeated letters within one operand (a diagonal) are refused.

>>> from convsym.intdiv import QPoly, to_sympy
>>> from convsym.expr import symbol
>>> n = QPoly.sym(symbol("n"))
>>> q = (QPoly.const(2), n, QPoly.const(8))
>>> k = (QPoly.const(2), QPoly.const(5), QPoly.const(8))
>>> out = Einsum("bhid,bhjd->bhij").infer([q, k])
>>> [to_sympy(s) for s in out.shape], to_sympy(out.macs)
([2, n, 5], 80*n)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from convsym.intdiv import QExpr, to_sympy
from convsym.layers.agree import require_equal
from convsym.layers.base import Condition, Inference, Shape
from convsym.layers.dialects import TorchLayer
from convsym.layers.frontend import layer_class
from convsym.sizes import mul_sizes


@layer_class
class Einsum(TorchLayer):
    """``torch.einsum(equation, *tensors)``: see the module docstring.  MACs: the product of
    every letter's size (one multiply-accumulate per term of the sum), for two or more
    operands; one operand (a transpose, a sum) costs none."""

    n_inputs: ClassVar[int] = -1
    cost_kind: ClassVar[str] = "dense"

    equation: Any

    def parse(self, count: int) -> tuple[list[str], str]:
        """The operands' letters and the output's, each without the batch letter."""
        text = str(self.equation).replace(" ", "")
        if "->" not in text or "." in text:
            raise self.config_error("equation", self.equation, "must give the output "
                                    "(`->`) and no ellipsis (`...`)", code="bad_equation")
        left, out = text.split("->")
        terms = left.split(",")
        if len(terms) != count:
            raise self.config_error("equation", self.equation, f"names {len(terms)} "
                                    f"operands for {count} tensors", code="bad_equation")
        every = [*terms, out]
        if not all(t.isalpha() and t.isascii() and len(set(t)) == len(t) for t in every):
            raise self.config_error("equation", self.equation, "must name each axis of an "
                                    "operand by its own letter", code="bad_equation")
        batch = terms[0][:1]
        if not batch or any(t[:1] != batch or batch in t[1:] for t in every):
            raise self.config_error("equation", self.equation, "must begin every operand and "
                                    "the output with one letter, the batch axis, used nowhere "
                                    "else", code="batch_axis")
        if set(out) - set("".join(terms)):
            raise self.config_error("equation", self.equation, "names output axes no operand "
                                    "has", code="bad_equation")
        return [t[1:] for t in terms], out[1:]

    def infer(self, inputs: Sequence[Shape]) -> Inference:
        """Each letter's size, equal wherever it appears (three-valued); the output's."""
        terms, out = self.parse(len(inputs))
        sizes: dict[str, QExpr] = {}
        conditions: list[Condition] = []
        for i, (term, shape) in enumerate(zip(terms, inputs)):
            if len(term) != len(shape):
                raise self.shape_error(f"operand {i}", len(shape) + 1,
                                       f"has {len(shape) + 1} axes, the equation names "
                                       f"{len(term) + 1}", code="rank_mismatch")
            for letter, n in zip(term, shape):
                first = sizes.setdefault(letter, n)
                if first is not n:
                    conditions += _same(self, letter, first, n)
        shape = tuple(sizes[letter] for letter in out)
        if len(inputs) == 1:
            return Inference(shape, [], conditions)
        return Inference(shape, [], conditions, macs=mul_sizes(*sizes.values()))


def _same(layer: Einsum, letter: str, first: QExpr, n: QExpr) -> list[Condition]:
    return require_equal(layer, f"axis {letter!r}", first, n,
                         rule="einsum needs one size for each letter",
                         what=lambda: f"{letter!r} is {to_sympy(first)} and {to_sympy(n)}")


__all__ = ["Einsum"]
