"""Each business rule on a small hand-checked portfolio: objectives, thresholds, locks, change limits."""

from __future__ import annotations

import numpy as np
import pytest

from ml.optimize import (
    REASON_TEXT,
    InfeasibleBudgetError,
    ObjectiveWeights,
    PortfolioProblem,
    Reason,
    optimize_portfolio,
)
from ml.response_curves import ResponseCurves


def portfolio(budget: float = 3000.0, **rules: object) -> PortfolioProblem:
    """Three log-response campaigns: s* where value * a / (k + s) = cost multiplier, in closed form."""
    settings = {"max_change_pct": np.inf, **rules}
    return PortfolioProblem(
        total_budget=budget,
        current_budget=[1000.0, 1000.0, 1000.0],
        curves=ResponseCurves.log([100.0, 60.0, 30.0], [500.0, 500.0, 500.0]),
        value_per_conversion=[30.0, 30.0, 30.0],
        campaign_id=["a", "b", "c"],
        **settings,
    )  # type: ignore[arg-type]


def test_profit_leaves_money_unspent_where_it_would_lose_money():
    result = optimize_portfolio(portfolio(budget=1e6))
    # 30 * a / (500 + s) = 1.05  =>  s = 30 * a / 1.05 - 500
    np.testing.assert_allclose(result.daily_budget, 30 * np.array([100, 60, 30]) / 1.05 - 500, rtol=1e-12)
    assert not result.budget_binding and result.budget_multiplier == 0.0
    assert result.total_spend < 1e6
    np.testing.assert_allclose(result.marginal_roas, 1.05, rtol=1e-12)
    assert all(code == Reason.PROFIT_OPTIMUM for code in result.reason_code)


def test_binding_budget_equalises_marginal_return_at_the_multiplier():
    result = optimize_portfolio(portfolio(budget=3000.0))
    assert result.budget_binding and result.total_spend == pytest.approx(3000.0, rel=1e-12)
    # Equal marginal: 30 a_i / (500 + s_i) - 1.05 = lambda for all i.
    marginal_profit = result.marginal_roas - 1.05
    np.testing.assert_allclose(marginal_profit, result.budget_multiplier, rtol=1e-10)
    lam = result.budget_multiplier
    expected = 30 * np.array([100, 60, 30]) / (1.05 + lam) - 500
    np.testing.assert_allclose(result.daily_budget, expected, rtol=1e-10)


@pytest.mark.parametrize("objective", ["revenue", "conversions"])
def test_revenue_and_conversions_spend_everything_allowed(objective):
    binding = optimize_portfolio(portfolio(budget=5000.0), objective)
    assert binding.total_spend == pytest.approx(5000.0, rel=1e-12) and binding.budget_binding
    capped = optimize_portfolio(portfolio(budget=5000.0, max_spend=1000.0), objective)
    np.testing.assert_array_equal(capped.daily_budget, [1000.0, 1000.0, 1000.0])
    assert not capped.budget_binding
    assert all(code == Reason.MAX_SPEND for code in capped.reason_code)


def test_min_roas_caps_spend_at_the_threshold_point():
    result = optimize_portfolio(portfolio(budget=1e6, min_roas=[2.0, 0.0, 0.0]), "revenue")
    # 30 * 100 / (500 + s) = 2  =>  s = 1000
    assert result.daily_budget[0] == pytest.approx(1000.0, rel=1e-12)
    assert result.marginal_roas[0] == pytest.approx(2.0, rel=1e-12)
    assert result.reason_code[0] == Reason.MIN_ROAS


def test_max_cpa_caps_spend_where_marginal_cpa_reaches_it():
    result = optimize_portfolio(portfolio(budget=1e6, max_cpa=[10.0, np.inf, np.inf]), "conversions")
    # marginal CPA = (500 + s) / 100 = 10  =>  s = 500
    assert result.daily_budget[0] == pytest.approx(500.0, rel=1e-12)
    assert result.reason_code[0] == Reason.MAX_CPA


def test_threshold_failing_at_the_floor_holds_the_floor_or_pauses():
    # Campaign c's marginal ROAS is 30 * 30 / (500 + s) <= 1.8 < 3 everywhere.
    held = optimize_portfolio(portfolio(budget=1e6, min_roas=3.0, min_spend=[0.0, 0.0, 200.0]), "revenue")
    assert held.daily_budget[2] == 200.0 and held.reason_code[2] == Reason.THRESHOLD_AT_FLOOR
    paused = optimize_portfolio(portfolio(budget=1e6, min_roas=3.0), "revenue")
    assert paused.daily_budget[2] == 0.0 and paused.reason_code[2] == Reason.PAUSED_THRESHOLD


def test_locked_campaigns_keep_their_current_budget_even_when_the_budget_is_tight():
    result = optimize_portfolio(portfolio(budget=1200.0, locked=[False, True, False]))
    assert result.daily_budget[1] == 1000.0 and result.reason_code[1] == Reason.LOCKED
    assert result.total_spend <= 1200.0 * (1 + 1e-12)


