"""Synthetic daily panels drawn from known response curves, and one small simulator history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from ml.models.response import ResponseFitConfig, daily_panel, fit_response_curves
from ml.response_curves import ResponseCurves
from ml.simulation import SimulationConfig
from ml.simulation.backfill import simulate_backfill

SIM = {"n_campaigns": 12, "days": 120, "seed": 3, "end_date": dt.date(2026, 10, 1)}


def budget_path(rng: np.random.Generator, days: int, base: float, sigma: float, every: int = 10) -> np.ndarray:
    """Piecewise-constant daily budgets changed every ``every`` days, with a little daily pacing noise."""
    segments = np.clip(rng.lognormal(0.0, sigma, days // every + 1), 0.2, 4.0)
    return base * np.repeat(segments, every)[:days] * rng.lognormal(0.0, 0.03, days)


@pytest.fixture(scope="session")
def make_panel() -> Callable[..., pd.DataFrame]:
    """Poisson daily conversions from given curves: ``make_panel(curves, base_spend, rng, days, sigma)``."""

    def make(
        curves: ResponseCurves, base_spend: np.ndarray, rng: np.random.Generator, days: int = 150, sigma: float = 0.6
    ) -> pd.DataFrame:
        spend = np.stack([budget_path(rng, days, b, sigma) for b in base_spend])
        mean = curves.value(spend)
        ids = [f"syn_{i:03d}" for i in range(len(curves))]
        return pd.DataFrame(
            {
                "campaign_id": np.repeat(ids, days),
                "date": np.tile(pd.date_range("2026-01-01", periods=days), len(curves)),
                "spend": spend.ravel(),
                "conversions": rng.poisson(mean).ravel(),
            }
        )

    return make


@pytest.fixture(scope="module")
def simulated():
    """A 12-campaign, 120-day simulator history, its daily panel and the fitted curves."""
    frames = simulate_backfill(SimulationConfig(**SIM))
    panel = daily_panel(frames.raw["campaign_hourly"], frames.raw["campaigns"], frames.raw["market_daily"])
    curves = fit_response_curves(panel, frames.raw["campaigns"], ResponseFitConfig(n_draws=300))
    return frames, panel, curves
