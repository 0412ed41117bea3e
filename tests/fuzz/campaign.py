"""A long hostile-input campaign (issue 14): tens of thousands of inputs in capped workers.

Not part of the pytest suite (it runs for many minutes); the suite's fuzz tests are the
fast, always-run slice of the same classes, and each bug this campaign found has a
regression test there or in ``tests/hostile``.  Run it from the repository root::

    python tests/fuzz/campaign.py --n 30000            # 2 workers, seed 0
    python tests/fuzz/campaign.py --n 2000 --families cli,api --seed 7 --json out.json

Inputs are generated from ``--seed`` (each input from its own seeded generator, so a case is
replayed with ``--replay FAMILY:INDEX``), sent to long-lived worker processes whose address
space is capped at what they mapped after loading SymPy, PyTorch, Keras and ONNX plus
``--memory-mb`` (default 2048), and each case runs under a wall clock (``--budget``, 90 s:
above the 60 s build budget); a worker that overruns is killed and the case counted as a
hang.  The families:

* ``cli``: argument lists for every command and flag read from the parser (random words,
  Unicode, huge and negative numbers, expressions, relations; files that are FIFOs,
  folders, binary, over the size limit, broken and hostile specs, Keras and ONNX files),
  a third of them with an ASCII-only stdout (like ``PYTHONIOENCODING=ascii``);
* ``spec``: spec documents mutated (wrong types, shared sub-structures, deep nesting, huge
  exponents, unknown keys) through ``convsym.load`` and, written to a JSON or YAML file,
  through the command line;
* ``keras``: Keras JSON documents (nested models called many times, duplicate names,
  mutated real ``to_json()`` output);
* ``onnx``: ONNX files truncated, damaged byte by byte, or built with hostile attributes;
* ``api``: public functions with wrong types, unknown keywords, ``limits=``, ``deadline=``,
  ``seed=``, ``timeout=``, float ``at=`` values, SymPy symbols declared real or rational;
* ``forward``: PyTorch modules whose ``forward`` raises or loops;
* ``torchcheck`` and ``onnxcheck``: random layer chains whose answer has an independent
  check (a real PyTorch forward, ONNX Runtime): a different shape, a refusal of what the
  framework runs, or an acceptance of what it refuses counts as a WRONG answer.

Counted per family: ``ok`` (an answer or one clean convsym error), ``traceback`` (an
exception that is not a ``ConvsymError`` out of the API; on the command line an exit status
other than 0-3, a traceback, or bad input not reported as one ``convsym: error:`` line),
``hang``, ``blowup`` (out of memory, or the worker died) and ``wrong``.  The exit status is
1 when any of those but ``ok`` occurred.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CLASSES = ("ok", "traceback", "hang", "blowup", "wrong")

# --- hostile pieces -----------------------------------------------------------------------

WORDS = ["n", "H", "W", "k", "s", "c", "x", "", " ", "-", "--", "=", "0", "1", "-1", "2", "3",
         "7", "64", "-7", "0.5", "1e308", "-1e308", "inf", "-inf", "nan", "NaN", "1_000",
         "4611686018427387904", "-4611686018427387904", "9223372036854775808", "9" * 60,
         "-" + "9" * 60, "2**62", "2**63", "10**10**10", "(a+b+c+d+e+f+g+h)**64",
         "(a+b+c+d+e)**20 >= 1", "n**99999", "n**64*m**64", "floor(n/0)", "n/0", "n % 0",
         "max(" * 30 + "n" + ")" * 30, "(" * 80 + "n" + ")" * 80, "n >= 1", "n == 8",
         "out_H == 8", "n <= 4611686018427387904", "-4611686018427387904 <= n", "n=28",
         "n=-3", "n=0", "c=1", "n=x/2", "n==3", "n=", "=3", "\u00b2", "\u00e9t\u00e9",
         "\u202e", "\x00", "\x1b[2J", "\ud800", "\U0001f600", "r\u00e9seau", "a``b", "$x$",
         "<script>", "\\input{/etc/passwd}", "%", "#", "__import__('os').system('touch X')",
         "lambda: 0", "example:seed1", "example:", "example:nope", "example:../x",
         "conv2d", "conv2d_1", "dense", "flatten", "0", "layer0", "all", "first", "none",
         "text", "markdown", "latex", "json", "svg", "tikz", "png", "arithmetic",
         "architecture", "size-plot", "reference", "torch", "keras", "reference,torch"]

FILES = ["good.yaml", "good.json", "good.toml", "torch.json", "graph.yaml", "tag.yaml",
         "alias.yaml", "deep.json", "empty.yaml", "binary.yaml", "binary.bin", "huge.json",
         "nan.json", "dup.json", "expand.json", "nested.json", "names.json", "act.json",
         "accent.json", "model.onnx", "trunc.onnx", "keras.json", "fifo.yaml", "folder",
         "folder/", "missing.yaml", "/dev/null", "/dev/zero", "/proc/self/environ", "-", ".",
         "example:seed1", "example:seed1_symbolic", "example:seed3_symbolic",
         "example:lenet5", "example:unet", "example:resnet18"]


def _nested_keras(depth: int, calls: int) -> dict[str, Any]:
    from test_fuzz_budgets import nested_keras

    return nested_keras(depth, calls)


def _same_names(count: int, layer: str = "ReLU") -> dict[str, Any]:
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "in"}},
        *[{"class_name": layer, "config": {"name": "x"}}] * count]}}


def _onnx_model(nodes: list[Any], inits: list[Any], x_dims: list[Any]) -> bytes:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "g", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def _base_onnx() -> bytes:
    from test_fuzz_onnx import MODEL

    return bytes(MODEL)


def write_files(root: str) -> None:
    """The files the ``cli`` family names, in the worker's scratch directory."""
    from convsym.examples import SPECS

    text = {
        "good.yaml": "input: [n, n, 3]\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n"
                     "  - MaxPooling2D: {}\n  - Flatten\n  - Dense: {units: 2}\n",
        "good.json": json.dumps(SPECS["seed3_symbolic"]),
        "good.toml": 'input = [8, 8, 1]\nlayers = [{Conv2D = {filters = 2, kernel_size = 3}}]\n',
        "torch.json": json.dumps({"dialect": "torch", "input": [3, "H", "W"], "layers": [
            {"Conv2d": [3, 4, 3]}, {"MaxPool2d": {"kernel_size": 2, "ceil_mode": True}},
            {"Conv2d": {"in_channels": 4, "out_channels": 4, "kernel_size": "k",
                        "stride": "s"}}]}),
        "graph.yaml": "inputs:\n  image: [n, n, 16]\nlayers:\n"
                      "  - Conv2D: {filters: 16, kernel_size: 3, padding: same}\n"
                      "    name: conv\n    inputs: [image]\n  - Add: {}\n"
                      "    inputs: [image, conv]\noutputs: [add]\n",
        "tag.yaml": "a: !!python/object/apply:os.system ['touch CANARY']\n",
        "alias.yaml": "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "empty.yaml": "",
        "binary.yaml": "\x00\x01\x02\xff",
        "nan.json": '{"input": [NaN, 8, 1], "layers": ["Flatten"]}',
        "dup.json": '{"input": [8, 8, 1], "input": [9, 9, 1], "layers": ["Flatten"]}',
        "expand.json": json.dumps({"input": ["*".join(f"(a{i}+b{i})" for i in range(30)), 1],
                                   "layers": ["Flatten"]}),
        "nested.json": json.dumps(_nested_keras(6, 8)),
        "names.json": json.dumps(_same_names(3000)),
        "act.json": json.dumps({"input": ["n", "n", 1], "layers": [
            {"Conv2D": {"filters": 2, "kernel_size": 3, "activation": "evil"}}]}),
        "accent.json": json.dumps({"name": "r\u00e9seau\u00b2``<b>", "input": ["n", "n", 1],
                                   "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3},
                                               "name": "c\u00e9``<script>"}]}),
        "keras.json": open(os.path.join(HERE, "fixtures", "keras3_functional.json"),
                           encoding="utf-8").read(),
    }
    for name, body in text.items():
        with open(os.path.join(root, name), "w", encoding="utf-8",
                  errors="surrogateescape") as handle:
            handle.write(body)
    with open(os.path.join(root, "binary.bin"), "wb") as handle:
        handle.write(bytes(range(256)) * 64)
    with open(os.path.join(root, "huge.json"), "wb") as handle:
        handle.write(b'{"input": [8, 8, 1], "layers": ["Flatten"], "pad": "' +
                     b"x" * 3_000_000 + b'"}')
    model = _base_onnx()
    with open(os.path.join(root, "model.onnx"), "wb") as handle:
        handle.write(model)
    with open(os.path.join(root, "trunc.onnx"), "wb") as handle:
        handle.write(model[: len(model) // 2])
    os.makedirs(os.path.join(root, "folder"), exist_ok=True)
    if not os.path.exists(os.path.join(root, "fifo.yaml")):
        os.mkfifo(os.path.join(root, "fifo.yaml"))


# --- generators: (rng) -> a picklable case ---------------------------------------------------


def _commands() -> dict[str, list[tuple[list[str], int | str | None, list[str] | None, str]]]:
    """Per command: (option strings, nargs, choices, dest) of every argument."""
    from convsym.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: [(list(a.option_strings), a.nargs,  # type: ignore[misc]
                    [str(c) for c in a.choices] if a.choices else None, a.dest)
                   for a in p._actions if not isinstance(a, argparse._HelpAction)]
            for name, p in sub.choices.items()}


_COMMANDS: dict[str, Any] = {}


def _word(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.6:
        return rng.choice(WORDS)
    if pick < 0.75:
        return str(rng.choice([-1, 1]) * rng.randrange(10 ** rng.randrange(1, 40)))
    if pick < 0.9:
        from fuzzkit import decode_expression

        return decode_expression(rng.randbytes(rng.randrange(1, 40)))
    return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000),
                                   rng.randrange(0xD800, 0xE000), rng.randrange(0, 32)]))
                   for _ in range(rng.randrange(1, 8)))


