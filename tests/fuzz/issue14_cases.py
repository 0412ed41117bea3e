"""Re-run every concrete case of issue 14 ("bounded everywhere"), each in its own process.

Each case runs as a fresh ``python`` process whose address space is capped
(``RLIMIT_AS``, 2 GiB unless the case needs the torch runtime) under a wall clock; the time,
the peak resident memory (``wait4``'s ``ru_maxrss``) and the exact output are recorded.  A case
passes when it ends within its budget with an answer or one short clean line: on the command
line exit status 0-3 and, for status 2, exactly one stderr line ``convsym: error: ...``; in the
API the result or a :class:`~convsym.errors.ConvsymError` (code and message), never another
exception.  Not part of the pytest suite (it runs for minutes)::

    python tests/fuzz/issue14_cases.py              # every case, a table on stdout
    python tests/fuzz/issue14_cases.py --only verify --json report.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

GIB = 1 << 30

# The API cases run this prelude, then the case's statements (which set ``result``).
_PRELUDE = """
import os, sys, json, traceback
import convsym
from convsym.errors import ConvsymError
def _report(value):
    text = value if isinstance(value, str) else repr(value)
    print("RESULT " + text.replace("\\n", "\\\\n")[:400])
try:
    exec(compile(CASE, "case", "exec"), globals())
    _report(result)
except ConvsymError as err:
    line = str(err)
    print(f"CONVSYM_ERROR {err.code} ({len(line)} chars): {line[:600]}")
except BaseException:
    print("NOT_A_CONVSYM_ERROR")
    traceback.print_exc()
