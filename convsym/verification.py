"""Check a symbolic network against real computations at random admissible sizes.

:func:`verify` draws values for the network's symbols that satisfy its side conditions,
evaluates every row's closed form there, and compares each layer's shape with

- the network re-derived at those values (``net.subs``: the closed form against concrete
  propagation),
- the NumPy reference (:mod:`convsym.reference`, computed from first principles), and
- real PyTorch or real Keras (the framework of the network's dialect), when installed.

It also draws sizes that break a side condition and checks that the framework refuses them
too (exception or empty output) at that layer.  The first disagreement is shrunk to the
smallest sizes that still disagree.  The side conditions must agree with propagation: sizes
they admit must propagate, sizes they reject must not.

>>> from convsym.examples import example
>>> result = verify(example("seed1_symbolic"), samples=3, backends=["reference"])
>>> result.ok, result.instances, sorted(result.compared)
(True, 3, ['closed form', 'reference'])
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sympy

from convsym.budget import Deadline
from convsym.budget import current as current_budgets
from convsym.budget import exceeded as budget_exceeded
from convsym.errors import BudgetExceeded, ConvsymError, LayerError, UsageError, did_you_mean
from convsym.importers.common import unwrap
from convsym.intdiv import evaluate, free_symbols
from convsym.network import Node, _subs_layer, require_network
from convsym.printing.display import Rich
from convsym.printing.results import verify_text
from convsym.runners import Refused, Unsupported
from convsym.runners.torch_run import TorchRunner

BACKENDS = ("reference", "torch", "keras")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Disagreement:
    """One layer where convsym and a backend disagree, at given symbol values."""

    backend: str
    layer: str
    values: dict[str, int]
    convsym: str
    backend_says: str

    def __str__(self) -> str:
        at = ", ".join(f"{k} = {v}" for k, v in sorted(self.values.items())) or "as given"
        return (f"layer {self.layer!r} at {at}: convsym says {self.convsym}, "
                f"{self.backend} says {self.backend_says}")


@dataclass(repr=False)
class VerifyResult(Rich):
    """What :func:`verify` checked and the (shrunk) first disagreement, if any."""

    _display = "verify"

    network: str
    symbols: list[str]
    instances: int = 0
    refusals: int = 0
    compared: dict[str, int] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    mismatch: Disagreement | None = None
    found_at: dict[str, int] | None = None
    too_large: int = 0
    """Samples not run because a tensor would exceed the ``verify_elements`` budget."""
    dialect: str = ""

    def __str__(self) -> str:
        return verify_text(self)

    @property
    def ok(self) -> bool:
        """True when nothing disagreed."""
        return self.mismatch is None


def verify(net: Any, *, samples: int = 20, seed: int = 0,
           backends: Sequence[str] | None = None, max_size: int = 64,
           refusals: bool = True, progress: Progress | None = None) -> VerifyResult:
    """Check ``net`` at up to ``samples`` random admissible sizes (symbols in 1..max_size)."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise UsageError(f"samples must be a positive integer, got {samples!r}",
                         code="bad_samples")
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise UsageError(f"max_size must be a positive integer, got {max_size!r}",
                         code="bad_max_size")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be an integer >= 0, got {seed!r:.60}", code="bad_seed")
    if progress is not None and not callable(progress):
        raise UsageError(f"progress must be a function (done, total), got {progress!r:.60}",
                         code="bad_usage")

    checker = _Checker(require_network(net, "verify"), seed, backends)
    result = checker.result
    rng = random.Random(seed)
    sampler = _Sampler(checker, rng, max_size)
    total = samples * (2 if refusals and checker.symbols else 1) if checker.symbols else 1
    done = 0
    plan = [True] * (samples if checker.symbols else 1)
    if refusals and checker.symbols:
        plan += [False] * samples
    for admissible in plan:
        values = sampler.draw(admissible)
        done += 1
        if values is None:
            if progress:
                progress(done, total)
            continue
        found = checker.check(values, admissible)
        if progress:
            progress(done, total)
        if found is not None:
            result.found_at = dict(values)
            result.mismatch = _shrink(checker, found, values, admissible)
            break
    if result.too_large and not result.instances and not result.refusals and result.ok:
        raise budget_exceeded("verify", "verify_elements", f"every one of the "
                              f"{result.too_large} sampled sizes needs a tensor of over "
                              f"{checker.max_elements:,} elements or a layer of over "
                              f"{checker.max_macs:,} multiply-accumulates (verify_macs; "
                              "try a smaller --max-size)")
    return result


