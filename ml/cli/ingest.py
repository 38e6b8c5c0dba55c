"""`pmi ingest`: load a user's campaigns, performance, users, revenue events and market data into raw.*."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ml.ingest.load import STATUSES
from ml.ingest.run import ingest
from ml.io.errors import BadInputError
from ml.quality.plausibility import printable
from ml.settings import pmi_paths

FILE_ARG = {"type": Path, "metavar": "FILE"}
FILE_KINDS = ("campaigns", "hourly", "daily", "users", "revenue_events", "market")  # argparse dest per flag


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ingest",
        help="Load your own campaign data (CSV or Parquet) into the warehouse.",
        description="Check every file first (exit 2 with one line naming file, row and column on the first "
        "fault), then load everything in one transaction. Re-ingesting the same rows changes nothing; "
        "a corrected row replaces the old one and audit.ingest_changes records both.",
    )
    p.add_argument("--campaigns", **FILE_ARG, required=True, help="One row per campaign (raw.campaigns columns).")
    performance = p.add_mutually_exclusive_group()
    performance.add_argument("--hourly", **FILE_ARG, help="Hourly performance: campaign_id, hour_ts, spend, ...")
    performance.add_argument(
        "--daily",
        **FILE_ARG,
        help="Daily performance: campaign_id, date, spend, ... (each day becomes one row at 00:00 UTC).",
    )
    p.add_argument("--users", **FILE_ARG, help="Acquired users: user_id, campaign_id, install_ts, platform, geo.")
    p.add_argument("--revenue-events", **FILE_ARG, help="event_id, user_id, event_ts, revenue, event_type.")
    p.add_argument("--market", **FILE_ARG, help="Daily market indices per network x geo.")
    p.add_argument("--mapping", **FILE_ARG, help="YAML renaming your columns to the contract's, per file kind.")
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="Load the valid rows and keep every rejected row with its reason in "
        "quarantine.rejected_rows (default: all or nothing).",
    )
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.set_defaults(handler=run)


def _summary(console: Console, tables: dict[str, dict[str, int]]) -> None:
    """One line per raw table, so a user sees at once whether a re-ingest changed anything."""
    console.print(f"{'table':<18}" + "".join(f"{s:>13}" for s in STATUSES))
    for table, counts in tables.items():
        console.print(f"{table:<18}" + "".join(f"{counts[s]:>13,}" for s in STATUSES))


def run(args: argparse.Namespace) -> int:
    """Ingest, then print warnings (stderr) and rows inserted / replaced / unchanged / quarantined per table."""
    inputs = {kind: getattr(args, kind) for kind in FILE_KINDS if getattr(args, kind) is not None}
    paths = pmi_paths(args.home)
    console = Console()
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("ingest", total=len(inputs) + 1)

        def on_step(step: str) -> None:
            progress.console.print(step)
            progress.update(task, description=step[:60], advance=1)

        try:
            report = ingest(paths, inputs, args.mapping, args.allow_partial, on_step)
        except BadInputError as exc:  # a message quoting a user's bytes (a path, a header) stays one line
            raise BadInputError(printable(str(exc))) from exc
    for warning in report.warnings:
        print(f"pmi ingest: warning: {warning}", file=sys.stderr)
    _summary(console, report.tables)
    console.print(f"ingest run {report.run_id} committed to {paths.warehouse}")
    return 0
