"""Profit-uplift capture of `pmi allocate` on simulator exports, against the allocation on the TRUE curves.

Run: `.venv/bin/python benchmarks/allocate_uplift_bench.py` (seeds 0-9, 8 campaigns x 60 days each). The scoring is
the one of tests/ml/allocation/portfolio/test_allocate_uplift.py (which runs fewer seeds).

The headline feeds the allocator what a user's export holds: each day's installs valued at the revenue they made
up to the export's end (observed revenue events), never the simulator's true user value. The same seeds with the
true user value in the export are printed after it, as a reference for what perfect value data would add.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ml" / "allocation" / "portfolio"))
from test_allocate_uplift import capture  # noqa: E402

SEEDS = range(10)
SETTINGS = [
    ("neutral truth, 25% change limit", 0.25, False),
    ("neutral truth, no limit", np.inf, False),
    ("history conditions, no limit", np.inf, True),
]
BASES = [
    ("observed", "observed revenue to date (headline)"),
    ("true_value", "simulator's true user value (reference, not in a user's export)"),
]

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for basis, title in BASES:
            print(f"export revenue: {title}; seeds {SEEDS.start}-{SEEDS.stop - 1}", flush=True)
            for label, limit, history_truth in SETTINGS:
                started = time.perf_counter()
                captures = [capture(seed, limit, Path(tmp), history_truth, basis) for seed in SEEDS]
                print(
                    f"  {label:<34} mean capture {np.mean(captures):6.1%}  min {np.min(captures):6.1%}  "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
