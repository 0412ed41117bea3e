"""convsym's benchmarks against its peers, measured side by side in one run.

Run ``python -m bench`` (several minutes) or ``python -m bench --quick`` (about a minute)
from the repository root; results go to ``bench/results.json`` and
``python -m bench.report`` prints the Markdown tables for the README.  See
:mod:`bench.run` for the sections and ``bench/README.md`` for what each number means.
Nothing here is part of the test suite.
"""
