"""Everything an allocation needs, read from the warehouse and the model registry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocate_cli.curves import optimizer_curves
from ml.allocate_cli.inputs import CURRENT_WINDOW_DAYS
from ml.allocation.apply import next_effective_ts
from ml.models.insufficient import InsufficientDataError
from ml.models.response.curves import CurveParameters
from ml.models.response.result import ResponseCurveSet
from ml.optimize import ResponseCurves
from ml.settings import PmiPaths
from ml.tracking.registry import champion_version, load_champion
from ml.warehouse.budgets import budget_in_effect_sql
from ml.warehouse.connection import connect, read_sql

COMPETITION_ELASTICITY = 0.8  # as in the response-curve panel: curves are fitted in market-neutral dollars

_CAMPAIGNS_SQL = f"""
    SELECT c.campaign_id, c.has_agency, c.creative_production_cost::DOUBLE AS creative_production_cost,
           c.auto_optimization_enabled, coalesce(b.daily_budget, s.recent_daily_spend, 0)::DOUBLE AS current_budget,
           coalesce(m.cpm_index * pow(m.competition_index, ?), 1.0) AS price_index,
           l.blended_ltv_d90, l.ltv_d90_mean, l.ltv_d180_mean, l.confidence AS ltv_confidence
    FROM marts.dim_campaigns c
    LEFT JOIN ({budget_in_effect_sql("<")}) b USING (campaign_id)
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
    """Per-campaign arrays aligned on ``campaigns.campaign_id`` (only campaigns with a fitted curve)."""

    campaigns: pd.DataFrame
    curves: ResponseCurveSet
    value_per_conversion: np.ndarray
    model_versions: dict[str, str | None]
    as_of: pd.Timestamp

    def optimizer_curves(self, draw: int | None = None) -> ResponseCurves:
        """Curves in nominal dollars of today's market (point estimate, or one posterior draw)."""
        idx = self.curves.index_of(self.campaigns["campaign_id"].to_numpy())
        price = self.campaigns["price_index"].to_numpy(float)
        family = self.curves.curves.family[idx]
        if draw is None:
            c = self.curves.curves
            scale, k, shape = c.scale[idx], c.k[idx], c.shape[idx]
        else:
            scale, k, shape = (self.curves.draws[idx, draw, j] for j in range(3))
        return optimizer_curves(CurveParameters(family, scale, k * price, shape))


def value_per_conversion(campaigns: pd.DataFrame) -> np.ndarray:
    """Predicted 180-day value of a user: blended d90 LTV scaled by the model's d180/d90 ratio; pooled if missing."""
    ratio = (campaigns["ltv_d180_mean"] / campaigns["ltv_d90_mean"]).where(campaigns["ltv_d90_mean"] > 0)
    value = campaigns["blended_ltv_d90"] * ratio.fillna(1.0)
    return value.fillna(value.median()).fillna(0.0).to_numpy(float)


def load_inputs(paths: PmiPaths) -> AllocationInputs:
    """Campaigns with budgets, prices and LTV, plus the champion response curves."""
    model = load_champion(paths, "response_curves")
    if model is None:
        raise InsufficientDataError("no response curve was fitted on this data (see the response-curve step), so "
                                    "there is nothing to allocate on")
    # "Current" is the budget in force before the period this run plans, so re-running within one period
    # recomputes from the same base (and replaces that period's budgets) instead of compounding changes.
    con = connect(paths.warehouse, read_only=True)
    try:
        period = next_effective_ts(con)
    finally:
        con.close()
    campaigns = read_sql(paths, _CAMPAIGNS_SQL, [COMPETITION_ELASTICITY, period.to_pydatetime()])
    campaigns = campaigns[campaigns["campaign_id"].isin(model.curves.campaign_ids)].reset_index(drop=True)
    if campaigns.empty:
        raise InsufficientDataError("no campaign in the warehouse has a fitted response curve: nothing to allocate")
    as_of = read_sql(paths, "SELECT max(as_of_ts) AS t FROM intermediate.int_warehouse_as_of")["t"].iloc[0]
    versions = {name: champion_version(paths, name) for name in ("response_curves", "ltv")}
    return AllocationInputs(campaigns=campaigns, curves=model.curves,
                            value_per_conversion=value_per_conversion(campaigns), model_versions=versions,
                            as_of=pd.Timestamp(as_of))