"""


@dataclass
class Case:
    """One case of the issue: a command line (``argv``) or API statements (``code``)."""

    name: str
    argv: list[str] | None = None
    code: str | None = None
    budget: float = 70.0
    memory: int = 2 * GIB
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None


@dataclass
class Outcome:
    name: str
    kind: str
    seconds: float
    peak_mib: float
    status: int | None
    ok: bool
    verdict: str
    output: str


def _write(root: str, name: str, text: str) -> str:
    path = os.path.join(root, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _nested_keras(depth: int, calls: int) -> dict[str, Any]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_fuzz_budgets import nested_keras

    return nested_keras(depth, calls)


def _torch_chain(count: int, kernel: str, stride: str) -> dict[str, Any]:
    layers = [{"Conv2d": {"in_channels": 4, "out_channels": 4,
                          "kernel_size": kernel.format(i=i), "stride": stride.format(i=i),
                          "padding": 1 if kernel == "3" else 0}} for i in range(count)]
    return {"dialect": "torch", "input": [4, "H", "W"], "layers": layers}


def _same_names(count: int) -> dict[str, Any]:
    return {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "in"}},
        *[{"class_name": "ReLU", "config": {"name": "x"}}] * count]}}


def _onnx_pool_dilations(root: str) -> str:
    """An AveragePool with dilations at opset 18 (the attribute came in opset 19)."""
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[3, 3],
                            dilations=[1, 1])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    path = os.path.join(root, "pool_dilations_opset18.onnx")
    onnx.save(model, path)
    return path


def cases(root: str) -> list[Case]:
    """Every case of issue 14's "Why", in the CLI and the API, with its files under ``root``."""
    binomials = "*".join(f"(a{i}+b{i})" for i in range(30))
    f_binom = _write(root, "binomials.json", json.dumps({"input": [binomials, 1],
                                                         "layers": ["Flatten"]}))
    f_pow12 = _write(root, "pow12.json", json.dumps(
        {"input": ["(a+b+c+d)**12", "(e+f+g+h)**12", 1], "layers": ["Flatten"]}))
    f_nested = _write(root, "nested.json", json.dumps(_nested_keras(6, 8)))
    f_names = _write(root, "names.json", json.dumps(_same_names(18_000)))
    f_alias = _write(root, "alias.yaml", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n")
    f_k120 = _write(root, "k120.json", json.dumps(_torch_chain(120, "k{i}", "1")))
    f_k250 = _write(root, "k250.json", json.dumps(_torch_chain(250, "k{i}", "1")))
    f_s1000 = _write(root, "s1000.json", json.dumps(_torch_chain(1000, "3", "s")))
    f_accent = _write(root, "accent.json", json.dumps(
        {"name": "r\u00e9seau\u00b2", "input": ["n", "n", 1],
         "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3}, "name": "c\u00e9"}]}))
    f_act = _write(root, "activation.json", json.dumps(
        {"input": ["n", "n", 1], "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3,
                                                        "activation": "evil"}}]}))
    f_lambda = _write(root, "lambda_act.json", json.dumps(
        {"input": [8, 8, 1], "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3,
                                                    "activation": {"class_name": "__lambda__",
                                                                   "config": {"code": "4w"}}}}]}))
    f_drop = _write(root, "dropout.json", json.dumps(
        {"input": [8, 8, 1], "layers": [{"Dropout": {"rate": "0.5"}}]}))
    f_train = _write(root, "trainable.json", json.dumps(
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 8], "name": "in"}},
            {"class_name": "Dense", "config": {"name": "d", "units": 2, "trainable": "no"}}]}}))
    tick = "a``<script>alert(1)</script>``"
    f_tick = _write(root, "backticks.json", json.dumps(
        {"input": ["n", "n", 1],
         "layers": [{"Conv2D": {"filters": 2, "kernel_size": 3}, "name": tick}]}))
    f_graph = _write(root, "graph.json", json.dumps(
        {"inputs": {"image": [8, 8, 1]}, "layers": [
            {"Conv2D": {"filters": 2, "kernel_size": 3}, "name": "a", "inputs": ["image"]},
            {"Conv2D": {"filters": 2, "kernel_size": 30}, "name": "b", "inputs": ["a"]}],
         "outputs": ["b"]}))
    f_huge_kernel = _write(root, "huge_kernel.json", json.dumps(
        {"input": ["n", "n", 3], "layers": [
            {"Conv2D": {"filters": 10, "kernel_size": 4, "strides": 2, "padding": "same"}},
            {"Conv2D": {"filters": 20, "kernel_size": "n**64*m**64", "strides": 2,
                        "padding": "same"}}, "Flatten"]}))
    f_ks300 = _write(root, "ks300.json", json.dumps(_torch_chain(300, "k{i}", "s{i}")))
    f_ks150 = _write(root, "ks150.json", json.dumps(_torch_chain(150, "k{i}", "s{i}")))
    f_ks80 = _write(root, "ks80.json", json.dumps(_torch_chain(80, "k{i}", "s{i}")))
    f_ks40 = _write(root, "ks40.json", json.dumps(_torch_chain(40, "k{i}", "s{i}")))
    f_pool18 = _onnx_pool_dilations(root)
    fifo = os.path.join(root, "fifo.yaml")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)

    api_big = "(a+b+c+d+e)**20"
    torch_mem = 6 * GIB  # the torch runtime maps far more address space than it uses
    return [
        # Building a network expands user sizes before any check.
        Case("30 binomials (cli)", ["summary", f_binom]),
        Case("30 binomials (api)", code=f"result = convsym.load({f_binom!r})"),
        Case("(a+b+c+d)**12 input (cli)", ["summary", f_pow12]),
        Case("(a+b+c+d)**12 input (api)", code=f"result = convsym.load({f_pow12!r})"),
        Case("--set n=(a..h)**64 (cli)", ["summary", "example:seed1_symbolic", "--set",
                                          "n=(a+b+c+d+e+f+g+h)**64"]),
        Case("subs n=(a..h)**64 (api)", code="result = convsym.example('seed1_symbolic')"
             ".subs(n='(a+b+c+d+e+f+g+h)**64').output_shape"),
        # Small inputs, exponential cost.
        Case("keras nested 8 calls 6 deep (cli)", ["summary", f_nested]),
        Case("keras nested 8 calls 6 deep (api)",
             code=f"result = len(convsym.from_keras({f_nested!r}).rows)"),
        Case("18,000 duplicate names (cli)", ["summary", f_names]),
        Case("18,000 duplicate names (api)",
             code=f"result = len(convsym.from_keras({f_names!r}).rows)"),
        Case("shared sub-lists 2^28 paths (api)", code=(
            "v = ['Flatten']\nfor _ in range(28): v = [v, v]\n"
            "result = convsym.load({'input': [8, 8, 1], 'layers': v})")),
        Case("YAML aliases (cli)", ["summary", f_alias]),
        # Legitimate networks that are too slow.
        Case("120 distinct symbolic kernels (cli)", ["summary", f_k120]),
        Case("120 distinct symbolic kernels (api)", code=(
            f"net = convsym.load({f_k120!r}); result = len(net.summary().to_dict()['layers'])")),
        Case("250 distinct symbolic kernels (api)", code=(
            f"net = convsym.load({f_k250!r}); result = len(net.summary().to_dict()['layers'])")),
        Case("1,000 symbolic strides (cli)", ["summary", f_s1000]),
        Case("1,000 symbolic strides (api)", code=(
            f"net = convsym.load({f_s1000!r}); result = len(net.summary().to_dict()['layers'])")),
        Case("120 convsym.torch Conv2d(4, 4, 'k<i>') (api)", code=(
            "from convsym.torch import Conv2d\n"
            "net = convsym.Sequential("
            "[Conv2d(4, 4, f'k{i}') for i in range(120)], (4, 'H', 'W'))\n"
            "result = len(net.summary().to_dict()['layers'])")),
        # verify.
        Case("verify --max-size 4096 (cli)", ["verify", "example:seed1_symbolic",
                                              "--max-size", "4096", "--backend", "reference"],
             budget=200),
        Case("verify max_size=4096 (api)", code=(
            "result = convsym.verify(convsym.example('seed1_symbolic'), max_size=4096, "
            "backends=['reference'])"), budget=200),
        Case("verify resnet50 --samples 10000 (cli)", ["verify", "example:resnet50",
                                                       "--samples", "10000", "--backend",
                                                       "reference"], budget=200),
        # The API's timeouts.
        Case("prove (a..e)**20 timeout=1 (api)",
             code=f"result = convsym.prove('{api_big} >= 1', timeout=1)", budget=10),
        Case("prove (a..e)**20 --timeout 1 (cli)", ["prove", f"{api_big} >= 1", "--timeout",
                                                    "1"], budget=10),
        Case("solve wide negative bound timeout=1 (api)", code=(
            f"result = convsym.solve(['{api_big} <= 4611686018427387904'], ['n'], "
            "bounds=['-4611686018427387904 <= n'], timeout=1)"), budget=10),
        Case("admissible_inputs timeout=1 (api)", code=(
            "result = convsym.admissible_inputs(convsym.example('resnet50'), timeout=1)"),
             budget=15),
        # Former CLI tracebacks.
        Case("solve overflow bounds (cli)", ["solve", "-", "--for", "n", "--where",
                                             "n <= 4611686018427387904", "--bounds",
                                             "-4611686018427387904 <= n"], budget=20),
        Case("compare --depthwise \u00b2 (cli)", ["compare", "example:seed1", "--depthwise",
                                                   "\u00b2"]),
        Case("non-ASCII name, ASCII stdout (cli)", ["summary", f_accent],
             env={"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"}),
        Case("non-ASCII name, ASCII derive (cli)", ["derive", f_accent, "--format", "markdown"],
             env={"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"}),
        # Wrong or silent acceptance.
        Case("accepts(n=-3), accepts(n=0) (api)", code=(
            "net = convsym.example('seed1_symbolic')\n"
            "result = (convsym.accepts(net, n=-3, c=1), convsym.accepts(net, n=0, c=1), "
            "convsym.accepts(net, n=28, c=1))")),
        Case("prove with a real symbol (api)", code=(
            "import sympy\nx = sympy.Symbol('x', real=True)\n"
            "result = convsym.prove(sympy.Eq(sympy.floor(x) + sympy.ceiling(x), 2*x), "
            "timeout=3)")),
        Case("prove with a rational symbol (api)", code=(
            "import sympy\nx = sympy.Symbol('x', rational=True)\n"
            "result = convsym.prove(sympy.Eq(sympy.floor(x/2)*2 + sympy.Mod(x, 2), x), "
            "timeout=3)")),
        Case("compare at n=2.5 (api)", code=(
            "a = convsym.example('seed1_symbolic')\n"
            "result = convsym.compare(a, a, at={'n': 2.5})")),
        Case("activation 'evil' (cli)", ["summary", f_act]),
        Case("activation 'evil' verify (cli)", ["verify", f_act, "--samples", "2"],
             memory=torch_mem, budget=120),
        Case("activation lambda dict (cli)", ["summary", f_lambda]),
        Case("Dropout rate '0.5' (cli)", ["summary", f_drop]),
        Case("trainable 'no' (cli)", ["summary", f_train]),
        Case("FIFO as input (cli)", ["summary", fifo], budget=15),
        Case("FIFO as input (api)", code=f"result = convsym.load({fifo!r})", budget=15),
        Case("backticks in a layer name (cli)", ["derive", f_tick, "--format", "markdown"]),
        Case("backticks in a layer name (api)", code=(
            f"md = convsym.derive(convsym.load({f_tick!r})).to_markdown()\n"
            "result = [line for line in md.splitlines() if 'script' in line][0]")),
        # Exceptions escaping the API, messages.
        Case("solve limits=3 (api)", code=(
            "result = convsym.solve(['n >= 2'], ['n'], limits=3)")),
        Case("solve deadline='x' (api)", code=(
            "result = convsym.solve(['n >= 2'], ['n'], deadline='x')")),
        Case("verify seed=1.5 (api)", code=(
            "result = convsym.verify(convsym.example('seed1'), samples=1, seed=1.5)")),
        Case("keyword typo (api)", code=(
            "result = convsym.prove('n >= 1', timout=1)")),
        Case("load keyword typo (api)", code=(
            "result = convsym.load({'input': [3], 'layers': ['Flatten']}, nmae='x')")),
        Case("forward raises (api)", code=(
            "import torch\nclass M(torch.nn.Module):\n"
            "    def forward(self, x):\n        raise KeyError('boom')\n"
            "result = convsym.from_torch(M(), (3, 8, 8))"), memory=torch_mem),
        Case("forward loops forever (api)", code=(
            "import torch\nclass M(torch.nn.Module):\n"
            "    def forward(self, x):\n        while True:\n            x = x + 0\n"
            "result = convsym.from_torch(M(), (3, 8, 8))"), memory=torch_mem, budget=90),
        Case("dict error names its origin (api)", code=(
            "result = convsym.load({'input': [8, 8, 1], 'layers': [{'Conv2D': "
            "{'filters': 2, 'kernel_size': 30}}]})")),
        Case("graph spec error names the node (cli)", ["summary", f_graph]),
        # Found by the campaign (tests/fuzz/campaign.py).
        Case("compare, a symbolic kernel per layer x 120 (cli)", ["compare", f_k120, f_k120]),
        Case("derive, kernel n**64*m**64 (cli)", ["derive", f_huge_kernel]),
        Case("compare --at=-- (cli)", ["compare", "example:seed1_symbolic", "--at=--"]),
        Case("draw -f pgf without xelatex (cli)", ["draw", "example:seed1", "-f", "pgf"]),
        Case("timeout=0 message (api)", code="result = convsym.prove('n >= 1', timeout=0)"),
        # The remaining gaps (branch bounds): derive's own budget, deep symbolic networks
        # in every command, a plain-Python forward, ONNX attributes before their opset.
        Case("derive, kernel n**64*m**64, derive_seconds=2 (cli)", ["derive", f_huge_kernel],
             env={"CONVSYM_DERIVE_SECONDS": "2"}),
        Case("derive, kernel n**64*m**64, derive_seconds=2 (api)", code=(
            "from convsym.budget import raised\n"
            f"net = convsym.load({f_huge_kernel!r})\n"
            "with raised(derive_seconds=2):\n    result = len(convsym.derive(net).steps)")),
        Case("compare 300 vs 150 layers, own k and s (cli)", ["compare", f_ks300, f_ks150],
             budget=100),
        Case("compare 80 vs 40 layers, own k and s (cli)", ["compare", f_ks80, f_ks40]),
        Case("compare 300 vs 150 layers, own k and s (api)", code=(
            f"a, b = convsym.load({f_ks300!r}), convsym.load({f_ks150!r})\n"
            "result = len(convsym.compare(a, b).rows)"), budget=100),
        Case("summary 300 layers, own k and s (cli)", ["summary", f_ks300]),
        Case("derive 300 layers, own k and s (cli)", ["derive", f_ks300], budget=100),
        Case("inputs 300 layers, own k and s (cli)", ["inputs", f_ks300]),
        Case("solve 300 layers, own k and s --where (cli)", ["solve", f_ks300, "--for", "H",
                                                             "--where", "k0 = 3"]),
        Case("verify 300 layers, own k and s (cli)", ["verify", f_ks300, "--samples", "2",
                                                     "--backend", "reference"], budget=150),
        Case("forward loops in plain Python (api)", code=(
            "import torch\nclass M(torch.nn.Module):\n"
            "    def forward(self, x):\n        while True:\n            pass\n"
            "result = convsym.from_torch(M(), (3, 8, 8))"), memory=torch_mem, budget=90),
        Case("forward loops in plain Python, build_seconds=2 (api)", code=(
            "import torch\nfrom convsym.budget import raised\n"
            "class M(torch.nn.Module):\n"
            "    def forward(self, x):\n        n = 0\n        for i in range(10**10):\n"
            "            n += i\n        return x\n"
            "with raised(build_seconds=2):\n"
            "    result = convsym.from_torch(M(), (3, 8, 8))"), memory=torch_mem, budget=60),
        Case("ONNX AveragePool dilations at opset 18 (cli)", ["summary", f_pool18],
             memory=torch_mem),  # the onnx runtime maps more than 2 GiB of address space
    ]


