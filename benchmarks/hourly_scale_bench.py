"""One `hourly_allocation` cycle at scale: wall time of `pmi loop --cycles 1`, the Dagster run's span and its steps.

    .venv/bin/python benchmarks/hourly_scale_bench.py --from-home DIR [--cycles 5] [--home COPY] [--live-hours 23]

``DIR`` is a data directory after `pmi run` (the 2,000-campaign one of the README: `pmi run --campaigns 2000
--days 180 --users-per-campaign 5000 --seed 7`, or `benchmarks/scale_bench.py --sizes 2000 --keep DIR`); it is
copied first, so it stays as it was. Each cycle is a fresh `pmi loop --cycles 1` process (its start-up and dbt's
parse count in the wall time); the run's span is from the Dagster run's start to its end. Each row says whether the
hourly run kept or rebuilt the user-level marts and kept or re-scored the LTV, and the span of the
`daily_user_value` run the loop started after it (after the first cycle of a data day; it rebuilds and re-scores
both). ``--live-hours N`` first simulates N hours into raw (`pmi simulate --live-hours`), so that the cycles cross
midnight. Prints a Markdown table and the median and maximum hourly run span.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = (
    "warehouse_models",
    "feature_exports",
    "feast_online_store",
    "mart_quality_gates",
    "campaign_ltv",
    "allocation_run",
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from-home", required=True, help="A data directory after `pmi run` (copied, not changed).")
    p.add_argument("--cycles", type=int, default=5)
    p.add_argument("--home", help="Where to copy it (default: a temporary directory, removed afterwards).")
    p.add_argument("--live-hours", type=int, default=0, help="Simulate this many hours into raw before the cycles.")
    return p.parse_args()


def run_summary(home: Path) -> dict[str, object]:
    """The newest hourly run's span, step times and what it did with the user marts and the LTV."""
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    import dagster as dg

    instance = dg.DagsterInstance.get()
    run = instance.get_runs(filters=dg.RunsFilter(job_name="hourly_allocation"), limit=1)[0]
    stats = instance.get_run_stats(run.run_id)
    steps = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(run.run_id) if s.end_time}

    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    own = {r.event_log_entry.asset_materialization.asset_key: r.event_log_entry.asset_materialization for r in records}

    def metadata(key: dg.AssetKey, name: str) -> str:
        """The hourly run's own materialisation's value (a later daily run may have materialised the asset)."""
        value = own[key].metadata.get(name) if key in own else None
        return value.value if value else ""

    daily = instance.get_runs(filters=dg.RunsFilter(job_name="daily_user_value"), limit=1)
    daily_stats = instance.get_run_stats(daily[0].run_id) if daily else None
    return {
        "daily_span": daily_stats.end_time - daily_stats.start_time
        if daily_stats and daily_stats.start_time > stats.start_time
        else None,
        "span": stats.end_time - stats.start_time,
        "steps": steps,
        "user_marts": metadata(dg.AssetKey(["marts", "fct_user_value"]), "pmi/user_marts") or "rebuilt",
        "ltv": metadata(dg.AssetKey("campaign_ltv"), "scoring"),
    }


def one_cycle(home: Path) -> dict[str, object]:
    env = os.environ | {"GX_ANALYTICS_ENABLED": "False", "DO_NOT_TRACK": "1", "MLFLOW_ENABLE_TELEMETRY": "false"}
    started = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/pmi"), "loop", "--home", str(home), "--cycles", "1"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    # A child process reads the instance: this one must not hold Dagster's storage between cycles.
    out = subprocess.run(
        [sys.executable, __file__, "--summary", str(home)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out) | {"wall": wall}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":
        print(json.dumps(run_summary(Path(sys.argv[2]))))
        return 0
    args = parse_args()
    base = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="pmi-hourly-")) / "home"
    shutil.copytree(args.from_home, base, symlinks=True)
    try:
        if args.live_hours:
            subprocess.run(
                [str(ROOT / ".venv/bin/pmi"), "simulate", "--home", str(base), "--live-hours", str(args.live_hours)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        rows = [one_cycle(base) for _ in range(args.cycles)]
    finally:
        if not args.home:
            shutil.rmtree(base.parent, ignore_errors=True)
    print(
        "| cycle | user marts | LTV | loop wall (s) | hourly run span (s) | daily_user_value span (s) | "
        + " | ".join(STEPS)
        + " |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in STEPS) + " |")
    for i, r in enumerate(rows, start=1):
        steps = " | ".join(f"{r['steps'].get(s, float('nan')):.1f}" for s in STEPS)
        daily = "-" if r["daily_span"] is None else f"{r['daily_span']:.1f}"
        print(f"| {i} | {r['user_marts']} | {r['ltv']} | {r['wall']:.1f} | {r['span']:.1f} | {daily} | {steps} |")
    spans = [r["span"] for r in rows]
    print(f"\nhourly run span over {len(rows)} cycles: median {statistics.median(spans):.1f} s, max {max(spans):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
