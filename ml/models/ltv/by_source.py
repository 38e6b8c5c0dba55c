"""LTV per acquisition source, with a confidence label from how many of its users are mature enough to check it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.models.ltv.curves import TimeCurve
from ml.models.ltv.development import developed_ltv_by_source
from ml.models.ltv.evaluation import top_share
from ml.models.ltv.features import is_mature, label_column

SOURCE_COLS: tuple[str, ...] = ("network", "platform", "geo", "creative_format")
HIGH_CONFIDENCE_MATURE = 100
MEDIUM_CONFIDENCE_MATURE = 20


def confidence_label(n_mature: pd.Series | np.ndarray) -> np.ndarray:
    """``high`` above 100 mature users, ``medium`` above 20, ``low`` otherwise."""
    n = np.asarray(n_mature)
    return np.where(n > HIGH_CONFIDENCE_MATURE, "high", np.where(n > MEDIUM_CONFIDENCE_MATURE, "medium", "low"))


def ltv_by_source(
    users_df: pd.DataFrame,
    predictions: pd.DataFrame,
    source_cols: Sequence[str] = SOURCE_COLS,
    horizon: int = 90,
    as_of: pd.Timestamp | str | None = None,
    curve: TimeCurve | None = None,
) -> pd.DataFrame:
    """Mean predicted LTV per source (a combination of ``source_cols``) beside what its users have realised so far.

    ``predictions`` is ``LtvEnsemble.predict_distribution`` output for ``users_df`` (same row order). Columns:
    n_users, n_mature (users mature at ``horizon``), ltv_d{h}_mean / median / p10 / p90 (means over users),
    p_payer, observed_ltv_d{h} (mean realised by mature users), blended_ltv_d{h} (every user's revenue so far
    developed to the horizon, the model's prediction for users with no evidence yet: ``development``), of which
    settled_ltv_d{h} is the exact part of users past the horizon, with observed_weight (the share of users whose
    own revenue it rests on), top10_value_share (share of the source's predicted value held by its top 10% of
    users by predicted value), confidence
    (high / medium / low). ``curve``: development curves fitted beforehand (``fit_development_curve``), for
    scoring users in chunks.
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
    developed = developed_ltv_by_source(
        users_df, predictions[f"ltv_d{horizon}_mean"].to_numpy(), cols, horizon, as_of, curve
    )
    out["observed_weight"] = 1.0 - developed["model_share"]
    out[f"blended_ltv_d{horizon}"] = developed[f"developed_ltv_d{horizon}"]
    out[f"settled_ltv_d{horizon}"] = developed[f"settled_ltv_d{horizon}"]
    mean_col = f"ltv_d{horizon}_mean"
    out["top10_value_share"] = grouped[mean_col].apply(lambda v: top_share(v.to_numpy(), 0.1))
    out["confidence"] = confidence_label(out["n_mature"])
    return out.reset_index()
