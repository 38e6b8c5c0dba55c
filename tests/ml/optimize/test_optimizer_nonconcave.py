"""S-shaped (Hill shape > 1) response: the optimiser solves the concave envelope and decides on/off; checked
against brute force over a fine grid of every feasible split."""

from __future__ import annotations

import numpy as np
import pytest

from ml.optimize import PortfolioProblem, optimize_portfolio
from ml.response_curves import ResponseCurves, tangent_spend


def _profit(problem: PortfolioProblem, spend: np.ndarray) -> np.ndarray:
    revenue = problem.value_per_conversion * problem.curves.value(spend)
    cost = spend * problem.cost_multiplier + np.where(spend > 0, problem.fixed_daily_cost, 0.0)
    return revenue - cost


def _brute_force(problem: PortfolioProblem, points: int) -> float:
    """Best total profit over a grid of spends per campaign within its box and the budget (all combinations)."""
    from ml.optimize.constraints import spend_box

    box = spend_box(problem)
    top = np.minimum(box.ceiling, problem.total_budget)
    total = 0.0
    spent = 0.0
    for i in range(problem.n_campaigns):
        grid = np.unique(np.r_[np.linspace(box.floor[i], top[i], points), box.floor[i], top[i]])
        one = problem.curves.take(np.full(grid.size, i))
        value = (
            problem.value_per_conversion[i] * one.value(grid)
            - grid * problem.cost_multiplier[i]
            - np.where(grid > 0, problem.fixed_daily_cost[i], 0.0)
        )
        shape = [1] * problem.n_campaigns
        shape[i] = grid.size
        total = total + value.reshape(shape)
        spent = spent + grid.reshape(shape)
    return float(np.where(spent <= problem.total_budget * (1 + 1e-12), total, -np.inf).max())


def test_the_envelope_touches_the_curve_at_the_tangent_point():
    scale, k, n = np.array([100.0]), np.array([500.0]), np.array([3.0])
    b = tangent_spend(scale, k, n, np.zeros(1))
    assert b[0] == pytest.approx(500.0 * 2.0 ** (1 / 3))
    curves = ResponseCurves.hill(scale, k, n)
    slope = curves.value(b) / b
    assert curves.marginal(b)[0] == pytest.approx(slope[0], rel=1e-9)
    env = curves.envelope(np.zeros(1), np.full(1, np.inf))
    grid = np.linspace(0.0, 3000.0, 301)
    for s in grid:
        assert env.value(np.array([s]))[0] >= curves.value(np.array([s]))[0] - 1e-9  # an upper bound
    from_floor = tangent_spend(scale, k, n, np.array([200.0]))  # tangent from a positive floor: f' = chord slope
    f = curves.value
    chord = (f(from_floor) - f(np.array([200.0]))) / (from_floor - 200.0)
    assert curves.marginal(from_floor)[0] == pytest.approx(chord[0], rel=1e-6)


@pytest.mark.parametrize("seed", range(30))
def test_s_shaped_portfolios_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    shape = np.where(rng.random(n) < 0.7, rng.uniform(1.2, 4.0, n), rng.uniform(0.4, 1.0, n))
    k = rng.uniform(200, 2000, n)
    curves = ResponseCurves.hill(k / rng.uniform(3, 15, n), k, shape)
    current = rng.uniform(100, 2500, n) * (rng.random(n) > 0.2)
    problem = PortfolioProblem(
        total_budget=float(rng.uniform(0.3, 1.5) * max(current.sum(), 1000.0)),
        current_budget=current,
        curves=curves,
        value_per_conversion=rng.uniform(8, 60, n),
        creative_production_cost=rng.uniform(0, 3000, n) * (rng.random(n) < 0.5),
        max_change_pct=np.where(rng.random(n) < 0.5, np.inf, rng.uniform(0.25, 1.0, n)),
        min_change=rng.uniform(0, 300),
    )
    result = optimize_portfolio(problem, "profit")
    best = _brute_force(problem, points=201 if n == 3 else 3001)
    spend = result.daily_budget
    assert spend.sum() <= problem.total_budget * (1 + 1e-9)
    got = float(_profit(problem, spend).sum())
    assert got == pytest.approx(result.objective_value, rel=1e-9, abs=1e-6)
    # never worse than the grid's best beyond the grid's own resolution
    assert got >= best - 1e-6 * max(abs(best), 1.0), (got, best)


def test_an_s_shaped_campaign_is_either_off_or_past_its_threshold():
    """Half a threshold buys almost nothing: the optimiser funds the S-shaped campaign fully or not at all."""
    curves = ResponseCurves.hill([100.0, 40.0], [1000.0, 300.0], [4.0, 0.7])
    problem = PortfolioProblem(
        total_budget=1500.0,
        current_budget=[0.0, 1500.0],
        curves=curves,
        value_per_conversion=[30.0, 30.0],
        max_change_pct=np.inf,
    )
    spend = optimize_portfolio(problem, "profit").daily_budget
    b = tangent_spend(np.array([100.0]), np.array([1000.0]), np.array([4.0]), np.zeros(1))[0]
    assert spend[0] == 0.0 or spend[0] >= b * (1 - 1e-6) or spend.sum() >= 1500.0 * (1 - 1e-9)
    assert float(_profit(problem, spend).sum()) >= _brute_force(problem, 3001) - 1e-6
