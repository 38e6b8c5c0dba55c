"""Users, one per conversion, and their revenue over the following months.

Value is zero-inflated (only payers spend) and heavy-tailed (log-normal), realised along a time curve
(a burst on day 0, then an exponential decay), and depends on each campaign's network, platform and geo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SECONDS_PER_DAY = 86_400
DAY0_FIRST_EVENT_SHARE = 0.4
DAY0_MEAN_DELAY_SECONDS = 6 * 3600
EVENT_TYPES = np.array(["purchase", "subscription", "ad"])


@dataclass(frozen=True)
class UsersAndEvents:
    """Integer-coded users and events; ids are sequence numbers, times are epoch seconds (UTC)."""

    user_seq: np.ndarray
    user_campaign: np.ndarray  # index into the portfolio
    install_s: np.ndarray
    is_payer: np.ndarray
    true_value: np.ndarray  # the user's total value over the horizon (before rounding to cents)
    event_seq: np.ndarray
    event_user: np.ndarray  # index into the user arrays
    event_s: np.ndarray
    event_revenue: np.ndarray  # cents
    event_type: np.ndarray  # index into EVENT_TYPES


def _truncated_exponential(rng: np.random.Generator, tau: np.ndarray, upper: float) -> np.ndarray:
    """Draws from Exp(tau) conditioned on < upper, by inverting the CDF."""
    u = rng.random(tau.shape)
    return -tau * np.log1p(-u * (1.0 - np.exp(-upper / tau)))


def draw_users_and_events(
    truth: pd.DataFrame,
    conv_campaign: np.ndarray,
    conv_hour_s: np.ndarray,
    conv_count: np.ndarray,
    horizon_days: int,
    rng: np.random.Generator,
    first_user_seq: int = 0,
    first_event_seq: int = 0,
) -> UsersAndEvents:
    """Expand conversion counts per (campaign, hour start) into users with their full revenue schedule."""
    counts = np.asarray(conv_count, dtype=np.int64)
    n_users = int(counts.sum())
    campaign = np.repeat(np.asarray(conv_campaign, dtype=np.int64), counts)
    install = np.repeat(np.asarray(conv_hour_s, dtype=np.int64), counts) + rng.integers(0, 3600, n_users)

    payer = rng.random(n_users) < truth["payer_share"].to_numpy()[campaign]
    value = np.where(
        payer,
        rng.lognormal(
            truth["payer_value_log_mean"].to_numpy()[campaign], truth["payer_value_log_sd"].to_numpy()[campaign]
        ),
        0.0,
    )
    payer_idx = np.flatnonzero(payer)
    payer_campaign = campaign[payer_idx]
    n_events = 1 + rng.poisson(truth["events_per_payer"].to_numpy()[payer_campaign] - 1.0)
    event_user = np.repeat(payer_idx, n_events)
    event_campaign = campaign[event_user]
    first = np.zeros(len(event_user), dtype=bool)
    first[np.cumsum(n_events) - n_events] = True

    horizon_s = horizon_days * SECONDS_PER_DAY
    tau_s = truth["value_time_constant_days"].to_numpy()[event_campaign] * SECONDS_PER_DAY
    delay = _truncated_exponential(rng, tau_s, horizon_s)
    day0 = first & (rng.random(len(event_user)) < DAY0_FIRST_EVENT_SHARE)
    delay = np.where(
        day0, _truncated_exponential(rng, np.full(len(delay), DAY0_MEAN_DELAY_SECONDS), SECONDS_PER_DAY), delay
    )
    event_s = install[event_user] + np.minimum(delay.astype(np.int64), horizon_s - 1)

    # Split each payer's value across their events with flat Dirichlet weights, in whole cents (>= 1 cent).
    weights = rng.gamma(1.0, 1.0, len(event_user))
    totals = np.bincount(event_user, weights=weights, minlength=n_users)
    cents = np.maximum(np.round(value[event_user] * weights / totals[event_user] * 100.0), 1).astype(np.int64)

    ad_share = truth["ad_event_share"].to_numpy()[event_campaign]
    u = rng.random(len(event_user))
    event_type = np.where(u < ad_share, 2, np.where(u < ad_share + (1 - ad_share) * 0.2, 1, 0))
    return UsersAndEvents(
        user_seq=first_user_seq + np.arange(n_users, dtype=np.int64),
        user_campaign=campaign,
        install_s=install,
        is_payer=payer,
        true_value=value,
        event_seq=first_event_seq + np.arange(len(event_user), dtype=np.int64),
        event_user=event_user,
        event_s=event_s,
        event_revenue=cents,
        event_type=event_type,
    )
