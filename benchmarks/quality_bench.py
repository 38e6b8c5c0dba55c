"""How long the Great Expectations gates take, and their peak memory, on the default simulation (what `make run`
checks) or on an existing data directory (e.g. one of benchmarks/scale_bench.py's, marts included).

Run: `.venv/bin/python benchmarks/quality_bench.py [--home DIR]`. Prints rows, expectations and wall-clock seconds
per table, with and without building the Data Docs, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time

import duckdb

from ml.quality import mart_suites, raw_suites, validate
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", help="Gate this data directory's warehouse instead of a fresh default simulation.")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        paths = pmi_paths(args.home or scratch).ensure()
        if not args.home:
            run_backfill(SimulationConfig(), paths)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            listed = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
            tables = {f"{schema}.{table}" for schema, table in listed}
            suites = [s for s in raw_suites(now) + mart_suites() if s.table in tables]
            counts = {s.table: con.execute(f"SELECT count(*) FROM {s.table}").fetchone()[0] for s in suites}
        for suite in suites:
            started = time.perf_counter()
            report = validate(paths, [suite])[suite.table]
            print(
                f"{suite.table:26s} {counts[suite.table]:>11,} rows {len(report.results):>3} expectations "
                f"passed={report.passed} {time.perf_counter() - started:.2f} s"
            )
        for docs in (None, "bench"):
            started = time.perf_counter()
            reports = validate(paths, suites, docs_site=docs)
            n = sum(len(r.results) for r in reports.values())
            print(
                f"all suites ({n} expectations), data docs {'on' if docs else 'off'}: "
                f"{time.perf_counter() - started:.2f} s"
            )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GB")


if __name__ == "__main__":
    main()
