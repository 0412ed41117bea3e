"""Random single layers through real PyTorch and real Keras against convsym's closed forms.

Each case is a convolution, transposed convolution or pooling layer drawn by
:mod:`convsym.testing` (seeded: ``derandomize=True``), including configurations and inputs
the framework rejects.  Either both accept and the output shapes are equal, or both reject:
the framework by raising (or, see below, by an empty output) and convsym with its own error,
which names the layer and carries a stable code.

Framework quirks, and what convsym does:

- Keras 3 on the torch backend refuses AveragePooling3D(padding='same') when an axis of the
  input is smaller than the pool (PyTorch's avg_pool3d checks the unpadded input); Keras's
  documented rule, which TensorFlow follows, gives ``ceil(n/s)``.  convsym follows the rule;
  :func:`_keras_torch_avg_pool3d_quirk` names the case.
- A framework that returns a zero-size tensor instead of raising counts as refusing, unless
  convsym gives exactly that empty shape: Keras's transposed convolutions answer an empty
  axis (``'same'``, ``n = 1``, an even kernel, ``output_padding`` given), and so does convsym,
  with a warning on the row.

Found by these tests and fixed in convsym: PyTorch pooling limits padding to half the kernel
*size* (not the dilated kernel); PyTorch's avg_pool3d needs the unpadded input to hold the
kernel; PyTorch ``padding='same'`` with reflect/circular padding needs each side's padding
below (reflect) or at most (circular) the input size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from convsym.errors import ConvsymError  # noqa: E402
from convsym.testing import LayerCase, conv_configs, layer_configs, pool_configs  # noqa: E402

pytestmark = pytest.mark.frameworks

COUNTS: dict[str, int] = {}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _settings(examples: int) -> Any:
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


def run_framework(case: LayerCase) -> tuple[tuple[int, ...] | None, str]:
    """The framework's output shape (no batch axis), or None and why it refused."""
    errors = (RuntimeError, ValueError)
    try:
        layer = case.framework_layer()
        if case.dialect == "torch":
            with torch.no_grad():
                out = layer(torch.zeros((1, *case.input_shape)))
        else:
            out = layer(np.zeros((1, *case.input_shape), dtype="float32"))
    except errors as err:
        return None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    shape = tuple(int(v) for v in out.shape[1:])
    if 0 in shape:  # an empty output (see the module docstring)
        return shape, f"an empty output {shape}"
    return shape, ""


def _keras_torch_avg_pool3d_quirk(case: LayerCase) -> bool:
    """Keras 3 on the torch backend runs AveragePooling3D(padding='same') as PyTorch's
    avg_pool3d with symmetric padding, and avg_pool3d (unlike 1-D and 2-D) refuses an
    unpadded input smaller than the pool: AveragePooling3D((1, 1, 3), strides=1,
    padding='same') on a 1x1x1 input raises "input image smaller than kernel size".  Keras's
    own rule (and TensorFlow) gives ceil(n/s); convsym follows the documented rule."""
    if case.kind != "AveragePooling3D" or case.kwargs["padding"] != "same":
        return False
    return any(n < k for n, k in zip(case.input_shape[:-1], case.kwargs["pool_size"]))


def agree(case: LayerCase) -> None:
    """Both accept with the same shape, or both refuse (convsym with its own clear error)."""
    COUNTS[case.dialect] = COUNTS.get(case.dialect, 0) + 1
    got, why = run_framework(case)
    try:
        want: tuple[int, ...] | None = case.expected()
        error = None
    except ConvsymError as err:
        want, error = None, err
    if got is not None and 0 in got:
        if want == got:  # convsym answers the empty axis as the framework does (a warning)
            return
        got = None  # otherwise an empty output counts as refusing
    if got is None and _keras_torch_avg_pool3d_quirk(case):
        # Keras's documented 'same' pooling gives ceil(n/s) for any n; convsym follows it
        strides = case.kwargs["strides"] or case.kwargs["pool_size"]
        spatial = case.input_shape[:-1]
        assert want == (*(-(-n // s) for n, s in zip(spatial, strides)), case.input_shape[-1])
        return
    if got is None:
        assert error is not None, f"{case}: {case.dialect} refuses ({why}) but convsym " \
                                  f"gives {want}"
        assert error.code and error.code != "convsym_error", repr(error)
        assert case.kind in str(error), f"the error does not name the layer: {error}"
        return
    assert error is None, f"{case}: {case.dialect} gives {got} but convsym refuses: {error}"
    assert want == got, f"{case}: {case.dialect} gives {got}, convsym {want}"


@_settings(3000)
@given(layer_configs(dialect="torch", refusals=True))
def test_torch_layers(case: LayerCase) -> None:
    agree(case)


@_settings(500)
@given(pool_configs(dialect="torch", rank=1, refusals=True, max_size=8))
def test_torch_pooling_edges(case: LayerCase) -> None:
    """Small inputs, where ceil_mode's last-window rule and padding limits bite."""
    agree(case)


@_settings(1600)
@given(layer_configs(dialect="keras", refusals=True, max_size=10))
def test_keras_layers(case: LayerCase) -> None:
    agree(case)


@_settings(400)
@given(conv_configs(dialect="keras", rank=1, max_size=9))
def test_keras_conv1d_causal_and_same(case: LayerCase) -> None:
    agree(case)


def test_report_counts() -> None:
    """Not a check: the number of cases run in this module, for the CI log."""
    print(f"random single-layer cases: {COUNTS}")