def gen_cli(rng: random.Random) -> dict[str, Any]:
    if not _COMMANDS:
        _COMMANDS.update(_commands())
    if rng.random() < 0.05:
        argv = [rng.choice(["--version", "-h", "--help", "", "--", "-x", _word(rng)])
                for _ in range(rng.randrange(0, 4))]
        return {"argv": argv, "ascii": rng.random() < 0.3}
    command = rng.choice(sorted(_COMMANDS))
    argv = [command]
    actions = _COMMANDS[command]
    for options, nargs, _, dest in actions:
        if options or (nargs == "?" and rng.random() < 0.5):
            continue
        argv.append(rng.choice(FILES) if dest in ("source", "a", "b") and rng.random() < 0.85
                    else _word(rng))
    flagged = [a for a in actions if a[0]]
    for options, nargs, choices, dest in rng.sample(flagged, min(len(flagged),
                                                                 rng.randrange(0, 5))):
        flag = rng.choice(options)
        if nargs == 0:
            argv.append(flag)
            continue
        if choices and rng.random() < 0.7:
            value = rng.choice(choices)
        elif dest == "output":
            value = rng.choice(["out.tex", "out.md", "out.svg", "o/x/y.tex", "folder",
                                "fifo.yaml", "", "/dev/full", "out.png", "out.pdf"])
        elif dest in ("timeout",):
            value = rng.choice(["0.3", "0", "-1", "nan", "inf", "abc", "", "1e-9", "0.5"])
        elif dest in ("samples", "max_size"):
            value = rng.choice(["1", "2", "0", "-3", "abc", "4096", "100000", "1e9", "",
                                "99999999999999999999"])
        else:
            value = _word(rng)
        argv += [flag, value] if rng.random() < 0.85 else [f"{flag}={value}"]
    if rng.random() < 0.1:
        argv.insert(rng.randrange(len(argv) + 1), _word(rng))
    if command in ("prove", "solve", "inputs") and rng.random() < 0.97:
        argv += ["--timeout", rng.choice(["0.3", "0.5"])]  # keep the run short
    if command == "verify":
        argv += ["--backend", rng.choice(["reference", "reference", "torch"]), "--samples",
                 rng.choice(["1", "2"])]
    return {"argv": argv, "ascii": rng.random() < 0.3}


