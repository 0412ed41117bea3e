"""The notebooks in this folder run in a real Jupyter kernel, and every result object renders.

``display.ipynb`` shows a network, its summary, proofs, a solution, admissible inputs, a
comparison, a derivation, a graph and a network with hostile names.  Each code cell is
tagged; the tests read what the kernel sent back (``text/html``, ``text/markdown``,
``text/latex``, ``text/plain``, streams) and parse the HTML: the table cells hold the
numbers the API computes, no cell raised, and a layer named ``<script>`` stays text.
"""

from __future__ import annotations

import functools
import html.parser
import pathlib
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

HERE = pathlib.Path(__file__).parent
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))
VOID = {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}


class Page(html.parser.HTMLParser):
    """Tags seen (checked to nest properly), table rows as cell texts, and all text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self.cell: list[str] | None = None
        self.in_style = False
        self.feed(source)
        self.close()
        assert not self.stack, f"unclosed tags {self.stack}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            return
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


@functools.cache
def run(path: pathlib.Path) -> Any:
    """The notebook as stored (checked: valid, no outputs), then executed in a fresh kernel."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        f"{path.name}: clear the outputs before committing"
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}}).execute()
    return nb


@pytest.fixture(scope="module")
def executed() -> dict[str, list[Any]]:
    """``display.ipynb`` run: the outputs of each tagged cell."""
    nb = run(HERE / "display.ipynb")
    return {tag: cell.outputs for cell in nb.cells if cell.cell_type == "code"
            for tag in cell.metadata.get("tags", [])}


def result(executed: dict[str, list[Any]], tag: str) -> dict[str, str]:
    """The data of the cell's one ``execute_result``."""
    found = [o for o in executed[tag] if o.output_type == "execute_result"]
    assert len(found) == 1, executed[tag]
    return dict(found[0].data)


def stream(executed: dict[str, list[Any]], tag: str) -> str:
    return "".join(o.text for o in executed[tag]
                   if o.output_type == "stream" and o.name == "stdout")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_run_without_errors(path: pathlib.Path) -> None:
    nb = run(path)  # execute() raises on the first cell that fails
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors


def test_every_object_has_html_and_a_text_form(executed: dict[str, list[Any]]) -> None:
    for tag in ("network", "summary", "proved", "refuted", "solution", "admissible",
                "comparison", "graph", "hostile", "costs", "depthwise", "verify"):
        data = result(executed, tag)
        assert "text/html" in data and "text/plain" in data, tag
        page = Page(data["text/html"])
        assert "script" not in page.tags, tag
    for tag in ("proved", "refuted", "solution", "admissible", "derivation"):
        data = result(executed, tag)
        assert "text/markdown" in data and "text/latex" in data, tag


def test_network_and_summary_tables(executed: dict[str, list[Any]]) -> None:
    import convsym
    from convsym.keras import Conv2D, Dense, Flatten, Input, MaxPooling2D

    net = convsym.Sequential([Input(("n", "n", 1)), Conv2D(32, 3), MaxPooling2D(2),
                              Conv2D(64, 3), Flatten(), Dense(10)], name="digits")
    symbolic = Page(result(executed, "network")["text/html"])
    assert symbolic.rows[1][:2] == ["conv2d (Conv2D)", "(n - 2, n - 2, 32)"]
    assert result(executed, "network")["text/plain"] == str(net.summary())

    page = Page(result(executed, "summary")["text/html"])
    assert page.rows[0] == ["Layer (type)", "Output Shape", "Param #", "MACs"]
    body = {row[0]: row[1:] for row in page.rows[1:]}
    assert body["conv2d_1 (Conv2D)"][:2] == ["(11, 11, 64)", "18,496"]  # Keras: 3*3*32*64+64
    assert body["dense (Dense)"][:2] == ["(10,)", "77,450"]
    total = net.subs(n=28).total_params
    assert body["Total params"][1] == f"{int(total):,}" == "96,266"
    assert "Model: digits (keras)" in page.all_text