class _Checker:
    """Runs one set of symbol values through every backend."""

    def __init__(self, net: Any, seed: int, backends: Sequence[str] | None) -> None:
        self.net = net
        self.symbols: list[sympy.Symbol] = sorted(net.all_symbols(), key=lambda s: s.name)
        self.result = VerifyResult(getattr(net, "name", "network"),
                                   [s.name for s in self.symbols],
                                   dialect=getattr(net, "dialect", ""))
        self.runners = self._runners(seed, backends)
        self.rows = _rows_by_node(net)
        self._instance: Any = net
        self._reason = ""
        budgets = current_budgets()
        self.max_elements = budgets.verify_elements
        self.max_macs = budgets.verify_macs
        self.deadline = Deadline(budgets.verify_seconds, what="verify")

    def tick(self) -> None:
        """Stop with ``budget_exceeded`` once ``verify`` has used its time."""
        if self.deadline.expired():
            raise budget_exceeded("verify", "verify_seconds", f"stopped after "
                                  f"{self.result.instances} instances and "
                                  f"{self.result.refusals} refusals")

    def largest_tensor(self, env: Mapping[sympy.Symbol, int], limit: int) -> int:
        """Elements of the largest activation or weight tensor up to node ``limit``."""
        largest = 0
        for i, shape in self.rows.items():
            if i < limit:
                largest = max(largest, math.prod(evaluate(x, env) for x in shape))
        for row in self.net.rows:
            for weight in row.inference.weights:
                largest = max(largest, evaluate(weight.count, env))
        return largest

    def most_work(self, env: Mapping[sympy.Symbol, int]) -> int:
        """Multiply-accumulates of the costliest layer at these values."""
        return max((evaluate(row.inference.macs, env) for row in self.net.rows), default=0)

    def _runners(self, seed: int, wanted: Sequence[str] | None) -> list[Any]:
        if isinstance(wanted, str):
            wanted = [wanted]  # backends="torch" means that one backend
        chosen = list(BACKENDS if wanted is None else wanted)
        for name in chosen:
            if name not in BACKENDS:
                raise UsageError(f"unknown backend {name!r}{did_you_mean(name, BACKENDS)}; "
                                 f"the backends are {', '.join(BACKENDS)}", code="bad_backend")
        runners: list[Any] = []
        for name in chosen:
            if name == "reference":
                if importlib.util.find_spec("numpy") is None:
                    self.result.unavailable[name] = "NumPy is not installed"
                    continue
                from convsym.runners.numpy_ref import NumpyRunner  # why: loads NumPy

                runners.append(NumpyRunner(seed))
            elif name != self.net.dialect:
                if wanted is not None:
                    self.result.unavailable[name] = f"the network is in the " \
                                                    f"{self.net.dialect} dialect"
            elif importlib.util.find_spec(name) is None:
                self.result.unavailable[name] = f"{name} is not installed"
            elif name == "torch":
                runners.append(TorchRunner(seed))
            else:
                from convsym.runners.keras_run import KerasRunner  # why: loads NumPy

                runners.append(KerasRunner(seed))
        return runners

    def admissible(self, values: Mapping[str, int]) -> bool:
        """Whether every side condition holds at ``values``."""
        return self.violations(values, stop=1) == 0

    def violations(self, values: Mapping[str, int], stop: int | None = None) -> int:
        """How many side conditions fail at ``values`` (counting stops at ``stop``)."""
        env = {s: values[s.name] for s in self.symbols}
        count = 0
        for cond in self.net.condition_records:
            value = evaluate(cond.expr, env)
            if (cond.kind == "eq" and value != 0) or (cond.kind != "eq" and value < 0):
                count += 1
                if stop is not None and count >= stop:
                    break
        return count

    def check(self, values: Mapping[str, int], admissible: bool) -> Disagreement | None:
        """The first disagreement at ``values`` (admissible or not by the conditions)."""
        self.tick()
        values = dict(values)
        env = {s: values[s.name] for s in self.symbols}
        failing = self._propagate(values, admissible)
        if isinstance(failing, Disagreement):
            return failing
        limit = len(self.net.nodes) if failing is None else failing
        expected = {i: tuple(evaluate(x, env) for x in shape)
                    for i, shape in self.rows.items() if i < limit}
        if self.runners and (self.largest_tensor(env, limit) > self.max_elements or
                             self.most_work(env) > self.max_macs):
            # too large to build or too slow to run: not run, and counted as such
            self.result.too_large += 1
            return None
        if admissible:
            self.result.instances += 1
            found = self._closed_form(values, expected)
            if found is not None:
                return found
        else:
            self.result.refusals += 1
        concrete = self._concrete(values)
        for runner in list(self.runners):
            if not admissible and runner.name == "reference":
                continue  # the reference does not model every framework rule (see module doc)
            try:
                outcomes = runner.run(concrete)
            except Unsupported as err:
                self.result.unavailable[runner.name] = str(err)
                self.runners.remove(runner)
                continue
            count = 0
            for i in sorted(outcomes):
                if i >= limit:
                    continue
                got, want = outcomes[i], expected.get(i)
                if want is None:
                    continue
                count += 1
                if isinstance(got, Refused) or got != want:
                    return Disagreement(runner.name, self.net.nodes[i].name, values,
                                        _shape_text(want), str(got) if isinstance(got, Refused)
                                        else _shape_text(got))
            self.result.compared[runner.name] = self.result.compared.get(runner.name, 0) + count
            if failing is not None and failing in outcomes and \
                    not isinstance(outcomes[failing], Refused):
                return Disagreement(runner.name, self.net.nodes[failing].name, values,
                                    f"rejects: {self._reason}",
                                    f"computes {_shape_text(outcomes[failing])}")
        return None

    def _propagate(self, values: dict[str, int], admissible: bool) -> int | None | Disagreement:
        """Re-derive at ``values``: None if it propagates, else the failing node's index."""
        self._reason = ""
        try:
            self._instance = self.net.subs(values) if values else self.net
        except LayerError as err:
            if admissible:
                return Disagreement("conditions", _where_name(err), values,
                                    "the side conditions hold", f"propagation rejects: {err}")
            self._reason = str(err)
            return _where_index(err, self.net)
        except BudgetExceeded:
            raise  # out of time or size is no disagreement: verify stops with that line
        except ConvsymError as err:
            return Disagreement("conditions", "?", values, "the sizes are valid",
                                f"substitution fails: {err}")
        if not admissible:
            return Disagreement("conditions", "?", values, "a side condition fails",
                                "propagation accepts the sizes")
        return None

    def _closed_form(self, values: dict[str, int], expected: dict[int, tuple[int, ...]]
                     ) -> Disagreement | None:
        count = 0
        concrete_rows = _rows_by_node(self._instance)
        for i, want in expected.items():
            got = concrete_rows.get(i)
            if got is None:
                continue
            count += 1
            got_ints = tuple(int(evaluate(x, {})) for x in got)
            if got_ints != want:
                return Disagreement("concrete propagation", self.net.nodes[i].name, values,
                                    _shape_text(want), _shape_text(got_ints))
        self.result.compared["closed form"] = self.result.compared.get("closed form", 0) + count
        return None

    def _concrete(self, values: dict[str, int]) -> Any:
        """The nodes with symbols substituted (the runners need concrete layers)."""
        mapping = {s: sympy.Integer(values[s.name]) for s in self.symbols}
        env = {s: values[s.name] for s in self.symbols}
        nodes = [Node(_subs_layer(unwrap(n.layer), mapping), n.name, n.parents)
                 for n in self.net.nodes]
        shapes = {i: tuple(evaluate(x, env) for x in shape)
                  for i, shape in self.net.input_shapes.items()}
        return SimpleNamespace(nodes=nodes, input_shapes=shapes, dialect=self.net.dialect)


