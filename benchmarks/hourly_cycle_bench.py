"""The dbt step of one `hourly_allocation` cycle: incremental (what the hourly job runs) against `--full-refresh`
(what every other job runs), side by side on the same warehouse.

    .venv/bin/python benchmarks/hourly_cycle_bench.py [--campaigns 200] [--days 90] [--users-per-campaign 1000]
                                                      [--repeats 2] [--keep DIR]

A backfill is simulated and built from raw once, then the simulator adds one live hour (what the cycle's
`simulator_live_hour` does). For each repeat, two copies of that warehouse are made: on one the dbt command runs
incrementally, on the other with `--full-refresh`; each is timed as the `dbt` command line the Dagster asset starts
(a new process: parsing and start-up included). Two commands are timed: `dbt build` without the seed (the hourly
job's selection: every model and its data tests) and `dbt run` (the models alone, so the data tests' fixed share is
visible). Also printed: the three incremental facts' own seconds (dbt's run_results.json) and whether the two
copies' facts are equal row for row (EXCEPT ALL both ways). Prints a Markdown table; about 5 minutes at the
defaults on two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
sys.path.insert(0, str(ROOT))
DBT_DIR = ROOT / "dbt_project"
DBT = str(Path(sys.executable).with_name("dbt"))
FACTS = ("marts.fct_campaign_hourly", "intermediate.int_campaign_daily", "intermediate.int_user_revenue")
# The hourly job selects the staging, intermediate and marts groups: every model (and its tests), not the seed.
COMMANDS = {"dbt build (hourly selection)": ["build", "--exclude-resource-type", "seed"], "dbt run (models)": ["run"]}
MODES = {"incremental": [], "full refresh": ["--full-refresh"]}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--campaigns", type=int, default=200)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--users-per-campaign", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeats", type=int, default=2, help="Timed runs of each command and mode (median reported).")
    p.add_argument("--keep", help="Keep the data directories under this folder (default: a temporary one).")
    return p.parse_args()


def dbt(home: Path, args: list[str], target: Path) -> float:
    """Run the dbt command line on ``home``'s warehouse (as the Dagster asset does); its wall seconds."""
    env = os.environ | {"PMI_HOME": str(home), "DO_NOT_TRACK": "1"}
    command = [DBT, *args, "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--target-path", str(target), "--log-path", str(target / "logs")],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed in {home}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return seconds


def fact_seconds(target: Path) -> float:
    """Seconds dbt spent on the three incremental facts (run_results.json of the last command in ``target``)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    names = {fact.split(".")[1] for fact in FACTS}
    return sum(r["execution_time"] for r in results if r["unique_id"].split(".")[-1] in names)


def differing_rows(left: Path, right: Path) -> int:
    """Rows of the facts in one warehouse and not the other, both ways (0: the builds agree exactly)."""
    import duckdb

    with duckdb.connect(str(left), read_only=True) as con:
        con.execute(f"ATTACH '{right}' AS other (READ_ONLY)")
        total = 0
        for fact in FACTS:
            for a, b in ((fact, f"other.{fact}"), (f"other.{fact}", fact)):
                total += con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
                ).fetchone()[0]
        return total


def prepare(home: Path, args: argparse.Namespace) -> dict[str, float]:
    """Backfill, first build from raw, one live hour; the seconds of each."""
    from ml.settings import pmi_paths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill
    from ml.simulation.live import step_one_hour

    paths = pmi_paths(home).ensure()
    config = SimulationConfig(
        n_campaigns=args.campaigns,
        days=args.days,
        seed=args.seed,
        users_per_campaign=args.users_per_campaign,
        end_date=dt.date(2026, 10, 1),
    )
    started = time.perf_counter()
    run_backfill(config, paths)
    backfill = time.perf_counter() - started
    first = dbt(home, ["build", "--full-refresh"], home / "target_first")
    started = time.perf_counter()
    step_one_hour(paths)
    return {"backfill": backfill, "first build": first, "live hour": time.perf_counter() - started}


def main() -> None:
    args = parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pmi_hourly_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "base"
    setup = prepare(base, args)
    import duckdb

    with duckdb.connect(str(base / "warehouse.duckdb"), read_only=True) as con:
        sizes = {fact: con.execute(f"SELECT count(*) FROM {fact}").fetchone()[0] for fact in FACTS}
    print(
        f"{args.campaigns} campaigns x {args.days} days, {args.users_per_campaign:,} users per campaign, seed "
        f"{args.seed}; "
        + ", ".join(f"{k} {v:.1f} s" for k, v in setup.items())
        + "; "
        + ", ".join(f"{fact} {n:,} rows" for fact, n in sizes.items()),
        flush=True,
    )
    seconds: dict[tuple[str, str], list[float]] = {}
    facts: dict[tuple[str, str], list[float]] = {}
    differing = []
    for repeat in range(args.repeats):
        for command, command_args in COMMANDS.items():
            homes = {}
            for mode, mode_args in MODES.items():
                home = folder / f"r{repeat}_{command.split()[1]}_{mode.split()[0]}"
                shutil.rmtree(home, ignore_errors=True)
                home.mkdir()
                shutil.copy(base / "warehouse.duckdb", home / "warehouse.duckdb")
                target = home / "target"
                seconds.setdefault((command, mode), []).append(dbt(home, [*command_args, *mode_args], target))
                facts.setdefault((command, mode), []).append(fact_seconds(target))
                homes[mode] = home / "warehouse.duckdb"
            differing.append(differing_rows(homes["incremental"], homes["full refresh"]))
    print(
        "\n| dbt command | incremental (s) | full refresh (s) | full / incremental "
        "| three facts: incremental (s) | three facts: full refresh (s) |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for command in COMMANDS:
        inc, full = (statistics.median(seconds[(command, mode)]) for mode in MODES)
        inc_facts, full_facts = (statistics.median(facts[(command, mode)]) for mode in MODES)
        print(f"| `{command}` | {inc:.1f} | {full:.1f} | {full / inc:.2f} | {inc_facts:.2f} | {full_facts:.2f} |")
    print(
        f"\nmedian of {args.repeats} run(s) each; facts of the incremental and full-refresh copies differ in "
        f"{sum(differing)} rows (EXCEPT ALL both ways); data in {folder}"
    )


if __name__ == "__main__":
    main()
