"""Daily market feed per network x geo: CPM trend, competition, seasonality, economy and sentiment.

Every value is a pure function of (seed, date, network, geo): the backfill and the live step agree on
any day without sharing state, and extending the history never changes days already written.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ml.simulation import catalog

_EPOCH = dt.date(2000, 1, 1)
_SMOOTHING_DAYS = 14


def holiday_uplift(dates: pd.DatetimeIndex) -> np.ndarray:
    """Demand uplift on holidays and the two days before them (shopping run-up)."""
    uplift = np.zeros(len(dates))
    for month, day, lift in catalog.HOLIDAYS:
        for lead, share in ((0, 1.0), (1, 0.5), (2, 0.25)):
            hit = ((dates + pd.Timedelta(days=lead)).month == month) & ((dates + pd.Timedelta(days=lead)).day == day)
            uplift = np.maximum(uplift, np.where(hit, lift * share, 0.0))
    return uplift


def seasonality(dates: pd.DatetimeIndex) -> np.ndarray:
    """Yearly cycle peaking in Q4 with holiday spikes; mean close to 1."""
    day_of_year = dates.dayofyear.to_numpy()
    return 1.0 + 0.12 * np.cos(2 * np.pi * (day_of_year - 345) / 365.25) + holiday_uplift(dates)


def _daily_shocks(seed: int, day_numbers: np.ndarray, n_markets: int) -> np.ndarray:
    """Standard-normal shocks keyed by the day number, shape (days, markets, 4)."""
    return np.stack([np.random.default_rng([seed, 2, int(d)]).standard_normal((n_markets, 4)) for d in day_numbers])


def market_daily(seed: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Market indices for every day in [start, end) and every network x geo, in the raw contract's columns."""
    if end <= start:
        return pd.DataFrame(
            columns=[
                "date",
                "network",
                "geo",
                "cpm_index",
                "competition_index",
                "seasonality_index",
                "economic_index",
                "sentiment_index",
            ]
        )
    networks = catalog.NETWORKS.index.to_numpy()
    geos = catalog.GEOS.index.to_numpy()
    n_markets = len(networks) * len(geos)
    first = (start - _EPOCH).days - _SMOOTHING_DAYS + 1
    day_numbers = np.arange(first, (end - _EPOCH).days)
    shocks = _daily_shocks(seed, day_numbers, n_markets)
    # Moving averages of shocks give smooth, autocorrelated but stationary indices.
    kernel = np.ones(_SMOOTHING_DAYS) / np.sqrt(_SMOOTHING_DAYS)
    cums = np.cumsum(np.concatenate([np.zeros((1, n_markets, 4)), shocks]), axis=0)
    smooth = (cums[_SMOOTHING_DAYS:] - cums[:-_SMOOTHING_DAYS]) * kernel[0]
    dates = pd.date_range(start, end - dt.timedelta(days=1), freq="D")
    season = seasonality(dates)[:, None]
    years = ((dates - pd.Timestamp(_EPOCH)).days.to_numpy() / 365.25)[:, None]
    holiday = holiday_uplift(dates)[:, None]
    cpm_index = (1.0 + 0.02 * (years - 26)) * (1 + 0.6 * (season - 1)) * np.exp(0.05 * smooth[..., 0])
    competition = (1.0 + 0.8 * holiday) * np.exp(0.08 * smooth[..., 1])
    economic = 1.0 + 0.03 * np.sin(2 * np.pi * years / 4) + 0.02 * smooth[..., 2]
    sentiment = 1.0 + 0.05 * smooth[..., 3]
    n_days = len(dates)
    return pd.DataFrame(
        {
            "date": np.repeat(dates.date, n_markets),
            "network": np.tile(np.repeat(networks, len(geos)), n_days),
            "geo": np.tile(np.tile(geos, len(networks)), n_days),
            "cpm_index": np.round(cpm_index.ravel(), 6),
            "competition_index": np.round(competition.ravel(), 6),
            "seasonality_index": np.round(np.broadcast_to(season, (n_days, n_markets)).ravel(), 6),
            "economic_index": np.round(economic.ravel(), 6),
            "sentiment_index": np.round(sentiment.ravel(), 6),
        }
    )


def market_for_campaigns(
    market: pd.DataFrame, campaigns: pd.DataFrame, dates: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    """Index arrays of shape (campaigns, days) aligned to each campaign's network x geo."""
    frame = market.assign(date=pd.to_datetime(market["date"])).set_index(["network", "geo", "date"])
    keys = pd.MultiIndex.from_arrays(
        [
            np.repeat(campaigns["network"].to_numpy(), len(dates)),
            np.repeat(campaigns["geo"].to_numpy(), len(dates)),
            np.tile(dates, len(campaigns)),
        ]
    )
    aligned = frame.reindex(keys)
    if aligned.isna().any().any():
        raise ValueError("market feed is missing days for some campaigns' network x geo")
    shape = (len(campaigns), len(dates))
    return {
        col: aligned[col].to_numpy().reshape(shape)
        for col in ("cpm_index", "competition_index", "seasonality_index", "economic_index", "sentiment_index")
    }
