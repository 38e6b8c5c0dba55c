"""Dynamic CPM/CPA predictor: what a campaign's impressions and acquisitions cost at any daily spend in a given
market, because buying more of a finite audience raises its price (the price of scale).

CPM model (pooled nonlinear least squares, campaign intercepts, shrunk campaign pressures):
``log CPM = a_c + b1 log(cpm_index) + b2 log(competition_index) + log(1 + k_c * spend / typical_spend_c)`` with
``k_c > 0``, so CPM rises monotonically with spend (elasticity k u / (1 + k u) grows from 0 towards 1 as a
campaign buys a larger share of its inventory) and with the market indices. CPA at a spend is
``spend / conversions(spend)``: conversions come from an optional ``conversions_at(campaign_ids, spend)``
callable (e.g. fitted response curves) or from this package's own log-log elasticity fit with market terms.
Campaigns unseen in training get the portfolio's pooled intercept, pressure and median typical spend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.models.insufficient import InsufficientDataError
from ml.models.pricing.fit import (
    DEMAND_INDICES,
    PRICE_INDICES,
    ConversionFit,
    CpmFit,
    fit_conversions,
    fit_cpm,
    pricing_rows,
    typical_spend,
)
from ml.models.trained import TrainedModel

ConversionsAt = Callable[[np.ndarray, np.ndarray], np.ndarray]
Market = Mapping[str, float | np.ndarray] | pd.DataFrame | None
DEFAULT_PARAMS = {"pressure_prior_sd": 1.0, "conversion_shrinkage": 20.0}
VALIDATION_DAYS = 30


def _per_campaign(series: pd.Series, campaign_ids: np.ndarray, default: float) -> np.ndarray:
    return series.reindex(campaign_ids).fillna(default).to_numpy(dtype=float)


def _market_logs(market: Market, names: tuple[str, ...], n: int, ndim: int) -> dict[str, np.ndarray]:
    """log of each market index, shaped to broadcast against spend (neutral 1.0 when not given)."""
    out = {}
    for name in names:
        value = 1.0 if market is None or name not in market else market[name]
        arr = np.log(np.broadcast_to(np.asarray(value, dtype=float), (n,)))
        out[name] = arr.reshape((n,) + (1,) * (ndim - 1))
    return out


@dataclass
class PricingModel:
    """CPM and CPA of each campaign at any spend level under given market indices."""

    cpm_fit: CpmFit
    conversion_fit: ConversionFit
    typical_spend: pd.Series
    conversions_at: ConversionsAt | None = None
    params: dict = field(default_factory=dict)

    def _shape(self, campaign_ids: np.ndarray | list, spend: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Campaign ids as (n,) and spend as (n,) or (n, k) (a scalar spend applies to every campaign)."""
        ids = np.asarray(campaign_ids, dtype=object).reshape(-1)
        s = np.asarray(spend, dtype=float)
        if s.ndim == 0:
            s = np.full(len(ids), float(s))
        if s.shape[0] != len(ids):
            raise ValueError("spend must be a scalar or have one row per campaign id")
        return ids, s

    def _column(self, values: np.ndarray, ndim: int) -> np.ndarray:
        return values.reshape((-1,) + (1,) * (ndim - 1))

    def cpm_at(self, campaign_ids: np.ndarray | list, spend: np.ndarray | float, market: Market = None) -> np.ndarray:
        """Predicted CPM (USD) at daily ``spend``: shape of spend, which is (n,) or (n, k) for n campaign ids."""
        ids, s = self._shape(campaign_ids, spend)
        fit = self.cpm_fit
        typical = _per_campaign(self.typical_spend, ids, float(self.typical_spend.median()))
        intercept = _per_campaign(fit.intercept, ids, fit.pooled_intercept)
        pressure = _per_campaign(fit.pressure, ids, fit.pooled_pressure)
        logs = _market_logs(market, PRICE_INDICES, len(ids), s.ndim)
        log_cpm = (
            self._column(intercept, s.ndim)
            + sum(fit.index_elasticity[k] * logs[k] for k in PRICE_INDICES)
            + np.log1p(self._column(pressure / typical, s.ndim) * np.maximum(s, 0.0))
        )
        return np.exp(log_cpm)

    def own_conversions_at(
        self, campaign_ids: np.ndarray | list, spend: np.ndarray | float, market: Market = None
    ) -> np.ndarray:
        """Expected daily conversions at ``spend`` from the log-log elasticity fit with market terms."""
        ids, s = self._shape(campaign_ids, spend)
        fit = self.conversion_fit
        names = PRICE_INDICES + DEMAND_INDICES
        logs = _market_logs(market, names, len(ids), s.ndim)
        with np.errstate(divide="ignore"):
            log_conv = (
                self._column(_per_campaign(fit.intercept, ids, fit.pooled_intercept), s.ndim)
                + self._column(_per_campaign(fit.elasticity, ids, fit.pooled_elasticity), s.ndim) * np.log(s)
                + sum(fit.index_elasticity[k] * logs[k] for k in names)
            )
        return np.maximum(np.exp(log_conv) - 0.5, 0.0)

    def cpa_at(self, campaign_ids: np.ndarray | list, spend: np.ndarray | float, market: Market = None) -> np.ndarray:
        """Predicted CPA (USD) at daily ``spend``: spend / conversions at that spend (NaN when none expected)."""
        ids, s = self._shape(campaign_ids, spend)
        if self.conversions_at is not None:
            conversions = np.asarray(self.conversions_at(ids, s), dtype=float)
        else:
            conversions = self.own_conversions_at(ids, s, market)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(conversions > 0, s / conversions, np.nan)

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """CPM, conversions and CPA for each row at its ``planned_spend`` (else ``spend``) and market columns."""
        spend = (df["planned_spend"] if "planned_spend" in df else df["spend"]).to_numpy(dtype=float)
        ids = df["campaign_id"].to_numpy()
        market = {k: df[k].to_numpy(dtype=float) for k in PRICE_INDICES + DEMAND_INDICES if k in df}
        cpa = self.cpa_at(ids, spend, market)
        return pd.DataFrame(
            {"cpm": self.cpm_at(ids, spend, market), "cpa": cpa, "conversions": spend / cpa}, index=df.index
        )