def _hostile_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(24)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.choice([0.5, -1.0, 1e308, float("inf"), float("nan"), 2.0, 3.0])
    if pick == 3:
        return rng.choice([0, -1, -7, 1, 2, 3, 7, 64, 2**62, 2**63, 2**200, -(2**70)])
    if pick == 4 and depth < 3:
        return [_hostile_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if pick == 5 and depth < 3:
        return {rng.choice(["filters", "kernel_size", "x", "", "name", "Conv2D"]):
                _hostile_value(rng, depth + 1) for _ in range(rng.randrange(0, 3))}
    if pick == 6:
        value: Any = 3
        for _ in range(rng.randrange(10, 200)):
            value = [value]
        return value
    if pick == 7:
        return rng.choice(["n**99999", "(a+b+c+d)**64", "2**62*n", "n**64*m**64",
                           "floor((a+b+c+d+e+f+g+h)**64/2)", "k**100000"])
    if pick == 8:
        return rng.choice(["relu", "evil", "linear", "softmax", "__lambda__", "relu6",
                           "keras.activations.relu", "ReLU", "gelu", "swish", ""])
    return _word(rng)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*at, i))
    return found


def mutate(doc: Any, rng: random.Random, count: int) -> Any:
    """``doc`` (a deep copy) with ``count`` random changes; may share one sub-structure."""
    doc = json.loads(json.dumps(doc))
    for _ in range(count):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        kind = rng.randrange(6)
        if kind == 0 and isinstance(parent, dict):
            del parent[last]
        elif kind == 1 and isinstance(parent, dict):
            parent[rng.choice(["nmae", "extra", "trainable", "dtype", "name", "activation",
                               "use_bias", "padding", "inputs"])] = _hostile_value(rng)
        elif kind == 2 and isinstance(parent, list):
            parent.insert(rng.randrange(len(parent) + 1), parent[last])  # shared, in load()
        else:
            parent[last] = _hostile_value(rng)
    return doc


