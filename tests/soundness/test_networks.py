"""Soundness campaign, networks: random graphs with merges against brute force and real runs.

Hypothesis draws small networks (:mod:`netkit`: pooling / convolution / upsampling / padding
branches joined by Add, Multiply, Subtract, ... and Concatenate, both dialects, 1-D and 2-D)
and checks convsym's node shapes, ``accepts`` and exact admissible sets against an
independent integer evaluator, on every size of a box and on far sizes.  The evaluator itself
is checked against real PyTorch and Keras runs at the sizes where validity changes.

The default budget is small; a hunt sets ``CONVSYM_SOUNDNESS_NETWORKS`` (examples per test,
e.g. 2000) or runs ``python tests/soundness/netkit.py 2000`` for counts
(docs/broadcasting.md).
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netkit import (
    Tally,
    boundary_sizes,
    brute,
    build_convsym,
    check,
    random_spec,
    run_keras,
    run_torch,
)

BUDGET = int(os.environ.get("CONVSYM_SOUNDNESS_NETWORKS", "0") or 0)


def _examples(default: int) -> int:
    return BUDGET or default


@st.composite
def specs(draw: st.DrawFn, dialect: str | None = None) -> dict[str, object]:
    """A network spec from a drawn seed (netkit's generator builds it directly)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return random_spec(random.Random(seed), dialect=dialect)


@settings(max_examples=_examples(30), deadline=None, derandomize=not BUDGET,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_shapes_accepts_and_admissible_sets_match_brute_force(spec: dict[str, object]) -> None:
    tally = Tally()
    check(spec, tally, far=6)
    assert not tally.wrong, "\n".join(tally.wrong[:5])


@pytest.mark.frameworks
@settings(max_examples=_examples(12), deadline=None, derandomize=not BUDGET,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs(dialect="torch"))
def test_brute_force_matches_real_pytorch(spec: dict[str, object]) -> None:
    rng = random.Random(str(spec))
    for sizes in boundary_sizes(spec, 24 if spec["rank"] == 1 else 12, 8, rng):
        want = brute(spec, sizes)
        assert run_torch(spec, sizes) == (None if want is None else want[-1]), (spec, sizes)


@pytest.mark.frameworks
@settings(max_examples=_examples(4), deadline=None, derandomize=not BUDGET,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs(dialect="keras"))
def test_brute_force_matches_real_keras(spec: dict[str, object]) -> None:
    rng = random.Random(str(spec))
    for sizes in boundary_sizes(spec, 24 if spec["rank"] == 1 else 12, 4, rng):
        want = brute(spec, sizes)
        assert run_keras(spec, sizes) == (None if want is None else want[-1]), (spec, sizes)


# --- the cases of issue 13, by hand ------------------------------------------------------------


def _pools(dialect: str, a: int, b: int) -> dict[str, object]:
    ops = [{"op": "pool", "src": 0, "kind": "max", "k": (a,), "s": None if dialect == "keras"
            else (a,), "pad": "valid" if dialect == "keras" else (0,), "ceil": False},
           {"op": "pool", "src": 0, "kind": "max", "k": (b,), "s": None if dialect == "keras"
            else (b,), "pad": "valid" if dialect == "keras" else (0,), "ceil": False},
           {"op": "add", "srcs": [1, 2]}]
    return {"dialect": dialect, "rank": 1, "channels": 2, "ops": ops}


@pytest.mark.parametrize("dialect", ["torch", "keras"])
def test_issue_13_pools_of_4_and_5_broadcast_at_8_and_9(dialect: str) -> None:
    net = build_convsym(_pools(dialect, 4, 5)).net
    found = net.admissible_inputs()
    assert found.exact
    assert found.values("n").smallest(20) == [5, 6, 7, 8, 9, 10, 11, 15]
    assert net.accepts(n=8) and 8 in found.values("n")
    assert not net.accepts(n=12) and 12 not in found.values("n")


def test_issue_13_input_plus_its_pooling_by_8() -> None:
    spec = {"dialect": "keras", "rank": 1, "channels": 2, "ops": [
        {"op": "pool", "src": 0, "kind": "max", "k": (8,), "s": None, "pad": "valid"},
        {"op": "add", "srcs": [0, 1]}]}
    net = build_convsym(spec).net
    assert str(net.admissible_inputs().values("n").describe("n")) == \
        "n in {8, 9, 10, 11, 12, 13, 14, 15}"
    assert [n for n in range(1, 40) if net.accepts(n=n)] == list(range(8, 16))
    assert str(net.output_shape) == "(n, 2)"  # max(n, floor(n/8)) is n


def test_torch_merge_of_different_ranks_is_refused() -> None:
    from convsym.errors import ShapeError
    from convsym.graph import Graph
    from convsym.layers import torch as T

    g = Graph(input_shape=(3, "n"))
    flat = g.add(T.Flatten(), g.input)
    with pytest.raises(ShapeError) as err:
        g.build(g.add(T.Add(), g.input, flat))
    assert err.value.code == "rank_mismatch" and "batch" in str(err.value)


def test_keras_merge_of_different_ranks_aligns_on_the_right() -> None:
    from convsym.layers import keras as K

    x = K.Input(("n", 3))
    assert K.Add()([x, K.Input((1,))]).shape == K.Add()([x, K.Input((1, 1))]).shape


@pytest.mark.frameworks
def test_issue_13_through_the_pytorch_importer() -> None:
    import torch

    import convsym

    class Pools(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = torch.nn.MaxPool1d(4), torch.nn.MaxPool1d(5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.a(x) + torch.mul(self.b(x), 2.0) * self.a(x)

    net = convsym.from_torch(Pools(), (2, "n"))
    runs = []
    for n in range(1, 40):
        try:
            Pools()(torch.zeros(1, 2, n))
        except RuntimeError:
            continue
        runs.append(n)
    assert runs == [5, 6, 7, 8, 9, 10, 11, 15]
    assert net.admissible_inputs().values("n").smallest(20) == runs
    assert [n for n in range(1, 40) if net.accepts(n=n)] == runs


@pytest.mark.frameworks
def test_issue_13_through_the_keras_importer() -> None:
    import keras

    import convsym

    x = keras.Input((None, 2))
    model = keras.Model(x, keras.layers.Add()([x, keras.layers.MaxPooling1D(8)(x)]))
    net = convsym.from_keras(model.to_json(), input_shape=("n", 2))
    assert net.admissible_inputs().values("n").smallest(20) == list(range(8, 16))


def test_issue_13_in_a_spec_file() -> None:
    from convsym.graph_spec import load_graph

    net = load_graph({"dialect": "torch", "inputs": {"x": [2, "n"]}, "layers": [
        {"MaxPool1d": {"kernel_size": 4}, "name": "a", "inputs": ["x"]},
        {"MaxPool1d": {"kernel_size": 5}, "name": "b", "inputs": ["x"]},
        {"Multiply": {}, "inputs": ["a", "b"]}]}, origin="<dict>", dialect="torch")
    assert net.admissible_inputs().values("n").smallest(20) == [5, 6, 7, 8, 9, 10, 11, 15]
    assert "or one of them to be 1" in net.condition_records[-1].rule


@pytest.mark.frameworks
def test_keras_rank_differences_match_real_keras() -> None:
    import keras
    import numpy as np

    from convsym.errors import LayerError
    from convsym.graph import Model
    from convsym.layers import keras as K

    def real(n: int) -> tuple[int, ...] | None:
        try:
            x, y = keras.Input((n, 3)), keras.Input((n,))
            model = keras.Model([x, y], keras.layers.Add()([x, y]))
            out = model([np.zeros((2, n, 3), "float32"), np.zeros((2, n), "float32")])
        except ValueError:
            return None
        return tuple(int(v) for v in out.shape[1:])

    x, y = K.Input(("n", 3)), K.Input(("n",))
    net = Model(inputs=[x, y], outputs=K.Add()([x, y]))  # (n, 3) + (n,): n against 3
    found = net.admissible_inputs().values("n")
    for n in range(1, 8):
        want = real(n)
        assert net.accepts(n=n) == (want is not None) == (n in found), n
        if want is not None:
            assert net.subs(n=n).output_shape == want
    with pytest.raises(LayerError):
        net.subs(n=4)
