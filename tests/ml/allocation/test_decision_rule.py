"""The posterior decision rule: how far a run moves toward its proposal is set by the curves' posterior."""

from __future__ import annotations

import numpy as np
import pytest

from ml.allocation.config import AllocationConfig
from ml.allocation.decision import choose_move, posterior_profit
from ml.allocation.engine import build_problem, daily_profit, propose, refine, safe_budget
from ml.allocation.run import check_budgets
from tests.ml.allocation.test_allocation_engine import synthetic_inputs


def with_spread(inputs, spread: float):
    """The same point curves with antithetic draws of the level: scale x (1 +- spread). Conversions are linear in
    the level, so every budget's posterior mean profit is the same at any spread; only the disagreement grows."""
    c = inputs.curves.curves
    n = len(c.scale)
    sign = np.tile([1.0, -1.0], 20)
    noise = np.random.default_rng(1).uniform(0.2, 1.0, (n, 20)).repeat(2, axis=1) * sign
    draws = np.stack(
        [
            c.scale[:, None] * (1 + spread * noise),
            np.repeat(c.spend_scale[:, None], 40, axis=1),
            np.repeat(c.shape[:, None], 40, axis=1),
        ],
        axis=2,
    )
    inputs.curves.draws = draws
    return inputs


def test_posterior_profit_matches_the_optimiser_on_each_draw():
    inputs = synthetic_inputs(seed=2)
    config = AllocationConfig()
    budget = inputs.current * 1.1
    by_draw = posterior_profit(inputs, config, budget)
    for d in (0, 17, 49):
        expected = daily_profit(build_problem(inputs, config, d), budget).sum()
        assert by_draw[d] == pytest.approx(expected, rel=1e-9)


def test_a_wider_posterior_means_a_smaller_move():
    shares = []
    for spread in (0.0, 0.3, 0.6, 0.9):
        inputs = with_spread(synthetic_inputs(seed=6), spread)
        config = AllocationConfig(exploration_share=0.0, risk_aversion=3000.0)  # mean-variance
        proposed = propose(inputs, config).proposed_budget
        anchor = safe_budget(inputs, config)
        shares.append(choose_move(inputs, config, anchor, proposed)[0])
    assert shares[0] == 1.0  # the draws agree: the proposal is kept
    assert all(later <= earlier for earlier, later in zip(shares, shares[1:], strict=False))
    assert shares[-1] < 0.5 * shares[0]


def test_risk_neutral_rule_keeps_the_proposal_when_the_spread_costs_nothing():
    """Mean profit is the same at every spread (antithetic draws), so the risk-neutral rule moves the same."""
    moves = []
    for spread in (0.0, 0.9):
        inputs = with_spread(synthetic_inputs(seed=6), spread)
        config = AllocationConfig(exploration_share=0.0)
        proposed = propose(inputs, config).proposed_budget
        moves.append(choose_move(inputs, config, safe_budget(inputs, config), proposed)[0])
    assert moves[0] == moves[1] == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_chosen_budget_beats_both_ends_under_the_posterior_and_holds_every_rule(seed):
    inputs = synthetic_inputs(seed=seed)
    config = AllocationConfig(seed=seed, n_simulations=30)
    proposal = propose(inputs, config)
    budget, _, _ = refine(inputs, config, proposal.proposed_budget)
    mean = posterior_profit(inputs, config, budget).mean()
    slack = 1e-4 * abs(mean)  # the chosen split is held to the cent after the choice
    assert mean >= posterior_profit(inputs, config, proposal.proposed_budget).mean() - slack
    assert mean >= posterior_profit(inputs, config, safe_budget(inputs, config)).mean() - slack
    assert check_budgets(inputs, config, budget) is None  # the production check: period limit, total, bounds
