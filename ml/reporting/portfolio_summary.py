"""Portfolio summary by campaign from the marts: what was spent, what it bought, what it is worth so far."""

from __future__ import annotations

import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql

# Revenue is the users' revenue to date (cohort revenue) when the warehouse has user-level data, else the revenue
# the networks reported with the conversions (a user's export without users).
SUMMARY_SQL = """
    WITH by_campaign AS (
        SELECT d.campaign_id,
               any_value(c.campaign_name) AS campaign_name,
               any_value(d.network) AS network,
               any_value(d.geo) AS geo,
               any_value(d.platform) AS platform,
               sum(d.spend)::DOUBLE AS spend,
               sum(d.conversions) AS conversions,
               sum(d.new_users) AS new_users,
               sum(d.cohort_revenue)::DOUBLE AS cohort_revenue,
               sum(d.revenue)::DOUBLE AS reported_revenue
        FROM marts.fct_campaign_daily d LEFT JOIN marts.dim_campaigns c USING (campaign_id)
        GROUP BY d.campaign_id
    )
    SELECT *, CASE WHEN (SELECT sum(new_users) FROM by_campaign) > 0 THEN cohort_revenue
                   ELSE reported_revenue END AS revenue,
           spend / nullif(conversions, 0) AS cpa,
           (CASE WHEN (SELECT sum(new_users) FROM by_campaign) > 0 THEN cohort_revenue
                 ELSE reported_revenue END) / nullif(spend, 0) AS roas
    FROM by_campaign
    ORDER BY spend DESC, campaign_id
"""
PERIOD_SQL = "SELECT min(date) AS first_day, max(date) AS last_day FROM marts.fct_campaign_daily"


def portfolio_summary(paths: PmiPaths) -> pd.DataFrame:
    """One row per campaign (largest spend first): spend, conversions, revenue to date, CPA and ROAS."""
    return read_sql(paths, SUMMARY_SQL)


def revenue_basis(summary: pd.DataFrame) -> str:
    """Which revenue the summary shows, in a reader's words."""
    return "users' revenue to date" if summary["new_users"].sum() > 0 else "revenue reported with the conversions"


def history_days(paths: PmiPaths) -> int:
    """Calendar days the warehouse's delivery covers (first to last day, inclusive)."""
    period = read_sql(paths, PERIOD_SQL)
    if period.empty or pd.isna(period["first_day"].iloc[0]):
        return 0
    return int((pd.Timestamp(period["last_day"].iloc[0]) - pd.Timestamp(period["first_day"].iloc[0])).days) + 1


def portfolio_totals(summary: pd.DataFrame) -> dict[str, float]:
    """Portfolio-level totals; CPA and ROAS are ratios of sums, not means of ratios."""
    spend, conversions, revenue = (float(summary[c].sum()) for c in ("spend", "conversions", "revenue"))
    return {
        "spend": spend,
        "conversions": conversions,
        "revenue": revenue,
        "cpa": spend / conversions if conversions else float("nan"),
        "roas": revenue / spend if spend else float("nan"),
    }


LATEST_RECOMMENDATIONS_SQL = """
    SELECT p.campaign_id, c.campaign_name, p.current_budget, p.recommended_budget, p.change_pct, p.action,
           p.expected_profit, p.reason
    FROM predictions.allocation_predictions p LEFT JOIN marts.dim_campaigns c USING (campaign_id)
    WHERE p.run_id = (SELECT run_id FROM audit.allocation_runs ORDER BY applied_at DESC LIMIT 1)
    ORDER BY abs(p.recommended_budget - p.current_budget) DESC, p.campaign_id
"""


def latest_recommendations(paths: PmiPaths, limit: int | None = 10) -> pd.DataFrame:
    """The most recently applied allocation's biggest moves (every campaign with ``limit=None``)."""
    recs = read_sql(paths, LATEST_RECOMMENDATIONS_SQL)
    return recs if limit is None else recs.head(limit)