def fit_pricing_model(
    frame: pd.DataFrame, params: dict | None = None, conversions_at: ConversionsAt | None = None
) -> PricingModel:
    """Fit the CPM and conversion curves on campaign-day rows (``marts.fct_campaign_day_features`` columns)."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    rows = pricing_rows(frame)
    if rows["campaign_id"].nunique() < 1 or len(rows) < 30:
        raise InsufficientDataError(
            f"{len(rows)} usable campaign-days (spend, impressions and a market feed); the "
            "pricing model needs at least 30"
        )
    typical = typical_spend(rows)
    return PricingModel(
        cpm_fit=fit_cpm(rows, typical, merged["pressure_prior_sd"]),
        conversion_fit=fit_conversions(rows, merged["conversion_shrinkage"]),
        typical_spend=typical,
        conversions_at=conversions_at,
        params=merged,
    )


def pricing_metrics(model: PricingModel, frame: pd.DataFrame) -> dict[str, float]:
    """CPM and conversion MAPE at the realised spend and market, beside the trailing 28-day CPM baseline."""
    rows = pricing_rows(frame)
    predicted = model.predict(rows.drop(columns=["planned_spend"], errors="ignore"))
    cpm = 1000.0 * rows["spend"].to_numpy(float) / rows["impressions"].to_numpy(float)
    conv = rows["conversions"].to_numpy(float)
    out = {"n": float(len(rows)), "mape_cpm": float(np.mean(np.abs(predicted["cpm"].to_numpy() - cpm) / cpm))}
    if "trailing_28d_cpm" in rows:
        base = rows["trailing_28d_cpm"].to_numpy(float)
        out["mape_cpm_trailing_28d"] = float(np.nanmean(np.abs(base - cpm) / cpm))
    positive = conv > 0
    out["mape_conversions"] = float(
        np.mean(np.abs(predicted["conversions"].to_numpy()[positive] - conv[positive]) / conv[positive])
    )
    return out


def score(model: PricingModel, valid_df: pd.DataFrame) -> float:
    """Validation CPM MAPE at realised spend and market (lower is better); for champion comparison."""
    return pricing_metrics(model, valid_df)["mape_cpm"]


def train_pricing_model(
    features: pd.DataFrame,
    seed: int = 0,
    params: dict | None = None,
    validation_days: int = VALIDATION_DAYS,
    refit: bool = True,
    conversions_at: ConversionsAt | None = None,
) -> TrainedModel:
    """Fit before the last ``validation_days``, validate CPM on them, then (``refit``) fit on all days.

    The fits are deterministic; ``seed`` is accepted for a uniform training interface and recorded in params.
    """
    dates = pd.to_datetime(features["date"])
    cutoff = dates.max() - pd.Timedelta(days=validation_days - 1)
    holdout = fit_pricing_model(features[dates < cutoff], params, conversions_at)
    valid = pricing_rows(features[dates >= cutoff])
    metrics = pricing_metrics(holdout, valid)
    model = fit_pricing_model(features, params, conversions_at) if refit else holdout
    metrics.update({f"elasticity_{k}": v for k, v in model.cpm_fit.index_elasticity.items()})
    metrics["pooled_pressure"] = model.cpm_fit.pooled_pressure
    metrics["pooled_conversion_elasticity"] = model.conversion_fit.pooled_elasticity
    return TrainedModel(
        model=model,
        metrics=metrics,
        params={**model.params, "seed": seed, "validation_days": validation_days},
        validation_score=metrics["mape_cpm"],
        valid_df=valid,
        holdout_model=holdout,
    )