def test_change_limit_binds_both_ways_and_wins_conflicts():
    result = optimize_portfolio(
        portfolio(budget=1e6, max_change_pct=0.25, min_spend=[0.0, 0.0, 2000.0], max_spend=[np.inf, np.inf, 5000.0])
    )
    assert result.daily_budget[0] == 1250.0 and result.reason_code[0] == Reason.CHANGE_LIMIT_UP
    assert result.daily_budget[2] == 1250.0 and result.reason_code[2] == Reason.CHANGE_LIMIT_OVER_MIN
    lower = optimize_portfolio(portfolio(budget=1e6, max_change_pct=0.25, max_spend=[np.inf, np.inf, 100.0]))
    assert lower.daily_budget[2] == 750.0 and lower.reason_code[2] == Reason.CHANGE_LIMIT_OVER_MAX
    down = optimize_portfolio(portfolio(budget=1e6, max_change_pct=0.25), "profit")
    assert down.daily_budget[2] == 750.0 and down.reason_code[2] == Reason.CHANGE_LIMIT_DOWN


def test_budget_below_the_floors_is_refused_with_the_campaigns_named():
    with pytest.raises(InfeasibleBudgetError, match=r"'a' \(750\.00, change_limit_down\)"):
        optimize_portfolio(portfolio(budget=1000.0, max_change_pct=0.25))


def test_cac_target_as_a_spend_penalty():
    """conversions=1, spend_penalty=1/T: spend until one more conversion costs T at the margin."""
    cac_target = ObjectiveWeights(conversions=1.0, spend_penalty=1 / 20)
    result = optimize_portfolio(portfolio(budget=1e6), cac_target)
    # marginal conversions per dollar a / (500 + s) = 1/20  =>  s = 20a - 500
    np.testing.assert_allclose(result.daily_budget, 20 * np.array([100, 60, 30]) - 500, rtol=1e-12)
    assert result.objective == "weighted(conversions=1, spend_penalty=0.05)"


def test_costs_include_overhead_agency_fee_and_amortised_creative():
    problem = portfolio(budget=1e6, has_agency=[True, False, False], creative_production_cost=[3000.0, 0, 0])
    result = optimize_portfolio(problem, pause_unprofitable_campaigns=False)
    s = result.daily_budget
    assert result.cost[0] == pytest.approx(s[0] * 1.20 + 100.0, rel=1e-12)
    assert result.cost[1] == pytest.approx(s[1] * 1.05, rel=1e-12)
    assert result.marginal_roas[0] == pytest.approx(1.20, rel=1e-12)  # agency campaign stops at 1 + 5% + 15%
    np.testing.assert_allclose(result.profit, result.revenue - result.cost)
    assert result.objective_value == pytest.approx(result.total_profit, rel=1e-12)


def test_allocation_frame_and_reasons():
    result = optimize_portfolio(portfolio(budget=2000.0, locked=[True, False, False]))
    frame = result.to_frame()
    assert list(frame["campaign_id"]) == ["a", "b", "c"]
    expected = {"daily_budget", "conversions", "revenue", "profit", "marginal_roas", "reason_code", "reason"}
    assert expected <= set(frame.columns)
    assert frame.loc[0, "reason"] == REASON_TEXT[Reason.LOCKED]
    assert all(isinstance(text, str) and text for text in result.reason)
    assert set(REASON_TEXT) == set(Reason)


def test_scaling_money_scales_the_answer():
    """Doubling spend scales, budget and current budgets doubles every recommended spend (no hidden units)."""
    rng = np.random.default_rng(3)
    n = 500
    curves = ResponseCurves.build(
        rng.integers(0, 3, n), rng.uniform(5, 50, n), rng.uniform(100, 900, n), rng.uniform(0.4, 1.0, n)
    )
    base = PortfolioProblem(
        total_budget=60_000.0,
        current_budget=rng.uniform(100, 300, n),
        curves=curves,
        value_per_conversion=rng.uniform(5, 80, n),
        max_change_pct=0.5,
    )
    doubled = base.replace(
        total_budget=120_000.0,
        current_budget=2 * base.current_budget,
        curves=ResponseCurves.build(curves.family, curves.scale, 2 * curves.spend_scale, curves.shape),
    )
    np.testing.assert_allclose(
        optimize_portfolio(doubled).daily_budget, 2 * optimize_portfolio(base).daily_budget, rtol=1e-9
    )


@pytest.mark.parametrize("objective", ["revenue", "conversions"])
def test_budget_far_beyond_saturation_is_still_spent_exactly(objective):
    """Exponential curves saturate: past ~700 spend scales every marginal return underflows to 0."""
    problem = PortfolioProblem(
        total_budget=1e7,
        current_budget=[10.0, 10.0],
        curves=ResponseCurves.exponential([5.0, 3.0], [10.0, 20.0]),
        value_per_conversion=20.0,
        max_change_pct=np.inf,
        max_spend=[np.inf, 2e6],
    )
    result = optimize_portfolio(problem, objective)
    assert result.total_spend == pytest.approx(1e7, rel=1e-12) and result.budget_binding
    assert result.daily_budget[1] <= 2e6
    np.testing.assert_allclose(result.conversions, [5.0, 3.0], rtol=1e-12)
