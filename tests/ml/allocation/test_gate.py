"""The gate every budget change passes: the period limit, the bounds and the total, checked on random sequences."""

from __future__ import annotations

import numpy as np
import pytest

from ml.allocation.gate import BudgetRules, gate, violations

N_SEQUENCES, N_STEPS, N_CAMPAIGNS = 10_000, 24, 8


def _proposal(kind: np.ndarray, state: np.ndarray, total: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One change per sequence, of the kind drawn for it: 0 allocation run, 1 exploration step, 2 alert cut,
    3 manual change (anything, including zero, huge, negative and NaN)."""
    s, n = state.shape
    run = rng.dirichlet(np.full(n, 0.7), size=s) * total[:, None] * rng.uniform(0.5, 1.6, (s, 1))
    explore = state + rng.normal(0.0, 0.1, (s, n)) * state.sum(axis=1, keepdims=True) / n
    cut = np.where(rng.random((s, n)) < 0.3, state * 0.85, state)
    manual = np.where(rng.random((s, n)) < 0.5, state, rng.choice([0.0, 1e9, -5.0, np.nan, 3.0], (s, n)))
    manual = np.where(rng.random((s, n)) < 0.3, rng.uniform(0, 3, (s, n)) * state, manual)
    return np.select([kind[:, None] == k for k in range(4)], [run, explore, cut, manual])


@pytest.mark.parametrize(
    "rules",
    [
        BudgetRules(),
        BudgetRules(max_change_pct=0.1, min_change=0.0, min_budget=5.0, max_budget=900.0),
        BudgetRules(max_change_pct=0.0, min_change=25.0),
    ],
    ids=["default", "bounds", "absolute-only"],
)
def test_no_sequence_of_changes_within_a_period_breaks_a_rule(rules):
    """10,000 random sequences of runs, exploration steps, alert cuts and manual changes: 0 violations."""
    rng = np.random.default_rng(13)
    start = np.round(
        rng.lognormal(5.0, 1.5, (N_SEQUENCES, N_CAMPAIGNS)) * (rng.random((N_SEQUENCES, N_CAMPAIGNS)) > 0.1), 2
    )  # some campaigns at 0
    start = np.clip(start, rules.min_budget, rules.max_budget)
    total = start.sum(axis=1) * rng.uniform(0.6, 1.3, N_SEQUENCES)  # totals below today's too
    state = gate(start, start, np.inf, rules).budget
    checked = refused = 0
    applied = np.zeros(N_SEQUENCES, dtype=bool)  # the total binds the changes, not the split found at the start
    for _ in range(N_STEPS):
        kind = rng.integers(0, 4, N_SEQUENCES)
        result = gate(start, _proposal(kind, state, total, rng), total, rules)
        state = np.where(result.refused[:, None], state, result.budget)  # a refused change applies nothing
        refused += int(result.refused.sum())
        applied |= ~result.refused
        assert violations(start, state, np.where(applied, total, np.inf), rules).sum() == 0
        # the same promises checked from their definitions, independently of the gate's own window
        width = np.maximum(start * rules.max_change_pct, rules.min_change)
        assert (np.abs(state - start) <= width + 0.005).all()  # within the period limit of the period's start
        assert (state.sum(axis=1)[applied] <= total[applied] + 1e-6).all()  # the total
        conflict = (rules.min_budget > start + width) | (rules.max_budget < start - width)  # the limit wins there
        assert ((state >= rules.min_budget - 0.005) & (state <= rules.max_budget + 0.005) | conflict).all()
        assert (state >= 0).all() and np.isfinite(state).all()
        checked += N_SEQUENCES
    assert checked == N_SEQUENCES * N_STEPS
    assert refused < checked  # most changes apply


def test_hourly_runs_cannot_compound_past_the_period_limit():
    """Feeding each run's output back 24 times (a day of hourly runs) stays within 25% of the day's start."""
    rules = BudgetRules(min_change=0.0)
    start = np.array([100.0, 200.0, 300.0])
    state = start.copy()
    for _ in range(24):
        state = gate(start, state * np.array([1.25, 0.75, 1.0]), 600.0, rules).budget
    assert state.tolist() == [125.0, 150.0, 300.0]


def test_an_alert_cut_does_not_stack_on_a_cut_of_the_allocation():
    rules = BudgetRules(min_change=0.0)
    after_run = gate(np.array([100.0]), np.array([75.0]), 100.0, rules)
    cut = gate(np.array([100.0]), after_run.budget * 0.85, 100.0, rules)
    assert cut.budget.tolist() == [75.0] and cut.bound_by.tolist() == ["period_change_limit_down"]


def test_a_campaign_at_zero_can_be_launched_up_to_the_minimum_test_budget():
    launched = gate(np.array([0.0, 400.0]), np.array([300.0, 100.0]), 400.0, BudgetRules(min_change=50.0))
    assert launched.budget.tolist() == [50.0, 300.0]
    assert launched.bound_by.tolist() == ["period_change_limit_up", "period_change_limit_down"]
    frozen = gate(np.array([0.0]), np.array([300.0]), 400.0, BudgetRules(min_change=0.0))
    assert frozen.budget.tolist() == [0.0]


def test_the_total_is_a_cap_and_floors_above_it_are_refused():
    rules = BudgetRules(min_change=0.0)
    capped = gate(np.array([100.0, 100.0]), np.array([125.0, 125.0]), 220.0, rules)
    assert capped.budget.sum() <= 220.0 and set(capped.bound_by) == {"total_budget"}
    refused = gate(np.array([100.0, 100.0]), np.array([50.0, 50.0]), 100.0, rules)
    assert refused.refused  # the floors need 150