def test_proofs(executed: dict[str, list[Any]]) -> None:
    proved = result(executed, "proved")
    page = Page(proved["text/html"])
    assert page.all_text.startswith("✔ proved by rewriting: floor((n - 3)/2) + 1 ==")
    assert page.tags.count("li") >= 2  # the steps
    assert proved["text/markdown"].startswith("**proved** by rewriting: $")
    assert r"\lfloor" in proved["text/markdown"]
    assert proved["text/latex"].startswith(r"\textbf{proved} by rewriting:")

    refuted = result(executed, "refuted")
    assert "counterexample: n = 1" in Page(refuted["text/html"]).all_text
    assert "counterexample: $n = 1$" in refuted["text/markdown"]
    assert refuted["text/plain"].startswith("refuted by period")


def test_solution_and_admissible_inputs(executed: dict[str, list[Any]]) -> None:
    solution = result(executed, "solution")
    text = Page(solution["text/html"]).all_text
    assert "Answer (exact): n in {28, 29}" in text
    assert "Derivation" in text
    assert "`n in {28, 29}`" in solution["text/markdown"]
    assert r"n in \{28, 29\}" in solution["text/latex"]

    admissible = Page(result(executed, "admissible")["text/html"])
    assert admissible.rows == [["Symbol", "Accepted sizes", "Smallest"],
                               ["n", "n >= 8", "8, 9, 10, 11, 12"]]
    assert "smallest input: n = 8 -> output (10,)" in admissible.all_text


def test_comparison_table(executed: dict[str, list[Any]]) -> None:
    page = Page(result(executed, "comparison")["text/html"])
    head, *rows = page.rows
    assert head[1:4] == ["Layer (type)", "Output A", "Output B"]
    first = rows[0]
    assert first[:4] == ["*", "conv2d (Conv2D)", "(26, 26, 32)", "(24, 24, 32)"]
    assert first[4:7] == ["320", "832", "+512"]  # 5*5*32 + 32 = 832
    assert rows[-1][1].startswith("Total")
    assert "Compare A = digits vs B = wider at n = 28" in page.all_text


def test_costs_depthwise_and_verify(executed: dict[str, list[Any]]) -> None:
    costs = Page(result(executed, "costs")["text/html"])
    assert costs.rows[0] == ["Layer (type)", "Kind", "MACs", "FLOPs", "Activations", "Params"]
    assert costs.rows[1] == ["conv2d (Conv2D)", "conv", "194,688", "389,376", "21,632", "320"]
    assert result(executed, "costs")["text/plain"].startswith("MACs of conv, dense layers")

    depthwise = Page(result(executed, "depthwise")["text/html"])
    assert depthwise.rows[1][0] == "standard" and depthwise.rows[1][3] == "64"
    assert depthwise.rows[2][0] == "imagined" and depthwise.rows[2][3] == "2048"  # 32 x 64

    verified = result(executed, "verify")
    assert "OK: every layer agrees" in Page(verified["text/html"]).all_text
    assert verified["text/plain"].endswith("OK: every layer agrees")


def test_derivation_renders_markdown(executed: dict[str, list[Any]]) -> None:
    data = result(executed, "derivation")
    assert data["text/markdown"].startswith("# digits: output sizes and parameters")
    assert data["text/plain"].startswith("digits: output sizes and parameters")


def test_graph_builds_and_renders(executed: dict[str, list[Any]]) -> None:
    page = Page(result(executed, "graph")["text/html"])
    assert page.rows[1][:3] == ["conv2d (Conv2d)", "(8, H, W)", "224"]  # 3*3*3*8 + 8


def test_hostile_names_stay_text(executed: dict[str, list[Any]]) -> None:
    data = result(executed, "hostile")
    page = Page(data["text/html"])
    assert "script" not in page.tags and "b" not in page.tags
    assert page.rows[1][0] == "<script>alert(1)</script> (Conv2D)"
    assert "Model: <b>bold</b> (keras)" in page.all_text


def test_print_and_short_reprs(executed: dict[str, list[Any]]) -> None:
    assert stream(executed, "print").startswith('Model: "digits" (keras)\nLayer (type)')
    first, second = stream(executed, "reprs").splitlines()
    assert first.startswith("<Summary 'digits' (keras): 5 layers, ") and len(first) < 120
    assert second == "<Proof proved by rewriting: n + 1 > n>"