def _run(case: Case, root: str) -> Outcome:
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KERAS_BACKEND="torch", **case.env)
    if case.argv is not None:
        cmd, kind = [sys.executable, "-m", "convsym", *case.argv], "cli"
    else:
        cmd = [sys.executable, "-c", f"CASE = {case.code!r}\n{_PRELUDE}"]
        kind = "api"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (case.memory, case.memory))
        os.setsid()

    out = tempfile.TemporaryFile(dir=root)
    err = tempfile.TemporaryFile(dir=root)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                            cwd=root, preexec_fn=limit)
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > case.budget:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            killed = True
            break
        time.sleep(0.02)
    proc.returncode = 0  # reaped above
    seconds = time.monotonic() - start
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode("utf-8", "backslashreplace")
    stderr = err.read().decode("utf-8", "backslashreplace")
    code = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024
    if killed:
        return Outcome(case.name, kind, seconds, peak, None, False, "HANG (killed)",
                       (stdout + stderr)[-300:])
    if kind == "cli":
        lines = [line for line in stderr.splitlines() if line.strip()]
        ok = code in (0, 1, 2, 3) and "Traceback" not in stderr
        if code == 2:
            ok = ok and len(lines) == 1 and lines[0].startswith("convsym: error:") and \
                len(lines[0]) <= 900
        shown = lines[0] if lines else stdout.strip().splitlines()[0] if stdout.strip() else ""
        verdict = f"exit {code}" + ("" if ok else " BAD OUTPUT")
        return Outcome(case.name, kind, seconds, peak, code, ok, verdict,
                       shown if ok else (stdout[-400:] + stderr[-1500:]))
    ok = code == 0 and "NOT_A_CONVSYM_ERROR" not in stdout and \
        any(stdout.startswith(p) for p in ("RESULT", "CONVSYM_ERROR"))
    verdict = stdout.split(" ", 1)[0] if ok else f"exit {code} BAD"
    return Outcome(case.name, kind, seconds, peak, code, ok, verdict,
                   stdout.strip() if ok else (stdout[-600:] + stderr[-1500:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name has this text")
    parser.add_argument("--json", default="", help="write the outcomes to this file")
    args = parser.parse_args(argv)
    failures = 0
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="convsym-issue14-") as root:
        for case in cases(root):
            if args.only not in case.name:
                continue
            outcome = _run(case, root)
            outcomes.append(outcome)
            failures += not outcome.ok
            print(f"{'ok ' if outcome.ok else 'BAD'} {outcome.seconds:6.2f} s "
                  f"{outcome.peak_mib:6.0f} MiB  {outcome.name}: {outcome.verdict}\n"
                  f"      {outcome.output[:700]}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([asdict(o) for o in outcomes], handle, indent=1)
    print(f"{len(outcomes)} cases, {failures} bad; worst time "
          f"{max((o.seconds for o in outcomes), default=0):.2f} s, worst peak "
          f"{max((o.peak_mib for o in outcomes), default=0):.0f} MiB")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
