"""Demand of the day being allocated: the weekday and market effects the response model estimates.

A fitted curve describes an average day of its campaign's fitting window (covariates are centred within campaign);
the day an allocation plans for can be a weak Monday or a holiday peak. Production (``ml/allocation``), the alert
expectations it logs and the backtest all scale the curves by the same factor,
``exp((covariates of the day - the campaign's mean covariates) . demand effects)``, so the backtest validates the
allocator that runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.response.panel import DEFAULT_COMPETITION_ELASTICITY, MARKET_DEMAND_INDICES, WEEKDAY_COVARIATES


def day_covariates(
    campaigns: pd.DataFrame,
    market: pd.DataFrame | None,
    weekday: int,
    competition_elasticity: float = DEFAULT_COMPETITION_ELASTICITY,
) -> pd.DataFrame:
    """Price index and demand covariates per campaign (in ``campaigns`` order) for one day.

    ``market`` holds one row per network x geo (the feed published for the day); without one (a user's data
    without a market feed) the price index is 1 and only the weekday covariates are set.
    """
    out = pd.DataFrame(index=range(len(campaigns)))
    have_market = market is not None and not market.empty and {"network", "geo"} <= set(campaigns.columns)
    if have_market:
        keyed = campaigns[["network", "geo"]].reset_index(drop=True).merge(market, on=["network", "geo"], how="left")
        out["price_index"] = (keyed["cpm_index"] * keyed["competition_index"] ** competition_elasticity).to_numpy()
    else:
        out["price_index"] = 1.0
    for day, name in enumerate(WEEKDAY_COVARIATES, start=1):
        out[name] = float(weekday == day)
    if have_market:
        for column in MARKET_DEMAND_INDICES:
            if column in keyed:
                out[f"log_{column}"] = np.log(keyed[column].to_numpy(float))
    return out


def demand_factor(effects: dict[str, float], covariate_means: pd.DataFrame, today: pd.DataFrame) -> np.ndarray:
    """Expected demand of the day against each campaign's average fitted day (1 where nothing is known).

    ``covariate_means`` and ``today`` are aligned row by row (one row per campaign).
    """
    names = [c for c in covariate_means.columns if c in effects and c in today.columns]
    if not names:
        return np.ones(len(today))
    beta = np.array([effects[c] for c in names])
    gap = today[names].to_numpy(float) - covariate_means[names].to_numpy(float)
    factor = np.exp(np.nan_to_num(gap, nan=0.0) @ beta)
    return np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
