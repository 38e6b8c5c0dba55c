"""`pmi status`: what the warehouse holds, what ran last and when, the champions, and today's budgets."""

from __future__ import annotations

import argparse
import datetime as dt

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ml.io.errors import BadInputError
from ml.models.ltv.portfolio_total import history_days_needed, interval_text
from ml.operations.freshness import IN_STEP, describe, warehouse_freshness
from ml.settings import pmi_paths
from ml.tracking.registry import champion_version
from ml.warehouse.budgets import budget_in_effect_sql
from ml.warehouse.connection import read_sql

MODELS = ("response_curves", "ltv", "cac", "pricing", "kpi_forecast")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "status",
        help="Show what was last run, when, the champion models and current budgets.",
        description="Read-only summary of the data directory.",
    )
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.set_defaults(handler=run)


def _optional(paths, sql: str):
    try:
        return read_sql(paths, sql)
    except Exception:  # noqa: BLE001 - a table that does not exist yet is simply not shown
        return None


def print_table(console: Console, title: str, columns: tuple[str, ...], rows) -> None:
    """One rich table of already formatted cells."""
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def print_recent_activity(console: Console, paths) -> None:
    """Last ingests, the latest accuracy evaluation, open alerts and the dashboard: what else ran, and when."""
    ingests = _optional(paths, "SELECT * FROM audit.ingest_runs ORDER BY started_at DESC LIMIT 3")
    if ingests is not None and len(ingests):
        print_table(
            console,
            "Last ingests (pmi ingest)",
            ("run_id", "started_at", "inserted", "replaced", "unchanged", "quarantined"),
            (
                (
                    r.run_id,
                    str(r.started_at),
                    f"{r.rows_inserted:,}",
                    f"{r.rows_replaced:,}",
                    f"{r.rows_unchanged:,}",
                    f"{r.rows_quarantined:,}",
                )
                for r in ingests.itertuples()
            ),
        )
    accuracy = _optional(
        paths,
        """SELECT evaluation_id, evaluated_through, metric, mape FROM monitoring.model_accuracy
                                   QUALIFY evaluated_at = max(evaluated_at) OVER () ORDER BY metric""",
    )
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


def print_customer_value(console: Console, paths) -> None:
    """The d90 value of every user acquired so far, with its back-tested interval (predictions.portfolio_ltv)."""
    value = _optional(paths, "SELECT * FROM predictions.portfolio_ltv")
    if value is None or not len(value):
        return
    v = value.iloc[0]
    interval = interval_text(v.total_ltv_d90_p05, v.total_ltv_d90_p95)
    if interval is None:
        interval = f"no interval yet: the back-test needs about {history_days_needed()} days of installs"
    else:
        interval += f", the development back-tested at {v.n_backtest_origins} earlier origins"
    console.print(
        f"Customer value of the {v.n_users:,} users acquired so far (d90): {v.total_ltv_d90:,.0f} "
        f"({interval}; {v.settled_ltv_d90 / v.total_ltv_d90:.0%} already paid by users past day 90)",
        highlight=False,
        soft_wrap=True,
    )


def print_freshness(console: Console, paths) -> None:
    """Whether the marts reconcile with raw; a warehouse older than raw or mixed (a killed dbt build) says so."""
    try:
        freshness = warehouse_freshness(paths)
    except Exception:  # noqa: BLE001 - no raw tables yet: nothing to compare
        return
    line = describe(freshness)
    console.print(
        escape(line) if freshness.state == IN_STEP else f"[bold red]{escape(line)}[/bold red]",
        highlight=False,
        soft_wrap=True,
    )


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
    print_freshness(console, paths)
    runs = _optional(paths, "SELECT * FROM audit.allocation_runs ORDER BY applied_at DESC LIMIT 5")
    if runs is not None and len(runs):
        print_table(
            console,
            "Last allocation runs",
            ("run_id", "applied_at", "effective_ts", "triggered_by", "total_before", "total_after"),
            (
                (
                    r.run_id,
                    str(r.applied_at),
                    str(r.effective_ts),
                    r.triggered_by,
                    f"{r.total_before:,.2f}",
                    f"{r.total_after:,.2f}",
                )
                for r in runs.itertuples()
            ),
        )
    print_recent_activity(console, paths)
    console.print("Champion models: " + ", ".join(f"{m} v{champion_version(paths, m) or '-'}" for m in MODELS))
    print_customer_value(console, paths)
    budgets = _optional(paths, budget_in_effect_sql() + " ORDER BY campaign_id")
    if budgets is not None:
        print_table(
            console,
            f"Current daily budgets (total {budgets['daily_budget'].sum():,.2f})",
            ("campaign", "daily budget", "effective from", "source"),
            ((r.campaign_id, f"{r.daily_budget:,.2f}", str(r.effective_ts), r.source) for r in budgets.itertuples()),
        )
    return 0
