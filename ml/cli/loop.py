"""`pmi loop`: the hourly allocation cycle a user switches on (observe -> re-score -> allocate -> check -> apply).

Each cycle is one run of the Dagster job `hourly_allocation`, the same job the Dagster schedule launches, so the
command line and the schedule run the same code. The first cycle of a data day is followed by a run of
`daily_user_value` (the user-level marts and every user's LTV, moved to the new day), after the hour's budgets are
applied; once the data has moved `--retrain-every` (7 days) past the last training run's, by a run of `retrain`.
The data directory's run lock is taken per cycle (waiting for a `pmi ingest` in progress), never while the loop
sleeps, so the user's loads can land between cycles.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
import time

import pandas as pd
from rich.console import Console

from ml.cli.job_progress import execute_with_progress
from ml.cli.pipeline import dagster_instance, home_run_config, pmi_job
from ml.cli.run_summary import usd
from ml.ingest.source import ingested_row_counts
from ml.io.errors import BadInputError
from ml.models.status import skipped_steps
from ml.operations.daily_refresh import daily_user_value_due
from ml.operations.retrain_due import DEFAULT_RETRAIN_EVERY, retrain_due
from ml.optimize.problem import DEFAULT_MAX_CHANGE_PCT
from ml.settings import PmiPaths, pmi_paths
from ml.warehouse.connection import read_sql
from ml.warehouse.run_lock import hold_run_lock

INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "loop",
        help="Run the hourly allocation cycle on the warehouse (once, or every N).",
        description="Observe the newest data, re-allocate the budget, check the predictions against actuals and "
        "apply, through the `hourly_allocation` Dagster job (the one the hourly schedule launches); after the first "
        "cycle of a data day, rebuild the user-level marts and re-score LTV (the `daily_user_value` job).",
    )
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.add_argument("--every", default="", help="Repeat every interval, e.g. 1h, 30m, 90s (default: one cycle).")
    p.add_argument(
        "--cycles",
        type=int,
        default=0,
        help="Stop after this many cycles (default: 1 without --every, else until stopped with Ctrl-C or SIGTERM).",
    )
    p.add_argument(
        "--retrain-every",
        default=f"{DEFAULT_RETRAIN_EVERY.days}d",
        help="Retrain every model (the `retrain` job) once the data has moved this far past the last training run's "
        f"data, e.g. 7d or 36h; 0 never (default {DEFAULT_RETRAIN_EVERY.days}d, as the weekly retrain schedule).",
    )
    p.add_argument("--total-budget", type=float, default=0.0, help="Daily portfolio budget (default: today's).")
    p.add_argument(
        "--max-change-pct",
        type=float,
        default=DEFAULT_MAX_CHANGE_PCT,
        help=f"Max move of any budget per period ({DEFAULT_MAX_CHANGE_PCT}).",
    )
    p.add_argument(
        "--export-csv",
        action="store_true",
        help="Also write each cycle's budget changes to PMI_HOME/exports/budget_changes_<run>.csv.",
    )
    p.add_argument("--webhook", default="", help="Also POST each cycle's budget changes as JSON to this URL.")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="Show dbt's and the libraries' output live instead of writing it to PMI_HOME/logs.",
    )
    p.set_defaults(handler=run)


def interval_seconds(text: str, option: str = "--every") -> float:
    """'1h' -> 3600; '' -> 0 (one cycle). Anything else is bad input."""
    if not text:
        return 0.0
    match = INTERVAL.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise BadInputError(f"{option} {text}: expected a positive interval like 1h, 30m, 90s or 7d")
    return float(int(match.group(1)) * UNIT_SECONDS[match.group(2)])


def retrain_every(text: str) -> pd.Timedelta | None:
    """`--retrain-every`: a span of data, or None for 0 (never)."""
    if text.strip() == "0":
        return None
    return pd.Timedelta(seconds=interval_seconds(text, "--retrain-every"))


def cycle_config(paths: PmiPaths, args: argparse.Namespace) -> dict:
    allocation = {
        "total_budget": args.total_budget,
        "max_change_pct": args.max_change_pct,
        "export_csv": args.export_csv,
        "webhook_url": args.webhook,
    }
    return {"ops": {"allocation_run": {"config": allocation}}} | home_run_config(paths)


def cycle_line(paths: PmiPaths, run_id: str) -> str:
    """One line per cycle: what was applied (or why nothing was)."""
    applied = (
        read_sql(paths, "SELECT * FROM audit.allocation_runs WHERE run_id = ?", [run_id])
        if _has_table(paths, "audit", "allocation_runs")
        else None
    )
    if applied is None or applied.empty:
        skipped = skipped_steps(paths)
        why = skipped.loc[skipped["step_name"] == "allocation", "reason"]
        return f"run {run_id}: no allocation applied" + (f": {why.iloc[0]}" if len(why) else "")
    row = applied.iloc[0]
    changed = read_sql(
        paths,
        "SELECT count(*) AS n FROM audit.budget_changes WHERE run_id = ? AND abs(budget_after - budget_before) >= 0.01",
        [run_id],
    )["n"].iloc[0]
    return (
        f"run {run_id}: effective {row['effective_ts']}, daily budget {usd(row['total_before'])} -> "
        f"{usd(row['total_after'])}, {changed} campaigns changed, expected daily gain "
        f"{usd(row['expected_gain'], signed=True)}, adapter {row['adapter']}"
    )


def _has_table(paths: PmiPaths, schema: str, table: str) -> bool:
    return bool(
        read_sql(
            paths, "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
        )["n"].iloc[0]
    )


def run(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 120), soft_wrap=True)
    paths = pmi_paths(args.home)
    every = interval_seconds(args.every)
    retrain_span = retrain_every(args.retrain_every)
    cycles = args.cycles or (0 if every else 1)
    ingested_row_counts(paths)  # one line, exit 2, on a data directory with nothing to allocate
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    done = 0
    while not stop.is_set():
        with hold_run_lock(paths, "pmi loop", wait=True):
            from orchestration.partitions import hourly_partition  # Dagster loads only once a cycle runs

            instance = dagster_instance(paths)
            result = execute_with_progress(
                pmi_job("hourly_allocation", paths),
                cycle_config(paths, args),
                instance,
                console,
                "hourly cycle",
                verbose=args.verbose,
                partition_key=hourly_partition(paths, instance),
            )
            done += 1
            if not result.success:
                return _failed(console, f"cycle {done}", result)
            console.print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} cycle {done}: {cycle_line(paths, result.run_id)}")
            if not run_if_due(paths, "daily_user_value", daily_user_value_due(paths), console, args.verbose):
                return 1
            retrain = None if retrain_span is None else retrain_due(paths, retrain_span)
            if not run_if_due(paths, "retrain", retrain, console, args.verbose):
                return 1
        if cycles and done >= cycles:
            break
        stop.wait(every)
    return 0


def run_if_due(paths: PmiPaths, job_name: str, due: str | None, console: Console, verbose: bool) -> bool:
    """Run the job (`daily_user_value`, `retrain`) after a cycle when ``due`` says why; False if it failed."""
    if due is None:
        return True
    what = job_name.replace("_", " ")
    result = execute_with_progress(
        pmi_job(job_name, paths), home_run_config(paths), dagster_instance(paths), console, what, verbose=verbose
    )
    if not result.success:
        _failed(console, what, result)
        return False
    console.print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {what}: run {result.run_id}: {due}")
    return True


def _failed(console: Console, what: str, result) -> int:
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    console.print(f"[red]{what} failed at {failed}; see the Dagster run {result.run_id}[/red]")
    return 1
