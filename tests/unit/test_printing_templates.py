"""The rule templates: every rule a layer records has one, and each states the engine's formula.

The rule names are read from the source (every ``AxisStep(axis, rule, ...)`` call in
``convsym/``), so a new layer that records a new rule fails here until its template exists.
"""

from __future__ import annotations

import ast
import itertools
import pathlib
import random

import pytest
import sympy

import convsym
from convsym import formulas as F
from convsym.expr import symbol
from convsym.intdiv import QPoly, evaluate
from convsym.printing import templates as T
from convsym.printing.doc import Fill

PACKAGE = pathlib.Path(convsym.__file__).parent


def _strings(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> set[str] | None:
    """Every string ``node`` can evaluate to, or None when that is not visible statically."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        a, b = _strings(node.body, assigned), _strings(node.orelse, assigned)
        return None if a is None or b is None else a | b
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _strings(node.left, assigned), _strings(node.right, assigned)
        return None if a is None or b is None else {x + y for x, y in itertools.product(a, b)}
    if isinstance(node, ast.Name) and node.id in assigned:
        out: set[str] = set()
        for value in assigned[node.id]:
            got = _strings(value, assigned)
            if got is None:
                return None
            out |= got
        return out
    return None


def _makes_step(func: ast.expr) -> bool:
    """Whether a call of ``func`` makes an AxisStep: ``AxisStep(...)`` (or ``x.AxisStep``)
    or its fast constructor ``AxisStep.made(...)`` (same arguments)."""
    if getattr(func, "id", getattr(func, "attr", None)) == "AxisStep":
        return True
    return isinstance(func, ast.Attribute) and func.attr == "made" and \
        getattr(func.value, "id", None) == "AxisStep"


def recorded_rules() -> tuple[set[str], list[str]]:
    """Rule names of every ``AxisStep(...)`` or ``AxisStep.made(...)`` call, and the calls
    whose rule is not visible."""
    rules: set[str] = set()
    unknown: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module))]:
            assigned: dict[str, list[ast.expr]] = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(func):
                if not (isinstance(node, ast.Call) and _makes_step(node.func)):
                    continue
                arg = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "rule"), None)
                got = None if arg is None else _strings(arg, assigned)
                if got is None:
                    unknown.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
                else:
                    rules |= got
    return rules, sorted(set(unknown))


def test_every_recorded_rule_has_a_template() -> None:
    rules, unknown = recorded_rules()
    assert not unknown, ("AxisStep rule names must be string literals (or variables, "
                         "conditionals and concatenations of literals) so that this test can "
                         f"check their templates; not visible at {unknown}")
    assert {"valid", "explicit", "same_tf", "same_torch", "causal", "pool_valid_keras",
            "pool_same_keras", "pool_floor_torch", "pool_ceil_torch"} <= rules
    missing = sorted(rules - set(T.TEMPLATES))
    assert not missing, f"add a template in convsym/printing/templates.py for {missing}"


def test_the_scan_sees_conditional_and_concatenated_names() -> None:
    code = ("def f(same, op):\n    rule = ('a' if same else 'b') + ('' if op else '_d')\n"
            "    return AxisStep(axis, rule, {}, 1)\n")
    tree = ast.parse(code)
    func = tree.body[0]
    assigned = {"rule": [func.body[0].value]}  # type: ignore[attr-defined]
    call = func.body[1].value  # type: ignore[attr-defined]
    assert _strings(call.args[1], assigned) == {"a", "b", "a_d", "b_d"}


def test_fallback_for_a_rule_without_template() -> None:
    from convsym.derivation import SizeStep
    from convsym.printing.compose import _size
    from convsym.printing.doc import Document
    from convsym.printing.text import render_document

    step = SizeStep(("H",), "brand_new_rule", {"n": sympy.Integer(7)}, sympy.Integer(3))
    text = render_document(Document("t", tuple(_size(step, {}))))
    assert "brand_new_rule" in text and "no textbook template" in text
    assert "o_H = 3" in text


# --- each template's general relationship is the engine's closed form -----------------------

n, k, s, d, p, op, t = (symbol(x) for x in ("n", "k", "s", "d", "p", "op", "t"))
Q = QPoly.sym
C = QPoly.const


def _engine(rule: str):  # type: ignore[no-untyped-def]
    """The engine's closed form for a rule, as a function of integer values."""
    def ke(v):  # type: ignore[no-untyped-def]
        return v["d"] * (v["k"] - 1) + 1
    return {
        "valid": lambda v: F.conv_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]),
                                      pad=C(0)),
        "explicit": lambda v: F.conv_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]),
                                         pad=C(v["P"])),
        "same_tf": lambda v: F.same_out(C(v["n"]), s=C(v["s"])),
        "same_torch": lambda v: F.conv_out(C(v["n"]), k=C(v["k"]), s=C(1), d=C(v["d"]),
                                           pad=F.torch_same_pad_total(k=C(v["k"]), d=C(v["d"]))),
        "causal": lambda v: F.conv_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]),
                                       pad=F.causal_pad(k=C(v["k"]), d=C(v["d"]))),
        "pool_valid_keras": lambda v: F.keras_pool_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]),
                                                       same=False),
        "pool_same_keras": lambda v: F.keras_pool_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]),
                                                      same=True),
        "pool_floor_torch": lambda v: F.conv_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]),
                                                 d=C(v["d"]), pad=C(2 * v["p"])),
        "pool_ceil_torch": lambda v: F.torch_pool_ceil_out(C(v["n"]), k=C(v["k"]),
                                                           s=C(v["s"]), d=C(v["d"]),
                                                           p=C(v["p"])),
        "conv_transpose_torch": lambda v: F.conv_transpose_out_torch(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), pad=C(2 * v["p"]),
            output_padding=C(v["op"])),
        "conv_transpose_keras_valid": lambda v: F.conv_transpose_out_keras(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), same=False,
            output_padding=C(v["op"])),
        "conv_transpose_keras_valid_default": lambda v: F.conv_transpose_out_keras(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), same=False,
            output_padding=None),
        "conv_transpose_keras_same": lambda v: F.conv_transpose_out_keras(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), same=True,
            output_padding=C(v["op"])),
        "conv_transpose_keras_same_default": lambda v: F.conv_transpose_out_keras(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), same=True,
            output_padding=None),
        "upsample": lambda v: F.upsample_out(C(v["n"]), factor=C(v["s"])),
        "pad": lambda v: C(v["n"] + v["p_l"] + v["p_r"]),
        "crop": lambda v: C(v["n"] - v["c_l"] - v["c_r"]),
        "global_pool": lambda v: C(1),
        "adaptive_pool": lambda v: C(v["t"]),
        "resize_to": lambda v: C(v["t"]),
        "same_upper_onnx": lambda v: F.same_out(C(v["n"]), s=C(v["s"])),
        "same_lower_onnx": lambda v: F.same_out(C(v["n"]), s=C(v["s"])),
        "pool_same_onnx": lambda v: F.onnx_same_pool_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]),
                                                         d=C(v["d"])),
        "pool_ceil_onnx": lambda v: F.pool_ceil_out(C(v["n"]), k=C(v["k"]), s=C(v["s"]),
                                                    d=C(v["d"]), p_l=C(v["p_l"]),
                                                    p_r=C(v["p_r"])),
        "conv_transpose_onnx": lambda v: F.conv_transpose_out_onnx(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), p_l=C(v["p_l"]),
            p_r=C(v["p_r"]), output_padding=C(v["op"])),
        "conv_transpose_onnx_same": lambda v: F.conv_transpose_same_onnx(
            C(v["n"]), k=C(v["k"]), s=C(v["s"]), d=C(v["d"]), output_padding=C(v["op"])),
        "conv_transpose_onnx_output_shape": lambda v: C(v["t"]),
        "slice_onnx": lambda v: C(-(-(v["e"] - v["b"]) // v["s"])),
        "resize_scale_onnx": lambda v: C(v["n"] * v["a"] // v["b"]),
    }.get(rule), ke


def _random_values(rng: random.Random, rule: str) -> dict[str, int]:
    v = {"n": rng.randint(20, 90), "k": rng.randint(1, 7), "s": rng.randint(1, 5),
         "d": rng.randint(1, 3), "p_l": rng.randint(0, 3), "p_r": rng.randint(0, 3),
         "c_l": rng.randint(0, 3), "c_r": rng.randint(0, 3), "t": rng.randint(1, 9)}
    v["P"] = v["p_l"] + v["p_r"]
    v["b"], v["a"] = rng.randint(1, 9), rng.randint(1, 9)
    v["e"] = v["b"] + rng.randint(1, 9)
    v["p"] = rng.randint(0, (v["d"] * (v["k"] - 1) + 1) // 2)
    v["op"] = rng.randint(0, max(v["s"], v["d"]) - 1)
    if rule.startswith("conv_transpose_keras"):
        v["d"] = 1
        v["op"] = rng.randint(0, v["s"] - 1)
    if rule == "same_torch":
        v["s"] = 1
    if rule == "same_lower_onnx":
        v["d"] = 1  # onnxruntime refuses SAME with dilation in Conv
    if rule in ("same_torch", "causal"):
        v["P"] = v["d"] * (v["k"] - 1)
    if rule == "valid":
        v["P"] = 0
    if rule.startswith("pool_") and rule.endswith("keras"):
        v["d"] = 1  # Keras pooling has no dilation
    if rule in ("conv_transpose_torch", "pool_floor_torch", "pool_ceil_torch"):
        v["P"] = 2 * v["p"]  # the engine records P = 2p for symmetric padding
    return v


@pytest.mark.parametrize("rule", sorted(T.TEMPLATES))
def test_general_relationship_is_the_engine_formula(rule: str) -> None:
    engine, ke = _engine(rule)
    assert engine is not None, f"add the engine's closed form for {rule!r} to this test"
    tpl = T.TEMPLATES[rule]
    rng = random.Random(rule)
    for _ in range(200):
        v = _random_values(rng, rule)
        slots = {key: sympy.Integer(val) for key, val in v.items()}
        slots["K"] = sympy.Integer(ke(v))
        slots["o"] = sympy.Integer(evaluate(engine(v), {}))
        general = tpl.general.meaning(slots)
        assert general == slots["o"], (rule, v, general, slots["o"])
        # the specialised form chosen for these values says the same
        assert tpl.form(slots).meaning(slots) == slots["o"], (rule, v)


@pytest.mark.parametrize("rule", sorted(T.TEMPLATES))
def test_padding_extras_are_consistent(rule: str) -> None:
    tpl = T.TEMPLATES[rule]
    if not tpl.extras:
        return
    rng = random.Random(rule)
    for _ in range(100):
        v = _random_values(rng, rule)
        engine, ke = _engine(rule)
        slots = {key: sympy.Integer(val) for key, val in v.items()}
        slots["K"] = sympy.Integer(ke(v))
        slots["o"] = sympy.Integer(evaluate(engine(v), {}))
        total = None
        for extra in tpl.extras:
            value = extra.forms[-1].formula.meaning(slots)
            slots[extra.letter] = value
            if extra.letter == "P":
                total = value
        if total is not None and "p_l" in slots and "p_r" in slots and \
                any(e.letter == "p_r" for e in tpl.extras):
            assert slots["p_l"] + slots["p_r"] == total
            assert 0 <= slots["p_r"] - slots["p_l"] <= 1  # the odd pixel at the end


def test_same_tf_padding_matches_the_engine() -> None:
    rng = random.Random(1)
    tpl = T.TEMPLATES["same_tf"]
    for _ in range(200):
        nn, kk, ss, dd = rng.randint(1, 60), rng.randint(1, 7), rng.randint(1, 5), 1
        total = evaluate(F.same_pad_total(C(nn), k=C(kk), s=C(ss), d=C(dd)), {})
        o = evaluate(F.same_out(C(nn), s=C(ss)), {})
        slots = {"n": sympy.Integer(nn), "K": sympy.Integer(kk), "s": sympy.Integer(ss),
                 "o": sympy.Integer(o)}
        assert tpl.extras[0].forms[0].formula.meaning(slots) == total


def test_general_forms_fill_with_letters() -> None:
    for rule, tpl in T.TEMPLATES.items():
        letters = dict(T.LETTERS)
        letters["K"] = T.LETTERS["k"]
        fill = Fill(tpl.general, letters)
        assert fill.meaning() is not None, rule


_ = (Q, n, k, s, d, p, op, t)


def _layer_for(rule: str, v: dict[str, int]):  # type: ignore[no-untyped-def]
    from convsym.layers import keras as K
    from convsym.layers import torch as TL

    if rule == "valid":
        return K.Conv1D(1, v["k"], strides=v["s"], dilation_rate=1), (v["n"], 1)
    if rule == "explicit":
        return TL.Conv1d(1, 1, v["k"], stride=v["s"], padding=v["p"], dilation=v["d"]), \
            (1, v["n"])
    if rule == "pool_valid_keras":
        return K.MaxPooling1D(v["k"], strides=v["s"]), (v["n"], 1)
    if rule in ("pool_floor_torch", "pool_ceil_torch"):
        return TL.MaxPool1d(v["k"], stride=v["s"], padding=v["p"], dilation=v["d"],
                            ceil_mode=rule == "pool_ceil_torch"), (1, v["n"])
    return None


@pytest.mark.parametrize("rule", ["valid", "explicit", "pool_valid_keras", "pool_floor_torch",
                                  "pool_ceil_torch"])
def test_validity_check_agrees_with_the_layer(rule: str) -> None:
    """The template's "valid when" holds exactly when the layer accepts the input."""
    from convsym.derivation import derive
    from convsym.errors import ShapeError

    tpl = T.TEMPLATES[rule]
    rng = random.Random(rule)
    seen = set()
    for _ in range(300):
        k, s, d = rng.randint(1, 6), rng.randint(1, 4), rng.randint(1, 2)
        v = {"n": rng.randint(1, 12), "k": k, "s": s, "d": d if "torch" in rule or
             rule == "explicit" else 1,
             # PyTorch pooling allows padding up to half the kernel size (not the dilated one)
             "p": rng.randint(0, (d * (k - 1) + 1) // 2 if rule == "explicit" else k // 2)}
        if rule != "explicit" and "torch" not in rule:
            v["p"] = 0
        v["P"] = 2 * v["p"]
        layer, shape = _layer_for(rule, v)
        try:
            derive(layer, input_shape=shape)
            accepted = True
        except ShapeError:
            accepted = False
        slots = {key: sympy.Integer(val) for key, val in v.items()}
        slots["K"] = sympy.Integer(v["d"] * (v["k"] - 1) + 1)
        holds = all(bool(c.form(slots).meaning(slots) >= c.rhs.meaning(slots))
                    for c in tpl.checks)
        assert holds == accepted, (rule, v)
        seen.add(accepted)
    assert seen == {True, False}
