"""Sequential propagation, names, conditions and subs."""

from __future__ import annotations

import pytest
import sympy

from convsym import Sequential
from convsym.errors import UsageError
from convsym.expr import symbol
from convsym.layers import keras as K
from convsym.layers import torch as T


def test_keras_names_count_per_kind() -> None:
    net = Sequential([K.Input((8, 8, 1)), K.Conv2D(2, 3), K.ReLU(), K.Conv2D(2, 3),
                      K.Flatten(), K.Dense(3), K.Dense(2, name="head")])
    assert [r.name for r in net.rows] == ["conv2d", "re_lu", "conv2d_1", "flatten", "dense",
                                          "head"]


def test_torch_names_are_indices() -> None:
    net = Sequential([T.Conv2d(1, 2, 3), T.ReLU(), T.Flatten()], input_shape=(1, 5, 5))
    assert [r.name for r in net.rows] == ["0", "1", "2"]


def test_input_shape_on_first_layer_keras2_style() -> None:
    net = Sequential([K.Conv2D(32, 3, input_shape=(28, 28, 1)), K.Conv2D(64, 3)])
    assert net.output_shape == (24, 24, 64)


def test_conditions_are_pruned_to_the_strongest() -> None:
    net = Sequential([K.Input(("n", "n", 1)), K.Conv2D(2, 3), K.Conv2D(2, 3), K.Conv2D(2, 3)])
    assert [str(c) for c in net.conditions] == ["n >= 7"]


def test_subs_instantiates_hyperparameters_too() -> None:
    net = Sequential([K.Input(("n", "n", 1)), K.Conv2D(8, "k")])
    n, k = symbol("n"), symbol("k")
    assert net.output_shape == (n - k + 1, n - k + 1, 8)
    five = net.subs(k=5)
    assert five.output_shape == (n - 4, n - 4, 8)
    assert five.rows[0].params == 5 * 5 * 8 + 8
    assert net.subs(n=28, k=5).output_shape == (24, 24, 8)


def test_subs_unknown_symbol_suggests() -> None:
    net = Sequential([K.Input(("H", "W", 1)), K.Conv2D(8, 3)])
    with pytest.raises(UsageError, match="did you mean 'H'"):
        net.subs(h=3)


def test_missing_input_shape_is_explained() -> None:
    with pytest.raises(UsageError, match="input shape is unknown"):
        Sequential([T.Conv2d(1, 2, 3)])


def test_mixed_dialects_refused() -> None:
    with pytest.raises(UsageError, match="mixes"):
        Sequential([K.Input((8, 8, 1)), T.ReLU()])


def test_deep_chain_stays_canonical() -> None:
    n = symbol("n")
    layers = [K.Input(("n", 1))] + [K.Conv1D(1, 3, strides=2, padding="same")
                                     for _ in range(300)]
    out = Sequential(layers).output_shape[0]
    assert str(out) == f"ceiling(n/{2**300})"
    assert out.subs(n, 2**300 + 1) == 2
    del n


def test_chain_conditions_with_symbolic_kernels_and_strides_are_pruned_exactly() -> None:
    import random

    from convsym import load
    from convsym.intdiv import evaluate

    net = load({"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": f"k{i}",
                    "stride": f"s{i}"}} for i in range(6)]})
    kept = net.condition_records
    assert len(kept) == 2  # the last layer's room on each axis implies every earlier one
    every = [c for row in net.rows for c in row.conditions]
    assert len(every) == 12
    names = sorted({s for c in every for s in c.expr.free_symbols()}, key=lambda s: s.name)
    rng = random.Random(7)
    for _ in range(3000):
        env = {s: rng.randint(1, 3) if s.name[0] in "ks" else rng.randint(1, 200)
               for s in names}
        assert all(evaluate(c.expr, env) >= 0 for c in kept) == \
            all(evaluate(c.expr, env) >= 0 for c in every)


