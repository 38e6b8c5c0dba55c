"""Daily spend/conversion panels for response-curve fitting, built from the raw hourly contract and market feed.

Hours are summed to days because budgets (and the decisions the curves serve) are daily. Spend is deflated
by the observed market price index so that curves are expressed in market-neutral dollars, and the
observed demand indices and the weekday become covariates the fit can explain away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_COMPETITION_ELASTICITY = 0.8  # fallback only: data without impressions or a market feed to estimate it on
MARKET_DEMAND_INDICES = ("seasonality_index", "economic_index", "sentiment_index")
WEEKDAY_COVARIATES = tuple(f"weekday_{d}" for d in range(1, 7))  # Monday is the baseline
MIN_HOURS_PER_DAY = 20


def daily_totals(campaign_hourly: pd.DataFrame) -> pd.DataFrame:
    """Sum hourly delivery to campaign-days, dropping partial days (launch/pause/extract edges) and no-spend days.

    Rows already summed to days in the warehouse (``date`` and ``n_hours``, `delivery_frames`) are taken as they are.
    """
    value_cols = [c for c in ("spend", "impressions", "clicks", "conversions", "revenue") if c in campaign_hourly]
    if "n_hours" in campaign_hourly:
        daily = campaign_hourly[["campaign_id", "date", *value_cols, "n_hours"]].assign(
            date=pd.to_datetime(campaign_hourly["date"])
        )
    else:
        hours = campaign_hourly.assign(date=pd.to_datetime(campaign_hourly["hour_ts"]).dt.normalize())
        daily = hours.groupby(["campaign_id", "date"], as_index=False).agg(
            **{c: (c, "sum") for c in value_cols}, n_hours=("hour_ts", "size")
        )
    # A campaign reported by day (one row per day, as ingested daily exports are) has complete days of one row.
    daily_grain = daily.groupby("campaign_id")["n_hours"].transform("max") == 1
    keep = ((daily["n_hours"] >= MIN_HOURS_PER_DAY) | daily_grain) & (daily["spend"] > 0)
    return daily[keep].drop(columns="n_hours").reset_index(drop=True)


def estimate_competition_elasticity(keyed: pd.DataFrame) -> float:
    """CPM elasticity to the competition index, by the pricing model's own CPM fit (``ml.models.pricing``) on the
    panel's campaign-days; the fallback constant when the rows cannot identify it (no impressions, no variation)."""
    from ml.models.pricing.fit import fit_cpm, typical_spend

    need = {"spend", "impressions", "cpm_index", "competition_index"}
    if not need <= set(keyed.columns):
        return DEFAULT_COMPETITION_ELASTICITY
    rows = keyed[(keyed["spend"] > 0) & (keyed["impressions"] > 0)].reset_index(drop=True)
    if len(rows) < 30 or rows["competition_index"].nunique() < 3:
        return DEFAULT_COMPETITION_ELASTICITY
    try:
        value = float(fit_cpm(rows, typical_spend(rows)).index_elasticity["competition_index"])
    except (ValueError, np.linalg.LinAlgError):
        return DEFAULT_COMPETITION_ELASTICITY
    return value if np.isfinite(value) else DEFAULT_COMPETITION_ELASTICITY


def daily_panel(
    campaign_hourly: pd.DataFrame,
    campaigns: pd.DataFrame | None = None,
    market_daily: pd.DataFrame | None = None,
    competition_elasticity: float | None = None,
) -> pd.DataFrame:
    """Campaign-day panel with ``price_index`` and demand covariates ready for :func:`fit_response_curves`.

    ``price_index = cpm_index * competition_index ** competition_elasticity`` of the campaign's network x geo
    (1 without a market feed); covariates are weekday dummies and the log of each market demand index. The
    elasticity is the pricing model's estimate on these campaign-days unless given (recorded in
    ``panel.attrs["competition_elasticity"]``, and by the fit in the curves' hyperparameters, so allocation
    re-prices the curves with the elasticity they were deflated with).
    """
    daily = daily_totals(campaign_hourly)
    weekday = daily["date"].dt.dayofweek.to_numpy()
    for d, name in enumerate(WEEKDAY_COVARIATES, start=1):
        daily[name] = (weekday == d).astype(float)
    daily["price_index"] = 1.0
    if market_daily is None or campaigns is None or market_daily.empty:
        return daily  # no market feed (common in a user's own data): market-neutral means nominal
    market = market_daily.assign(date=pd.to_datetime(market_daily["date"]))
    keyed = daily.merge(campaigns[["campaign_id", "network", "geo"]], on="campaign_id", how="left")
    keyed = keyed.merge(market, on=["date", "network", "geo"], how="left")
    missing = keyed["cpm_index"].isna()
    if missing.any():
        raise ValueError(f"market feed lacks {int(missing.sum())} campaign-days (network x geo x date)")
    if competition_elasticity is None:
        competition_elasticity = estimate_competition_elasticity(keyed)
    daily["price_index"] = (keyed["cpm_index"] * keyed["competition_index"] ** competition_elasticity).to_numpy()
    for col in MARKET_DEMAND_INDICES:
        daily[f"log_{col}"] = np.log(keyed[col].to_numpy())
    daily.attrs["competition_elasticity"] = float(competition_elasticity)
    return daily


def covariate_columns(panel: pd.DataFrame) -> list[str]:
    """The demand covariates present in a panel, in a stable order."""
    names = [*WEEKDAY_COVARIATES, *(f"log_{c}" for c in MARKET_DEMAND_INDICES)]
    return [c for c in names if c in panel.columns]


def campaign_groups(
    campaign_ids: np.ndarray, campaigns: pd.DataFrame | None, keys: tuple[str, ...] = ("network", "platform")
) -> np.ndarray:
    """Pooling group of each campaign (e.g. ``facebook/ios``); one group ``all`` without attributes."""
    keys = tuple(k for k in keys if campaigns is not None and k in campaigns.columns)
    if campaigns is None or not keys:
        return np.full(len(campaign_ids), "all", dtype=object)
    labels = campaigns.set_index("campaign_id")[list(keys)].astype(str).agg("/".join, axis=1)
    return labels.reindex(campaign_ids).fillna("unknown").to_numpy(dtype=object)


def campaign_factors(
    campaign_ids: np.ndarray, campaigns: pd.DataFrame | None, keys: tuple[str, ...] = ("network", "platform")
) -> np.ndarray:
    """Integer codes of each pooling attribute present (campaigns x attributes; zero columns without any), for
    crossed effects: every attribute is its own factor, a missing value its own level."""
    present = [k for k in keys if campaigns is not None and k in campaigns.columns]
    if not present:
        return np.zeros((len(campaign_ids), 0), dtype=int)
    table = campaigns.drop_duplicates("campaign_id").set_index("campaign_id")[present].reindex(campaign_ids)
    return np.column_stack([pd.factorize(table[k].astype("string").fillna("unknown"))[0] for k in present])
