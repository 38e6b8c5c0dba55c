"""`pmi run`: materialise the whole Dagster graph into PMI_HOME and print the portfolio summary."""

from __future__ import annotations

import argparse
import os
import time

from rich.console import Console
from rich.table import Table

from ml.cli.job_progress import execute_with_progress
from ml.reporting.portfolio_summary import latest_recommendations, portfolio_summary, portfolio_totals
from ml.settings import PmiPaths, pmi_paths


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="Run the whole pipeline on the simulator into PMI_HOME.",
                              description="Simulate history, build the warehouse (dbt) and print a summary. "
                                          "Runs through Dagster, so the run appears in `dagster dev`.")
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.add_argument("--campaigns", type=int, default=24, help="Number of simulated campaigns (default 24).")
    p.add_argument("--days", type=int, default=180, help="Days of hourly history to simulate (default 180).")
    p.add_argument("--seed", type=int, default=7, help="Simulator seed (default 7).")
    p.set_defaults(handler=run)


def dagster_instance(paths: PmiPaths):
    """A persistent Dagster instance under PMI_HOME so `dagster dev` shows the runs pmi made."""
    import dagster as dg

    dagster_home = paths.home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").touch(exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dg.DagsterInstance.get()


def pmi_job(name: str):
    """A job of the pmi code location, with the dbt manifest prepared first (never at import)."""
    from orchestration.warehouse.project import prepare_dbt_manifest

    prepare_dbt_manifest()
    from orchestration.definitions import defs

    return defs.resolve_job_def(name)


def home_run_config(paths: PmiPaths) -> dict:
    """Run config every pmi job shares: quiet console logs and the data directory."""
    return {"loggers": {"console": {"config": {"log_level": "WARNING"}}},
            "resources": {"pmi_home": {"config": {"home": str(paths.home)}}}}


def run_full_pipeline(paths: PmiPaths, campaigns: int, days: int, seed: int, end_date: str = "",
                      console: Console | None = None):
    """Materialise every asset of the `full_pipeline` job in this process; return the Dagster result."""
    job = pmi_job("full_pipeline")
    simulator = {"n_campaigns": campaigns, "days": days, "seed": seed, "end_date": end_date}
    run_config = {"ops": {"simulator_backfill": {"config": simulator}}} | home_run_config(paths)
    if console is None:
        return job.execute_in_process(run_config=run_config, instance=dagster_instance(paths), raise_on_error=False)
    return execute_with_progress(job, run_config, dagster_instance(paths), console, "full pipeline")


def print_summary(console: Console, paths: PmiPaths) -> None:
    summary = portfolio_summary(paths)
    table = Table(title="Portfolio by campaign (revenue = users' revenue to date)")
    for col in ("campaign", "network", "geo", "platform", "spend", "conversions", "revenue", "CPA", "ROAS"):
        table.add_column(col, justify="right" if col not in ("campaign", "network", "geo", "platform") else "left")
    for row in summary.itertuples():
        table.add_row(row.campaign_id, row.network, row.geo, row.platform, f"{row.spend:,.0f}",
                      f"{row.conversions:,}", f"{row.revenue:,.0f}", f"{row.cpa:,.2f}", f"{row.roas:.2f}")
    totals = portfolio_totals(summary)
    table.add_row("TOTAL", "", "", "", f"{totals['spend']:,.0f}", f"{totals['conversions']:,.0f}",
                  f"{totals['revenue']:,.0f}", f"{totals['cpa']:,.2f}", f"{totals['roas']:.2f}", style="bold")
    console.print(table)


def print_recommendations(console: Console, paths: PmiPaths) -> None:
    recs = latest_recommendations(paths)
    table = Table(title="Top recommendations of the applied allocation (daily budgets)")
    for col in ("campaign", "current", "recommended", "change", "action", "expected profit/day", "reason"):
        table.add_column(col, justify="left" if col in ("campaign", "action", "reason") else "right")
    for row in recs.itertuples():
        table.add_row(row.campaign_id, f"{row.current_budget:,.0f}", f"{row.recommended_budget:,.0f}",
                      f"{row.change_pct:+.0%}", row.action, f"{row.expected_profit:,.0f}", row.reason)
    console.print(table)


def run(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 120))
    paths = pmi_paths(args.home).ensure()
    started = time.monotonic()
    console.print(f"Running the full pipeline into {paths.home} (simulator: {args.campaigns} campaigns x "
                  f"{args.days} days, seed {args.seed})")
    result = run_full_pipeline(paths, args.campaigns, args.days, args.seed, console=console)
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        console.print(f"[red]pipeline failed at {failed}; see the Dagster run {result.run_id}[/red]")
        return 1
    print_summary(console, paths)
    print_recommendations(console, paths)
    console.print(f"Finished in {time.monotonic() - started:.0f}s. Warehouse: {paths.warehouse}")
    console.print(f"Dagster run {result.run_id}: `DAGSTER_HOME={paths.home / 'dagster'} dagster dev` shows it.")
    # The run succeeded, so its `executive_dashboard` asset rewrote the page.
    console.print(f"Executive dashboard: {paths.dashboard_page}  (`pmi dashboard --serve` serves it)")
    return 0
