"""Chain-ladder LTV per source: every user's revenue so far, developed to the horizon by the source's own curve.

A source's mature users alone waste most of its evidence: a user aged 60 days has already shown whether and
how much they pay. As actuaries develop claims, each immature user's revenue at the last complete checkpoint
(day 1, 3, 7 or 30) is scaled by the source's development factor (sum of mature users' revenue at the horizon
over their sum at that checkpoint, shrunk toward the portfolio's factor as if ``PRIOR_MATURE_USERS`` typical users
of the portfolio were added, so a source with a handful of mature users cannot multiply by a wild ratio, and a
source without any takes the portfolio's); users younger than a day, and portfolios without mature users, keep
the model's prediction. Only checkpoints the user has
passed at ``as_of`` are read, so nothing after ``as_of`` is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.models.ltv.features import is_mature, label_column, user_age_days

CHECKPOINT_DAYS: tuple[int, ...] = (1, 3, 7, 30)
PRIOR_MATURE_USERS = 200.0


def development_factors(sums: pd.DataFrame, counts: pd.Series, day: int,
                        prior_mature_users: float = PRIOR_MATURE_USERS) -> tuple[pd.Series, float]:
    """Horizon revenue over checkpoint revenue per source, credibility-weighted toward the portfolio's ratio, and
    that portfolio ratio (what a source without mature users gets; NaN when no mature user paid by the
    checkpoint)."""
    checkpoint = sums[f"revenue_d{day}"]
    pooled_checkpoint = checkpoint.sum() / max(counts.sum(), 1)  # per mature user
    if pooled_checkpoint <= 0:
        return pd.Series(np.nan, index=sums.index), float("nan")
    pooled_factor = float(sums["label"].sum() / checkpoint.sum())
    prior_mass = prior_mature_users * pooled_checkpoint
    by_source = (sums["label"] + prior_mass * pooled_factor) / (checkpoint + prior_mass)
    return by_source.where(checkpoint + prior_mass > 0), pooled_factor


def last_checkpoint(age_days: np.ndarray, horizon: int) -> np.ndarray:
    """The latest checkpoint (< ``horizon``) each user has fully passed, or -1 for users younger than a day."""
    checkpoint = np.full(len(age_days), -1)
    for day in (d for d in CHECKPOINT_DAYS if d < horizon):
        checkpoint = np.where(age_days >= day, day, checkpoint)
    return checkpoint


def developed_user_value(users_df: pd.DataFrame, predicted: np.ndarray, source_cols: Sequence[str],
                         horizon: int = 90, as_of: pd.Timestamp | None = None,
                         prior_mature_users: float = PRIOR_MATURE_USERS) -> pd.DataFrame:
    """Per user: ``developed`` value at ``horizon`` and how it was obtained (``basis``: mature / developed / model).

    ``predicted`` is the model's mean at ``horizon`` per user (same row order), the fallback where there is no
    development factor for the user's checkpoint.
    """
    cols = list(source_cols)
    age = user_age_days(users_df, as_of)
    mature = is_mature(users_df, horizon, as_of)
    checkpoint = last_checkpoint(age, horizon)
    frame = users_df[cols].reset_index(drop=True).copy()
    label = users_df[label_column(horizon)].to_numpy(dtype=float)
    frame["label"] = np.where(mature, label, 0.0)
    days = [d for d in CHECKPOINT_DAYS if d < horizon]
    for day in days:
        frame[f"revenue_d{day}"] = np.where(age >= day, users_df[label_column(day)].to_numpy(dtype=float), np.nan)

    matured = frame[mature].groupby(cols, observed=True, dropna=False)
    sums = matured[["label", *(f"revenue_d{d}" for d in days)]].sum()
    counts = matured.size()
    developed = np.where(mature, label, np.nan)
    keys = pd.MultiIndex.from_frame(frame[cols])
    for day in days:
        factor, pooled = development_factors(sums, counts, day, prior_mature_users)
        user_factor = factor.reindex(keys if len(cols) > 1 else frame[cols[0]]).fillna(pooled).to_numpy()
        take = ~mature & (checkpoint == day)
        developed = np.where(take, frame[f"revenue_d{day}"].to_numpy() * user_factor, developed)
    from_model = np.isnan(developed)
    out = frame[cols].copy()
    out["developed"] = np.where(from_model, np.asarray(predicted, dtype=float), developed)
    out["basis"] = np.where(mature, "mature", np.where(from_model, "model", "developed"))
    return out


def developed_ltv_by_source(users_df: pd.DataFrame, predicted: np.ndarray, source_cols: Sequence[str],
                            horizon: int = 90, as_of: pd.Timestamp | None = None,
                            prior_mature_users: float = PRIOR_MATURE_USERS) -> pd.DataFrame:
    """Per source: developed mean LTV at ``horizon``, its sampling variance, and the share of users the model
    had to fill in (``model_share``)."""
    cols = list(source_cols)
    per_user = developed_user_value(users_df, predicted, cols, horizon, as_of, prior_mature_users)
    per_user["from_model"] = per_user["basis"] == "model"
    grouped = per_user.groupby(cols, observed=True, sort=True, dropna=False)
    out = pd.DataFrame({f"developed_ltv_d{horizon}": grouped["developed"].mean(),
                        "developed_var": grouped["developed"].var() / grouped.size(),
                        "model_share": grouped["from_model"].mean()})
    return out
