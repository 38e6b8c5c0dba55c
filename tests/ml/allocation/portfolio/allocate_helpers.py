"""Shared helpers of the `pmi allocate` tests: a simulated export, the simulator's true economics, a CLI runner.

The simulated export sums the simulator's hourly rows to days and values each day's conversions at the full
(180-day) value of the users they acquired (`truth.user_value.true_value` joined through `raw.users`), because
the hourly `revenue` column only holds revenue inside the install hour and would make every campaign look
unprofitable. The true curves are the simulator's Hill curves under a neutral market, valued at
`expected_value_per_user`, with the same costs the command uses.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
from functools import cache

import numpy as np
import pandas as pd

from ml.allocation.portfolio.problem import COSTS
from ml.cli import allocate as allocate_cli
from ml.cli.errors import EXIT_BAD_INPUT
from ml.io.errors import BadInputError
from ml.optimize import PortfolioProblem, optimize_portfolio
from ml.response_curves import ResponseCurves
from ml.simulation import SimulationConfig
from ml.simulation.backfill import day_context, simulate_backfill
from ml.simulation.delivery import demand_multiplier, price_multiplier
from ml.simulation.frames import SimulationFrames
from ml.simulation.market import market_daily
from ml.simulation.portfolio import draw_portfolio

END_DATE = dt.date(2026, 10, 1)


REVENUE_BASES = ("true_value", "observed")


@cache
def simulated(
    seed: int, n_campaigns: int = 8, days: int = 60, revenue: str = "true_value"
) -> tuple[pd.DataFrame, SimulationFrames]:
    """A daily campaign export from the simulator (see the module docstring) and the simulation's frames.

    ``revenue="observed"`` values each day's installs at the revenue they made up to the export's end (the released
    revenue events), as a user's own export would: the simulator's true user value is never seen.
    """
    if revenue not in REVENUE_BASES:
        raise ValueError(f"revenue: one of {REVENUE_BASES}, got {revenue!r}")
    frames = simulate_backfill(SimulationConfig(n_campaigns=n_campaigns, days=days, seed=seed, end_date=END_DATE))
    hourly = frames.raw["campaign_hourly"]
    daily = (
        hourly.assign(date=hourly["hour_ts"].dt.normalize())
        .groupby(["campaign_id", "date"])[["spend", "impressions", "clicks", "conversions"]]
        .sum()
    )
    if revenue == "observed":
        to_date = frames.raw["revenue_events"].groupby("user_seq")["revenue"].sum().rename("observed")
        users = frames.raw["users"].join(to_date, on="user_seq").fillna({"observed": 0.0})
        users = users.rename(columns={"observed": "true_value"})  # one column name below, whatever the basis
    else:
        users = frames.raw["users"].merge(frames.truth["user_value"], on="user_seq")
    value = users.assign(date=users["install_ts"].dt.normalize()).groupby(["campaign_id", "date"])["true_value"].sum()
    daily = daily.join(value.rename("revenue")).fillna({"revenue": 0.0}).reset_index()
    attributes = frames.raw["campaigns"][
        ["campaign_id", "network", "platform", "has_agency", "creative_production_cost"]
    ]
    export = daily.merge(attributes, on="campaign_id")
    export["date"] = export["date"].dt.strftime("%Y-%m-%d")
    return export, frames


def history_conditions(seed: int, n_campaigns: int = 8, days: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Mean demand and price multipliers each campaign met over the simulated history (neutral market = 1).

    The export carries no market feed, so a fit learns the curve under these average conditions: max
    conversions scaled by the demand, half-saturation spend by the price.
    """
    config = SimulationConfig(n_campaigns=n_campaigns, days=days, seed=seed, end_date=END_DATE)
    portfolio = draw_portfolio(config)
    market = market_daily(config.seed, config.start_date, config.end_date)
    context = day_context(config, portfolio, market, np.ones((n_campaigns, days)), np.arange(days))
    order = np.argsort(portfolio.truth["campaign_id"].to_numpy())
    return (
        demand_multiplier(portfolio.truth, context).mean(axis=1)[order],
        price_multiplier(config, context).mean(axis=1)[order],
    )


def true_problem(
    frames: SimulationFrames,
    current: np.ndarray,
    total_budget: float,
    max_change_pct: float = 0.25,
    conditions: tuple[np.ndarray, np.ndarray] | None = None,
) -> PortfolioProblem:
    """The allocation problem on the simulator's true curves and values (campaigns in id order).

    Without `conditions` the curves are the neutral-market truth; with (demand, price) multipliers they are
    the truth under those average conditions.
    """
    truth = frames.truth["campaign_truth"].sort_values("campaign_id")
    campaigns = frames.raw["campaigns"].set_index("campaign_id").loc[truth["campaign_id"]]
    demand, price = conditions if conditions is not None else (1.0, 1.0)
    return PortfolioProblem(
        total_budget=total_budget,
        current_budget=current,
        curves=ResponseCurves.hill(
            truth["max_daily_conversions"].to_numpy() * demand,
            truth["half_saturation_spend"].to_numpy() * price,
            truth["hill_shape"].to_numpy(),
        ),
        value_per_conversion=truth["expected_value_per_user"].to_numpy(),
        campaign_id=truth["campaign_id"].to_numpy(),
        has_agency=campaigns["has_agency"].to_numpy(bool),
        creative_production_cost=campaigns["creative_production_cost"].to_numpy(float),
        max_change_pct=max_change_pct,
        overhead_pct=COSTS.overhead_pct,
        agency_fee_pct=COSTS.agency_fee_pct,
        amortisation_days=COSTS.creative_amortisation_days,
    )


def true_profit(problem: PortfolioProblem, spend: np.ndarray) -> float:
    """Daily profit of a budget split on the true curves, with every cost the command counts."""
    revenue = problem.value_per_conversion * problem.curves.value(spend)
    cost = spend * problem.cost_multiplier + np.where(spend > 0, problem.fixed_daily_cost, 0.0)
    return float((revenue - cost).sum())


def best_true_spend(problem: PortfolioProblem) -> np.ndarray:
    """The optimal split if the true curves were known."""
    return optimize_portfolio(problem, "profit").daily_budget


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run `pmi allocate` as the console script would; returns exit code, stdout and stderr.

    Uses `ml.cli.main` once it registers the subcommand, else an equivalent parser around `ml.cli.allocate`.
    """
    from ml.cli import main as cli_main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        parser = cli_main.build_parser()
        if "allocate" in parser._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
            code = cli_main.main(["allocate", *argv])
        else:
            parser = argparse.ArgumentParser(prog="pmi")
            allocate_cli.add_parser(parser.add_subparsers(dest="command", required=True))
            args = parser.parse_args(["allocate", *argv])
            try:
                code = int(args.handler(args) or 0)
            except BadInputError as exc:
                print(f"pmi allocate: {exc}", file=err)
                code = EXIT_BAD_INPUT
    return code, out.getvalue(), err.getvalue()
