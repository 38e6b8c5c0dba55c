"""LTV per acquisition source, with a confidence label from how many of its users are mature enough to check it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.models.ltv.evaluation import top_share
from ml.models.ltv.features import is_mature, label_column

SOURCE_COLS: tuple[str, ...] = ("network", "platform", "geo", "creative_format")
HIGH_CONFIDENCE_MATURE = 100
MEDIUM_CONFIDENCE_MATURE = 20
MIN_MODEL_RELATIVE_ERROR = 0.05


def blend_with_observed(predicted: pd.Series, observed: pd.Series, observed_var: pd.Series) -> pd.Series:
    """Weight on the observed mature mean: its sampling variance against the model's source-level error variance.

    The model's error variance is estimated across sources (mean squared gap to the observed means minus their
    sampling variance), floored at ``MIN_MODEL_RELATIVE_ERROR`` of the prediction, so big mature sources follow
    their own realised value and young or small ones the model.
    """
    has = observed.notna() & observed_var.notna()
    gap = ((predicted - observed) ** 2 - observed_var)[has]
    relative = float(np.sqrt(max((gap / predicted[has].clip(lower=1e-9) ** 2).mean(), 0.0))) if has.any() else 0.0
    model_var = (max(relative, MIN_MODEL_RELATIVE_ERROR) * predicted) ** 2
    weight = (model_var / (model_var + observed_var)).where(has, 0.0)
    return weight.fillna(0.0)


def confidence_label(n_mature: pd.Series | np.ndarray) -> np.ndarray:
    """``high`` above 100 mature users, ``medium`` above 20, ``low`` otherwise."""
    n = np.asarray(n_mature)
    return np.where(n > HIGH_CONFIDENCE_MATURE, "high", np.where(n > MEDIUM_CONFIDENCE_MATURE, "medium", "low"))


def ltv_by_source(users_df: pd.DataFrame, predictions: pd.DataFrame, source_cols: Sequence[str] = SOURCE_COLS,
                  horizon: int = 90, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """Mean predicted LTV per source (a combination of ``source_cols``) beside what its mature users realised.

    ``predictions`` is ``LtvEnsemble.predict_distribution`` output for ``users_df`` (same row order). Columns:
    n_users, n_mature (users mature at ``horizon``), ltv_d{h}_mean / median / p10 / p90 (means over users),
    p_payer, observed_ltv_d{h} (mean realised by mature users), blended_ltv_d{h} (model and observed mean
    combined by their error variances, ``blend_with_observed``) with its observed_weight, top10_value_share
    (share of the source's predicted value held by its top 10% of users by predicted value), confidence
    (high / medium / low).
    """
    cols = list(source_cols)
    if len(users_df) != len(predictions):
        raise ValueError("predictions must have one row per user of users_df")
    as_of = None if as_of is None else pd.Timestamp(as_of)
    mature = is_mature(users_df, horizon, as_of)
    stats = [c for c in predictions.columns if c.startswith(f"ltv_d{horizon}_")] + ["p_payer"]
    frame = users_df[cols].reset_index(drop=True).copy()
    for c in stats:
        frame[c] = predictions[c].to_numpy()
    frame["mature"] = mature
    frame["observed"] = np.where(mature, users_df[label_column(horizon)].to_numpy(dtype=float), np.nan)
    grouped = frame.groupby(cols, observed=True, sort=True, dropna=False)
    out = grouped[stats].mean()
    out.insert(0, "n_users", grouped.size())
    out.insert(1, "n_mature", grouped["mature"].sum().astype(int))
    out[f"observed_ltv_d{horizon}"] = grouped["observed"].mean()
    observed_var = grouped["observed"].var() / out["n_mature"].where(out["n_mature"] > 1)
    weight = blend_with_observed(out[f"ltv_d{horizon}_mean"], out[f"observed_ltv_d{horizon}"], observed_var)
    out["observed_weight"] = weight
    out[f"blended_ltv_d{horizon}"] = (weight * out[f"observed_ltv_d{horizon}"].fillna(0.0)
                                      + (1 - weight) * out[f"ltv_d{horizon}_mean"])
    mean_col = f"ltv_d{horizon}_mean"
    out["top10_value_share"] = grouped[mean_col].apply(lambda v: top_share(v.to_numpy(), 0.1))
    out["confidence"] = confidence_label(out["n_mature"])
    return out.reset_index()
