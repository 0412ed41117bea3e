"""torch.einsum as a layer: each letter one size, the batch letter first everywhere."""

from __future__ import annotations

import pytest

from convsym.errors import ConvsymError
from convsym.expr import symbol
from convsym.intdiv import QPoly, to_sympy
from convsym.layers.torch_einsum import Einsum

C = QPoly.const
N = symbol("n")


def test_letters_take_their_sizes_and_agree() -> None:
    n = QPoly.sym(N)
    out = Einsum("bij,bjk->bik").infer([(n, C(3)), (C(3), C(5))])
    assert [to_sympy(s) for s in out.shape] == [N, 5]
    assert to_sympy(out.macs) == 15 * N
    out = Einsum("bij,bjk->bik").infer([(C(2), n), (C(4), C(5))])
    assert [str(c.relation()) for c in out.conditions] == ["Eq(n, 4)"]
    with pytest.raises(ConvsymError):  # 3 is never 4
        Einsum("bij,bjk->bik").infer([(C(2), C(3)), (C(4), C(5))])
    one = Einsum("bij->bji").infer([(n, C(3))])
    assert [to_sympy(s) for s in one.shape] == [3, N] and to_sympy(one.macs) == 0


@pytest.mark.parametrize("equation", [
    "bij,bjk", "...ij,...jk->...ik", "bii->bi", "bij,cjk->bik", "bij,bjk->ibk", "bij,bjk->bz",
    "bij,bj1->bi"])
def test_equations_convsym_does_not_follow_are_refused(equation: str) -> None:
    with pytest.raises(ConvsymError):
        Einsum(equation).infer([(C(2), C(3)), (C(3), C(4))])


def test_the_rank_must_match_the_letters() -> None:
    with pytest.raises(ConvsymError):
        Einsum("bij,bjk->bik").infer([(C(2),), (C(3), C(4))])
