"""Turn simulated arrays into the raw-contract tables, the ground-truth tables and the simulator's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.simulation.config import SimulationConfig
from ml.simulation.portfolio import Portfolio
from ml.simulation.users import EVENT_TYPES, UsersAndEvents


@dataclass
class SimulationFrames:
    """Everything a simulation writes: ``raw`` (the contract), ``truth`` (for evaluation) and ``sim`` (state)."""

    raw: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    sim: dict[str, pd.DataFrame] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {f"raw.{name}": len(frame) for name, frame in self.raw.items()}


def _timestamps(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(np.asarray(seconds, dtype=np.int64), unit="s"))


def user_frames(
    campaign_ids: np.ndarray, campaigns: pd.DataFrame, truth: pd.DataFrame, users: UsersAndEvents, now_s: int
) -> dict[str, pd.DataFrame]:
    """Users, their events already happened (<= now), events still pending, and the truth of each user's value."""
    platform = campaigns["platform"].to_numpy()[users.user_campaign]
    geo = campaigns["geo"].to_numpy()[users.user_campaign]
    user_frame = pd.DataFrame(
        {
            "user_seq": users.user_seq,
            "campaign_id": campaign_ids[users.user_campaign],
            "install_ts": _timestamps(users.install_s),
            "platform": platform,
            "geo": geo,
        }
    )
    events = pd.DataFrame(
        {
            "event_seq": users.event_seq,
            "user_seq": users.user_seq[users.event_user],
            "event_ts": _timestamps(users.event_s),
            "revenue": users.event_revenue / 100.0,
            "event_type": EVENT_TYPES[users.event_type],
        }
    )
    happened = users.event_s < now_s
    user_truth = pd.DataFrame(
        {
            "user_seq": users.user_seq,
            "is_payer": users.is_payer,
            "true_value": np.round(users.true_value, 4),
            "expected_value": truth["expected_value_per_user"].to_numpy()[users.user_campaign],
        }
    )
    return {
        "users": user_frame,
        "revenue_events": events[happened].reset_index(drop=True),
        "pending_revenue_events": events[~happened].reset_index(drop=True),
        "user_value": user_truth,
    }


def in_hour_revenue(users: UsersAndEvents) -> pd.DataFrame:
    """Revenue the network reports with each hour's conversions: events inside the install hour."""
    install_hour = users.install_s // 3600 * 3600
    in_hour = users.event_s[...] < install_hour[users.event_user] + 3600
    user_idx = users.event_user[in_hour]
    frame = pd.DataFrame(
        {
            "campaign_idx": users.user_campaign[user_idx],
            "hour_s": install_hour[user_idx],
            "revenue_cents": users.event_revenue[in_hour],
        }
    )
    return frame.groupby(["campaign_idx", "hour_s"], as_index=False)["revenue_cents"].sum()


def hourly_frame(campaign_ids: np.ndarray, hourly: pd.DataFrame, revenue: pd.DataFrame) -> pd.DataFrame:
    """The raw ``campaign_hourly`` table from delivery cells and in-hour revenue."""
    merged = hourly.merge(revenue, on=["campaign_idx", "hour_s"], how="left")
    return pd.DataFrame(
        {
            "campaign_id": campaign_ids[merged["campaign_idx"].to_numpy()],
            "hour_ts": _timestamps(merged["hour_s"].to_numpy()),
            "spend": merged["spend"].to_numpy(),
            "impressions": merged["impressions"].to_numpy(),
            "clicks": merged["clicks"].to_numpy(),
            "conversions": merged["conversions"].to_numpy(),
            "revenue": merged["revenue_cents"].fillna(0).to_numpy() / 100.0,
        }
    )


def corrupt_clicks(hourly: pd.DataFrame, share: float, seed: int, chunk_no: int = 0) -> pd.DataFrame:
    """Break ``share`` of the hourly rows (clicks = impressions + 1) so tests can prove the quality gates block them."""
    n_bad = int(round(share * len(hourly)))
    if n_bad == 0:
        return hourly
    rows = np.random.default_rng([seed, 99, chunk_no]).choice(len(hourly), size=n_bad, replace=False)
    broken = hourly.copy()
    broken.loc[rows, "clicks"] = broken.loc[rows, "impressions"] + 1
    return broken