def _base_specs() -> list[dict[str, Any]]:
    from convsym.examples import SPECS

    torch_spec = {"dialect": "torch", "input": [3, "H", "W"], "layers": [
        {"Conv2d": {"in_channels": 3, "out_channels": 8, "kernel_size": 3, "stride": 2,
                    "padding": 1}},
        {"BatchNorm2d": {"num_features": 8}}, {"ReLU": {}},
        {"MaxPool2d": {"kernel_size": 3, "stride": 2, "ceil_mode": True}},
        {"ConvTranspose2d": {"in_channels": 8, "out_channels": 4, "kernel_size": 2,
                             "stride": 2}},
        {"AdaptiveAvgPool2d": {"output_size": 1}}, {"Flatten": {}},
        {"Linear": {"in_features": 4, "out_features": 2}}]}
    graph = {"name": "g", "inputs": {"image": ["n", "n", 16]}, "layers": [
        {"Conv2D": {"filters": 16, "kernel_size": 3, "padding": "same"}, "name": "conv",
         "inputs": ["image"]}, {"Add": {}, "inputs": ["image", "conv"]}], "outputs": ["add"]}
    return [*SPECS.values(), torch_spec, graph]


def gen_spec(rng: random.Random) -> dict[str, Any]:
    doc = mutate(rng.choice(_base_specs()), rng, rng.randrange(1, 4))
    via = rng.choice(["api", "api", "json", "yaml"])
    return {"doc": doc, "via": via, "share": rng.random() < 0.1,
            "command": rng.choice(["summary", "derive", "summary --json", "inputs"])}


def gen_keras(rng: random.Random) -> dict[str, Any]:
    pick = rng.randrange(4)
    if pick == 0:
        return {"doc": _nested_keras(rng.randrange(1, 9), rng.randrange(1, 13))}
    if pick == 1:
        return {"doc": _same_names(rng.randrange(1, 3000),
                                   rng.choice(["ReLU", "Conv2D", "Flatten", "Dense"]))}
    name = rng.choice(["keras3_sequential.json", "keras3_functional.json"])
    with open(os.path.join(HERE, "fixtures", name), encoding="utf-8") as handle:
        doc = json.load(handle)
    return {"doc": mutate(doc, rng, rng.randrange(1, 5))}


_ONNX_OPS = ["Conv", "MaxPool", "AveragePool", "ConvTranspose"]


def _onnx_attrs(rng: random.Random, op: str, hostile: bool) -> dict[str, Any]:
    k = rng.randrange(1, 5)
    attrs: dict[str, Any] = {"kernel_shape": [k, rng.randrange(1, 5)]}
    if rng.random() < 0.7:
        attrs["strides"] = [rng.randrange(1, 4), rng.randrange(1, 4)]
    if rng.random() < 0.5:
        attrs["pads"] = [rng.randrange(0, 3) for _ in range(4)]
    elif rng.random() < 0.5:
        attrs["auto_pad"] = rng.choice(["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"])
    if op != "AveragePool" and rng.random() < 0.4:
        attrs["dilations"] = [rng.randrange(1, 3), rng.randrange(1, 3)]
    if op in ("MaxPool", "AveragePool") and rng.random() < 0.5:
        attrs["ceil_mode"] = rng.randrange(2)
    if op == "ConvTranspose" and rng.random() < 0.4:
        attrs["output_padding"] = [rng.randrange(0, 2), rng.randrange(0, 2)]
    if hostile:
        key = rng.choice(["kernel_shape", "strides", "pads", "dilations", "auto_pad",
                          "ceil_mode", "group", "output_padding", "output_shape", "bogus"])
        attrs[key] = rng.choice([[0, 0], [-1, 2], [2**62, 1], [1], [1, 2, 3], 1.5, "x",
                                 "SAME_MIDDLE", [1.5, 2.0], 0, -1, 2**40, [], b"\xff"])
    return attrs


def gen_onnx(rng: random.Random) -> dict[str, Any]:
    pick = rng.randrange(3)
    if pick == 0:
        data = _base_onnx()
        return {"data": data[: rng.randrange(len(data))]}
    if pick == 1:
        data = bytearray(_base_onnx())
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return {"data": bytes(data)}
    op = rng.choice(_ONNX_OPS)
    return {"op": op, "attrs": _onnx_attrs(rng, op, True),
            "dims": rng.choice([["N", 3, "H", "W"], [1, 3, 16, 16], ["N", 3, "\u00e9", -1],
                                [1, 3, 0, 5], ["N", 3, "H"], [], ["N", 3, "H", "W", "D"]])}


def gen_onnxcheck(rng: random.Random) -> dict[str, Any]:
    op = rng.choice(_ONNX_OPS)
    return {"op": op, "attrs": _onnx_attrs(rng, op, False),
            "hw": [rng.randrange(1, 24), rng.randrange(1, 24)]}


_API_JUNK: list[Any] = [None, 0, -1, 1, 3, 2**70, 1.5, float("nan"), True, "", "n", "abc",
                        "example:seed1", "n >= 1", [], [1, 2], ["n"], {}, {"n": 5},
                        {"n": 2.5}, {"n": "x"}, {1: 2}, (3, "H", "W"), b"x"]


def gen_api(rng: random.Random) -> dict[str, Any]:
    from test_fuzz_api import CALLS

    name = rng.choice(sorted(CALLS) + ["prove_real", "solve_kw", "verify_kw", "compare_at",
                                       "typo"])
    return {"name": name, "seed": rng.randrange(2**32),
            "junk": [rng.choice(_API_JUNK) for _ in range(3)]}


