"""pmi's in-loop monitoring: alerts once per campaign, metric and day; the drift rule's evidence and cursor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.backtest.monitor import Monitor
from ml.monitoring.drift import DriftThresholds

CAMPAIGNS = pd.DataFrame({"campaign_id": ["a", "b", "c"], "auto_optimization_enabled": [True, False, True]})
WINDOW = 3
BASELINE_DAYS = DriftThresholds().baseline_days


def monitor() -> Monitor:
    return Monitor(CAMPAIGNS, window_days=WINDOW, min_conversions=20, drift_thresholds=DriftThresholds())


def play(m: Monitor, days: range, conversions) -> None:
    """Predict 100 conversions at 1,000 per campaign each day; actuals are `conversions` (per day or fixed)."""
    budget = np.full(3, 1000.0)
    for day in days:
        m.record(day, 1, budget, np.full(3, 100.0))
        actual = conversions(day) if callable(conversions) else conversions
        m.observe(day, budget, np.asarray(actual))


def test_cpa_alerts_are_raised_once_and_cut_only_auto_optimised_campaigns():
    m = monitor()
    play(m, range(1), [50, 50, 100])  # a and b: CPA double the prediction, volume half
    alerts = m.new_alerts(0)
    assert set(zip(alerts["campaign_id"], alerts["metric"], strict=True)) == {
        ("a", "cpa"),
        ("a", "conversions"),
        ("b", "cpa"),
        ("b", "conversions"),
    }
    assert m.new_alerts(0).empty  # the same day checked again raises nothing new
    assert m.alert_count == 4
    cut = m.cut_budgets(alerts, np.full(3, 1000.0))
    np.testing.assert_allclose(cut, [850.0, 1000.0, 1000.0])  # b is not auto-optimised


def test_a_break_is_drift_once_a_full_window_shows_it_and_the_cursor_stops_a_second_retrain():
    m = monitor()
    start = BASELINE_DAYS
    play(m, range(start + 2 * WINDOW), lambda day: [50, 100, 100] if day >= start else [100, 100, 100])
    np.testing.assert_array_equal(m.drifted_campaigns(start + WINDOW - 1), [False, False, False])  # window not full
    flagged = m.drifted_campaigns(start + WINDOW)
    np.testing.assert_array_equal(flagged, [True, False, False])
    m.retrained(start + WINDOW, flagged)
    np.testing.assert_array_equal(m.drifted_campaigns(start + WINDOW + 1), [False, False, False])


def test_a_constant_error_noise_of_both_signs_and_small_counts_are_not_drift():
    m = monitor()
    wobble = np.array([60, 160])
    play(m, range(BASELINE_DAYS + WINDOW), lambda day: [60, wobble[day % 2], 10])
    # a and c: far off all along (a biased model, not a break); b: errors of both signs
    np.testing.assert_array_equal(m.drifted_campaigns(BASELINE_DAYS + WINDOW), [False, False, False])
