"""`pmi allocate`: recommended daily budgets per campaign from a campaign export (docs/contract.md §2).

Options are parsed as text and checked here rather than by argparse, so every bad value is one line on stderr
with exit code 2; nothing is written unless the whole run succeeds (temp file + atomic rename).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from ml.cli.steps import step
from ml.io.errors import BadInputError
from ml.io.tables import TABLE_SUFFIXES
from ml.operations.output_safety import check_output_path
from ml.optimize.problem import (
    DEFAULT_AGENCY_FEE_PCT,
    DEFAULT_AMORTISATION_DAYS,
    DEFAULT_MAX_CHANGE_PCT,
    DEFAULT_OVERHEAD_PCT,
)
from ml.settings import DEFAULT_HOME, PmiPaths

OBJECTIVES = ("profit", "revenue", "conversions")
EXPLORATIONS = ("none", "thompson")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `allocate`; every option is documented in --help because users run it outside the pipeline."""
    p = subparsers.add_parser(
        "allocate",
        help="Recommend daily budgets per campaign from a campaign export.",
        description="Fit a response curve per campaign on its daily history, then split the total daily budget "
        "to maximise the objective under change limits and constraints. Writes one row per campaign: "
        "campaign_id, current_budget, recommended_budget, change_pct, expected_conversions, "
        "expected_revenue, expected_profit, expected_roas, marginal_roas, profit_p10, profit_p90, "
        "saturation_level, action (scale_up/hold/reduce/pause), reason. Money is per day. Campaigns "
        "with fewer than 5 days of spend keep their current budget; a total budget below what locks, "
        "min budgets and change limits require is refused (exit 2).",
    )
    p.add_argument(
        "--history",
        required=True,
        metavar="FILE",
        help="CSV or Parquet, one row per campaign per day or hour (hours are summed to days): date "
        "(ISO date or timestamp), campaign_id, spend, impressions, clicks, conversions, revenue. "
        "Value per conversion = revenue / conversions. Other columns constant per campaign are "
        "kept as attributes (has_agency, creative_production_cost feed the costs; network and "
        "platform pool the curve fits).",
    )
    p.add_argument(
        "--total-budget",
        required=True,
        metavar="AMOUNT",
        help="Total daily budget; the recommended budgets never add up to more.",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="Output file, CSV (or Parquet by extension); never one of the inputs, a directory or pmi's "
        "state in PMI_HOME.",
    )
    p.add_argument(
        "--current",
        metavar="FILE",
        help="campaign_id, daily_budget. Default (and for campaigns it omits): each campaign's mean "
        "daily spend over the last 7 days of history.",
    )
    p.add_argument(
        "--constraints",
        metavar="FILE",
        help="campaign_id and any of min_budget, max_budget, max_change_pct, min_roas, max_cpa, locked, "
        "has_agency, creative_production_cost; an empty cell means no constraint.",
    )
    p.add_argument(
        "--objective",
        default="profit",
        metavar="|".join(OBJECTIVES),
        help="What to maximise (default profit: money is left unspent only where every further dollar "
        "is predicted to lose money; revenue and conversions spend all the bounds allow).",
    )
    p.add_argument(
        "--max-change-pct",
        default=str(DEFAULT_MAX_CHANGE_PCT),
        metavar="FRACTION",
        help="Largest move of a campaign's budget in one run, as a fraction of its current budget "
        f"(default {DEFAULT_MAX_CHANGE_PCT:g}; 'inf' for none; a per-campaign max_change_pct constraint wins). "
        "If min/max budgets conflict with it, the change limit wins and the reason says so.",
    )
    p.add_argument(
        "--overhead-pct",
        default=str(DEFAULT_OVERHEAD_PCT),
        metavar="FRACTION",
        help=f"Overhead per media dollar (default {DEFAULT_OVERHEAD_PCT:g} = attribution, infrastructure and "
        f"team); a {DEFAULT_AGENCY_FEE_PCT * 100:g}%% agency fee applies where has_agency and creative_production_cost "
        f"is amortised over {DEFAULT_AMORTISATION_DAYS:g} days.",
    )
    p.add_argument(
        "--exploration",
        default="none",
        metavar="|".join(EXPLORATIONS),
        help="thompson: draw every curve from its posterior, solve on the draw and move the proposal "
        "toward that solution, by at most 5%% of the total budget (default none).",
    )
    p.add_argument("--seed", default="0", metavar="N", help="Random seed (default 0); output is deterministic for it.")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate options, read inputs, allocate and write atomically; `BadInputError` becomes exit code 2 upstream."""
    from ml.allocation.portfolio import (
        EXACT_COLUMNS,
        RunOptions,
        allocate,
        read_constraints,
        read_current,
        read_history,
    )
    from ml.io.atomic import write_table_atomically

    options = RunOptions(
        total_budget=_amount("--total-budget", args.total_budget),
        objective=_choice("--objective", args.objective, OBJECTIVES),
        max_change_pct=_amount("--max-change-pct", args.max_change_pct, allow_inf=True),
        overhead_pct=_amount("--overhead-pct", args.overhead_pct),
        exploration=_choice("--exploration", args.exploration, EXPLORATIONS),
        seed=_seed(args.seed),
    )
    out = _check_out(args.out, [Path(f) for f in (args.history, args.current, args.constraints) if f])
    with step(f"Reading {args.history}"):
        history = read_history(Path(args.history))
        current = read_current(Path(args.current), history) if args.current else None
        constraints = read_constraints(Path(args.constraints), history) if args.constraints else None
    with step(f"Fitting response curves and optimising {len(history.campaign_ids)} campaigns"):
        result = allocate(history, options, current, constraints)
    write_table_atomically(result.table, out, exact_columns=EXACT_COLUMNS)

    table = result.table
    counts = table["action"].value_counts()
    print(
        f"allocate: {len(table)} campaigns, objective {options.objective}: recommended "
        f"{table['recommended_budget'].sum():,.2f} of {options.total_budget:,.2f}/day (current "
        f"{table['current_budget'].sum():,.2f}); expected profit {table['expected_profit'].sum():,.2f}/day; "
        + ", ".join(f"{counts.get(a, 0)} {a}" for a in ("scale_up", "hold", "reduce", "pause"))
        + f" -> {out}"
    )
    if result.exploration is not None:
        print(f"exploration: thompson moved {result.exploration.moved:,.2f}/day (cap 5% of the total budget)")
    return 0


def _amount(option: str, value: str, allow_inf: bool = False) -> float:
    """A non-negative number (inf only where it means 'no limit')."""
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not (number >= 0 and (allow_inf or math.isfinite(number))):
        raise BadInputError(f"{option}: expected a non-negative number, got {value!r}")
    return number


def _choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    """One of a few words (checked here so a typo is one line, not an argparse usage block)."""
    if str(value).strip().lower() not in choices:
        raise BadInputError(f"{option}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value).strip().lower()


def _seed(value: str) -> int:
    """A non-negative integer seed, which makes curves' draws and exploration reproducible."""
    try:
        seed = int(str(value).strip())
    except ValueError:
        seed = -1
    if seed < 0:
        raise BadInputError(f"--seed: expected a non-negative whole number, got {value!r}")
    return seed


def _check_out(value: str, inputs: list[Path]) -> Path:
    """Fail before any fitting if the output could not be written, or would overwrite an input or pmi's state."""
    out = check_output_path(
        value,
        "--out",
        suffixes=TABLE_SUFFIXES,
        inputs=inputs,
        state=[PmiPaths(home=Path(os.environ.get("PMI_HOME") or DEFAULT_HOME).resolve())],
    )
    if not out.parent.is_dir():
        raise BadInputError(f"--out: {value}: directory {out.parent} does not exist")
    return Path(value)
