"""Simulator ground truth of user value by age, for benchmarks and tests only (never a model input).

The simulator gives each payer a log-normal value split over ``1 + Poisson(events_per_payer - 1)`` events with
flat Dirichlet weights; each event lands after a delay drawn from an exponential with the campaign's time
constant truncated at the revenue horizon, except that the first event falls on day 0 with probability
``DAY0_FIRST_EVENT_SHARE``. So the expected share of a payer's value realised before day ``d >= 1`` is
``F(d) + s * E[1/n] * (1 - F(d))`` with ``F`` the truncated-exponential CDF and ``E[1/n] = (1 - e^-l) / l``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.simulation.users import DAY0_FIRST_EVENT_SHARE, SECONDS_PER_DAY, draw_users_and_events


def realised_value_sql(horizon_days: int = 90) -> str:
    """Every simulated user's value before ``horizon_days`` as it will be realised (columns user_id,
    realised_d{h}): the warehouse's revenue events plus those the simulator holds for later hours."""
    h = int(horizon_days)
    return f"""
    with events as (
        select user_id, event_ts, revenue from raw.revenue_events
        union all select 'u' || user_seq, cast(event_ts as timestamp), revenue from sim.pending_revenue_events
    )
    select u.user_id,
           coalesce(sum(events.revenue) filter (where events.event_ts < u.install_ts + interval {h} day), 0)
               as realised_d{h}
    from raw.users u left join events on events.user_id = u.user_id
    group by u.user_id
    """


def expected_value_share_by_day(campaign_truth: pd.DataFrame, day: float, horizon_days: int = 180) -> np.ndarray:
    """Expected share of a payer's total value realised with days_since_install < ``day`` (day >= 1), per campaign."""
    tau = campaign_truth["value_time_constant_days"].to_numpy(dtype=float)
    lam = campaign_truth["events_per_payer"].to_numpy(dtype=float) - 1.0
    inv_n = np.where(lam > 1e-9, -np.expm1(-lam) / np.maximum(lam, 1e-9), 1.0)
    cdf = np.clip(-np.expm1(-min(day, horizon_days) / tau) / -np.expm1(-horizon_days / tau), 0.0, 1.0)
    return cdf + DAY0_FIRST_EVENT_SHARE * inv_n * (1.0 - cdf)


def expected_ltv(campaign_truth: pd.DataFrame, day: float, horizon_days: int = 180) -> pd.Series:
    """True expected revenue per user before ``day`` (e.g. 90 for ltv_d90), indexed by campaign_id."""
    share = expected_value_share_by_day(campaign_truth, day, horizon_days)
    value = campaign_truth["payer_share"].to_numpy() * campaign_truth["mean_payer_value"].to_numpy() * share
    return pd.Series(value, index=campaign_truth["campaign_id"].to_numpy(), name=f"true_ltv_d{day:g}")


def monte_carlo_ltv(
    campaign_truth: pd.DataFrame, day: float, users_per_campaign: int = 200_000, horizon_days: int = 180, seed: int = 0
) -> pd.Series:
    """Mean revenue per user before ``day`` by simulating ``users_per_campaign`` fresh users per campaign."""
    n = len(campaign_truth)
    rng = np.random.default_rng(seed)
    users = draw_users_and_events(
        campaign_truth, np.arange(n), np.zeros(n, dtype=np.int64), np.full(n, users_per_campaign), horizon_days, rng
    )
    early = users.event_s - users.install_s[users.event_user] < day * SECONDS_PER_DAY
    cents = np.bincount(users.user_campaign[users.event_user[early]], weights=users.event_revenue[early], minlength=n)
    return pd.Series(
        cents / 100.0 / users_per_campaign, index=campaign_truth["campaign_id"].to_numpy(), name=f"mc_ltv_d{day:g}"
    )