def gen_forward(rng: random.Random) -> dict[str, Any]:
    return {"kind": rng.choice(["raise", "raise", "raise", "loop", "return", "recurse"]),
            "error": rng.choice(["KeyError", "ValueError", "TypeError", "RuntimeError",
                                 "ZeroDivisionError", "AssertionError", "IndexError",
                                 "AttributeError", "NotImplementedError", "OverflowError",
                                 "StopIteration", "MemoryError", "RecursionError"]),
            "ret": rng.choice(["none", "int", "str", "tuple", "dict", "list"])}


def gen_torchcheck(rng: random.Random) -> dict[str, Any]:
    layers = []
    channels = rng.randrange(1, 4)
    first = channels
    for _ in range(rng.randrange(1, 4)):
        kind = rng.choice(["Conv2d", "MaxPool2d", "AvgPool2d", "ConvTranspose2d"])
        k, s = rng.randrange(1, 6), rng.randrange(1, 4)
        p, d = rng.randrange(0, 4), rng.randrange(1, 3)
        if kind in ("Conv2d", "ConvTranspose2d"):
            out = rng.randrange(1, 4)
            cfg: dict[str, Any] = {"in_channels": channels, "out_channels": out,
                                   "kernel_size": k, "stride": s, "padding": p,
                                   "dilation": d, "bias": rng.random() < 0.5}
            if kind == "Conv2d" and rng.random() < 0.2:
                cfg["padding"] = rng.choice(["same", "valid"])
            if kind == "ConvTranspose2d" and rng.random() < 0.4:
                cfg["output_padding"] = rng.randrange(0, 3)
            channels = out
        elif kind == "MaxPool2d":
            cfg = {"kernel_size": k, "stride": s, "padding": p, "dilation": d,
                   "ceil_mode": rng.random() < 0.5}
        else:
            cfg = {"kernel_size": k, "stride": s, "padding": p,
                   "ceil_mode": rng.random() < 0.5, "count_include_pad": rng.random() < 0.5}
        layers.append({kind: cfg})
    return {"layers": layers, "channels": first,
            "hw": [rng.randrange(1, 40), rng.randrange(1, 40)]}


GENERATORS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "cli": gen_cli, "spec": gen_spec, "keras": gen_keras, "onnx": gen_onnx, "api": gen_api,
    "forward": gen_forward, "torchcheck": gen_torchcheck, "onnxcheck": gen_onnxcheck}
WEIGHTS = {"cli": 30, "spec": 20, "keras": 6, "onnx": 10, "api": 12, "forward": 2,
           "torchcheck": 14, "onnxcheck": 6}


# --- running one case (in a worker) --------------------------------------------------------


class Wrong(Exception):
    """An answer that disagrees with an independent check."""


def _api(fn: Callable[[], Any]) -> str:
    """Run ``fn``: 'ok' for an answer or a convsym error; anything else propagates."""
    from convsym.errors import ConvsymError

    try:
        fn()
    except ConvsymError as err:
        if err.code == "internal_error":
            raise AssertionError(f"internal error: {err}") from err
        assert isinstance(err, (ValueError, TypeError)), type(err)
        assert isinstance(err.code, str) and err.code, err.code
        assert len(str(err)) <= 2000, f"a {len(str(err))}-character message"
    return "ok"


def run_cli(argv: list[str], ascii_out: bool) -> str:
    from convsym.cli import main

    raw_out, raw_err = io.BytesIO(), io.BytesIO()
    encoding = "ascii" if ascii_out else "utf-8"
    out = io.TextIOWrapper(raw_out, encoding=encoding, errors="strict")
    err = io.TextIOWrapper(raw_err, encoding=encoding, errors="strict")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
        out.flush()
        err.flush()
    stdout = raw_out.getvalue().decode(encoding)
    stderr = raw_err.getvalue().decode(encoding)
    if status not in (0, 1, 2, 3):
        raise AssertionError(f"exit status {status}: {stderr[-300:]}")
    if "Traceback" in stderr:
        raise AssertionError(f"a traceback: {stderr[-300:]}")
    lines = [line for line in stderr.splitlines() if line.strip()]
    if status == 2 and (len(lines) > 1 or (lines and not lines[0].startswith(
            "convsym: error:")) or (not lines and "usage" not in stdout.lower())):
        raise AssertionError(f"bad input not one clean line: {stderr[-300:]!r}")
    if any(len(line) > 2000 for line in lines):
        raise AssertionError("an error line over 2,000 characters")
    return "ok"


def run_spec(case: dict[str, Any]) -> str:
    import yaml

    import convsym

    doc = case["doc"]
    if case["via"] == "api":
        if case["share"] and isinstance(doc.get("layers"), list) and doc["layers"]:
            layers: Any = doc["layers"][:1]
            for _ in range(30):
                layers = [layers, layers]
            doc["layers"] = layers
        return _api(lambda: convsym.load(doc).summary().to_dict())
    name = "case." + case["via"]
    with open(name, "w", encoding="utf-8", errors="surrogatepass") as handle:
        if case["via"] == "json":
            json.dump(doc, handle)
        else:
            yaml.safe_dump(doc, handle, allow_unicode=True)
    return run_cli([*case["command"].split()[:1], name, *case["command"].split()[1:]],
                   ascii_out=False)


