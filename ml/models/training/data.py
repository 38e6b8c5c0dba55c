"""Read what the models train on from the warehouse (read-only)."""

from __future__ import annotations

import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql


def delivery_frames(paths: PmiPaths) -> dict[str, pd.DataFrame]:
    """Delivery summed to campaign-days (with the hours each day holds), campaign attributes and the market feed, as
    the response-curve panel expects them.

    Memory: the hours are summed inside DuckDB, so pandas holds one row per campaign-day (2,000 campaigns x 180
    days: 360k rows), not the 8.6M hourly rows; the panel keeps the same days (`daily_totals`).
    """
    return {
        "campaign_days": read_sql(
            paths,
            """
            SELECT campaign_id, date_trunc('day', hour_ts) AS date, sum(spend)::DOUBLE AS spend,
                   sum(impressions)::BIGINT AS impressions, sum(clicks)::BIGINT AS clicks,
                   sum(conversions)::BIGINT AS conversions, sum(revenue)::DOUBLE AS revenue, count(*) AS n_hours
            FROM marts.fct_campaign_hourly
            GROUP BY ALL
            ORDER BY campaign_id, date""",
        ),
        "campaigns": read_sql(paths, "SELECT * FROM marts.dim_campaigns"),
        "market_daily": read_sql(
            paths,
            """
            SELECT date, network, geo, cpm_index, competition_index, seasonality_index, economic_index,
                   sentiment_index FROM marts.fct_market_daily""",
        ),
    }
