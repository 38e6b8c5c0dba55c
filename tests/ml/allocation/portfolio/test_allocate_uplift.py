"""Statistical check on simulator data: the recommended split captures most of the achievable profit uplift.

For each seed the export is allocated by `pmi allocate` (profit, today's total budget, today's split as the
current budgets). Both that recommendation and the split that is optimal on the simulator's TRUE curves and
values (same budget, same change limit) are scored on the true curves; the capture is
(true profit of the recommendation - true profit of today's split) / (best true profit - that of today's split).

Two truths: the neutral-market curves of `campaign_truth` (as specified) under the default 25% change limit,
and, without any change limit, the same curves under the average demand and price the history actually met
(creative fatigue, season and weekday put demand at 0.7-0.9 of neutral, which the export cannot reveal).
With the simulator's true user value in the export, seeds 0-9 captured 94.7% (neutral, 25% limit), 89.2% (neutral,
no limit) and 97.9% (history conditions, no limit); the tests use fewer seeds to stay fast. A user's export holds
observed revenue only (what the installs made up to the export's end): with that, the same seeds capture 65.4%,
49.0% and 78.5% (`benchmarks/allocate_uplift_bench.py`, the figure the README quotes), because a 60-day export
shows young users' value only in part and the allocator, valuing conversions at revenue to date, under-spends.
"""

from __future__ import annotations

import numpy as np
import pytest
from allocate_helpers import best_true_spend, history_conditions, simulated, true_problem, true_profit

from ml.allocation.portfolio import CampaignHistory, RunOptions, allocate, default_current, fit_curves, read_history
from ml.models.response import ResponseCurveSet

SEEDS = (0, 1, 2, 3, 4, 5)
_FITTED: dict[tuple[int, str], tuple[CampaignHistory, ResponseCurveSet]] = {}


def fitted_export(seed: int, directory, revenue: str = "true_value") -> tuple[CampaignHistory, ResponseCurveSet]:
    """The export of a seed read back as `pmi allocate` reads it, and its curves (fitted once per seed)."""
    if (seed, revenue) not in _FITTED:
        export, _ = simulated(seed, revenue=revenue)
        path = directory / f"history_{seed}_{revenue}.csv"
        export.to_csv(path, index=False)
        history = read_history(path)
        _FITTED[seed, revenue] = history, fit_curves(history, history.campaign_ids, seed)
    return _FITTED[seed, revenue]


def capture(seed: int, max_change_pct: float, tmp_path, history_truth: bool, revenue: str = "true_value") -> float:
    _, frames = simulated(seed, revenue=revenue)
    history, curves = fitted_export(seed, tmp_path, revenue)
    current = default_current(history).to_numpy()
    budget = float(current.sum())
    run = allocate(history, RunOptions(total_budget=budget, max_change_pct=max_change_pct, seed=seed), curves=curves)
    truth = true_problem(frames, current, budget, max_change_pct, history_conditions(seed) if history_truth else None)
    assert list(truth.campaign_id) == list(run.table["campaign_id"])
    today, best = true_profit(truth, current), true_profit(truth, best_true_spend(truth))
    recommended = true_profit(truth, run.table["recommended_budget"].to_numpy())
    return (recommended - today) / (best - today)


@pytest.mark.parametrize(
    ("max_change_pct", "history_truth"),
    [(0.25, False), (np.inf, True)],
    ids=["neutral-truth-25pct", "history-truth-no-limit"],
)
def test_recommendation_captures_ninety_percent_of_the_true_uplift(max_change_pct, history_truth, tmp_path):
    captures = [capture(seed, max_change_pct, tmp_path, history_truth) for seed in SEEDS]
    assert np.mean(captures) >= 0.90, captures
    assert min(captures) > 0.75, captures  # never far off, not even on an unlucky seed


def test_the_observed_export_holds_only_revenue_that_happened():
    """The benchmark's headline export values installs at their revenue events to date, never the true user value."""
    observed, frames = simulated(0, revenue="observed")
    true, _ = simulated(0)
    assert observed["revenue"].sum() == pytest.approx(frames.raw["revenue_events"]["revenue"].sum())
    assert observed["revenue"].sum() < 0.9 * true["revenue"].sum()
