"""`pmi status`: what the warehouse holds, what ran last and when, the champions, and today's budgets."""

from __future__ import annotations

import argparse
import datetime as dt

from rich.console import Console
from rich.table import Table

from ml.cli.errors import BadInputError
from ml.settings import pmi_paths
from ml.tracking.registry import champion_version
from ml.warehouse.budgets import budget_in_effect_sql
from ml.warehouse.connection import read_sql

MODELS = ("response_curves", "ltv", "cac", "pricing", "kpi_forecast")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("status", help="Show what was last run, when, the champion models and current budgets.",
                              description="Read-only summary of the data directory.")
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.set_defaults(handler=run)


def _optional(paths, sql: str):
    try:
        return read_sql(paths, sql)
    except Exception:  # noqa: BLE001 - a table that does not exist yet is simply not shown
        return None


def print_recent_activity(console: Console, paths) -> None:
    """Last ingests, the latest accuracy evaluation, open alerts and the dashboard: what else ran, and when."""
    ingests = _optional(paths, "SELECT * FROM audit.ingest_runs ORDER BY started_at DESC LIMIT 3")
    if ingests is not None and len(ingests):
        table = Table(title="Last ingests (pmi ingest)")
        for col in ("run_id", "started_at", "inserted", "replaced", "unchanged", "quarantined"):
            table.add_column(col)
        for row in ingests.itertuples():
            table.add_row(row.run_id, str(row.started_at), f"{row.rows_inserted:,}", f"{row.rows_replaced:,}",
                          f"{row.rows_unchanged:,}", f"{row.rows_quarantined:,}")
        console.print(table)
    accuracy = _optional(paths, """SELECT evaluation_id, evaluated_through, metric, mape FROM monitoring.model_accuracy
                                   QUALIFY evaluated_at = max(evaluated_at) OVER () ORDER BY metric""")
    if accuracy is not None and len(accuracy):
        mapes = ", ".join(f"{r.metric} {r.mape:.1%}" for r in accuracy.itertuples() if r.mape == r.mape)
        console.print(f"Latest accuracy evaluation ({accuracy['evaluated_through'].iloc[0]}): MAPE {mapes}")
    alerts = _optional(paths, "SELECT severity, count(*) AS n FROM monitoring.alerts GROUP BY ALL ORDER BY severity")
    if alerts is not None and len(alerts):
        console.print("Alerts raised so far: " + ", ".join(f"{r.n} {r.severity}" for r in alerts.itertuples()))
    page = paths.dashboard_page
    if page.exists():
        built = dt.datetime.fromtimestamp(page.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        console.print(f"Executive dashboard: {page} (built {built}; `pmi dashboard --serve` serves it)")


def run(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 120))
    paths = pmi_paths(args.home)
    if not paths.warehouse.exists():
        raise BadInputError(f"{paths.warehouse}: no warehouse yet; run `pmi run` (or `make run`) first")
    as_of = _optional(paths, "SELECT max(as_of_ts) AS as_of FROM intermediate.int_warehouse_as_of")
    clock = _optional(paths, "SELECT next_hour_ts FROM sim.state")
    console.print(f"Warehouse: {paths.warehouse}")
    if as_of is not None:
        console.print(f"Data as of: {as_of['as_of'].iloc[0]}")
    if clock is not None:
        console.print(f"Simulator clock (next hour to simulate): {clock['next_hour_ts'].iloc[0]}")
    runs = _optional(paths, "SELECT * FROM audit.allocation_runs ORDER BY applied_at DESC LIMIT 5")
    if runs is not None and len(runs):
        table = Table(title="Last allocation runs")
        for col in ("run_id", "applied_at", "effective_ts", "triggered_by", "total_before", "total_after"):
            table.add_column(col)
        for row in runs.itertuples():
            table.add_row(row.run_id, str(row.applied_at), str(row.effective_ts), row.triggered_by,
                          f"{row.total_before:,.2f}", f"{row.total_after:,.2f}")
        console.print(table)
    print_recent_activity(console, paths)
    console.print("Champion models: " + ", ".join(f"{m} v{champion_version(paths, m) or '-'}" for m in MODELS))
    budgets = _optional(paths, budget_in_effect_sql() + " ORDER BY campaign_id")
    if budgets is not None:
        table = Table(title=f"Current daily budgets (total {budgets['daily_budget'].sum():,.2f})")
        for col in ("campaign", "daily budget", "effective from", "source"):
            table.add_column(col)
        for row in budgets.itertuples():
            table.add_row(row.campaign_id, f"{row.daily_budget:,.2f}", str(row.effective_ts), row.source)
        console.print(table)
    return 0
