"""Forecast examples: what is known at each (campaign, origin), the KPI outcome over the next h days, and the
seasonal-naive forecast of the same window, so models and baselines are scored on identical rows.

Targets are window aggregates over days ``origin .. origin + h - 1``: total spend, total conversions,
CPA = total spend / total conversions and D7 cohort ROAS = 7-day revenue of the window's install cohorts /
total spend (network-attributed same-hour revenue is too sparse to forecast; the D7 cohort revenue of a day is
final 8 days later, so a ROAS target becomes known 7 days after the window ends).

Models learn each KPI as a log ratio to the campaign's own recent level (``*_scale``), which makes one global
model work across campaigns whose spend differs tenfold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.forecast.grid import ATTRIBUTES, D7_MATURITY_DAYS, CampaignDayGrid

KPIS = ("spend", "conversions", "cpa", "roas")
HORIZONS = (7, 14, 30, 90)
CATEGORICAL = ("network", "platform", "geo", "creative_format", "targeting")
CONVERSION_EPS = 0.5  # conversions/day added before logs (quiet campaigns)
ROAS_EPS = 0.01
HOLIDAY_HORIZON_CAP = 120
MARKET = ("cpm_index", "competition_index", "seasonality_index", "economic_index", "sentiment_index")


def _log_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(num / den)
    return np.where(np.isfinite(out), out, np.nan)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def holiday_days(holidays: pd.DataFrame | None, grid: CampaignDayGrid, extra_days: int) -> np.ndarray:
    """Day indices (relative to the grid start) of recurring (month, day) holidays around the grid."""
    if holidays is None or holidays.empty:
        return np.array([], dtype=np.int64)
    span = pd.date_range(grid.dates[0] - pd.Timedelta(days=extra_days), grid.dates[-1] + pd.Timedelta(days=extra_days))
    keys = set(zip(holidays["month"].astype(int), holidays["day"].astype(int), strict=True))
    hit = np.array([(m, d) in keys for m, d in zip(span.month, span.day, strict=True)])
    return ((span[hit] - grid.dates[0]).days).to_numpy(dtype=np.int64)


def origin_features(
    grid: CampaignDayGrid, campaign: np.ndarray, day: np.ndarray, holiday_index: np.ndarray
) -> pd.DataFrame:
    """Inputs known at the start of ``day`` for each campaign: trailing KPIs, budget, market, calendar."""
    t = day
    w = {}
    for n in (7, 28):
        for name in ("spend", "impressions", "clicks", "conversions", "is_active"):
            w[f"{name}_{n}"] = grid.window_sum(name, campaign, t - n, t)
    mature_stop = np.minimum(t - D7_MATURITY_DAYS + 1, grid.mature_until)
    for n in (7, 28):
        w[f"rev7_m{n}"] = grid.window_sum("cohort_revenue_d7", campaign, mature_stop - n, mature_stop)
        w[f"spend_m{n}"] = grid.window_sum("spend", campaign, mature_stop - n, mature_stop)
    spend_scale = _ratio(w["spend_7"], w["is_active_7"])
    conv_scale = _ratio(w["conversions_7"], w["is_active_7"])
    spend_28 = _ratio(w["spend_28"], w["is_active_28"])
    conv_28 = _ratio(w["conversions_28"], w["is_active_28"])
    cpa_7, cpa_28 = _ratio(w["spend_7"], w["conversions_7"]), _ratio(w["spend_28"], w["conversions_28"])
    cpm_7, cpm_28 = _ratio(1000 * w["spend_7"], w["impressions_7"]), _ratio(1000 * w["spend_28"], w["impressions_28"])
    roas_7, roas_28 = _ratio(w["rev7_m7"], w["spend_m7"]), _ratio(w["rev7_m28"], w["spend_m28"])
    budget = grid.level_at("daily_budget", campaign, t)
    prev_spend = grid.window_sum("spend", campaign, t - 1, t)
    attrs = grid.attributes.iloc[campaign]
    next_holiday = np.searchsorted(holiday_index, t)
    has_next = next_holiday < len(holiday_index)
    days_to_holiday = np.where(
        has_next, holiday_index[np.minimum(next_holiday, len(holiday_index) - 1)] - t, HOLIDAY_HORIZON_CAP
    )
    out = {
        "campaign_id": grid.campaign_ids[campaign],
        "origin_date": grid.dates[0] + pd.to_timedelta(t, unit="D"),
        **{c: attrs[c].to_numpy() for c in ATTRIBUTES},
        "log_budget": np.log(budget),
        "budget_vs_spend_7d": _log_ratio(budget, spend_scale),
        "budget_vs_spend_28d": _log_ratio(budget, spend_28),
        "spend_7d_vs_28d": _log_ratio(spend_scale, spend_28),
        "prev_day_vs_spend_7d": _log_ratio(prev_spend, spend_scale),
        "conv_7d_vs_28d": _log_ratio(conv_scale + CONVERSION_EPS, conv_28 + CONVERSION_EPS),
        "log_cpa_7d": np.log(cpa_7),
        "cpa_7d_vs_28d": _log_ratio(cpa_7, cpa_28),
        "log_cpm_7d": np.log(cpm_7),
        "cpm_7d_vs_28d": _log_ratio(cpm_7, cpm_28),
        "log_ctr_28d": _log_ratio(w["clicks_28"], w["impressions_28"]),
        "log_cvr_28d": _log_ratio(w["conversions_28"], w["clicks_28"]),
        "log_roas_d7_28d": np.log(roas_28 + ROAS_EPS),
        "roas_d7_7d_vs_28d": _log_ratio(roas_7 + ROAS_EPS, roas_28 + ROAS_EPS),
        "log_days_since_launch": np.log1p(np.maximum(t - grid.launch_index[campaign], 0)),
        "active_days_28d": w["is_active_28"],
        "day_of_week": (grid.dates[0].dayofweek + t) % 7,
        "days_to_next_holiday": np.minimum(days_to_holiday, HOLIDAY_HORIZON_CAP),
        # Market as of the last complete day before the origin (never the origin day's own feed).
        **{c: grid.level_at(c, campaign, t - 1) for c in MARKET},
        "cpm_index_change_7d": _ratio(
            grid.level_at("cpm_index", campaign, t - 1), grid.level_at("cpm_index", campaign, t - 8)
        )
        - 1,
        "competition_index_change_7d": _ratio(
            grid.level_at("competition_index", campaign, t - 1), grid.level_at("competition_index", campaign, t - 8)
        )
        - 1,
        # Scales the targets are expressed against, and the seasonal-naive ingredients.
        "active_days_7d": w["is_active_7"],
        "spend_scale": spend_scale,
        "conversions_scale": conv_scale,
        "cpa_scale": cpa_7,
        "roas_scale": roas_28,
        "naive_roas": roas_7,
    }
    return pd.DataFrame(out)


def window_calendar(
    day: np.ndarray, horizon: np.ndarray, holiday_index: np.ndarray, first_weekday: int
) -> dict[str, np.ndarray]:
    """Known-future calendar of each target window: holidays inside it and its share of weekend days."""
    inside = np.searchsorted(holiday_index, day + horizon) - np.searchsorted(holiday_index, day)
    offsets = np.arange(7)
    weekday = (first_weekday + day[:, None] + offsets[None, :]) % 7
    full_weeks, rest = np.divmod(horizon, 7)
    partial = ((weekday >= 5) & (offsets[None, :] < rest[:, None])).sum(axis=1)
    weekend_days = full_weeks * 2 + partial
    return {"holidays_in_window": inside, "weekend_share": weekend_days / horizon}


def window_outcomes(
    grid: CampaignDayGrid, campaign: np.ndarray, day: np.ndarray, horizon: np.ndarray
) -> dict[str, np.ndarray]:
    """Actual KPIs over days ``day .. day + h - 1`` (NaN where the window is not final in the data)."""
    stop = day + horizon
    spend = grid.window_sum("spend", campaign, day, stop)
    conversions = grid.window_sum("conversions", campaign, day, stop)
    revenue = grid.window_sum("cohort_revenue_d7", campaign, day, stop)
    final = stop <= grid.complete_until
    mature = stop <= grid.mature_until
    return {
        "spend": np.where(final, spend, np.nan),
        "conversions": np.where(final, conversions, np.nan),
        "cpa": np.where(final, _ratio(spend, conversions), np.nan),
        "roas": np.where(mature, _ratio(revenue, spend), np.nan),
    }


def seasonal_naive(
    grid: CampaignDayGrid, campaign: np.ndarray, day: np.ndarray, horizon: np.ndarray, naive_roas: np.ndarray
) -> dict[str, np.ndarray]:
    """Repeat the last observed week over the window: day origin + k gets the value of the same weekday in the
    week before the origin, so a window total is (h // 7) last-week totals plus its first (h % 7) days.

    CPA is the ratio of those totals; ROAS uses the last week whose D7 cohort revenue is final at the origin
    (days origin - 14 .. origin - 8), because younger cohorts are incomplete.
    """
    weeks, rest = np.divmod(horizon, 7)
    out = {}
    for name in ("spend", "conversions"):
        week = grid.window_sum(name, campaign, day - 7, day)
        part = grid.window_sum(name, campaign, day - 7, day - 7 + rest)
        out[name] = weeks * week + part
    out["cpa"] = _ratio(out["spend"], out["conversions"])
    out["roas"] = naive_roas
    return out


def build_examples(
    grid: CampaignDayGrid, campaign: np.ndarray, day: np.ndarray, horizons: tuple[int, ...], holiday_index: np.ndarray
) -> pd.DataFrame:
    """One row per (campaign, origin, horizon): features, window calendar, outcomes, naive forecast, and the
    day index at which each KPI's outcome becomes known (``known_at_<kpi>``) for time-honest training."""
    base = origin_features(grid, campaign, day, holiday_index)
    n = len(base)
    horizon = np.repeat(np.asarray(horizons, dtype=np.int64), n)
    rows = np.tile(np.arange(n), len(horizons))
    frame = base.iloc[rows].reset_index(drop=True)
    c, t = campaign[rows], day[rows]
    frame.insert(2, "horizon_days", horizon)
    calendar = window_calendar(t, horizon, holiday_index, grid.dates[0].dayofweek)
    frame["holidays_in_window"] = calendar["holidays_in_window"]
    frame["weekend_share"] = calendar["weekend_share"]
    actual = window_outcomes(grid, c, t, horizon)
    naive = seasonal_naive(grid, c, t, horizon, frame["naive_roas"].to_numpy())
    for kpi in KPIS:
        frame[f"actual_{kpi}"] = actual[kpi]
        frame[f"naive_{kpi}"] = naive[kpi]
        frame[f"known_at_{kpi}"] = t + horizon + (D7_MATURITY_DAYS - 1 if kpi == "roas" else 0)
    frame["origin_index"] = t
    return frame


def to_log_target(kpi: str, value: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """Express a KPI window value as the log ratio to the campaign's recent level (what the models learn)."""
    h = frame["horizon_days"].to_numpy(dtype=float)
    if kpi == "spend":
        return _log_ratio(value / h, frame["spend_scale"].to_numpy())
    if kpi == "conversions":
        return _log_ratio(value / h + CONVERSION_EPS, frame["conversions_scale"].to_numpy() + CONVERSION_EPS)
    if kpi == "cpa":
        return _log_ratio(value, frame["cpa_scale"].to_numpy())
    return _log_ratio(value + ROAS_EPS, frame["roas_scale"].to_numpy() + ROAS_EPS)


def from_log_target(kpi: str, log_ratio: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """Inverse of :func:`to_log_target` (monotone, so quantiles map to quantiles)."""
    h = frame["horizon_days"].to_numpy(dtype=float)
    if log_ratio.ndim == 2:
        h = h[:, None]
    scale = {k: frame[f"{k}_scale"].to_numpy() for k in KPIS}
    if log_ratio.ndim == 2:
        scale = {k: v[:, None] for k, v in scale.items()}
    ratio = np.exp(log_ratio)
    if kpi == "spend":
        return ratio * scale["spend"] * h
    if kpi == "conversions":
        return np.maximum(ratio * (scale["conversions"] + CONVERSION_EPS) - CONVERSION_EPS, 0.0) * h
    if kpi == "cpa":
        return ratio * scale["cpa"]
    return np.maximum(ratio * (scale["roas"] + ROAS_EPS) - ROAS_EPS, 0.0)
