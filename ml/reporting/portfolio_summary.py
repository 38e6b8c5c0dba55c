"""Portfolio summary by campaign from the marts: what was spent, what it bought, what it is worth so far."""

from __future__ import annotations

import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql

SUMMARY_SQL = """
    SELECT campaign_id,
           any_value(network) AS network,
           any_value(geo) AS geo,
           any_value(platform) AS platform,
           sum(spend)::DOUBLE AS spend,
           sum(conversions) AS conversions,
           sum(cohort_revenue)::DOUBLE AS revenue,
           sum(spend)::DOUBLE / nullif(sum(conversions), 0) AS cpa,
           sum(cohort_revenue)::DOUBLE / nullif(sum(spend), 0) AS roas
    FROM marts.fct_campaign_daily
    GROUP BY campaign_id
    ORDER BY campaign_id
"""


def portfolio_summary(paths: PmiPaths) -> pd.DataFrame:
    """One row per campaign: spend, conversions, revenue to date of its users, CPA and ROAS."""
    return read_sql(paths, SUMMARY_SQL)


def portfolio_totals(summary: pd.DataFrame) -> dict[str, float]:
    """Portfolio-level totals; CPA and ROAS are ratios of sums, not means of ratios."""
    spend, conversions, revenue = (float(summary[c].sum()) for c in ("spend", "conversions", "revenue"))
    return {"spend": spend, "conversions": conversions, "revenue": revenue,
            "cpa": spend / conversions if conversions else float("nan"),
            "roas": revenue / spend if spend else float("nan")}


LATEST_RECOMMENDATIONS_SQL = """
    SELECT campaign_id, current_budget, recommended_budget, change_pct, action, expected_profit, reason
    FROM predictions.allocation_predictions
    WHERE run_id = (SELECT run_id FROM audit.allocation_runs ORDER BY applied_at DESC LIMIT 1)
    ORDER BY abs(recommended_budget - current_budget) DESC
"""


def latest_recommendations(paths: PmiPaths, limit: int = 10) -> pd.DataFrame:
    """The most recently applied allocation's biggest moves."""
    return read_sql(paths, LATEST_RECOMMENDATIONS_SQL).head(limit)
