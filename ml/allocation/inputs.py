"""Everything an allocation needs, read from the warehouse and the model registry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.apply import next_effective_ts, period_start_budgets
from ml.allocation.demand import day_covariates, demand_factor
from ml.allocation.gate import BudgetRules
from ml.allocation.portfolio.curves import curves_for
from ml.allocation.portfolio.inputs import CURRENT_WINDOW_DAYS
from ml.models.insufficient import InsufficientDataError
from ml.models.response.panel import DEFAULT_COMPETITION_ELASTICITY, covariate_columns, daily_panel
from ml.models.response.result import ResponseCurveSet
from ml.models.training.data import delivery_frames
from ml.response_curves import ResponseCurves
from ml.settings import PmiPaths
from ml.tracking.registry import champion_data_end, champion_version, load_champion
from ml.warehouse.budgets import budget_in_effect_sql
from ml.warehouse.connection import connect, warehouse_as_of


def competition_elasticity(paths: PmiPaths, curves: ResponseCurveSet) -> float:
    """The CPM elasticity to competition that re-prices the curves in today's dollars.

    The one the curves were deflated with (the pricing model's CPM fit on their panel, kept in the curves'
    hyperparameters); for curves fitted before that was kept, the pricing champion's estimate; the constant only
    when neither exists (e.g. a user's data without a market feed, where the pricing model is skipped and every
    price index is 1 anyway).
    """
    recorded = curves.hyperparameters.get("competition_elasticity")
    if recorded is not None and np.isfinite(recorded):
        return float(recorded)
    pricing = load_champion(paths, "pricing")
    fit = getattr(pricing, "cpm_fit", None) or getattr(getattr(pricing, "model", None), "cpm_fit", None)
    estimate = getattr(fit, "index_elasticity", {}).get("competition_index") if fit is not None else None
    return float(estimate) if estimate is not None and np.isfinite(estimate) else DEFAULT_COMPETITION_ELASTICITY


_CAMPAIGNS_SQL = f"""
    SELECT c.campaign_id, c.network, c.geo, c.has_agency,
           c.creative_production_cost::DOUBLE AS creative_production_cost,
           c.auto_optimization_enabled, coalesce(b.daily_budget, s.recent_daily_spend, 0)::DOUBLE AS current_budget,
           coalesce(m.cpm_index * pow(m.competition_index, ?), 1.0) AS price_index,
           l.blended_ltv_d90, l.ltv_d90_mean, l.ltv_d180_mean, l.confidence AS ltv_confidence
    FROM marts.dim_campaigns c
    LEFT JOIN ({budget_in_effect_sql("<=")}) b USING (campaign_id)
    LEFT JOIN (SELECT network, geo, cpm_index, competition_index FROM marts.fct_market_daily
               QUALIFY row_number() OVER (PARTITION BY network, geo ORDER BY date DESC) = 1) m
           ON m.network = c.network AND m.geo = c.geo
    LEFT JOIN predictions.campaign_ltv l USING (campaign_id)
    -- data without budgets (a user's export): today's budget is the mean daily spend of the last week
    LEFT JOIN (SELECT campaign_id, sum(spend) / {CURRENT_WINDOW_DAYS} AS recent_daily_spend
               FROM marts.fct_campaign_daily
               WHERE date > (SELECT max(date) FROM marts.fct_campaign_daily) - {CURRENT_WINDOW_DAYS}
               GROUP BY campaign_id) s USING (campaign_id)
    ORDER BY c.campaign_id
"""


@dataclass
class AllocationInputs:
    """Per-campaign arrays aligned on ``campaigns.campaign_id`` (only campaigns with a fitted curve).

    ``campaigns`` has ``current_budget`` (in force now) and, optionally, ``period_start_budget`` (in force at the
    start of the period the run plans for: what the change limit is measured on; default the current budget).
    ``demand`` scales each curve to the demand expected on the day being allocated (default 1).
    """

    campaigns: pd.DataFrame
    curves: ResponseCurveSet
    value_per_conversion: np.ndarray
    model_versions: dict[str, str | None]
    as_of: pd.Timestamp
    demand: np.ndarray | None = None
    target_date: pd.Timestamp | None = None

    @property
    def current(self) -> np.ndarray:
        """Budgets in force now."""
        return self.campaigns["current_budget"].to_numpy(float)

    @property
    def period_start(self) -> np.ndarray:
        """Budgets in force at the period's start (the change limit's base)."""
        column = "period_start_budget" if "period_start_budget" in self.campaigns else "current_budget"
        return self.campaigns[column].to_numpy(float)

    def nominal_curves(self, draw: int | None = None) -> ResponseCurves:
        """Curves in nominal dollars of today's market (point estimate, or one posterior draw)."""
        idx = self.curves.index_of(self.campaigns["campaign_id"].to_numpy())
        price = self.campaigns["price_index"].to_numpy(float)
        family = self.curves.curves.family[idx]
        if draw is None:
            c = self.curves.curves
            scale, spend_scale, shape = c.scale[idx], c.spend_scale[idx], c.shape[idx]
        else:
            scale, spend_scale, shape = (self.curves.draws[idx, draw, j] for j in range(3))
        if self.demand is not None:
            scale = scale * self.demand
        return ResponseCurves.build(family, scale, spend_scale * price, shape)


