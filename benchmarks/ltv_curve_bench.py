"""Value-curve fitting: pmi's all-campaigns-at-once fit beside one scipy ``least_squares`` per campaign.

Run: `.venv/bin/python benchmarks/ltv_curve_bench.py`. For 100, 1,000 and 10,000 synthetic campaigns (each with
value curve ``G(d) = c + 1 - exp(-d / tau)`` observed as noisy ratios to day 30 at 12 ages), prints the time of
``ml.models.ltv.curves.fit_curves`` and of the per-campaign loop (skipped at 10,000: minutes), their ratio, and
each method's mean and worst error of the d30 -> d90 development factor against the known curves.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ml.models.ltv.curves import C_BOUNDS, TAU_BOUNDS, curve, fit_curves

REF, HORIZON = 30, 90
DAYS = np.array([1, 3, 7, 45, 60, 75, 90, 105, 120, 135, 150, 165], dtype=float)


def synthetic_points(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Ratio points with 2% noise and the true d30 -> d90 factor per campaign."""
    rng = np.random.default_rng(seed)
    burst, tau = rng.uniform(0.05, 1.0, n), rng.uniform(15, 60, n)
    key = np.repeat(np.arange(n), len(DAYS))
    day = np.tile(DAYS, n)
    ratio = curve(day, burst[key], tau[key]) / curve(REF, burst[key], tau[key]) * rng.lognormal(0, 0.02, len(day))
    points = pd.DataFrame({"key": key.astype(str), "day": day, "ratio": ratio, "weight": rng.uniform(1, 50, len(day))})
    return points, curve(HORIZON, burst, tau) / curve(REF, burst, tau)


def per_campaign_least_squares(points: pd.DataFrame) -> pd.DataFrame:
    """The reference: one bounded least-squares fit per campaign (what pmi did before)."""
    rows = []
    for key, group in points.groupby("key", sort=False):
        day, ratio = group["day"].to_numpy(), group["ratio"].to_numpy()
        w = np.sqrt(group["weight"].to_numpy() / group["weight"].sum())

        def residual(theta: np.ndarray, day=day, ratio=ratio, w=w) -> np.ndarray:
            c, tau = np.exp(theta)
            return w * (curve(day, c, tau) / curve(REF, c, tau) - ratio)

        fit = least_squares(
            residual,
            x0=np.log([0.1, 30.0]),
            bounds=(np.log([C_BOUNDS[0], TAU_BOUNDS[0]]), np.log([C_BOUNDS[1], TAU_BOUNDS[1]])),
        )
        rows.append((key, *np.exp(fit.x)))
    return pd.DataFrame(rows, columns=["key", "c", "tau"])


def factor_errors(fitted: pd.DataFrame, true: np.ndarray) -> tuple[float, float]:
    """Mean and worst |relative error| of the fitted d30 -> d90 factor."""
    f = fitted.set_index("key").loc[np.arange(len(true)).astype(str)]
    got = curve(HORIZON, f["c"].to_numpy(), f["tau"].to_numpy()) / curve(REF, f["c"].to_numpy(), f["tau"].to_numpy())
    err = np.abs(got / true - 1)
    return float(err.mean()), float(err.max())


def main() -> None:
    print(f"{'campaigns':>10} {'pmi s':>8} {'scipy s':>8} {'speed-up':>9}  factor error mean/max: pmi | scipy")
    for n in (100, 1_000, 10_000):
        points, true = synthetic_points(n)
        started = time.perf_counter()
        ours = fit_curves(points, REF)
        ours_s = time.perf_counter() - started
        if n <= 1_000:
            started = time.perf_counter()
            ref = per_campaign_least_squares(points)
            ref_s = time.perf_counter() - started
            ref_err = "{:.4f}/{:.4f}".format(*factor_errors(ref, true))
            print(
                f"{n:>10,} {ours_s:>8.2f} {ref_s:>8.2f} {ref_s / ours_s:>8.1f}x  {{:.4f}}/{{:.4f}} | ".format(
                    *factor_errors(ours, true)
                )
                + ref_err
            )
        else:
            errors = "{:.4f}/{:.4f} | -".format(*factor_errors(ours, true))
            print(f"{n:>10,} {ours_s:>8.2f} {'-':>8} {'-':>9}  " + errors)


if __name__ == "__main__":
    main()
