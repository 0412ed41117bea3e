"""convsym.printing.results and printing.display: short reprs, IPython's pretty printing, and
the Markdown and LaTeX forms of proofs, solutions and admissible sets (user text escaped)."""

from __future__ import annotations

import pickle

import pytest

import convsym
from convsym.keras import Conv2D, Input
from convsym.printing import results as R

HOSTILE = "<script>*x*</script> $y$ | `z` \\w & {v}"


def _net(name: str = "conv2d_1") -> convsym.Network:
    return convsym.Sequential([Input(("n", "n", 3)), Conv2D(8, 3), Conv2D(16, 3, name=name)],
                              name="m")


def _objects() -> dict[str, object]:
    net = _net()
    return {"summary": net.summary(),
            "proof": convsym.prove("floor((n - 3)/2) + 1 == ceiling((n - 2)/2)"),
            "solution": net.solve("n", "out_H == 8"),
            "admissible": net.admissible_inputs(),
            "comparison": convsym.compare(net, _net("other")),
            "derivation": convsym.derive(net)}


def test_short_reprs() -> None:
    reprs = {k: repr(v) for k, v in _objects().items()}
    assert reprs["summary"] == "<Summary 'm' (keras): 2 layers, 1,392 params>"
    assert reprs["proof"] == "<Proof proved by rewriting: floor((n - 3)/2) + 1 == ceiling(n/2) - 1>"
    assert reprs["solution"] == "<Solution for n (exact): n in {12}>"
    assert reprs["admissible"] == "<Admissible inputs of 'm' (exact): n: n >= 5>"
    assert reprs["comparison"] == "<Comparison 'm' vs 'm': 3 rows, 2 differ>"
    assert reprs["derivation"] == "<Derivation network 'm': 2 steps>"


def test_a_long_answer_is_clipped_to_one_line() -> None:
    from convsym.whatif.solution import Solution

    s = Solution(("n",), "unknown", reason="x" * 500 + "\nsecond line")
    assert repr(s) == "<Solution for n (unknown): " + "x" * 99 + "…>"
    assert R.clip("a\nb") == "a …"


def test_ipython_pretty_shows_the_full_text() -> None:
    pretty = pytest.importorskip("IPython.lib.pretty")
    for name, obj in _objects().items():
        assert pretty.pretty(obj) == str(obj), name
    net = _net()
    assert pretty.pretty(net) == str(net.summary())
    assert pretty.pretty([net.summary()])  # inside a container: no cycle trouble


def test_markdown_and_latex_hooks_where_natural() -> None:
    objs = _objects()
    for name in ("proof", "solution", "admissible"):
        obj = objs[name]
        assert obj._repr_markdown_() and obj._repr_latex_(), name  # type: ignore[attr-defined]
    for name in ("summary", "comparison"):
        obj = objs[name]
        assert obj._repr_markdown_() is None, name  # type: ignore[attr-defined]
        assert obj._repr_html_().startswith('<div class="convsym">')  # type: ignore[attr-defined]


def test_results_still_pickle_and_compare_equal() -> None:
    for name, obj in _objects().items():
        if name in ("derivation",):
            continue
        again = pickle.loads(pickle.dumps(obj))
        assert repr(again) == repr(obj), name


def test_proof_markdown_and_latex() -> None:
    p = convsym.prove("floor(n/2) == ceiling(n/2)")
    md = R.proof_markdown(p)
    assert md.startswith("**refuted** by period: $")
    assert "counterexample: $n = 1$" in md
    tex = R.proof_latex(p)
    assert tex.startswith(r"\textbf{refuted} by period: $")
    assert "\\begin{enumerate}" in tex and tex.rstrip().endswith("\\end{enumerate}")


def test_hostile_layer_names_are_escaped_in_markdown_and_latex() -> None:
    net = _net(HOSTILE)
    for md in (R.solution_markdown(net.solve("n", "out_H == 8")),
               R.admissible_markdown(net.admissible_inputs())):
        assert "<script>" not in md and "\\<script\\>" in md
    for tex in (R.solution_latex(net.solve("n", "out_H == 8")),
                R.admissible_latex(net.admissible_inputs())):
        assert "<script>" not in tex and "$<$script$>$" in tex
        assert "\\{v\\}" in tex and "\\textbackslash{}w" in tex


def test_admissible_forms_of_two_symbols_and_of_an_unknown_answer() -> None:
    from convsym.layers.keras import Add

    net = convsym.Sequential([Input(("H", "W", 1)), Conv2D(4, 3, strides=2)])
    md = R.admissible_markdown(net.admissible_inputs())
    assert "| `H` | `H >= 3` | `3, 4, 5, 6, 7` |" in md
    assert "jointly: every combination of the above" in md
    assert "smallest input: `H = 3, W = 3 -> output (1, 1, 4)`" in md

    g = convsym.Graph()
    a = g.add_input(("H", "W", 4))
    g.add(Add(), a, g.add_input(("W", "H", 4)))  # broadcasting couples H and W
    adm = g.build().admissible_inputs()
    assert not adm.exact
    md = R.admissible_markdown(adm)
    assert md.startswith("**Admissible inputs** of `functional` (unknown)\n\nunknown: ")
    assert "\\|" in md  # the reason's "H == 1 | H == W" cannot open a table cell
    assert R.admissible_latex(adm).count("\\par") == 1


def test_costs_depthwise_and_verify_reprs_and_text() -> None:
    net = convsym.example("seed1")
    c = net.costs()
    assert repr(c) == "<Costs: 2 layers, 10,811,520 MACs>"
    lines = str(c).splitlines()
    assert lines[1].split() == ["Layer", "(type)", "Kind", "MACs", "FLOPs", "Activations",
                                "Params"]
    assert lines[-1].split() == ["Total", "10,811,520", "21,623,040", "58,496"]
    assert lines[-2] == lines[2]  # the rule above the totals
    d = convsym.depthwise_whatif(net, "conv2d_1")
    assert repr(d) == "<DepthwiseWhatIf 'conv2d_1': 64 maps vs 2048 if applied separately>"
    assert d._repr_markdown_() is None and "<table" in d._repr_html_()
    v = convsym.verify(net, samples=1, backends=["reference"])
    assert repr(v) == "<VerifyResult 'seed1': OK, 1 size checked>"
    assert str(v).splitlines()[0] == "verify 'seed1' (keras), symbols: none (concrete sizes)"
