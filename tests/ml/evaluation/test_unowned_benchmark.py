"""The unowned-curve benchmark's parts: the exact solver, the constraint check and the generator's truth."""

from __future__ import annotations

import numpy as np
import pytest

from ml.evaluation.oracle import Bounds, naive_log_fit, solve_exact, violations
from ml.evaluation.unowned import KINDS, MAX_CHANGE_PCT, Scenario, TrueCurves, draw_scenario
from ml.optimize import PortfolioProblem, optimize_portfolio
from ml.response_curves import ResponseCurves


def _bounds(current: np.ndarray, total: float, pct: float = 0.25) -> Bounds:
    nan = np.full(len(current), np.nan)
    return Bounds(total, current, nan, nan, pct)


def test_exact_solver_matches_brute_force_on_s_shaped_curves():
    """Three S-shaped campaigns: the DP's split is as good as the best of every grid combination."""
    curves = TrueCurves(np.array(["hill_s", "threshold", "hill_s"]), np.array([30.0, 20.0, 50.0]),
                        np.array([100.0, 80.0, 300.0]), np.array([2.5, 0.2, 1.8]))  # fmt: skip
    value = np.array([9.0, 12.0, 7.0])
    current = np.array([90.0, 70.0, 260.0])
    bounds = _bounds(current, current.sum(), pct=0.5)

    def profit(spend: np.ndarray) -> np.ndarray:
        return (value[:, None] if spend.ndim == 2 else value) * curves.value(spend) - spend

    split = solve_exact(profit, bounds, units=600)
    floor, ceiling = bounds.box()
    grid = np.linspace(floor, ceiling, 161).T  # (campaigns, points)
    values = profit(grid)
    total = grid[0][:, None, None] + grid[1][None, :, None] + grid[2][None, None, :]
    summed = values[0][:, None, None] + values[1][None, :, None] + values[2][None, None, :]
    best = summed[total <= bounds.total_budget + 1e-9].max()
    assert profit(split).sum() >= best - 1e-3 * abs(best)
    assert violations(split, bounds, "dp") == []


def test_exact_solver_agrees_with_the_project_optimiser_on_concave_curves():
    rng = np.random.default_rng(1)
    n = 40
    scale, k = rng.uniform(5, 50, n), rng.uniform(50, 500, n)
    value, current = rng.uniform(5, 40, n), rng.uniform(50, 400, n)
    problem = PortfolioProblem(total_budget=current.sum(), current_budget=current,
                               curves=ResponseCurves.hill(scale, k, np.full(n, 0.8)), value_per_conversion=value,
                               overhead_pct=0.0, agency_fee_pct=0.0, max_change_pct=0.25)  # fmt: skip

    def profit(spend: np.ndarray) -> np.ndarray:
        pad = (lambda a: a[:, None]) if spend.ndim == 2 else (lambda a: a)
        x = np.power(spend / pad(k), 0.8)
        return pad(value * scale) * x / (1 + x) - spend

    exact = optimize_portfolio(problem, "profit").daily_budget
    split = solve_exact(profit, _bounds(current, current.sum()))
    assert profit(split).sum() == pytest.approx(profit(exact).sum(), rel=1e-5)


def test_violations_name_every_broken_rule():
    current = np.array([100.0, 100.0, 100.0])
    bounds = Bounds(300.0, current, np.array([90.0, np.nan, np.nan]), np.array([np.nan, 110.0, np.nan]), 0.25)
    assert violations(np.array([95.0, 105.0, 100.0]), bounds, "ok") == []
    lines = violations(np.array([80.0, 115.0, 130.0]), bounds, "bad")
    assert any("total" in line for line in lines)
    assert any("#0 below min_budget" in line for line in lines)
    assert any("#1 above max_budget" in line for line in lines)
    assert any("#2 moved past the change limit" in line for line in lines)


def test_generated_truth_puts_each_optimum_where_it_says():
    """Unconstrained per campaign, the true profit peaks at the placed optimum (value makes its marginal zero)."""
    data = draw_scenario(Scenario("mixed", 21, 60, 0))
    assert set(np.unique(data.truth.kind)) == set(KINDS)
    current = data.export.groupby("campaign_id")["spend"].apply(lambda s: s.iloc[-7:].mean()).to_numpy()
    grid = current[:, None] * np.exp(np.linspace(-1.5, 1.5, 601))[None, :]
    profit = data.true_profit(grid)
    peak = grid[np.arange(len(current)), profit.argmax(axis=1)]
    ratio = np.log(peak / current)
    assert 0.2 < ratio.std() < 0.6  # optima scattered around today's budgets, some above, some below
    assert (ratio > 0.1).mean() > 0.2 and (ratio < -0.1).mean() > 0.2
    # the export is what a user has: no truth columns, counts never above clicks or impressions
    assert not {"value", "scale", "k", "kind"} & set(data.export.columns)
    assert (data.export["clicks"] <= data.export["impressions"]).all()


def test_naive_fit_recovers_a_log_slope():
    rng = np.random.default_rng(2)
    spend = np.exp(rng.uniform(3, 6, 4000))
    campaign = np.repeat(["a", "b"], 2000)
    slope = np.where(campaign == "a", 5.0, 12.0)
    conversions = slope * np.log(spend) + rng.normal(0, 1, 4000)
    fitted, ids = naive_log_fit(spend, conversions, campaign)
    assert list(ids) == ["a", "b"]
    np.testing.assert_allclose(fitted, [5.0, 12.0], rtol=0.02)
    assert MAX_CHANGE_PCT == 0.25
