"""convsym.printing.html: tables hold the API's numbers, every user string is escaped, and the
markup nests (checked with the standard library's HTML parser)."""

from __future__ import annotations

import html.parser

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

import convsym
from convsym.keras import Conv2D, Input
from convsym.printing import html as H

VOID = {"br"}


class Tags(html.parser.HTMLParser):
    """Start tags in order, checking that every end tag closes the innermost open one."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: list[str] = []
        self.open: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None
        self.feed(source)
        self.close()
        assert not self.open, self.open

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in VOID:
            self.open.append(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _net(name: str = "conv2d_1", model: str = "m") -> convsym.Network:
    return convsym.Sequential([Input(("n", "n", 3)), Conv2D(8, 3), Conv2D(16, 3, name=name)],
                              name=model)


def test_summary_cells_are_the_summary_numbers() -> None:
    s = _net().subs(n=32).summary()
    t = Tags(H.summary(s))
    assert t.cells[:4] == ["Layer (type)", "Output Shape", "Param #", "MACs"]
    assert t.cells[4:8] == ["conv2d (Conv2D)", "(30, 30, 8)", "224", "194,400"]
    assert t.cells[8:12] == ["conv2d_1 (Conv2D)", "(28, 28, 16)", "1,168", "903,168"]
    assert t.cells[12:16] == ["Total params", "", "1,392", "1,097,568"]


def test_summary_shows_conditions_and_escapes_them() -> None:
    page = H.summary(_net().summary())
    assert "Valid when: <code>n &gt;= 5</code>" in page


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "a&amp;b", '"><img src=x>',
                                  "</code><b>"])
def test_hostile_layer_and_model_names_stay_text(name: str) -> None:
    net = _net(name, model=name)
    for page in (H.summary(net.summary()), net._repr_html_(),
                 H.comparison(convsym.compare(net, _net())),
                 H.admissible(net.admissible_inputs()),
                 H.solution(net.solve("n", "out_H == 8"))):
        tags = Tags(page)
        assert set(tags.seen) <= {"div", "style", "table", "caption", "thead", "tbody",
                                  "tfoot", "tr", "th", "td", "code", "p", "strong", "em",
                                  "ol", "ul", "li", "details", "summary", "br"}
        assert name not in page  # each of these names holds a character HTML escapes


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("C", "Z")),  # printable
               min_size=1, max_size=12))
def test_any_printable_name_is_escaped(name: str) -> None:
    page = H.summary(_net(name).summary())
    tags = Tags(page)
    assert name + " (Conv2D)" in tags.cells


def test_comparison_marks_changed_rows_and_evaluates_at() -> None:
    wider = convsym.Sequential([Input(("n", "n", 3)), Conv2D(8, 5), Conv2D(16, 3)], name="w")
    c = convsym.compare(_net(), wider, at={"n": 32})
    page = H.comparison(c)
    t = Tags(page)
    assert t.cells[10:17] == ["*", "conv2d (Conv2D)", "(30, 30, 8)", "(28, 28, 8)", "224",
                              "608", "+384"]
    assert page.count('<tr class="changed">') == sum(c.differs(r) for r in c.rows)
    assert "at <code>n = 32</code>" in page


def test_proof_blocks() -> None:
    refuted = H.proof(convsym.prove("floor(n/2) == ceiling(n/2)"))
    assert "<strong>✘ refuted</strong>" in refuted
    assert "counterexample: <code>n = 1</code>" in refuted
    from convsym.expr import parse_relation
    from convsym.proof import Proof

    unknown = Proof("unknown", "z3", parse_relation("n == n"), reason="time <limit>")
    assert "reason: time &lt;limit&gt;" in H.proof(unknown)


def test_admissible_table_of_two_symbols() -> None:
    net = convsym.Sequential([Input(("H", "W", 1)), Conv2D(4, 3, strides=2)])
    page = H.admissible(net.admissible_inputs())
    t = Tags(page)
    assert t.cells[:3] == ["Symbol", "Accepted sizes", "Smallest"]
    assert t.cells[3:5] == ["H", "H >= 3"] and t.cells[6:8] == ["W", "W >= 3"]
    assert "every combination" in page


def test_unknown_solution_says_why() -> None:
    from convsym.whatif.solution import Solution

    page = H.solution(Solution(("n",), "unknown", reason="the <time> limit"))
    assert "Answer (unknown): the &lt;time&gt; limit" in page
