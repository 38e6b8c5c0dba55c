"""How long the Great Expectations gates take on the default simulation (what `make run` checks).

Run: `.venv/bin/python benchmarks/quality_bench.py`. Prints rows, expectations and wall-clock seconds per table,
with and without building the Data Docs.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time

from ml.quality import raw_suites, validate
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        paths = pmi_paths(home).ensure()
        counts = run_backfill(SimulationConfig(), paths)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for suite in raw_suites(now):
            started = time.perf_counter()
            report = validate(paths, [suite])[suite.table]
            print(f"{suite.table:22s} {counts[suite.table]:>9,} rows {len(report.results):>3} expectations "
                  f"passed={report.passed} {time.perf_counter() - started:.2f} s")
        for docs in (None, "raw"):
            started = time.perf_counter()
            reports = validate(paths, raw_suites(now), docs_site=docs)
            n = sum(len(r.results) for r in reports.values())
            print(f"all raw suites ({n} expectations), data docs {'on' if docs else 'off'}: "
                  f"{time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
