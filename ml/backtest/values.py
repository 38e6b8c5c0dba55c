"""Value per conversion from observed revenue only: revenue to date over the share of value a user of that age has
shown (a maturity curve measured on the oldest users), shrunk toward the portfolio mean (empirical Bayes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

VALUE_HORIZON_DAYS = 180  # pmi values a user at their 180-day revenue (the d180 LTV)
SECONDS_PER_DAY = 86_400.0


def maturity_curve(users: pd.DataFrame, events: pd.DataFrame, now: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Share of 180-day revenue realised by each age, from users old enough to have shown all of it."""
    install = users.set_index("user_seq")["install_ts"]
    age = (now - install).dt.total_seconds() / SECONDS_PER_DAY
    mature = age[age >= VALUE_HORIZON_DAYS].index
    ev = events[events["user_seq"].isin(mature)]
    if ev.empty or ev["revenue"].sum() <= 0:
        raise ValueError(
            f"no revenue from users older than {VALUE_HORIZON_DAYS} days: the history is too short "
            f"to tell what a user is worth"
        )
    delay = (ev["event_ts"] - install.reindex(ev["user_seq"]).to_numpy()).dt.total_seconds().to_numpy()
    order = np.argsort(delay)
    share = np.cumsum(ev["revenue"].to_numpy()[order]) / ev["revenue"].sum()
    return delay[order] / SECONDS_PER_DAY, share


def realised_share(curve: tuple[np.ndarray, np.ndarray], age_days: np.ndarray) -> np.ndarray:
    """G(age): the maturity curve read at each age (1 from the horizon on)."""
    delays, share = curve
    position = np.searchsorted(delays, np.minimum(age_days, VALUE_HORIZON_DAYS), side="right")
    return np.where(position > 0, share[np.maximum(position - 1, 0)], 0.0)


def value_per_conversion(
    users: pd.DataFrame, events: pd.DataFrame, campaign_ids: np.ndarray, now: pd.Timestamp, min_age_days: float
) -> np.ndarray:
    """Expected 180-day value of a campaign's next user, one per campaign of `campaign_ids`.

    Each campaign's estimate is its users' revenue to date over the value share their ages predict (users
    younger than `min_age_days` say too little); heavy-tailed payer values make small campaigns noisy, so each
    estimate is shrunk toward the pooled one by its sampling variance against the between-campaign variance.
    """
    curve = maturity_curve(users, events, now)
    revenue = events[events["event_ts"] < now].groupby("user_seq")["revenue"].sum()
    age = (now - users["install_ts"]).dt.total_seconds().to_numpy() / SECONDS_PER_DAY
    frame = pd.DataFrame(
        {
            "campaign_id": users["campaign_id"].to_numpy(),
            "revenue": revenue.reindex(users["user_seq"]).fillna(0.0).to_numpy(),
            "exposure": realised_share(curve, age),
        }
    )[age >= min_age_days]
    frame["per_user"] = frame["revenue"] / np.maximum(frame["exposure"], 1e-9)
    per_campaign = frame.groupby("campaign_id").agg(revenue=("revenue", "sum"), exposure=("exposure", "sum"))
    per_campaign = per_campaign.reindex(campaign_ids).fillna(0.0)
    pooled = per_campaign["revenue"].sum() / max(per_campaign["exposure"].sum(), 1e-9)
    within = float(frame["per_user"].var()) if len(frame) > 1 else 0.0
    exposure = per_campaign["exposure"].to_numpy()
    own = np.where(exposure > 0, per_campaign["revenue"].to_numpy() / np.maximum(exposure, 1e-9), pooled)
    sampling = np.where(exposure > 0, within / np.maximum(exposure, 1e-9), np.inf)
    seen = np.isfinite(sampling)
    between = max(float(np.var(own[seen]) - np.mean(sampling[seen])) if seen.sum() > 1 else 0.0, 1e-12)
    weight = between / (between + sampling)
    return weight * own + (1.0 - weight) * pooled
