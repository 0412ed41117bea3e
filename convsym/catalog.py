"""The derivations shipped in ``derivations/``, and the one command that regenerates them.

Run ``python -m convsym.catalog derivations`` from the repository root: every entry is
written as a standalone LaTeX document (``.tex``), Markdown (``.md``) and plain text
(``.txt``), plus an index ``README.md``.  The tests regenerate everything into a temporary
folder and fail on any difference.

>>> [e.name for e in ENTRIES][:3]
['seed1', 'seed1_symbolic', 'seed2']
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from convsym.derivation import Derivation, derive
from convsym.examples import example, names
from convsym.printing import templates as T
from convsym.proof import prove
from convsym.spec import load

LENET5: dict[str, Any] = {
    "name": "lenet5",
    "dialect": "keras",
    "input": [32, 32, 1],
    "layers": [
        {"Conv2D": {"filters": 6, "kernel_size": 5, "activation": "tanh"}},
        {"AveragePooling2D": {"pool_size": 2}},
        {"Conv2D": {"filters": 16, "kernel_size": 5, "activation": "tanh"}},
        {"AveragePooling2D": {"pool_size": 2}},
        {"Flatten": {}},
        {"Dense": {"units": 120, "activation": "tanh"}},
        {"Dense": {"units": 84, "activation": "tanh"}},
        {"Dense": {"units": 10, "activation": "softmax"}},
    ],
}
"""LeNet-5 (LeCun et al. 1998) as usually written in Keras: 61,706 parameters."""

VGG_BLOCK: dict[str, Any] = {
    "name": "vgg_block",
    "dialect": "torch",
    "input": [3, "H", "W"],
    "layers": [
        {"Conv2d": {"in_channels": 3, "out_channels": 64, "kernel_size": 3, "padding": 1}},
        {"ReLU": {}},
        {"Conv2d": {"in_channels": 64, "out_channels": 64, "kernel_size": 3, "padding": 1}},
        {"ReLU": {}},
        {"MaxPool2d": {"kernel_size": 2, "stride": 2}},
    ],
}
"""The first block of VGG-16 (Simonyan & Zisserman 2015) in PyTorch, on an H x W image."""


@dataclass(frozen=True)
class Entry:
    """One derivation of the catalog: its file stem, a one-line description, how to build it."""

    name: str
    description: str
    build: Callable[[], Derivation]
    slow: bool = False

    def derive(self) -> Derivation:
        """Build the derivation."""
        return self.build()


def _example(name: str, **kw: Any) -> Callable[[], Derivation]:
    def build() -> Derivation:
        return derive(example(name), **kw)

    return build


def _spec(doc: dict[str, Any], shared: str | None = None) -> Callable[[], Derivation]:
    """A spec defined here, or the shared built-in example of that name once it exists."""
    def build() -> Derivation:
        if shared is not None and shared in names():
            return derive(example(shared))
        return derive(load(doc, name=f"catalog:{doc['name']}"))

    return build


def resnet50_statement(net: Any) -> Any:
    """``o_H = ceiling(H/32)`` with ``o_H`` written out as the composition of the size rules.

    Follows the height through every layer that changes it, from the input to the last stage
    (before the global pooling), composing each layer's textbook relationship.
    """
    d = derive(net)
    height = next(s for s in net.all_symbols() if s.name == "H")
    current: Any = height
    nested: Any = height
    for step in d.steps:
        for size in step.sizes:
            if "H" not in size.axes or size.values.get("n") != current or \
                    size.result == current:
                continue
            if size.rule in ("adaptive_pool", "global_pool"):
                return sympy.Eq(nested, sympy.ceiling(height / 32), evaluate=False)
            tpl = T.TEMPLATES[size.rule]
            slots = dict(size.values)
            slots["K"] = size.values.get("k_e", size.values.get("k"))
            slots["o"] = size.result
            slots["n"] = nested
            nested = tpl.general.meaning(slots)
            current = size.result
    return sympy.Eq(nested, sympy.ceiling(height / 32), evaluate=False)


def _resnet_proof() -> Derivation:
    net = example("resnet50")
    proof = prove(resnet50_statement(net))
    return derive(proof, network=net, title="The ResNet-50 stem and stages give ceiling(H/32)",
                  intro="The height of an $H$ by $W$ image after the stem and the four "
                        "stages of torchvision's ResNet-50 is the composition of five "
                        "halvings: the 7 by 7 convolution with stride 2, the 3 by 3 max "
                        "pooling with stride 2, and the stride-2 3 by 3 convolution that "
                        "opens stages 2, 3 and 4 (the other layers keep the size, and each "
                        "shortcut halves exactly like its block). Written out with each "
                        "layer's relationship, the statement is:")


ENTRIES: list[Entry] = [
    Entry("seed1", "Seed question 1: why a Conv2D(64, 3) on 32 maps gives 64 maps and "
          "18,496 parameters", _example("seed1")),
    Entry("seed1_symbolic", "Seed question 1 with a symbolic input size n and c channels",
          _example("seed1_symbolic")),
    Entry("seed2", "Seed question 1's answer: 5x5 kernels without bias, 2,400 and 51,200",
          _example("seed2")),
    Entry("seed3", "Seed question 3 (Foster): 'same' convolutions with stride 2, 490, 1,820 "
          "and 12,810", _example("seed3")),
    Entry("seed3_symbolic", "Seed question 3 with a symbolic input size n: ceiling(n/4)",
          _example("seed3_symbolic")),
    Entry("lenet5", "LeNet-5 in Keras: 61,706 parameters", _spec(LENET5)),
    Entry("vgg_block", "The first VGG-16 block in PyTorch on an H x W image",
          _spec(VGG_BLOCK)),
    Entry("resnet50_proof",
          "Proof that the ResNet-50 stem and stages give ceiling(H/32) for an H x W image",
          _resnet_proof),
]
"""Everything in ``derivations/``, in index order."""

FORMATS = (("tex", "latex"), ("md", "markdown"), ("txt", "text"))
"""File extension and renderer of each generated file."""


def files(entry: Entry) -> dict[str, str]:
    """File name to content for one entry (standalone LaTeX, Markdown, text)."""
    d = entry.derive()
    return {f"{entry.name}.{ext}": d.render(fmt, standalone=True) for ext, fmt in FORMATS}


def index(entries: Sequence[Entry] = ENTRIES) -> str:
    """The ``README.md`` of the folder."""
    lines = ["# Derivations", "",
             "Generated by convsym; do not edit. Regenerate from the repository root with:", "",
             "```", "python -m convsym.catalog derivations", "```", "",
             "Each derivation comes as a standalone LaTeX document (`.tex`, compiles with "
             "`pdflatex`), Markdown with `$...$` math (`.md`) and plain text (`.txt`). For a "
             "fragment to `\\input` into lecture notes, run "
             "`convsym derive SOURCE --format latex`.", "",
             "| Derivation | What it shows |", "|---|---|"]
    for e in entries:
        lines.append(f"| [{e.name}]({e.name}.md) ([tex]({e.name}.tex), [txt]({e.name}.txt)) "
                     f"| {e.description} |")
    return "\n".join(lines) + "\n"


def generate(folder: str, entries: Sequence[Entry] = ENTRIES) -> list[str]:
    """Write every entry's files and the index into ``folder``; returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    written = []
    contents = {"README.md": index(entries)}
    for entry in entries:
        contents.update(files(entry))
    for name, text in contents.items():
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m convsym.catalog [FOLDER]``: regenerate the derivations."""
    parser = argparse.ArgumentParser(prog="python -m convsym.catalog",
                                     description="Regenerate the derivations folder.")
    parser.add_argument("folder", nargs="?", default="derivations",
                        help="where to write (default: derivations)")
    args = parser.parse_args(argv)
    for path in generate(args.folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
