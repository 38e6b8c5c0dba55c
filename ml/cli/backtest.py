"""`pmi backtest`: run pmi and the baseline policies in a closed loop on the simulator and compare their profit."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ml.backtest.config import DRIFTS, POLICIES, BacktestConfig
from ml.backtest.loop import run_backtest
from ml.backtest.report import format_table, summary_table, write_outputs
from ml.io.errors import BadInputError
from ml.settings import pmi_paths


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="Closed-loop backtest of pmi against baseline policies.",
        description="Simulate N days with each policy in the loop (static, equal, greedy, "
        "pmi, oracle) over the same market and seeds; print a table and write "
        "daily.csv, summary.csv and cumulative_profit.png.",
    )
    p.add_argument("--days", type=int, default=30, help="Simulated days in the loop (default 30).")
    p.add_argument("--campaigns", type=int, default=24, help="Number of campaigns (default 24).")
    p.add_argument("--seed", type=int, default=0, help="First seed (default 0).")
    p.add_argument("--seeds", type=int, default=1, help="Number of consecutive seeds to average (default 1).")
    p.add_argument(
        "--drift",
        choices=DRIFTS,
        default="audience_saturation",
        help="Drift event mid-run (default audience_saturation).",
    )
    p.add_argument("--out", help="Output directory (default $PMI_HOME/backtest).")
    p.add_argument("--home", help="Data directory (default: $PMI_HOME or ./data).")
    p.set_defaults(handler=run)


def _configs(args: argparse.Namespace) -> list[BacktestConfig]:
    if args.seeds < 1:
        raise BadInputError(f"--seeds: must be >= 1, got {args.seeds}")
    try:
        return [
            BacktestConfig(days=args.days, n_campaigns=args.campaigns, seed=args.seed + i, drift=args.drift)
            for i in range(args.seeds)
        ]
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:  # checks across options name their option first ("days: ...")
            raise BadInputError(f"--{message}") from exc
        option = {"n_campaigns": "campaigns"}.get(str(error["loc"][0]), str(error["loc"][0]))
        raise BadInputError(f"--{option}: {message}") from exc


def run(args: argparse.Namespace) -> int:
    configs = _configs(args)
    out = Path(args.out) if args.out else pmi_paths(args.home).home / "backtest"
    console = Console()
    steps = len(configs) * len(POLICIES) * configs[0].days
    results = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("Backtest", total=steps)
        for config in configs:

            def advance(policy: str, seed: int = config.seed) -> None:
                progress.update(task, advance=1, description=f"seed {seed}: {policy}")

            results.append(run_backtest(config, advance))
    table = summary_table(results)
    console.print(format_table(table, len(results)), highlight=False, soft_wrap=True)
    drifted = ", ".join(sorted({c for r in results for c in r.drifted_campaigns})) or "none"
    console.print(f"Drift '{configs[0].drift}' from day {configs[0].drift_day} hit: {drifted}", highlight=False)
    paths = write_outputs(results, out)
    console.print(f"Wrote {paths['daily']}, {paths['summary']} and {paths['plot']}", highlight=False)
    return 0