def _rows_by_node(net: Any) -> dict[int, Any]:
    """Node index -> output shape (canonical sizes), for inputs and rows alike."""
    out: dict[int, Any] = {i: shape for i, shape in net.input_shapes.items()}
    names = {row.name: row for row in net.rows}
    for i, node in enumerate(net.nodes):
        row = names.get(node.name)
        if row is not None:
            out[i] = row.shape
    return out


def _where_index(err: LayerError, net: Any) -> int:
    """The node an error names (``'conv2d' at layers[0]``: by name, which is unique)."""
    name = _where_name(err)
    for i, node in enumerate(net.nodes):
        if node.name == name:
            return i
    return len(net.nodes) - 1


def _where_name(err: LayerError) -> str:
    match = re.match(r"'(.*)' at layers", err.where)
    return match.group(1) if match else err.kind


def _shape_text(shape: Iterable[int]) -> str:
    items = list(shape)
    return "(" + ", ".join(str(v) for v in items) + ("," if len(items) == 1 else "") + ")"


_SCAN = 4096
"""Values a repair tries per symbol and range (all of them for ranges up to this size)."""


class _Sampler:
    """Random symbol values, admissible or not, with a coordinate-scan repair step."""

    def __init__(self, checker: _Checker, rng: random.Random, max_size: int) -> None:
        self.checker = checker
        self.rng = rng
        self.max_size = max_size
        self.seen: set[tuple[tuple[str, int], ...]] = set()
        self.found: list[dict[str, int]] = []  # admissible values drawn so far
        self.corners = self._corners()

    def _corners(self) -> list[dict[str, int]]:
        """Values to try when random ones miss the admissible side: hyperparameters at 1
        and input sizes at the top (a chain where each layer has its own symbolic kernel and
        stride is admissible almost nowhere else), then all at the top, all at 1."""
        names = [s.name for s in self.checker.symbols]
        inputs = {s.name for shape in getattr(self.checker.net, "input_shapes", {}).values()
                  for size in shape for s in free_symbols(size)}
        top = self.max_size
        return [{n: top if n in inputs else 1 for n in names}, dict.fromkeys(names, top),
                dict.fromkeys(names, 1)]

    def nearby(self) -> dict[str, int] | None:
        """Admissible values near ones known to be (a corner, or one earlier find with one
        symbol moved), within a few checks; None when none was found."""
        while self.corners:
            corner = self.corners.pop(0)
            self.checker.tick()
            if self.checker.admissible(corner):
                self.found.append(corner)
                return corner
        for _ in range(8 if self.found else 0):
            self.checker.tick()
            trial = dict(self.rng.choice(self.found))
            trial[self.rng.choice(list(trial))] = self.one()
            if self.checker.admissible(trial):
                self.found.append(trial)
                return trial
        return None

    def one(self) -> int:
        top = self.max_size if self.rng.random() < 0.5 else min(self.max_size, 12)
        return self.rng.randint(1, top)

    def draw(self, admissible: bool, attempts: int = 200) -> dict[str, int] | None:
        names = [s.name for s in self.checker.symbols]
        repairs = 5  # a repair scans ranges; give up when the wanted side seems empty
        for _ in range(attempts):
            drawn = {n: self.one() for n in names}
            values = drawn
            if self.checker.admissible(drawn) != admissible:
                # cheap first: a point near a known admissible one (a repair scans every
                # symbol's range against every condition: minutes for 600 symbols)
                near = self.nearby() if admissible else None
                if near is not None:
                    values = near
                elif not repairs:
                    continue
                else:
                    repairs -= 1
                    repaired = self.repair(drawn, admissible)
                    if repaired is None:
                        continue
                    values = repaired
            elif admissible:
                self.found.append(drawn)
            key = tuple(sorted(values.items()))
            if key in self.seen:
                continue
            self.seen.add(key)
            return values
        return None

    def repair(self, values: dict[str, int], admissible: bool) -> dict[str, int] | None:
        """Move towards the wanted side: coordinate by coordinate for admissible values (each
        symbol takes the value that breaks fewest conditions, in 1..max_size, then up to 16
        times wider), or one coordinate at a time to break a condition."""
        names = list(values)
        self.rng.shuffle(names)
        checker = self.checker
        if not admissible:
            for name in names:
                checker.tick()
                for v in self.rng.sample(range(1, self.max_size + 1),
                                         min(self.max_size, _SCAN)):
                    trial = {**values, name: v}
                    if not checker.admissible(trial):
                        return trial
            return None
        current = dict(values)
        bad = checker.violations(current)
        for top in (self.max_size, 4 * self.max_size, 16 * self.max_size):
            for _ in range(3):
                before = bad
                for name in names:
                    checker.tick()
                    for v in self.rng.sample(range(1, top + 1), min(top, _SCAN)):
                        trial = {**current, name: v}
                        count = checker.violations(trial, stop=bad)
                        if count < bad:
                            current, bad = trial, count
                            if bad == 0:
                                return current
                if bad == before:
                    break
        return None


def _shrink(checker: _Checker, found: Disagreement, values: dict[str, int],
            admissible: bool) -> Disagreement:
    """Greedily lower each symbol while the same backend still disagrees."""
    best, best_values = found, dict(values)
    for _ in range(500):
        improved = False
        for name in sorted(best_values):
            current = best_values[name]
            for cand in sorted({1, 2, 3, current // 4, current // 2, current - 2,
                                current - 1} - {current}):
                if cand < 1 or cand >= current:
                    continue
                trial = {**best_values, name: cand}
                if checker.admissible(trial) != admissible:
                    continue
                again = _quiet_check(checker, trial, admissible)
                if again is not None and again.backend == best.backend:
                    best, best_values, improved = again, trial, True
                    break
            if improved:
                break
        if not improved:
            break
    return best


def _quiet_check(checker: _Checker, values: dict[str, int], admissible: bool
                 ) -> Disagreement | None:
    """A check that does not add to the counts."""
    saved = dataclasses.replace(checker.result, compared=dict(checker.result.compared))
    try:
        return checker.check(values, admissible)
    finally:
        checker.result.instances = saved.instances
        checker.result.refusals = saved.refusals
        checker.result.compared = saved.compared


__all__ = ["Disagreement", "VerifyResult", "verify"]
