"""Pausing for fixed creative costs: never worse than keeping everything on, no single flip improves, and
exact when the budget is slack (campaigns are then independent)."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optimizer_reference import OBJECTIVES, objective, problems, relative_gap

from ml.optimize import (
    ObjectiveWeights,
    PortfolioProblem,
    Reason,
    optimize_portfolio,
    spend_box,
)
from ml.response_curves import ResponseCurves

FAST = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
    derandomize=not os.environ.get("PMI_HYPOTHESIS_RANDOM"),
)
PROFITS = st.sampled_from(
    [
        ObjectiveWeights.of("profit"),
        ObjectiveWeights(profit=1.0, conversions=3.0),
        ObjectiveWeights(profit=0.5, revenue=0.5),
    ]
)


def forced_off(problem: PortfolioProblem, weights: ObjectiveWeights, off: np.ndarray) -> float:
    """Objective of the continuous optimum with the `off` campaigns held at zero spend."""
    capped = problem.replace(max_spend=np.where(off, 0.0, problem.max_spend))
    result = optimize_portfolio(capped, weights, pause_unprofitable_campaigns=False)
    return objective(problem, weights, result.daily_budget)


def pausable(problem: PortfolioProblem) -> np.ndarray:
    box = spend_box(problem)
    return (box.floor == 0) & (box.ceiling > 0) & (problem.creative_production_cost > 0)


@settings(FAST, max_examples=300)
@given(problem=problems(max_campaigns=7), weights=PROFITS)
def test_pausing_is_never_worse_and_no_single_flip_improves(problem, weights):
    result = optimize_portfolio(problem, weights)
    kept_on = optimize_portfolio(problem, weights, pause_unprofitable_campaigns=False)
    assert relative_gap(result.objective_value, kept_on.objective_value) >= -1e-12
    assert np.isclose(result.objective_value, objective(problem, weights, result.daily_budget), rtol=1e-9)
    for i in np.flatnonzero(pausable(problem)):
        flipped = result.paused.copy()
        flipped[i] = not flipped[i]
        assert relative_gap(result.objective_value, forced_off(problem, weights, flipped)) >= -1e-9


@settings(FAST, max_examples=300)
@given(problem=problems(max_campaigns=8, budget_factor=st.just(50.0)), weights=PROFITS)
def test_pausing_is_exact_when_the_budget_is_slack(problem, weights):
    """With a slack budget each campaign stands alone: on at its optimum or off, whichever earns more."""
    result = optimize_portfolio(problem, weights)
    if result.budget_binding:
        return
    on = optimize_portfolio(problem, weights, pause_unprofitable_campaigns=False).daily_budget
    each = np.array([objective(_one(problem, i), weights, on[[i]]) for i in range(on.size)])
    best = np.where(pausable(problem), np.maximum(each, 0.0), each).sum()
    assert abs(relative_gap(result.objective_value, best)) <= 1e-9


def _one(problem: PortfolioProblem, i: int) -> PortfolioProblem:
    """Campaign i alone, with an unlimited budget."""
    fields = (
        "current_budget",
        "value_per_conversion",
        "has_agency",
        "creative_production_cost",
        "min_spend",
        "max_spend",
        "max_change_pct",
        "min_change",
        "min_roas",
        "max_cpa",
        "locked",
    )
    return problem.replace(
        total_budget=1e12,
        curves=problem.curves.take(np.array([i])),
        campaign_id=None,
        **{name: getattr(problem, name)[[i]] for name in fields},
    )


@settings(FAST, max_examples=200)
@given(problem=problems(max_campaigns=8), weights=OBJECTIVES)
def test_paused_campaigns_spend_nothing_and_say_why(problem, weights):
    result = optimize_portfolio(problem, weights)
    assert np.all(result.daily_budget[result.paused] == 0)
    assert np.all(result.cost[result.paused] == 0)
    assert all(code == Reason.PAUSED_UNPROFITABLE for code in result.reason_code[result.paused])
    if weights.profit == 0:
        assert not result.paused.any()  # fixed costs only enter profit


def _two_campaigns(max_change_pct: float, budget: float) -> PortfolioProblem:
    """A strong campaign and a weak one whose creative cost (30,000 / 30 days = 1,000 a day) exceeds its best
    daily profit before that cost (about 499 at a spend of 690)."""
    curves = ResponseCurves.hill([200.0, 100.0], [1000.0, 1000.0], [1.0, 1.0])
    return PortfolioProblem(
        total_budget=budget,
        current_budget=[1000.0, 400.0],
        curves=curves,
        value_per_conversion=[30.0, 30.0],
        campaign_id=["strong", "weak"],
        creative_production_cost=[0.0, 30000.0],
        max_change_pct=[np.inf, max_change_pct],
    )


def test_unprofitable_campaign_is_paused_when_its_floor_allows():
    problem = _two_campaigns(max_change_pct=np.inf, budget=1e6)
    result = optimize_portfolio(problem)
    kept = optimize_portfolio(problem, pause_unprofitable_campaigns=False)
    assert result.paused.tolist() == [False, True]
    assert result.daily_budget[1] == 0 and result.profit[1] == 0
    assert result.reason_code[1] == Reason.PAUSED_UNPROFITABLE and "paused" in result.reason[1]
    assert kept.profit[1] < 0 and result.objective_value > kept.objective_value


def test_unprofitable_campaign_keeps_running_when_the_change_limit_forbids_pausing():
    """Its floor is 300 (25% below 400), so the fixed cost is sunk: it runs at its best variable profit."""
    result = optimize_portfolio(_two_campaigns(max_change_pct=0.25, budget=1e6))
    assert not result.paused.any()
    assert result.daily_budget[1] == 500.0 and result.profit[1] < 0
    assert result.reason_code[1] == Reason.CHANGE_LIMIT_UP


def test_pausing_frees_budget_for_the_others_when_the_budget_binds():
    problem = _two_campaigns(max_change_pct=np.inf, budget=1200.0)
    kept = optimize_portfolio(problem, pause_unprofitable_campaigns=False)
    result = optimize_portfolio(problem)
    assert kept.daily_budget[1] > 0 and result.daily_budget[1] == 0
    assert result.daily_budget[0] == 1200.0 and result.budget_binding
