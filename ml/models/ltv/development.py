"""LTV per source from every user's revenue so far, developed to the horizon along the source's value curve.

A source's mature users alone waste most of its evidence: a user aged 60 days has already shown whether and
how much they pay. As actuaries develop claims, each immature user's revenue at the last checkpoint they have
passed (day 1, 3, 7 or 30) is scaled by the source's development factor ``G(horizon) / G(checkpoint)`` of its
fitted value curve (``TimeCurve``, fitted on every user old enough to show it, so a source's pace of spending is
read before anyone in it reaches the horizon, and sparse sources borrow the portfolio's curve). Before enough
payers are old enough to fit curves, the portfolio's ratio of mature users' horizon revenue to their checkpoint
revenue develops everyone; users younger than a day, and portfolios with neither, keep the model's prediction.
Only checkpoints a user has passed at ``as_of`` are read, so nothing after ``as_of`` is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.models.ltv.curves import TimeCurve
from ml.models.ltv.features import is_mature, label_column, user_age_days

CHECKPOINT_DAYS: tuple[int, ...] = (1, 3, 7, 30)
MIN_CURVE_PAYERS = 20  # payers mature at the curve's reference checkpoint before curves are fitted


def last_checkpoint(age_days: np.ndarray, horizon: int) -> np.ndarray:
    """The latest checkpoint (< ``horizon``) each user has fully passed, or -1 for users younger than a day."""
    checkpoint = np.full(len(age_days), -1)
    for day in (d for d in CHECKPOINT_DAYS if d < horizon):
        checkpoint = np.where(age_days >= day, day, checkpoint)
    return checkpoint


def development_reference(horizon: int) -> int:
    """The last checkpoint before ``horizon``: development curves are fitted relative to it."""
    return max(d for d in CHECKPOINT_DAYS if d < horizon)


def fit_development_curve(
    users_df: pd.DataFrame, key: str, horizon: int, as_of: pd.Timestamp | None = None
) -> TimeCurve | None:
    """The value curves that develop users to ``horizon``, per ``key`` (referenced to the last checkpoint); None
    when fewer than ``MIN_CURVE_PAYERS`` payers are mature at that checkpoint.

    Fitted once (on every user, or a stratified sample of them), it lets users be developed in chunks.
    """
    ref = development_reference(horizon)
    end = pd.Timestamp(users_df["as_of_ts"].max()) if as_of is None else pd.Timestamp(as_of)
    paid = (users_df[label_column(ref)].to_numpy(dtype=float) > 0) & is_mature(users_df, ref, end)
    if paid.sum() < MIN_CURVE_PAYERS:
        return None
    return TimeCurve(ref=ref, key=key).fit(users_df, end)


def curve_factors(fitted: TimeCurve, keys: np.ndarray, horizon: int, days: Sequence[int]) -> dict[int, np.ndarray]:
    """Per user and checkpoint day, ``G(horizon) / G(day)`` of the user's source's value curve."""
    to_horizon = fitted.factor(keys, horizon)
    return {day: to_horizon / fitted.factor(keys, day) for day in days}


def portfolio_factors(label: np.ndarray, seen: dict[int, np.ndarray], mature: np.ndarray) -> dict[int, float]:
    """Mature users' total horizon revenue over their total revenue at each checkpoint (NaN if nobody paid)."""
    out = {}
    for day, revenue in seen.items():
        total = revenue[mature].sum()
        out[day] = float(label[mature].sum() / total) if total > 0 else float("nan")
    return out


def developed_user_value(
    users_df: pd.DataFrame,
    predicted: np.ndarray,
    source_cols: Sequence[str],
    horizon: int = 90,
    as_of: pd.Timestamp | None = None,
    curve: TimeCurve | None = None,
) -> pd.DataFrame:
    """Per user: ``developed`` value at ``horizon`` and how it was obtained (``basis``: mature / developed / model).

    ``predicted`` is the model's mean at ``horizon`` per user (same row order), the fallback where there is no
    development factor for the user's checkpoint. ``curve`` (``fit_development_curve``, keyed by a column of
    ``users_df``) is used instead of fitting curves on ``users_df`` itself, so a chunk of users is developed
    exactly as it would be among all of them.
    """
    cols = list(source_cols)
    age = user_age_days(users_df, as_of)
    mature = is_mature(users_df, horizon, as_of)
    checkpoint = last_checkpoint(age, horizon)
    label = users_df[label_column(horizon)].to_numpy(dtype=float)
    days = [d for d in CHECKPOINT_DAYS if d < horizon]
    seen = {d: np.where(age >= d, users_df[label_column(d)].to_numpy(dtype=float), np.nan) for d in days}
    source_code = users_df[cols].groupby(cols, observed=True, sort=True, dropna=False).ngroup().to_numpy()

    if curve is None and len(users_df):
        curve = fit_development_curve(users_df.assign(source_code=source_code), "source_code", horizon, as_of)
    factors = None
    if curve is not None:
        keys = source_code if curve.key == "source_code" else users_df[curve.key].to_numpy()
        factors = curve_factors(curve, keys, horizon, days)
    if factors is None:
        pooled = portfolio_factors(label, seen, mature)
        factors = {day: np.full(len(users_df), pooled[day]) for day in days}
    developed = np.where(mature, label, np.nan)
    for day in days:
        take = ~mature & (checkpoint == day)
        developed = np.where(take, seen[day] * factors[day], developed)
    from_model = np.isnan(developed)
    out = users_df[cols].reset_index(drop=True)
    out["developed"] = np.where(from_model, np.asarray(predicted, dtype=float), developed)
    out["basis"] = np.where(mature, "mature", np.where(from_model, "model", "developed"))
    return out


def developed_ltv_by_source(
    users_df: pd.DataFrame,
    predicted: np.ndarray,
    source_cols: Sequence[str],
    horizon: int = 90,
    as_of: pd.Timestamp | None = None,
    curve: TimeCurve | None = None,
) -> pd.DataFrame:
    """Per source: developed mean LTV at ``horizon``, the part of that mean already settled (users past the horizon:
    ``settled_ltv_d{h}``, exact) and the share of users the model had to fill in (``model_share``)."""
    cols = list(source_cols)
    per_user = developed_user_value(users_df, predicted, cols, horizon, as_of, curve)
    per_user["from_model"] = per_user["basis"] == "model"
    per_user["settled"] = np.where(per_user["basis"] == "mature", per_user["developed"], 0.0)
    grouped = per_user.groupby(cols, observed=True, sort=True, dropna=False)
    return pd.DataFrame(
        {
            f"developed_ltv_d{horizon}": grouped["developed"].mean(),
            f"settled_ltv_d{horizon}": grouped["settled"].mean(),
            "model_share": grouped["from_model"].mean(),
        }
    )
