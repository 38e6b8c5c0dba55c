"""The closed loop: each policy observes, (re)fits, predicts, allocates and applies, day after day, on one world.

Policies run one after another over the same days of the same world (same market, same random numbers, same
total daily budget); greedy and pmi start from one shared fit of the history, so they differ only by what they do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.gate import violations
from ml.backtest.config import LIMITED_POLICIES, POLICIES, BacktestConfig
from ml.backtest.fitting import fit_model, history_panel
from ml.backtest.policies import FittedPolicy, FixedPolicy, OraclePolicy
from ml.backtest.values import value_per_conversion
from ml.backtest.world import World
from ml.models.response.panel import DEFAULT_COMPETITION_ELASTICITY

Progress = Callable[[str], None]  # called once per simulated policy-day with the policy's name


@dataclass(frozen=True)
class BacktestResult:
    """The daily series of every policy and what pmi's monitoring did."""

    config: BacktestConfig
    daily: pd.DataFrame  # seed, policy, day, date, budget, spend, conversions, revenue, cost, profit
    retrain_days: dict[str, list[int]]
    retrained_campaigns: dict[str, list[list[str]]]
    alerts: dict[str, int]
    total_budget: float
    limit_violations: dict[str, int]  # campaign-days outside the day's change limit, the bounds or the total
    drifted_campaigns: list[str]


def fitted_policies(world: World) -> Callable[..., FittedPolicy]:
    """A maker of fitted policies that all start from one shared fit of the history (so they differ only by what
    they do): ``make(name, full=..., components=...)``."""
    config = world.config
    raw = world.history.raw
    now = pd.Timestamp(config.end_of_history)
    ids = world.campaigns["campaign_id"].to_numpy()
    value = value_per_conversion(raw["users"], raw["revenue_events"], ids, now, config.value_min_age_days)
    panel = history_panel(raw["campaign_hourly"], raw["campaigns"], raw["market_daily"])
    never = np.full(len(ids), np.datetime64("1970-01-01", "ns"))
    model = fit_model(
        panel,
        world.campaigns,
        never,
        now,
        config.fit_window_days,
        config.posterior_draws,
        seed=config.seed * 1000,
        version=1,
    )

    def make(name: str, full: bool, components: frozenset[str] | None = None) -> FittedPolicy:
        return FittedPolicy(
            name=name,
            world=world,
            total=float(world.static_budgets().sum()),
            current=world.static_budgets(),
            panel=panel,
            value_per_conversion=value,
            model=model,
            full=full,
            components=components,
            elasticity=panel.attrs.get("competition_elasticity", DEFAULT_COMPETITION_ELASTICITY),
        )

    return make


def build_policies(world: World) -> tuple[list, float]:
    """The five policies in `POLICIES` order, and the shared total daily budget (the historical total)."""
    static = world.static_budgets()
    total = float(static.sum())
    fitted = fitted_policies(world)
    policies = {
        "static": FixedPolicy("static", static),
        "equal": FixedPolicy("equal", np.full(len(static), total / len(static))),
        "greedy": fitted("greedy", full=False),
        "pmi": fitted("pmi", full=True),
        "oracle": OraclePolicy(world, total, static),
    }
    return [policies[name] for name in POLICIES], total


def run_policy(world: World, policy, total: float, progress: Progress | None = None) -> tuple[list[dict], int]:
    """One policy over every loop day of the world: its daily rows and its campaign-days outside the day's limit."""
    config = world.config
    rows, broken = [], 0
    offset = np.zeros(config.n_campaigns, dtype=np.int64)
    start = world.static_budgets()  # the budgets in force before day 0
    for day in range(config.days):
        budgets = policy.budgets(day)
        if budgets.sum() > total * (1 + 1e-9) + 1e-6 or (budgets < 0).any():
            raise RuntimeError(
                f"policy {policy.name} set budgets summing to {budgets.sum():,.2f} on day {day}, "
                f"above the total {total:,.2f}"
            )
        broken += int(violations(start, budgets, total, config.rules()))  # against the day's start
        start = np.asarray(budgets, float)
        outcome = world.deliver(day, budgets, offset)
        offset = outcome.value_offset
        policy.observe(day, budgets, outcome)
        rows.append(
            {
                "seed": config.seed,
                "policy": policy.name,
                "day": day,
                "date": world.dates[day],
                "budget": float(budgets.sum()),
                "spend": float(outcome.spend.sum()),
                "conversions": int(outcome.conversions.sum()),
                "revenue": float(outcome.revenue.sum()),
                "cost": float(outcome.cost.sum()),
                "expected_revenue": float(world.expected_revenue(day, outcome.spend).sum()),
                "campaign_spend": outcome.spend,
            }
        )
        if progress is not None:
            progress(policy.name)
    return rows, broken


def run_backtest(config: BacktestConfig, progress: Progress | None = None) -> BacktestResult:
    """Run every policy over `config.days` days of one seed's world and return the daily series."""
    world = World(config)
    policies, total = build_policies(world)
    rows = []
    broken = {}
    for policy in policies:
        policy_rows, outside = run_policy(world, policy, total, progress)
        rows.extend(policy_rows)
        if policy.name in LIMITED_POLICIES:  # every applied budget inside the day's limit against the day's start
            broken[policy.name] = outside
    daily = pd.DataFrame(rows)
    daily["profit"] = daily["revenue"] - daily["cost"]
    fitted = [p for p in policies if isinstance(p, FittedPolicy)]
    return BacktestResult(
        config=config,
        daily=daily,
        total_budget=total,
        retrain_days={p.name: list(p.retrain_days) for p in fitted},
        retrained_campaigns={p.name: list(p.retrained_campaigns) for p in fitted},
        alerts={p.name: p.monitor.alert_count for p in fitted if p.monitor is not None},
        limit_violations=broken,
        drifted_campaigns=world.campaigns["campaign_id"].to_numpy()[world.drifted].tolist(),
    )
