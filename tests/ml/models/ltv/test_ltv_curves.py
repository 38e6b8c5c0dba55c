"""Value-curve fits: every key's (burst, tau) recovered at once, sparse keys left to the portfolio curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.ltv.curves import C_BOUNDS, TAU_BOUNDS, curve, fit_curves

DAYS = np.array([1.0, 3.0, 7.0, 45.0, 60.0, 90.0, 120.0, 150.0])


def _points(burst: np.ndarray, tau: np.ndarray, ref: int, noise: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    key = np.repeat(np.arange(len(burst)), len(DAYS))
    day = np.tile(DAYS, len(burst))
    ratio = curve(day, burst[key], tau[key]) / curve(ref, burst[key], tau[key]) * rng.lognormal(0, noise, len(day))
    return pd.DataFrame({"key": key.astype(str), "day": day, "ratio": ratio, "weight": rng.uniform(1, 50, len(day))})


def test_recovers_each_keys_development_factor():
    rng = np.random.default_rng(3)
    burst, tau = rng.uniform(0.05, 1.5, 400), rng.uniform(5, 200, 400)
    fitted = fit_curves(_points(burst, tau, 30, noise=0.0), 30).set_index("key").loc[np.arange(400).astype(str)]
    for horizon in (90, 180):
        true = curve(horizon, burst, tau) / curve(30, burst, tau)
        got = curve(horizon, fitted["c"].to_numpy(), fitted["tau"].to_numpy()) / curve(
            30, fitted["c"].to_numpy(), fitted["tau"].to_numpy()
        )
        assert np.abs(got / true - 1).max() < 0.01


def test_fit_stays_in_bounds_and_skips_keys_with_one_point():
    points = _points(np.array([0.3, 0.3]), np.array([0.2, 5000.0]), 30, noise=0.01)  # tau outside the bounds
    points = pd.concat([points, pd.DataFrame({"key": ["lonely"], "day": [7.0], "ratio": [0.5], "weight": [1.0]})])
    fitted = fit_curves(points, 30)
    assert set(fitted["key"]) == {"0", "1"}
    assert fitted["c"].between(*C_BOUNDS).all() and fitted["tau"].between(*TAU_BOUNDS).all()
    # Out-of-bounds truths still develop right where the data are: d30 -> d90 within the noise.
    fitted = fitted.set_index("key").loc[["0", "1"]]
    got = curve(90, fitted["c"].to_numpy(), fitted["tau"].to_numpy()) / curve(
        30, fitted["c"].to_numpy(), fitted["tau"].to_numpy()
    )
    true = curve(90, 0.3, np.array([0.2, 5000.0])) / curve(30, 0.3, np.array([0.2, 5000.0]))
    assert np.abs(got / true - 1).max() < 0.03
    assert fit_curves(points[points["key"] == "lonely"], 30).empty
