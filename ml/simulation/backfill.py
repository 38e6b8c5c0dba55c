"""Backfill mode: N days of hourly history for a whole portfolio, written to the warehouse in one transaction,
day chunk by day chunk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.settings import PmiPaths
from ml.simulation.config import SimulationConfig
from ml.simulation.delivery import DayContext, simulate_hours
from ml.simulation.frames import SimulationFrames, chunk_frames, collect_frames, state_frame, static_frames
from ml.simulation.market import market_daily, market_for_campaigns
from ml.simulation.portfolio import Portfolio, draw_portfolio, expected_history_users
from ml.simulation.users import draw_users_and_events
from ml.warehouse.simulator_store import write_backfill

CELLS_PER_CHUNK = 4_000_000
USERS_PER_CHUNK = 1_000_000


def budget_history(config: SimulationConfig, portfolio: Portfolio, rng: np.random.Generator) -> np.ndarray:
    """Daily budgets (campaigns x days): piecewise constant around a base, changed every so often by the team."""
    n, days = config.n_campaigns, config.days
    changes = rng.random((n, days)) < 1.0 / config.budget_change_every_days
    changes[:, 0] = True
    segment = np.cumsum(changes, axis=1) - 1
    factors = np.clip(rng.lognormal(0.0, 0.45, (n, days)), 0.3, 2.5)
    factor = np.take_along_axis(factors, segment, axis=1)
    return np.round(portfolio.truth["base_daily_budget"].to_numpy()[:, None] * factor, 2)


def day_context(
    config: SimulationConfig, portfolio: Portfolio, market: pd.DataFrame, budgets: np.ndarray, day_offsets: np.ndarray
) -> DayContext:
    """The world on the given days (offsets from the history start) for every campaign."""
    dates = pd.DatetimeIndex([pd.Timestamp(config.start_date) + pd.Timedelta(days=int(d)) for d in day_offsets])
    launch = pd.to_datetime(portfolio.campaigns["launched_at"]).to_numpy().astype("datetime64[D]")
    since_launch = (dates.to_numpy().astype("datetime64[D]")[None, :] - launch[:, None]).astype(np.int64)
    return DayContext(
        daily_budget=budgets,
        days_since_launch=since_launch,
        market=market_for_campaigns(market, portfolio.campaigns, dates),
        day_of_week=dates.dayofweek.to_numpy(),
        years_since_start=day_offsets / 365.25,
    )


@dataclass
class Backfill:
    """A backfill's tables: the small ones whole, the hourly and user-level ones as a stream of day chunks.

    Memory: one chunk at a time, at most CELLS_PER_CHUNK campaign-hours and about USERS_PER_CHUNK users, whatever
    the number of campaigns, days or users; only ``static`` (campaigns, market, budgets) grows with the portfolio.
    """

    config: SimulationConfig
    static: dict[str, pd.DataFrame]
    chunks: Iterator[dict[str, pd.DataFrame]]
    now_s: int

    def state(self, next_user_seq: int, next_event_seq: int) -> pd.DataFrame:
        return state_frame(self.config, self.now_s, next_user_seq, next_event_seq)


def days_per_chunk(config: SimulationConfig, portfolio: Portfolio) -> int:
    """Days simulated together: within the cell budget and about USERS_PER_CHUNK expected users (the default
    portfolio fits in one chunk, so its tables are what they were before chunking)."""
    users_per_day = expected_history_users(config, portfolio).sum() / config.days
    by_cells = CELLS_PER_CHUNK // (config.n_campaigns * 24)
    return int(max(1, min(by_cells, USERS_PER_CHUNK // max(users_per_day, 1.0))))


def _chunks(
    config: SimulationConfig,
    portfolio: Portfolio,
    market: pd.DataFrame,
    budgets: np.ndarray,
    rng: np.random.Generator,
    now_s: int,
) -> Iterator[dict[str, pd.DataFrame]]:
    start_s = int(pd.Timestamp(config.start_date).timestamp())
    chunk_days = days_per_chunk(config, portfolio)
    next_user = next_event = 0
    for chunk_no, first_day in enumerate(range(0, config.days, chunk_days)):
        offsets = np.arange(first_day, min(config.days, first_day + chunk_days))
        ctx = day_context(config, portfolio, market, budgets[:, offsets], offsets)
        cells = simulate_hours(config, portfolio.truth, ctx, np.arange(24), rng)
        campaign_idx, day_idx, hour = np.nonzero(cells["live"])
        hour_s = start_s + (offsets[day_idx] * 24 + hour) * 3600
        hourly = pd.DataFrame(
            {
                "campaign_idx": campaign_idx,
                "hour_s": hour_s,
                **{k: cells[k][campaign_idx, day_idx, hour] for k in ("spend", "impressions", "clicks", "conversions")},
            }
        )
        users = draw_users_and_events(
            portfolio.truth,
            campaign_idx,
            hour_s,
            hourly["conversions"].to_numpy(),
            config.revenue_horizon_days,
            rng,
            next_user,
            next_event,
        )
        next_user += len(users.user_seq)
        next_event += len(users.event_seq)
        yield chunk_frames(config, portfolio, hourly, users, now_s, chunk_no)


def start_backfill(config: SimulationConfig) -> Backfill:
    """Draw the portfolio, market and budgets; the hourly and user tables follow lazily, chunk by chunk."""
    rng = np.random.default_rng([config.seed, 4])
    portfolio = draw_portfolio(config)
    market = market_daily(config.seed, config.start_date, config.end_date)
    budgets = budget_history(config, portfolio, rng)
    now_s = int(pd.Timestamp(config.start_date).timestamp()) + config.days * 86_400
    return Backfill(
        config,
        static_frames(config, portfolio, market, budgets),
        _chunks(config, portfolio, market, budgets, rng, now_s),
        now_s,
    )


def simulate_backfill(config: SimulationConfig) -> SimulationFrames:
    """The whole backfill in memory (small simulations: tests, benchmarks, the backtest's world)."""
    backfill = start_backfill(config)
    return collect_frames(config, backfill.static, backfill.chunks, backfill.now_s)


def run_backfill(config: SimulationConfig, paths: PmiPaths) -> dict[str, int]:
    """Simulate and replace the warehouse's raw, truth and simulator-state tables atomically, streaming the chunks
    into DuckDB (memory as for one chunk); return the raw tables' row counts."""
    return write_backfill(paths.ensure().warehouse, start_backfill(config))


def history_end(config: SimulationConfig) -> dt.datetime:
    """First hour after the backfilled history (where a live step continues)."""
    return dt.datetime.combine(config.end_date, dt.time(0))
