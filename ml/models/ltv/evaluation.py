"""Scores of LTV predictions against mature users' realised revenue, and the stacking weights fitted on them."""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls


def error_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and bias (mean predicted minus mean actual), plus bias relative to the actual mean."""
    predicted, actual = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    if len(actual) == 0:
        return {"mae": float("nan"), "rmse": float("nan"), "bias": float("nan"), "relative_bias": float("nan")}
    err = predicted - actual
    mean_actual = float(actual.mean())
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "bias": float(err.mean()),
        "relative_bias": float(err.mean() / mean_actual) if mean_actual > 0 else float("nan"),
    }


def interval_coverage(low: np.ndarray, high: np.ndarray, actual: np.ndarray) -> float:
    """Share of users whose realised value lies inside [low, high] (target 0.8 for p10-p90)."""
    actual = np.asarray(actual, dtype=float)
    if len(actual) == 0:
        return float("nan")
    return float(np.mean((actual >= np.asarray(low) - 1e-9) & (actual <= np.asarray(high) + 1e-9)))


def top_share(values: np.ndarray, share: float = 0.1, rank_by: np.ndarray | None = None) -> float:
    """Share of total ``values`` held by the top ``share`` of users, ranked by ``rank_by`` (default the values)."""
    values = np.asarray(values, dtype=float)
    total = values.sum()
    if len(values) == 0 or total <= 0:
        return float("nan")
    order = np.argsort(-(values if rank_by is None else np.asarray(rank_by, dtype=float)), kind="stable")
    n_top = max(1, int(np.ceil(share * len(values))))
    return float(values[order[:n_top]].sum() / total)


def stacking_weights(predictions: np.ndarray, actual: np.ndarray, sum_to_one: bool = True) -> np.ndarray:
    """Non-negative least-squares weights of the learners' validation predictions (columns), no intercept.

    With ``sum_to_one`` the weights form a convex combination (an extra, heavily weighted nnls row): the
    validation cohort is small and heavy-tailed, so letting it rescale the level of all learners would chase
    a few whales; the learners' level comes from the much larger training set. Falls back to equal weights
    when the fit is degenerate.
    """
    predictions = np.asarray(predictions, dtype=float)
    actual = np.asarray(actual, dtype=float)
    n_learners = predictions.shape[1]
    if sum_to_one:
        penalty = 1e3 * max(float(np.sqrt(np.sum(actual**2))), 1.0)
        predictions = np.vstack([predictions, np.full((1, n_learners), penalty)])
        actual = np.append(actual, penalty)
    weights, _ = nnls(predictions, actual)
    if not np.isfinite(weights).all() or weights.sum() <= 0:
        return np.full(n_learners, 1.0 / n_learners)
    return weights / weights.sum() if sum_to_one else weights


def payer_scores(p_payer: np.ndarray, is_payer: np.ndarray) -> dict[str, float]:
    """Brier score and calibration gap (mean probability minus payer rate) of payer probabilities."""
    p, y = np.asarray(p_payer, dtype=float), np.asarray(is_payer, dtype=float)
    if len(y) == 0:
        return {"brier": float("nan"), "calibration_gap": float("nan")}
    return {"brier": float(np.mean((p - y) ** 2)), "calibration_gap": float(p.mean() - y.mean())}