@pytest.mark.parametrize(("depth", "shared"), [(14, False), (12, True)])
def test_symbolic_kernel_and_stride_per_layer_chains_build_exactly(depth: int,
                                                                   shared: bool) -> None:
    # 12 layers with their own k and s were refused (a residue-class expansion over
    # max_terms while deciding a room); the shapes and kept conditions must be exact
    import random

    from convsym import load
    from convsym.intdiv import evaluate, free_symbols

    def name(x: str, i: int) -> str:
        return x if shared else f"{x}{i}"

    net = load({"dialect": "torch", "input": [4, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": name("k", i),
                    "stride": name("s", i)}} for i in range(depth)]})
    summary = net.summary().to_dict()
    assert len(summary["layers"]) == depth and summary["conditions"]
    out = net.shapes[net.outputs[0]]
    kept = net.condition_records
    names = sorted({s for e in [*out, *(c.expr for c in kept)] for s in free_symbols(e)},
                   key=lambda s: s.name)
    by_name = {s.name: s for s in names}
    rng = random.Random(depth)
    valid = 0
    for _ in range(400):
        env = {s: rng.randint(1, 3) if s.name[0] in "ks" else rng.randint(1, 3**depth)
               for s in names}
        sizes, ok = [env[by_name["H"]], env[by_name["W"]]], True
        for i in range(depth):  # torch's rule, one layer at a time, in integers
            k, s = env[by_name[name("k", i)]], env[by_name[name("s", i)]]
            ok = ok and all(n >= k for n in sizes)
            sizes = [(n - k) // s + 1 for n in sizes]
        assert all(evaluate(c.expr, env) >= 0 for c in kept) == ok
        if ok:
            valid += 1
            assert [evaluate(x, env) for x in out[1:]] == sizes
    assert valid > 20


def test_bounds_x_ge_t_imply_each_other_as_the_general_steps_say(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # _implies reads x >= t against y >= u off their form; the general steps (with the form
    # not recognised) give the same answer on every pair, symbols positive or not
    from convsym import network
    from convsym.intdiv import QPoly, floordiv

    syms = [symbol("H"), symbol("W"), symbol("p", nonnegative=True)]
    exprs = [QPoly.sym(x) - QPoly.const(t) for x in syms for t in (-2, 0, 1, 2, 5, 256)]
    exprs.append(floordiv(QPoly.sym(syms[0]), QPoly.const(4)) - QPoly.const(1))  # not one
    fast = {(i, j): network._implies(a, b) for i, a in enumerate(exprs)
            for j, b in enumerate(exprs)}
    monkeypatch.setattr(network, "_bound_form", lambda e: None)
    slow = {(i, j): network._implies(a, b) for i, a in enumerate(exprs)
            for j, b in enumerate(exprs)}
    assert fast == slow


def test_total_params_from_integers_is_the_sum_of_the_rows() -> None:
    net = Sequential([K.Input((32, 32, 3)), K.Conv2D(8, 3), K.BatchNormalization(),
                      K.Conv2D(4, 1, use_bias=False)])
    assert net.total_params == sum(r.trainable + r.non_trainable for r in net.rows)
    assert [r.params for r in net.rows] == [224, 32, 32]
    assert net.total_params == net.trainable_params + net.non_trainable_params == 288


def test_total_macs_of_a_deep_same_stride_2_stack_is_sympys_sum_of_the_rows() -> None:
    # rows 61 apart hash alike in SymPy; the total is collected under a wider hash
    layers = [K.Input(("H", "W", 4))] + [K.Conv2D(4, 3, strides=2, padding="same")
                                         for _ in range(130)]
    layers += [K.Conv2D(4, 1, padding="same")]  # like terms: the last row's MACs
    net = Sequential(layers)
    expected = sympy.Add(*[r.macs for r in net.rows])
    assert sympy.srepr(net.total_macs) == sympy.srepr(expected)
    assert len(net.total_macs.args) == 130
