"""`pmi simulate`: write a simulated history (backfill) or advance the live simulation hour by hour."""

from __future__ import annotations

import argparse
import datetime as dt

from rich.console import Console
from rich.progress import track

from ml.ingest.source import SIMULATOR, holds_simulation, resolve_source
from ml.io.errors import BadInputError
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill
from ml.simulation.live import step_one_hour

USERS_PER_CAMPAIGN_HELP = (
    "Expected users per campaign over the history (default: the natural volume, about 17k per "
    "campaign over 180 days); scales budgets and conversions, keeps CPA, CPM and user value."
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="Simulate campaign history, or advance the live simulation.",
        description="Backfill N days of hourly history into raw.* (replacing it), or with "
        "--live-hours advance the existing simulation using raw.budgets.",
    )
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.add_argument("--campaigns", type=int, default=24, help="Number of campaigns (default 24).")
    p.add_argument("--days", type=int, default=180, help="Days of history (default 180).")
    p.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
    p.add_argument("--users-per-campaign", type=int, default=None, help=USERS_PER_CAMPAIGN_HELP)
    p.add_argument("--end-date", help="History ends at 00:00 UTC of this ISO date (default today).")
    p.add_argument(
        "--live-hours",
        type=int,
        default=0,
        help="Instead of a backfill, advance the existing simulation this many hours.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    console = Console()
    paths = pmi_paths(args.home).ensure()
    if args.live_hours > 0:
        if not holds_simulation(paths):
            raise BadInputError(
                f"{paths.warehouse}: holds no simulation to advance (ingested data get new hours "
                "through `pmi ingest`); run `pmi simulate` first"
            )
        for _ in track(range(args.live_hours), description="Advancing the simulation", console=console):
            step = step_one_hour(paths)
        console.print(
            f"Simulated up to {step['hour_ts']} (last hour: spend {step['spend']:,.2f}, "
            f"{step['conversions']} conversions)."
        )
        return 0
    resolve_source(paths, SIMULATOR)  # a backfill replaces raw: never over data a user ingested
    if args.users_per_campaign is not None and args.users_per_campaign < 1:
        raise BadInputError(f"--users-per-campaign {args.users_per_campaign}: must be at least 1")
    try:
        fields = {
            "n_campaigns": args.campaigns,
            "days": args.days,
            "seed": args.seed,
            "users_per_campaign": args.users_per_campaign,
        }
        if args.end_date:
            fields["end_date"] = dt.date.fromisoformat(args.end_date)
        config = SimulationConfig(**fields)
    except ValueError as exc:
        raise BadInputError(f"simulate options: {exc}".splitlines()[0]) from exc
    with console.status("Simulating ..."):
        counts = run_backfill(config, paths)
    for table, rows in counts.items():
        console.print(f"{table:<22} {rows:>12,} rows")
    console.print(f"Warehouse: {paths.warehouse}")
    return 0