def value_per_conversion(campaigns: pd.DataFrame) -> np.ndarray:
    """Predicted 180-day value of a user: blended d90 LTV scaled by the model's d180/d90 ratio; pooled if missing."""
    ratio = (campaigns["ltv_d180_mean"] / campaigns["ltv_d90_mean"]).where(campaigns["ltv_d90_mean"] > 0)
    value = campaigns["blended_ltv_d90"] * ratio.fillna(1.0)
    return value.fillna(value.median()).fillna(0.0).to_numpy(float)


def expected_demand(
    paths: PmiPaths,
    campaigns: pd.DataFrame,
    curves: ResponseCurveSet,
    day: pd.Timestamp,
    elasticity: float = DEFAULT_COMPETITION_ELASTICITY,
) -> np.ndarray:
    """Each campaign's demand on ``day`` against the average day its champion curve was fitted on.

    The curve's covariate means are recomputed from the data the champion was trained on (up to its data end);
    the day's covariates are its weekday and the latest market feed published by then.
    """
    if not curves.demand_effects:
        return np.ones(len(campaigns))
    frames = delivery_frames(paths)
    try:
        panel = daily_panel(frames["campaign_days"], frames["campaigns"], frames["market_daily"], elasticity)
    except ValueError:  # a market feed with holes: the curves were not fitted with market effects either
        return np.ones(len(campaigns))
    end = champion_data_end("response_curves")
    if end is not None:
        panel = panel[panel["date"] < end]
    means = panel.groupby("campaign_id")[covariate_columns(panel)].mean().reindex(campaigns["campaign_id"])
    market = frames["market_daily"]
    if not market.empty:
        market = market.assign(date=pd.to_datetime(market["date"]))
        market = market[market["date"] <= day.normalize()]
        market = market.sort_values("date").groupby(["network", "geo"], as_index=False).tail(1)
    today = day_covariates(campaigns, market, day.dayofweek, elasticity)
    return demand_factor(curves.demand_effects, means.reset_index(drop=True), today)


def load_inputs(paths: PmiPaths, rules: BudgetRules | None = None) -> AllocationInputs:
    """Campaigns with budgets, prices and LTV, plus the champion response curves (draws sanitised) and the demand
    expected on the day the run's budgets take effect."""
    rules = rules or BudgetRules()
    model = load_champion(paths, "response_curves")
    if model is None:
        raise InsufficientDataError(
            "no response curve was fitted on this data (see the response-curve step), so "
            "there is nothing to allocate on"
        )
    elasticity = competition_elasticity(paths, model.curves)
    con = connect(paths.warehouse, read_only=True)
    try:
        effective = next_effective_ts(con)
        campaigns = con.execute(_CAMPAIGNS_SQL, [elasticity, effective.to_pydatetime()]).df()
        campaigns = campaigns[campaigns["campaign_id"].isin(model.curves.campaign_ids)].reset_index(drop=True)
        if campaigns.empty:
            raise InsufficientDataError("no campaign in the warehouse has a fitted response curve: nothing to allocate")
        # The change limit is measured on the budget in force at the period's start, so any number of runs within
        # the period stays inside it (the gate in apply holds every change to the same rule).
        campaigns["period_start_budget"] = period_start_budgets(
            con, rules, effective, campaigns["campaign_id"].to_numpy(), campaigns["current_budget"]
        ).to_numpy()
    finally:
        con.close()
    curves = curves_for(model.curves, campaigns["campaign_id"].to_numpy(dtype=object))  # one sanitising step
    as_of = warehouse_as_of(paths)
    versions = {name: champion_version(paths, name) for name in ("response_curves", "ltv")}
    return AllocationInputs(
        campaigns=campaigns,
        curves=curves,
        value_per_conversion=value_per_conversion(campaigns),
        model_versions=versions,
        as_of=pd.Timestamp(as_of),
        demand=expected_demand(paths, campaigns, curves, effective.normalize(), elasticity),
        target_date=effective.normalize(),
    )
