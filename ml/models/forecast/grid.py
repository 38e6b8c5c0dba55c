"""Dense campaign x day matrices built from campaign-day rows, so trailing and forward window sums at any
forecast origin are two array lookups instead of per-campaign loops.

Convention: a forecast origin is the START of day ``t`` (an index into ``dates``; ``t == len(dates)`` is the day
after the last row). What is known at the origin is everything dated before ``t``: trailing windows cover days
``t - N .. t - 1``, forward (target) windows cover days ``t .. t + h - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SUMMED = ("spend", "impressions", "clicks", "conversions", "cohort_revenue_d7", "is_active")
LEVELS = ("daily_budget", "cpm_index", "competition_index", "seasonality_index", "economic_index", "sentiment_index")
ATTRIBUTES = ("network", "platform", "geo", "creative_format", "targeting", "has_agency", "auto_optimization_enabled")
D7_MATURITY_DAYS = 8  # a day's install cohort has full 7-day revenue once 1 + 7 days have passed


@dataclass(frozen=True)
class CampaignDayGrid:
    """Cumulative sums and forward-filled levels per campaign x day, plus what is final in the data."""

    campaign_ids: np.ndarray
    dates: pd.DatetimeIndex
    cum: dict[str, np.ndarray]  # (campaigns, days + 1); cum[:, j] = sum over days < j
    level: dict[str, np.ndarray]  # (campaigns, days); last value on or before each day (NaN before first row)
    launch_index: np.ndarray  # (campaigns,) day index of launch (may be negative)
    attributes: pd.DataFrame  # indexed by campaign_id
    complete_until: int  # days < complete_until have final delivery
    mature_until: int  # days < mature_until have final 7-day cohort revenue

    def window_sum(self, name: str, campaign: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Sum of ``name`` over days ``start .. stop - 1`` (clipped to the grid) for each (campaign, window)."""
        n = len(self.dates)
        a = np.clip(start, 0, n)
        b = np.clip(stop, 0, n)
        cum = self.cum[name]
        return cum[campaign, np.maximum(a, b)] - cum[campaign, a]

    def level_at(self, name: str, campaign: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Latest value of ``name`` on or before ``day`` (NaN before the campaign's first row)."""
        idx = np.clip(day, 0, len(self.dates) - 1)
        values = self.level[name][campaign, idx]
        return np.where(day < 0, np.nan, values)

    def campaign_index(self, campaign_ids: np.ndarray) -> np.ndarray:
        """Row of each campaign id in the grid (-1 when unknown)."""
        return pd.Index(self.campaign_ids).get_indexer(campaign_ids)

    def day_index(self, dates: pd.Series | np.ndarray) -> np.ndarray:
        """Day index of each date relative to the grid start (may fall outside the grid)."""
        values = pd.to_datetime(pd.Series(np.asarray(dates))).dt.normalize().to_numpy()
        return ((values - self.dates[0].to_datetime64()) // np.timedelta64(1, "D")).astype(np.int64)


def _ffill(matrix: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs along days, vectorised."""
    idx = np.where(np.isnan(matrix), 0, np.arange(matrix.shape[1])[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(matrix, idx, axis=1)


def build_grid(rows: pd.DataFrame) -> CampaignDayGrid:
    """Pivot campaign-day rows (``marts.fct_campaign_day_features`` columns) into a :class:`CampaignDayGrid`."""
    frame = rows.assign(date=pd.to_datetime(rows["date"]).dt.normalize())
    campaign_ids = np.sort(frame["campaign_id"].unique())
    dates = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    ci = pd.Index(campaign_ids).get_indexer(frame["campaign_id"])
    di = ((frame["date"] - dates[0]).dt.days).to_numpy()
    shape = (len(campaign_ids), len(dates))
    active = frame["n_active_hours"].to_numpy() > 0 if "n_active_hours" in frame else frame["spend"].to_numpy() > 0
    values = {"is_active": active.astype(float)}
    cum = {}
    for name in SUMMED:
        dense = np.zeros(shape)
        dense[ci, di] = values[name] if name in values else frame[name].to_numpy(dtype=float)
        cum[name] = np.concatenate([np.zeros((shape[0], 1)), np.cumsum(dense, axis=1)], axis=1)
    level = {}
    for name in LEVELS:
        dense = np.full(shape, np.nan)
        dense[ci, di] = frame[name].to_numpy(dtype=float)
        level[name] = _ffill(dense)
    launch = pd.Series(di - frame["days_since_launch"].to_numpy(), index=ci).groupby(level=0).min()
    launch_index = launch.reindex(range(shape[0])).to_numpy(dtype=np.int64)
    attributes = frame.sort_values("date").groupby("campaign_id")[list(ATTRIBUTES)].last().reindex(campaign_ids)
    complete = frame.loc[frame["is_complete_day"].astype(bool), "date"] if "is_complete_day" in frame else None
    complete_until = len(dates) if complete is None or complete.empty else int((complete.max() - dates[0]).days) + 1
    if "is_cohort_mature_d7" in frame:
        mature = frame.loc[frame["is_cohort_mature_d7"].astype(bool), "date"]
        mature_until = 0 if mature.empty else int((mature.max() - dates[0]).days) + 1
    else:
        mature_until = max(0, complete_until - D7_MATURITY_DAYS + 1)
    return CampaignDayGrid(
        campaign_ids=campaign_ids,
        dates=dates,
        cum=cum,
        level=level,
        launch_index=launch_index,
        attributes=attributes,
        complete_until=complete_until,
        mature_until=mature_until,
    )