def run_keras(case: dict[str, Any]) -> str:
    import convsym

    text = json.dumps(case["doc"])
    return _api(lambda: convsym.from_keras(text).summary().to_dict())


def _onnx_node(op: str, attrs: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    from onnx import TensorProto, helper

    inits = []
    inputs = ["x"]
    if op in ("Conv", "ConvTranspose"):
        k = attrs.get("kernel_shape", [3, 3])
        try:
            dims = [2, 3, *[int(v) for v in k]] if op == "Conv" else [3, 2, *[int(v) for v in k]]
            size = math.prod(dims)
            if not 0 < size < 10**6:
                raise ValueError
        except (TypeError, ValueError):
            dims, size = [2, 3, 3, 3], 54
        inits.append(helper.make_tensor("w", TensorProto.FLOAT, dims, [0.1] * size))
        inputs.append("w")
    node = helper.make_node(op, inputs, ["y"], **attrs)
    return [node], inits


def run_onnx(case: dict[str, Any]) -> str:
    import convsym

    if "data" in case:
        data = case["data"]
    else:
        try:
            nodes, inits = _onnx_node(case["op"], case["attrs"])
            data = _onnx_model(nodes, inits, case["dims"])
        except (TypeError, ValueError):
            return "ok"  # onnx.helper itself refuses the attribute: nothing to import
    return _api(lambda: convsym.from_onnx(data).summary().to_dict())


def run_onnxcheck(case: dict[str, Any]) -> str:
    import numpy as np
    import onnxruntime

    import convsym
    from convsym.errors import ConvsymError

    nodes, inits = _onnx_node(case["op"], case["attrs"])
    h, w = case["hw"]
    data = _onnx_model(nodes, inits, [1, 3, h, w])
    refusal = ""
    try:
        ours: Any = tuple(int(v) for v in convsym.from_onnx(data).output_shape)
    except ConvsymError as err:
        if err.code == "internal_error":
            raise
        ours, refusal = None, err.code
    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 4
        session = onnxruntime.InferenceSession(data, options,
                                               providers=["CPUExecutionProvider"])
        result = session.run(None, {"x": np.zeros((1, 3, h, w), np.float32)})[0]
        theirs: Any = tuple(result.shape[1:])
        if 0 in theirs:
            theirs = None  # ONNX Runtime returns empty tensors where convsym refuses
    except Exception:  # noqa: BLE001 - any refusal of ONNX Runtime
        theirs = None
    if ours is None and refusal == "input_too_small":
        return "ok"  # ONNX Runtime truncates a negative room toward zero; the spec floors it
    if ours != theirs:
        raise Wrong(f"{case['op']} {case['attrs']} on {h}x{w}: convsym {ours}, "
                    f"ONNX Runtime {theirs}")
    return "ok"


_SEED1 = None


def run_api(case: dict[str, Any]) -> str:
    import sympy

    import convsym
    from convsym.budget import Deadline

    name, junk = case["name"], case["junk"]
    net = convsym.example("seed1_symbolic")
    if name == "prove_real":
        x = sympy.Symbol("x", **{junk[0] if isinstance(junk[0], str) and junk[0] in
                                 ("real", "rational", "positive") else "real": True})
        return _api(lambda: convsym.prove(sympy.Eq(sympy.floor(x) + sympy.ceiling(x), 2 * x),
                                          timeout=0.5))
    if name == "solve_kw":
        return _api(lambda: convsym.solve(["n >= 2"], ["n"], limits=junk[0],
                                          deadline=junk[1] if junk[2] else Deadline(0.5),
                                          timeout=0.5))
    if name == "verify_kw":
        return _api(lambda: convsym.verify(net, samples=1, seed=junk[0], max_size=8,
                                           backends=["reference"]))
    if name == "compare_at":
        return _api(lambda: convsym.compare(net, net, at=junk[0]))
    if name == "typo":
        return _api(lambda: convsym.prove("n >= 1", timout=junk[0]))  # type: ignore[call-arg]
    from hypothesis import strategies as st
    from test_fuzz_api import CALLS

    draw_random = random.Random(case["seed"])

    def draw(strategy: st.SearchStrategy[Any]) -> Any:
        return strategy.example() if draw_random.random() < 0.5 else \
            draw_random.choice(_API_JUNK + [None])

    fn, args, kwargs = CALLS[name](draw)
    if "timeout" in kwargs and isinstance(kwargs["timeout"], (int, float)) and \
            not isinstance(kwargs["timeout"], bool) and kwargs["timeout"] > 1:
        kwargs["timeout"] = 1
    return _api(lambda: fn(*args, **kwargs))


def _forward_module(case: dict[str, Any]) -> Any:
    """A PyTorch module whose forward raises, loops, recurses or returns no tensor."""
    import builtins

    import torch

    error = getattr(builtins, case["error"])
    returns = {"none": lambda x: None, "int": lambda x: 3, "str": lambda x: "x",
               "tuple": lambda x: (x, 3), "dict": lambda x: {"a": x},
               "list": lambda x: [x, [x]]}[case["ret"]]

    class Module(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            if case["kind"] == "raise":
                raise error("from forward")
            if case["kind"] == "loop":
                while True:
                    x = x + 0
            if case["kind"] == "recurse":
                return self.forward(x)
            return returns(x)

    return Module()


def run_forward(case: dict[str, Any]) -> str:
    import convsym
    from convsym.budget import raised

    with raised(build_seconds=3):
        return _api(lambda: convsym.from_torch(_forward_module(case), (3, "H", "W")))


def run_torchcheck(case: dict[str, Any]) -> str:
    import torch

    import convsym
    from convsym.errors import ConvsymError

    h, w = case["hw"]
    spec = {"dialect": "torch", "input": [case["channels"], h, w], "layers": case["layers"]}
    try:
        net = convsym.load(spec)
        ours: Any = tuple(int(v) for v in net.output_shape), int(net.total_params)
    except ConvsymError as err:
        if err.code == "internal_error":
            raise
        ours = None
    modules = []
    try:
        for layer in case["layers"]:
            (kind, cfg), = layer.items()
            modules.append(getattr(torch.nn, kind)(**cfg))
        model = torch.nn.Sequential(*modules)
        with torch.no_grad():
            out = model(torch.zeros(1, case["channels"], h, w))
        theirs: Any = tuple(out.shape[1:]), sum(p.numel() for p in model.parameters())
        if 0 in theirs[0]:
            theirs = None
    except Exception:  # noqa: BLE001 - any refusal of PyTorch
        theirs = None
    if ours != theirs:
        raise Wrong(f"{case['layers']} on {case['channels']}x{h}x{w}: convsym {ours}, "
                    f"PyTorch {theirs}")
    if ours is not None:  # the symbolic network agrees at this size
        sym = dict(spec, input=[case["channels"], "H", "W"])
        try:
            symbolic = convsym.load(sym)
        except ConvsymError as err:
            if err.code == "internal_error":
                raise
            return "ok"
        if not convsym.accepts(symbolic, H=h, W=w):
            raise Wrong(f"{case['layers']}: the symbolic network refuses H={h}, W={w}, "
                        "which PyTorch runs")
        got = tuple(int(v) for v in symbolic.subs(H=h, W=w).output_shape)
        if got != ours[0]:
            raise Wrong(f"{case['layers']}: symbolic at H={h}, W={w} gives {got}, "
                        f"concrete {ours[0]}")
    return "ok"


RUNNERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "cli": lambda c: run_cli(c["argv"], c["ascii"]), "spec": run_spec, "keras": run_keras,
    "onnx": run_onnx, "api": run_api, "forward": run_forward, "torchcheck": run_torchcheck,
    "onnxcheck": run_onnxcheck}


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _vm_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def worker(conn: Any, root: str, memory_mb: int) -> None:
    """Load everything, cap the address space, then run the cases sent until None."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.chdir(root)
    import keras  # noqa: F401
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401
    import sympy  # noqa: F401
    import torch

    import convsym  # noqa: F401

    torch.set_num_threads(1)
    limit = _vm_bytes() + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send("ready")
    while True:
        item = conn.recv()
        if item is None:
            return
        family, case = item
        before = _rss_mib()
        start = time.perf_counter()
        try:
            verdict, detail = RUNNERS[family](case), ""
        except Wrong as err:
            verdict, detail = "wrong", str(err)
        except MemoryError:
            verdict, detail = "blowup", "MemoryError"
        except BaseException as err:  # noqa: BLE001 - the contract is what is counted
            verdict = "traceback"
            detail = "".join(traceback.format_exception(err)[-6:])[-1500:]
        seconds = time.perf_counter() - start
        conn.send((verdict, detail, seconds, _rss_mib() - before,
                   resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


# --- the driver -----------------------------------------------------------------------------


class Pool:
    """Workers that each run one case at a time; one that overruns is killed and replaced."""

    def __init__(self, size: int, root: str, memory_mb: int) -> None:
        self.context = multiprocessing.get_context("fork")
        self.root, self.memory_mb = root, memory_mb
        self.slots: list[Any] = [self._start() for _ in range(size)]

    def _start(self) -> Any:
        parent, child = self.context.Pipe()
        proc = self.context.Process(target=worker, args=(child, self.root, self.memory_mb),
                                    daemon=False)  # it starts bounded workers itself
        proc.start()
        child.close()
        if not parent.poll(300) or parent.recv() != "ready":
            raise RuntimeError("a worker did not start")
        return [proc, parent, None, 0.0]

    def restart(self, i: int) -> None:
        proc = self.slots[i][0]
        proc.kill()
        proc.join()
        self.slots[i] = self._start()

    def close(self) -> None:
        for proc, conn, _, _ in self.slots:
            with contextlib.suppress(OSError):
                conn.send(None)
            proc.join(5)
            if proc.is_alive():
                proc.kill()


def case_for(family: str, seed: int, index: int) -> dict[str, Any]:
    return GENERATORS[family](random.Random(f"{seed}:{family}:{index}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000, help="inputs in all (30,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per input")
    parser.add_argument("--families", default=",".join(GENERATORS))
    parser.add_argument("--replay", default="", help="FAMILY:INDEX: run one case, show it")
    parser.add_argument("--json", default="", help="write the counts and findings here")
    parser.add_argument("--recycle", type=int, default=1500,
                        help="restart a worker after this many inputs (caches grow)")
    args = parser.parse_args(argv)
    families = [f for f in args.families.split(",") if f]
    if args.replay:
        family, index = args.replay.split(":")
        case = case_for(family, args.seed, int(index))
        print(repr(case)[:3000])
        with tempfile.TemporaryDirectory(prefix="convsym-campaign-") as root:
            write_files(root)
            os.chdir(root)
            print(RUNNERS[family](case))
        return 0
    rng = random.Random(args.seed)
    plan = rng.choices(families, [WEIGHTS[f] for f in families], k=args.n)
    indices: dict[str, int] = {}
    queue = []
    for family in plan:
        queue.append((family, indices.get(family, 0)))
        indices[family] = indices.get(family, 0) + 1
    counts = {f: dict.fromkeys(CLASSES, 0) for f in families}
    worst: dict[str, list[float]] = {f: [0.0, 0.0, 0.0] for f in families}
    findings: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="convsym-campaign-") as root:
        write_files(root)
        pool = Pool(args.workers, root, args.memory_mb)
        done = 0
        runs = [0] * args.workers
        pending = list(reversed(queue))

        def record(family: str, index: int, verdict: str, detail: str, seconds: float,
                   grew: float, peak: float) -> None:
            nonlocal done
            done += 1
            counts[family][verdict] += 1
            w = worst[family]
            w[0], w[1], w[2] = max(w[0], seconds), max(w[1], grew), max(w[2], peak)
            if verdict != "ok":
                findings.append({"family": family, "index": index, "class": verdict,
                                 "seconds": round(seconds, 2), "detail": detail,
                                 "case": repr(case_for(family, args.seed, index))[:1500]})
                print(f"[{verdict}] {family}:{index} ({seconds:.1f} s) {detail[-600:]}",
                      flush=True)
            if done % 1000 == 0:
                print(f"... {done:,} inputs, {time.monotonic() - started:.0f} s", flush=True)

        try:
            while pending or any(slot[2] for slot in pool.slots):
                for i, slot in enumerate(pool.slots):
                    proc, conn, item, since = slot
                    if item is None and pending:
                        family, index = pending.pop()
                        conn.send((family, case_for(family, args.seed, index)))
                        slot[2], slot[3] = (family, index), time.monotonic()
                        continue
                    if item is None:
                        continue
                    family, index = item
                    if conn.poll(0):
                        try:
                            verdict, detail, seconds, grew, peak = conn.recv()
                        except (EOFError, OSError):
                            verdict, detail, seconds, grew, peak = (
                                "blowup", "the worker died", time.monotonic() - since, 0, 0)
                            record(family, index, verdict, detail, seconds, grew, peak)
                            pool.restart(i)
                            continue
                        if grew > 1024:
                            verdict, detail = "blowup", f"resident memory grew {grew:.0f} MiB"
                        record(family, index, verdict, detail, seconds, grew, peak)
                        slot[2] = None
                        runs[i] += 1
                        if runs[i] % args.recycle == 0 or peak > 3000:
                            pool.restart(i)
                    elif not proc.is_alive():
                        record(family, index, "blowup", "the worker died",
                               time.monotonic() - since, 0, 0)
                        pool.restart(i)
                    elif time.monotonic() - since > args.budget:
                        record(family, index, "hang", f"over {args.budget:g} s",
                               time.monotonic() - since, 0, 0)
                        pool.restart(i)
                time.sleep(0.002)
        finally:
            pool.close()
    elapsed = time.monotonic() - started
    print(f"\n{done:,} inputs in {elapsed:.0f} s (seed {args.seed})")
    print(f"{'family':<11}" + "".join(f"{c:>10}" for c in CLASSES) +
          "   worst s  grew MiB  peak MiB")
    for family in families:
        w = worst[family]
        print(f"{family:<11}" + "".join(f"{counts[family][c]:>10,}" for c in CLASSES) +
              f"{w[0]:>10.2f}{w[1]:>10.0f}{w[2]:>10.0f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"n": done, "seconds": elapsed, "seed": args.seed, "counts": counts,
                       "worst": worst, "findings": findings}, handle, indent=1)
    bad = sum(n for f in families for c, n in counts[f].items() if c != "ok")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
