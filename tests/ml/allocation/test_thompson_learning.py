"""Thompson sampling on the simulator: exploration follows uncertainty, and fades as the data grows.

Two simulated campaigns: one known (120 days of history with the team's budget changes) and one whose curve is
fitted on its last few days only (a new campaign). The allocation engine's Thompson step (`propose`) is run over
many seeds; its moves away from the exploit solution are the exploration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.allocation.config import AllocationConfig
from ml.allocation.engine import propose
from ml.allocation.inputs import AllocationInputs
from ml.backtest.config import BacktestConfig
from ml.backtest.fitting import fit_model, history_panel, market_covariates
from ml.backtest.world import World

KNOWN, NEW = 0, 1
THOMPSON_SEEDS = range(40)
WORLD_SEEDS = (1, 3, 5, 8, 11)
DATA_DAYS = (7, 30, 120)
# Spend the whole budget (revenue objective) with no per-run change limit, so neither a pause of an unprofitable
# campaign nor the safety net pins the budgets and hides how far a posterior draw would move them.
# The exploration-cost budget is switched off here to see Thompson's own moves; its test is the last one.
ENGINE = {"objective": "revenue", "max_change_pct": float("inf"), "exploration_cost_share": None}


def world_for(seed: int) -> World:
    return World(BacktestConfig(n_campaigns=2, days=2, seed=seed, drift="none"))


def inputs_with_new_campaign_days(world: World, new_days: int) -> AllocationInputs:
    """The engine's inputs when the second campaign's curve is fitted on only its last ``new_days`` days."""
    raw = world.history.raw
    panel = history_panel(raw["campaign_hourly"], raw["campaigns"], raw["market_daily"])
    today = world.dates[0]
    data_start = np.array([today - pd.Timedelta(days=120), today - pd.Timedelta(days=new_days)], dtype="datetime64[ns]")
    model = fit_model(panel, world.campaigns, data_start, today, window_days=120, n_draws=200, seed=1, version=1)
    assert model.fitted.all()
    covariates = market_covariates(world.campaigns, world.observed_market(0), today.dayofweek)
    c = world.campaigns
    return AllocationInputs(
        campaigns=pd.DataFrame(
            {
                "campaign_id": c["campaign_id"],
                "has_agency": c["has_agency"].astype(bool),
                "creative_production_cost": c["creative_production_cost"].astype(float),
                "current_budget": world.static_budgets(),
                "price_index": covariates["price_index"].to_numpy(),
            }
        ),
        curves=model.curves,
        value_per_conversion=world.truth["expected_value_per_user"].to_numpy(float),
        model_versions={},
        as_of=today,
    )


def exploit_budget(inputs: AllocationInputs) -> np.ndarray:
    return propose(inputs, AllocationConfig(exploration_share=0.0, **ENGINE)).proposed_budget


def exploration_moves(inputs: AllocationInputs, share: float = 1.0) -> np.ndarray:
    """Per Thompson seed and campaign: the proposal minus the exploit solution (share 1 = pure Thompson)."""
    exploit = exploit_budget(inputs)
    return np.array(
        [
            propose(inputs, AllocationConfig(exploration_share=share, seed=s, **ENGINE)).proposed_budget - exploit
            for s in THOMPSON_SEEDS
        ]
    )


def posterior_spread(inputs: AllocationInputs, spend_multiple: float = 2.0) -> np.ndarray:
    """Relative spread (p90/p10 - 1) over the draws of each campaign's conversions at a multiple of today's budget:
    what the data cannot tell yet is how the curve bends away from the spend it was observed at."""
    spend = spend_multiple * inputs.campaigns["current_budget"].to_numpy(float)
    values = np.array([inputs.nominal_curves(d).value(spend) for d in range(inputs.curves.n_draws)])
    p10, p90 = np.quantile(values, [0.1, 0.9], axis=0)
    return p90 / p10 - 1.0


@pytest.fixture(scope="module")
def learning() -> dict[str, np.ndarray]:
    """Posterior spread and mean |exploration move| (share of the total budget): world seed x data days x campaign."""
    spread = np.empty((len(WORLD_SEEDS), len(DATA_DAYS), 2))
    moves = np.empty_like(spread)
    for i, seed in enumerate(WORLD_SEEDS):
        world = world_for(seed)
        for j, days in enumerate(DATA_DAYS):
            inputs = inputs_with_new_campaign_days(world, days)
            spread[i, j] = posterior_spread(inputs)
            moves[i, j] = np.abs(exploration_moves(inputs)).mean(axis=0) / world.static_budgets().sum()
    return {"spread": spread, "moves": moves}


def test_the_new_campaign_is_the_uncertain_one_until_its_data_grows(learning):
    spread = learning["spread"]
    assert (spread[:, 0, NEW] > 1.5 * spread[:, 0, KNOWN]).all()  # every world: the 7-day campaign is uncertain
    mean_new = spread[:, :, NEW].mean(axis=0)
    assert mean_new[0] > mean_new[1] > mean_new[2]
    assert mean_new[0] > 2 * mean_new[2]


def test_exploration_moves_most_while_uncertain_and_fades_as_data_grows(learning):
    mean_moves = learning["moves"][:, :, NEW].mean(axis=0)
    assert mean_moves[0] > mean_moves[1] > mean_moves[2]
    assert mean_moves[0] > 1.5 * mean_moves[2]


def test_exploration_tries_budgets_the_new_campaign_has_not_been_run_at():
    world = world_for(5)
    inputs = inputs_with_new_campaign_days(world, 7)
    explored = exploit_budget(inputs)[NEW] + exploration_moves(inputs)[:, NEW]
    raw = world.history.raw["campaign_hourly"]
    recent = raw[
        (raw["campaign_id"] == world.campaigns["campaign_id"].iloc[NEW])
        & (raw["hour_ts"] >= world.dates[0] - pd.Timedelta(days=7))
    ]
    daily = recent.groupby(recent["hour_ts"].dt.date)["spend"].sum()
    outside = (explored < daily.min()) | (explored > daily.max())
    assert outside.mean() >= 0.25, (explored, daily)  # a quarter of the draws try a level the week never showed


def test_the_cap_limits_how_much_exploration_moves():
    world = world_for(5)
    inputs = inputs_with_new_campaign_days(world, 7)
    total = inputs.campaigns["current_budget"].sum()
    capped = exploration_moves(inputs, share=0.05)
    moved = np.maximum(np.clip(capped, 0, None).sum(axis=1), -np.clip(capped, None, 0).sum(axis=1))
    assert (moved <= 0.05 * total + 1e-6).all()
    assert moved.max() > 0.04 * total  # the cap binds: the uncertain campaign would move more without it


def test_the_exploration_cost_budget_spends_on_the_uncertain_campaign_only():
    """With a budget of 0.2% of expected daily profit, a well-known portfolio moves less money to explore than one
    with a new campaign, and no exploration step costs more than the budget under the posterior."""
    from ml.allocation.engine import affordable_weight, expected_profit, exploration_cost_problems

    world = world_for(5)
    config = AllocationConfig(objective="profit", max_change_pct=float("inf"), exploration_cost_share=0.002)
    weights = {}
    for days in (7, 120):
        inputs = inputs_with_new_campaign_days(world, days)
        exploit = propose(inputs, config.model_copy(update={"exploration_share": 0.0})).proposed_budget
        steps = [
            propose(
                inputs, config.model_copy(update={"exploration_share": 1.0, "exploration_cost_share": None, "seed": s})
            ).proposed_budget
            - exploit
            for s in range(10)
        ]
        weights[days] = np.mean(
            [affordable_weight(inputs, config, exploit, step) * np.abs(step).sum() / 2 for step in steps]
        )  # money the budget lets exploration move
        problems = exploration_cost_problems(inputs, config)
        base = expected_profit(problems, exploit)
        for step in steps:
            w = affordable_weight(inputs, config, exploit, step)
            assert base - expected_profit(problems, exploit + w * step) <= 0.002 * abs(base) + 1e-6
    assert weights[7] > weights[120]


def test_information_value_is_high_for_a_new_campaign_and_grows_with_the_horizon():
    """The value of a day's exploration: EVPI x the share of the posterior one more day removes x the horizon. A
    campaign fitted on 7 days is worth exploring far more than one with 120 days; a longer horizon is worth more."""
    from ml.allocation.engine import exploration_cost_problems, information_value, perfect_information_value

    world = world_for(5)
    config = AllocationConfig(objective="profit", max_change_pct=float("inf"))
    values = {}
    for days in (7, 120):
        inputs = inputs_with_new_campaign_days(world, days)
        exploit = propose(inputs, config.model_copy(update={"exploration_share": 0.0})).proposed_budget
        step = np.array([-1.0, 1.0]) * 0.05 * exploit.sum()  # the same move toward the new campaign in both
        problems = exploration_cost_problems(inputs, config)
        evpi = perfect_information_value(problems, exploit, config.objective)
        assert evpi >= 0.0
        values[days] = information_value(inputs, config, problems, exploit, step)
        longer = config.model_copy(update={"exploration_horizon_days": 2 * config.exploration_horizon_days})
        assert information_value(inputs, longer, problems, exploit, step) == pytest.approx(2 * values[days])
    assert values[7] > 3 * values[120]


def test_with_no_horizon_left_exploration_pays_nothing():
    """On the last day there is nothing to learn for: the proposal costs no expected profit against the exploit
    split under the posterior (a step is kept only where the posterior says it costs nothing)."""
    from ml.allocation.engine import expected_profit, exploration_cost_problems

    inputs = inputs_with_new_campaign_days(world_for(5), 7)
    config = AllocationConfig(objective="profit", max_change_pct=float("inf"), exploration_share=1.0)

    def exploration_cost(run: AllocationConfig) -> float:
        problems = exploration_cost_problems(inputs, run)  # the draws the run itself prices its step on
        proposal = propose(inputs, run)
        return expected_profit(problems, proposal.exploit.daily_budget) - expected_profit(
            problems, proposal.proposed_budget
        )

    for s in range(5):
        assert exploration_cost(config.model_copy(update={"exploration_horizon_days": 0.0, "seed": s})) <= 1e-6
    paid = [exploration_cost(config.model_copy(update={"seed": s})) for s in range(5)]
    assert max(paid) > 0.0  # with a horizon, the same steps do spend on exploration
