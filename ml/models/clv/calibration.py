"""Total calibration of customer value on a time split inside the calibration window.

Why: BG/NBD + Gamma-Gamma (and a booster trained against it) can be right per customer on average yet off for the
portfolio as a whole (on CDNOW the raw total is 17% low), and a budget decided on a total 20% off is 20% off. The
fix has to be learned without the holdout: the calibration window is split at an inner cutoff `calibration_end - w`,
the models are fitted on the history up to the cutoff, their predictions of the last w days are compared with what
those customers really spent there, and the ratio (actual total / predicted total) rescales the predictions made
from the whole calibration window. Nothing after `calibration_end` is ever read.

The value quantiles are rescaled with each customer's mean, so the interval describes the same calibrated
distribution as `predicted_value` (the Monte Carlo draws give its shape, the calibration its level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.models.clv.predict import ParametricFit, fit_parametric, parametric_expectations
from ml.models.clv.summary import rfm_summary

MIN_TRAIN_CUSTOMERS = 200
MIN_WINDOW_DAYS = 7
FACTOR_BOUNDS = (0.5, 2.0)  # a ratio outside this says the split is unrepresentative, not that value doubled
SCALE_BOUNDS = (0.2, 5.0)  # per-customer quantile rescaling: the booster's mean may not drag a tail arbitrarily


@dataclass(frozen=True)
class InnerSplit:
    """The calibration window cut at `cutoff`: history before it, realised value in (cutoff, calibration_end]."""

    cutoff: pd.Timestamp
    window_days: int
    summary: pd.DataFrame  # rfm_summary at the cutoff with holdout_value over the window
    fit: ParametricFit  # BG/NBD + Gamma-Gamma refitted on the history up to the cutoff

    @property
    def actual(self) -> np.ndarray:
        return self.summary["holdout_value"].to_numpy(dtype=float)

    def parametric_value(self) -> np.ndarray:
        """BG/NBD x Gamma-Gamma prediction of each inner customer's value in the window."""
        return parametric_expectations(self.fit, self.summary, float(self.window_days))["predicted_value"].to_numpy()


def inner_split(daily: pd.DataFrame, calibration_end: pd.Timestamp, horizon_days: int) -> InnerSplit | None:
    """Split the calibration window; None when there is too little history for a meaningful split.

    The inner window is the horizon, capped at half the calibration span so the cutoff still has history behind it.
    `daily` must hold only purchase days on or before `calibration_end`.
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    if daily.empty or daily["date"].max() > cal_end:
        raise ValueError("inner_split needs purchase days on or before the calibration end only")
    span = int((cal_end - daily["date"].min()).days)
    window = min(int(horizon_days), span // 2)
    if window < MIN_WINDOW_DAYS:
        return None
    cutoff = cal_end - pd.Timedelta(days=window)
    summary = rfm_summary(daily, cutoff, holdout_end=cal_end, daily=daily)
    if len(summary) < MIN_TRAIN_CUSTOMERS or summary["holdout_value"].sum() <= 0:
        return None
    return InnerSplit(cutoff=cutoff, window_days=window, summary=summary, fit=fit_parametric(summary))


def total_factor(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Actual over predicted portfolio total on the inner window, bounded by FACTOR_BOUNDS (1 when undefined)."""
    pred_total = float(np.sum(predicted))
    if pred_total <= 0 or not np.isfinite(pred_total):
        return 1.0
    return float(np.clip(float(np.sum(actual)) / pred_total, *FACTOR_BOUNDS))


def customer_scale(calibrated_mean: np.ndarray, model_mean: np.ndarray) -> np.ndarray:
    """Per-customer factor calibrated_mean / model_mean bounded by SCALE_BOUNDS (1 where the model mean is ~0)."""
    ratio = np.divide(
        calibrated_mean, model_mean, out=np.ones_like(calibrated_mean, dtype=float), where=model_mean > 1e-12
    )
    return np.clip(ratio, *SCALE_BOUNDS)


def rescale_quantiles(quantiles: np.ndarray, calibrated_mean: np.ndarray, model_mean: np.ndarray) -> np.ndarray:
    """Quantiles of the probabilistic model moved to the calibrated level customer by customer.

    Each row is multiplied by calibrated_mean / model_mean (bounded by SCALE_BOUNDS): a positive scaling keeps the
    order p10 <= p50 <= p90 and the zeros of customers who most likely buy nothing.
    """
    return quantiles * customer_scale(calibrated_mean, model_mean)[:, None]


def factor_spread(split: InnerSplit, predicted: np.ndarray, seed: int = 0, resamples: int = 200) -> float:
    """Standard deviation of log(calibration factor) over inner customers resampled with replacement: how much the
    factor owes to which customers happened to be in the inner window."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(predicted), (resamples, len(predicted)))
    ratio = split.actual[idx].sum(axis=1) / np.maximum(predicted[idx].sum(axis=1), 1e-12)
    return float(np.std(np.log(np.maximum(ratio, 1e-12)), ddof=1))


def interval_report(actual: np.ndarray, quantiles: np.ndarray) -> dict[str, float]:
    """Share of actual values inside [p10, p90], below p10 and above p90 (nominal 80% / 10% / 10%)."""
    below = actual < quantiles[:, 0] - 1e-9
    above = actual > quantiles[:, -1] + 1e-9
    return {
        "coverage": float(np.mean(~below & ~above)),
        "below_p10": float(np.mean(below)),
        "above_p90": float(np.mean(above)),
    }
