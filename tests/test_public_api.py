"""The facade: an exact ``__all__``, every name resolves, the dialect modules re-export."""

from __future__ import annotations

import convsym

EXPECTED = {
    "Admissible", "Comparison", "ConvsymError", "Derivation", "Graph", "IntSet", "Model",
    "Network", "Proof", "Sequential", "Solution", "Tensor", "__version__", "accepts",
    "admissible_inputs", "compare", "costs", "depthwise_whatif", "derive", "draw", "example",
    "from_keras", "from_onnx", "from_torch", "keras", "load", "parse_expr", "parse_relation",
    "prove", "receptive_field", "solve", "symbol", "symbols", "torch", "verify",
}


def test_all_is_exact_and_sorted() -> None:
    assert set(convsym.__all__) == EXPECTED
    assert list(convsym.__all__) == sorted(convsym.__all__)
    assert len(convsym.__all__) == len(set(convsym.__all__))


def test_every_public_name_resolves() -> None:
    for name in convsym.__all__:
        assert getattr(convsym, name) is not None, name
    assert set(convsym.__all__) <= set(dir(convsym))


def test_dialect_modules_export_their_layers() -> None:
    from convsym.layers import keras as lk
    from convsym.layers import torch as lt

    assert set(convsym.keras.__all__) == set(lk.LAYERS)
    assert set(convsym.torch.__all__) == set(lt.LAYERS)
    assert convsym.keras.Conv2D is lk.Conv2D and convsym.torch.Conv2d is lt.Conv2d


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        convsym.nonexistent  # noqa: B018
    except AttributeError as err:
        assert "nonexistent" in str(err)
    else:
        raise AssertionError("expected AttributeError")
