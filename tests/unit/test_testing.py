"""convsym.testing: the strategies build valid cases; check_shape_formula accepts right formulas
and reports the smallest case where a wrong one disagrees with the reference."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
pytest.importorskip("numpy")

from hypothesis import given, settings  # noqa: E402

from convsym.errors import ConvsymError, UsageError  # noqa: E402
from convsym.testing import (  # noqa: E402
    LayerCase,
    check_shape_formula,
    conv_configs,
    layer_configs,
    pool_configs,
)

FAST = settings(max_examples=60, derandomize=True, deadline=None, database=None)


@FAST
@given(layer_configs(dialect="torch"))
def test_torch_cases_build_convsym_layers(case: LayerCase) -> None:
    layer = case.layer()  # valid configurations never fail to construct
    assert layer.type_name == case.kind
    try:
        shape = case.expected()
    except ConvsymError as err:  # only an input that is too small (or similar) is refused
        assert err.code in ("input_too_small", "bad_shape", "never_equal"), err
    else:
        assert all(s >= 1 for s in shape)


@FAST
@given(layer_configs(dialect="keras", rank=2))
def test_keras_cases_build_convsym_layers(case: LayerCase) -> None:
    assert case.layer().type_name == case.kind
    assert len(case.input_shape) == 3 and case.dialect == "keras"


@FAST
@given(conv_configs(dialect="torch", rank=1, transposed=True))
def test_transposed_output_padding_is_valid(case: LayerCase) -> None:
    s, d = case.kwargs["stride"][0], case.kwargs["dilation"][0]
    assert case.kwargs["output_padding"][0] < max(s, d)


@FAST
@given(pool_configs(dialect="torch", kind="max"))
def test_pool_padding_is_at_most_half_the_kernel(case: LayerCase) -> None:
    assert all(p <= k // 2 for p, k in zip(case.kwargs["padding"], case.kwargs["kernel_size"]))
    assert case.kind.startswith("MaxPool")


@pytest.mark.parametrize(("formula", "kind", "options"), [
    (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1, "conv", {}),
    (lambda n, s: -(-n // s), "conv_same", {}),
    (lambda n, k, s, d: (n - 1) // s + 1, "conv_causal", {}),
    (lambda n, k, s, p, d, op: (n - 1) * s - 2 * p + d * (k - 1) + op + 1, "conv_transpose",
     {}),
    (lambda n, k, s, p: min(-(-(n + 2 * p - k) // s), (n + p - 1) // s) + 1, "avg_pool",
     {"ceil_mode": True}),
    (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1, "pool", {}),
])
def test_right_formulas_pass(formula: Any, kind: str, options: dict[str, Any]) -> None:
    check_shape_formula(formula, kind, examples=80, **options)


def test_the_documented_ceil_formula_alone_is_wrong() -> None:
    """pytorch #57178: ceil((n + 2p - k)/s) + 1 without the last-window rule."""
    with pytest.raises(AssertionError, match="your pool formula gives 2 but the reference "
                                             "gives 1"):
        check_shape_formula(lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1, "pool",
                            ceil_mode=True, examples=300)


def test_a_formula_that_claims_an_output_for_a_too_small_input_fails() -> None:
    with pytest.raises(AssertionError, match="the reference gives an empty output"):
        check_shape_formula(lambda n, k: max(n - k + 1, 1), "conv", examples=100)


@pytest.mark.parametrize(("formula", "kind", "code"), [
    (lambda n: n, "convolution", "bad_kind"),
    (lambda n, q: n, "conv", "bad_formula"),
    (lambda k: k, "conv", "bad_formula"),
])
def test_bad_calls(formula: Any, kind: str, code: str) -> None:
    with pytest.raises(UsageError) as info:
        check_shape_formula(formula, kind)
    assert info.value.code == code
    with pytest.raises(UsageError):
        conv_configs(dialect="tf")


def test_importing_convsym_does_not_import_testing_or_hypothesis() -> None:
    code = ("import sys, convsym; print('convsym.testing' in sys.modules, "
            "'hypothesis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False False"
