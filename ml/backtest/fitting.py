"""What the fitted policies learn from what they observed: a daily panel, response curves, and daily predictions.

Curves are fitted in market-neutral dollars with weekday and market demand effects (as `pmi`'s training does),
on a trailing window that starts, per campaign, after its last detected break (drift), so a retrain after a
drift learns the new curve instead of averaging it with the old one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.demand import day_covariates, demand_factor
from ml.allocation.portfolio.curves import curves_for
from ml.models.response import ResponseCurveSet, ResponseFitConfig, daily_panel, fit_response_curves
from ml.models.response.panel import DEFAULT_COMPETITION_ELASTICITY, covariate_columns
from ml.response_curves import ResponseCurves

MIN_FIT_DAYS = 3  # days with spend a campaign needs for a curve (pooled priors carry the rest)


def history_panel(campaign_hourly: pd.DataFrame, campaigns: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """The backfilled history as the daily panel the response-curve fit reads."""
    return daily_panel(campaign_hourly, campaigns, market)


def market_covariates(
    campaigns: pd.DataFrame, market: pd.DataFrame, weekday: int, elasticity: float = DEFAULT_COMPETITION_ELASTICITY
) -> pd.DataFrame:
    """Price index and demand covariates per campaign (portfolio order) from one day's market feed and a weekday
    (production's definition: ``ml.allocation.demand.day_covariates``); ``elasticity`` is the one the history
    panel estimated (``history_panel(...).attrs["competition_elasticity"]``)."""
    return day_covariates(campaigns, market, weekday, elasticity)


def panel_rows(
    campaigns: pd.DataFrame,
    market: pd.DataFrame,
    date: pd.Timestamp,
    spend: np.ndarray,
    conversions: np.ndarray,
    elasticity: float = DEFAULT_COMPETITION_ELASTICITY,
) -> pd.DataFrame:
    """One observed loop day as panel rows (campaigns that spent), with the day's own market feed."""
    rows = market_covariates(campaigns, market, date.dayofweek, elasticity)
    rows.insert(0, "campaign_id", campaigns["campaign_id"].to_numpy())
    rows.insert(1, "date", date)
    rows.insert(2, "spend", spend)
    rows.insert(3, "conversions", conversions.astype(float))
    return rows[rows["spend"] > 0]


@dataclass(frozen=True)
class FittedModel:
    """Curves of the campaigns that could be fitted, their demand effects, and the model version."""

    curves: ResponseCurveSet  # in portfolio order over `fitted`
    fitted: np.ndarray  # bool per campaign
    covariate_means: pd.DataFrame  # per fitted campaign: the mean covariates its curve describes
    version: int

    def demand_factor(self, covariates: pd.DataFrame) -> np.ndarray:
        """Predicted demand of a day against the average day of each fitted campaign's window (as production)."""
        return demand_factor(
            self.curves.demand_effects,
            self.covariate_means.reset_index(drop=True),
            covariates.loc[self.fitted].reset_index(drop=True),
        )

    def nominal_curves(self, price_index: np.ndarray) -> ResponseCurves:
        """Point curves of the fitted campaigns in today's nominal dollars."""
        c = self.curves.curves
        return ResponseCurves.build(c.family, c.scale, c.spend_scale * price_index, c.shape)


def fit_model(
    panel: pd.DataFrame,
    campaigns: pd.DataFrame,
    data_start: np.ndarray,
    today: pd.Timestamp,
    window_days: int,
    n_draws: int,
    seed: int,
    version: int,
) -> FittedModel:
    """Fit every campaign on its rows in the trailing window after its own data start."""
    starts = pd.Series(data_start, index=campaigns["campaign_id"].to_numpy())
    first = np.maximum(
        panel["campaign_id"].map(starts).to_numpy(dtype="datetime64[ns]"),
        np.datetime64(today - pd.Timedelta(days=window_days)),
    )
    window = panel[(panel["date"].to_numpy() >= first) & (panel["date"] < today)].reset_index(drop=True)
    config = ResponseFitConfig(n_draws=n_draws, seed=seed, min_rows=MIN_FIT_DAYS)
    fitted_set = fit_response_curves(window, campaigns, config)
    ids = campaigns["campaign_id"].to_numpy(dtype=object)
    fitted = np.isin(ids, fitted_set.campaign_ids)
    curves = curves_for(fitted_set, ids[fitted])
    means = window.groupby("campaign_id")[covariate_columns(window)].mean().reindex(ids[fitted])
    return FittedModel(curves=curves, fitted=fitted, covariate_means=means, version=version)
