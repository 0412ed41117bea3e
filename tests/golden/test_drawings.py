"""A few pictures, kept byte for byte: ``convsym draw`` must still produce them.

The README's images (``docs/images/``) are among them, so they are always what the project's
own command draws.  ``python -m pytest tests/golden/test_drawings.py --update-golden``
rewrites the files (then look at them before committing).
"""

from __future__ import annotations

import difflib
import pathlib

import pytest

from convsym.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = {
    # README: a stride-2 "same" convolution (Keras pads (0, 1)) and ResNet-18's diagram
    "docs/images/conv_same_stride2.svg":
        ["example:seed3", "--layer", "conv2d", "--input-size", "6"],
    "docs/images/resnet18.svg": ["example:resnet18", "--kind", "architecture"],
    # both dialects, transposed convolution, ceil_mode's overhanging last window
    "tests/golden/drawings/maxpool_ceil_mode.tex":
        ["example:resnet18", "--layer", "maxpool", "--input-size", "4x5", "--format", "tikz"],
    "tests/golden/drawings/unet_transpose.svg":
        ["example:unet", "--layer", "conv2d_transpose", "--input-size", "3"],
    "tests/golden/drawings/seed3.tex": ["example:seed3", "--kind", "architecture",
                                        "--format", "latex"],
}


@pytest.mark.parametrize("path", sorted(CASES))
def test_picture_unchanged(path: str, tmp_path: pathlib.Path, update_golden: bool) -> None:
    out = tmp_path / pathlib.Path(path).name
    assert main(["draw", *CASES[path], "-o", str(out)]) == 0
    new = out.read_text(encoding="utf-8")
    golden = ROOT / path
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(new, encoding="utf-8")
    old = golden.read_text(encoding="utf-8")
    if old != new:
        diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                            path, "generated", n=1))
        pytest.fail(f"{path} differs from what convsym draws now (after reviewing, run with "
                    f"--update-golden):\n{diff[:3000]}")
