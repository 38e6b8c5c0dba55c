"""`pmi allocate` decides how far to move by the posterior's expected profit, inside every constraint."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from allocate_helpers import simulated

from ml.allocation.portfolio import RunOptions, allocate, default_current, fit_curves, read_history
from ml.allocation.portfolio.curves import posterior_conversions
from ml.allocation.portfolio.problem import daily_cost


def _posterior_profit(run, spend: np.ndarray) -> np.ndarray:
    """Portfolio daily profit of a split under every posterior draw of the run's curves."""
    settings = run.settings
    conversions = posterior_conversions(run.curves, spend)
    revenue = conversions * settings["value_per_conversion"].to_numpy()[:, None]
    return revenue.sum(axis=0) - daily_cost(settings, spend, RunOptions(total_budget=1.0).overhead_pct).sum()


def test_the_posterior_rule_never_expects_less_than_the_point_optimum_or_today(tmp_path):
    export, _ = simulated(2, days=30)
    path = tmp_path / "history.csv"
    export.to_csv(path, index=False)
    history = read_history(path)
    curves = fit_curves(history, history.campaign_ids, 2)
    current = default_current(history)
    options = RunOptions(total_budget=float(current.sum()), seed=2)
    decided = allocate(history, options, curves=curves)
    point = allocate(history, replace(options, posterior_decision=False), curves=curves)
    spend = {
        "decided": decided.table["recommended_budget"].to_numpy(),
        "point": point.table["recommended_budget"].to_numpy(),
        "today": current.to_numpy(),
    }
    expected = {k: float(_posterior_profit(decided, v).mean()) for k, v in spend.items()}
    assert expected["decided"] >= expected["point"] - 1e-6 * abs(expected["point"])
    assert expected["decided"] >= expected["today"] - 1e-6 * abs(expected["today"])
    # every point of the move is feasible: total, change limit
    assert spend["decided"].sum() <= options.total_budget * (1 + 1e-9)
    assert np.all(np.abs(spend["decided"] - spend["today"]) <= 0.25 * spend["today"] + 1e-6)
    assert isinstance(decided.table, pd.DataFrame) and len(decided.table) == len(history.campaign_ids)
