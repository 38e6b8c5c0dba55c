"""`pmi mmm`: a media-mix model from channel-level data (total outcome per period, spend per channel) and an
allocation per channel through the same optimiser as `pmi allocate`.

Inputs are validated before any fitting (exit 2, one line naming file, row and column); the allocation is written
atomically, so a failed run leaves no file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ml.cli.allocate import _amount, _choice, _seed
from ml.io.atomic import write_table_atomically
from ml.io.errors import BadInputError
from ml.io.tables import TABLE_SUFFIXES, check_readable
from ml.models.mmm.config import ADSTOCKS
from ml.operations.output_safety import check_output_path
from ml.settings import DEFAULT_HOME, PmiPaths

OBJECTIVES = ("revenue", "profit")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `mmm`; every option is in --help because users run it on their own files."""
    p = subparsers.add_parser(
        "mmm",
        help="Media-mix model from weekly/daily channel spend and total outcome, and a budget per channel.",
        description="Fit outcome = baseline (trend, yearly Fourier terms, controls) + sum over channels of "
        "Hill(geometric or Weibull adstock(spend)) with bootstrap intervals, optionally calibrated by lift tests, "
        "print each channel's contribution and ROAS, and write an allocation of the total per period "
        "across channels (steady-state curves, the optimiser of `pmi allocate`).",
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="CSV or Parquet, one row per period: first column the period's date, the outcome column, "
        "spend columns named by --spend-prefix; every other column except impressions (mdip_*) and "
        "calendar numbers is a control (the layout of the retail file weekly_sales_media.csv).",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="Allocation per channel (CSV or Parquet): channel, current_budget, recommended, change_pct, "
        "expected_outcome, outcome_lower, outcome_upper (90%% interval), revenue, cost, profit, "
        "marginal_roas, reason.",
    )
    p.add_argument(
        "--lift-tests",
        metavar="FILE",
        help="channel, start, end, lift, lift_se: measured incremental outcome of a channel over a "
        "period and its standard error; each enters the fit as an observation of that channel's "
        "contribution.",
    )
    p.add_argument("--outcome", default="sales", help="Outcome column (default sales).")
    p.add_argument("--spend-prefix", default="mdsp_", help="Prefix of the spend columns (default mdsp_).")
    p.add_argument(
        "--total-budget",
        metavar="AMOUNT",
        help="Total spend per period to allocate (default: the current total, mean of the last 4 periods).",
    )
    p.add_argument(
        "--max-change-pct",
        default="0.25",
        metavar="FRACTION",
        help="Largest move of a channel's spend in one run as a fraction of its current spend "
        "(default 0.25; 'inf' for none).",
    )
    p.add_argument(
        "--objective",
        default="revenue",
        metavar="|".join(OBJECTIVES),
        help="revenue (default: the outcome is sales, spend all the bounds allow) or profit (outcome "
        "valued at 1 per unit minus spend and 5%% overhead).",
    )
    p.add_argument(
        "--adstock",
        default="geometric",
        metavar="|".join(ADSTOCKS),
        help="Carry-over form: geometric (default; one decay per channel) or weibull (a lag shape and scale per "
        "channel over 12 periods, for effects that peak late).",
    )
    p.add_argument("--bootstrap", default="100", metavar="N", help="Bootstrap refits for intervals (default 100).")
    p.add_argument("--seed", default="0", metavar="N", help="Bootstrap seed (default 0); output is deterministic.")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check options and files, fit, allocate, write; `BadInputError` becomes exit code 2 upstream."""
    from ml.models.mmm import MmmConfig, allocate_channels, fit_mmm, read_lift_tests, read_weekly_media

    total = None if args.total_budget is None else _amount("--total-budget", args.total_budget)
    max_change = _amount("--max-change-pct", args.max_change_pct, allow_inf=True)
    objective = _choice("--objective", args.objective, OBJECTIVES)
    adstock = _choice("--adstock", args.adstock, ADSTOCKS)
    config = MmmConfig(n_bootstrap=_count("--bootstrap", args.bootstrap), seed=_seed(args.seed), adstock=adstock)
    inputs = [Path(f) for f in (args.data, args.lift_tests) if f]
    out = check_output_path(
        args.out,
        "--out",
        suffixes=TABLE_SUFFIXES,
        inputs=inputs,
        state=[PmiPaths(home=Path(os.environ.get("PMI_HOME") or DEFAULT_HOME).resolve())],
    )
    for path in inputs:
        check_readable(path)
    # MmmInputError is a BadInputError: the CLI maps it to exit 2 and one line like any other bad input
    data = read_weekly_media(Path(args.data), outcome=args.outcome, spend_prefix=args.spend_prefix)
    lift = read_lift_tests(Path(args.lift_tests), data) if args.lift_tests else None
    result = fit_mmm(data, config, lift)
    plan = allocate_channels(result, total, max_change_pct=max_change, objective=objective).to_frame()
    write_table_atomically(plan.drop(columns=["reason_code", "paused"]), out, exact_columns=("recommended",))
    diagnostics = result.diagnostics()
    print(
        f"mmm: {len(data)} periods, {len(data.channels)} channels, {config.adstock} adstock, {len(lift or [])} lift "
        f"tests; R² "
        f"{diagnostics['r2']:.3f}, NRMSE {diagnostics['nrmse']:.4f}, media {diagnostics['media_share']:.1%} of the "
        f"outcome"
    )
    for row in result.contributions().itertuples():
        print(
            f"  {row.channel}: contribution {row.share:.1%} of the outcome, ROAS {row.roas:.2f} "
            f"({row.roas_lower:.2f}-{row.roas_upper:.2f})"
        )
    print(f"mmm: allocated {plan['recommended'].sum():,.2f} per period across {len(plan)} channels -> {args.out}")
    return 0


def _count(option: str, value: str) -> int:
    """A non-negative whole number (checked here so a typo is one line with exit 2)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0:
        raise BadInputError(f"{option}: expected a non-negative whole number, got {value!r}")
    return number