def budget_frame(config: SimulationConfig, portfolio: Portfolio, budgets: np.ndarray) -> pd.DataFrame:
    """Rows of ``raw.budgets``: one at launch (or history start) and one at every change after it."""
    launch_day = (pd.to_datetime(portfolio.campaigns["launched_at"]) - pd.Timestamp(config.start_date)).dt.days
    first = np.maximum(launch_day.to_numpy(), 0)[:, None]
    day = np.arange(config.days)[None, :]
    changed = np.concatenate([np.ones((len(budgets), 1), bool), budgets[:, 1:] != budgets[:, :-1]], axis=1)
    keep = (day >= first) & (changed | (day == first))
    c, d = np.nonzero(keep)
    return pd.DataFrame(
        {
            "campaign_id": portfolio.campaigns["campaign_id"].to_numpy()[c],
            "effective_ts": pd.Timestamp(config.start_date) + pd.to_timedelta(d, unit="D"),
            "daily_budget": budgets[c, d],
            "source": "history",
        }
    )


def static_frames(
    config: SimulationConfig, portfolio: Portfolio, market: pd.DataFrame, budgets: np.ndarray
) -> dict[str, pd.DataFrame]:
    """The tables whose size grows with campaigns and days only (never with users), keyed ``schema.table``."""
    return {
        "raw.campaigns": portfolio.campaigns,
        "raw.market_daily": market,
        "raw.budgets": budget_frame(config, portfolio, budgets),
        "truth.campaign_truth": portfolio.truth,
    }


def chunk_frames(
    config: SimulationConfig,
    portfolio: Portfolio,
    hourly: pd.DataFrame,
    users: UsersAndEvents,
    now_s: int,
    chunk_no: int,
) -> dict[str, pd.DataFrame]:
    """One day chunk's hourly rows, users, events (happened and pending) and user truth, keyed ``schema.table``."""
    ids = portfolio.campaigns["campaign_id"].to_numpy()
    uf = user_frames(ids, portfolio.campaigns, portfolio.truth, users, now_s)
    campaign_hourly = hourly_frame(ids, hourly, in_hour_revenue(users))
    return {
        "raw.campaign_hourly": corrupt_clicks(campaign_hourly, config.corrupt_click_share, config.seed, chunk_no),
        "raw.users": uf["users"],
        "raw.revenue_events": uf["revenue_events"],
        "truth.user_value": uf["user_value"],
        "sim.pending_revenue_events": uf["pending_revenue_events"],
    }


def state_frame(config: SimulationConfig, now_s: int, next_user_seq: int, next_event_seq: int) -> pd.DataFrame:
    """The live mode's clock and id counters after a backfill."""
    return pd.DataFrame(
        {
            "config_json": [config.model_dump_json()],
            "next_hour_ts": [pd.Timestamp(now_s, unit="s")],
            "next_user_seq": [next_user_seq],
            "next_event_seq": [next_event_seq],
        }
    )


def collect_frames(
    config: SimulationConfig, static: dict[str, pd.DataFrame], chunks: Iterable[dict[str, pd.DataFrame]], now_s: int
) -> SimulationFrames:
    """Concatenate a backfill's chunks in memory (small simulations, tests and benchmarks)."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for chunk in chunks:
        for name, frame in chunk.items():
            parts.setdefault(name, []).append(frame)
    tables = static | {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    events = len(tables["raw.revenue_events"]) + len(tables["sim.pending_revenue_events"])
    tables["sim.state"] = state_frame(config, now_s, len(tables["raw.users"]), events)
    grouped: dict[str, dict[str, pd.DataFrame]] = {"raw": {}, "truth": {}, "sim": {}}
    for name, frame in tables.items():
        schema, table = name.split(".")
        grouped[schema][table] = frame
    raw_order = ("campaigns", "campaign_hourly", "users", "revenue_events", "market_daily", "budgets")
    return SimulationFrames(raw={t: grouped["raw"][t] for t in raw_order}, truth=grouped["truth"], sim=grouped["sim"])
