"""`pmi train`: retrain every model on the warehouse in PMI_HOME (the Dagster `retrain` job) and show who won."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from ml.cli.job_progress import execute_with_progress
from ml.cli.pipeline import dagster_instance, home_run_config, pmi_job
from ml.io.errors import BadInputError
from ml.settings import pmi_paths


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="Retrain every model on the current warehouse (the `retrain` job).",
        description="Retrain the response curves, CAC, pricing, KPI forecaster and LTV "
        "ensemble on the warehouse in the data directory. Each new version is "
        "registered in MLflow and becomes champion only if it beats the "
        "current champion on the same validation data.",
    )
    p.add_argument("--home", help="Data directory holding the warehouse (default: $PMI_HOME or ./data).")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="Show dbt's and the libraries' output live instead of writing it to PMI_HOME/logs.",
    )
    p.set_defaults(handler=run)


def training_table(result) -> Table:
    """One row per model trained: registered version, promotion and validation scores."""
    table = Table(title="Models trained (lower validation score is better)")
    for col in ("model", "version", "champion?", "validation score", "why"):
        table.add_column(col, justify="right" if col in ("version", "validation score") else "left")
    for event in result.get_asset_materialization_events():
        meta = {k: v.value for k, v in event.materialization.metadata.items()}
        if "registered_version" not in meta:
            continue
        table.add_row(
            event.asset_key.to_user_string(),
            str(meta["registered_version"]),
            "promoted" if meta["promoted_to_champion"] else "kept old champion",
            f"{meta['validation_score']:.4g}",
            str(meta.get("promotion_reason", "")),
        )
    return table


def run(args: argparse.Namespace) -> int:
    console = Console(width=max(Console().width, 120))
    paths = pmi_paths(args.home)
    if not paths.warehouse.exists():
        raise BadInputError(f"{paths.warehouse}: no warehouse to train on; run `pmi run` or `pmi ingest` first")
    result = execute_with_progress(
        pmi_job("retrain", paths),
        home_run_config(paths),
        dagster_instance(paths),
        console,
        "retrain",
        verbose=args.verbose,
    )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        console.print(f"[red]retrain failed at {failed}; see the Dagster run {result.run_id}[/red]")
        return 1
    console.print(training_table(result))
    return 0
