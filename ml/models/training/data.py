"""Read what the models train on from the warehouse (read-only)."""

from __future__ import annotations

import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql


def delivery_frames(paths: PmiPaths) -> dict[str, pd.DataFrame]:
    """Hourly delivery, campaign attributes and the market feed, as the response-curve panel expects them."""
    return {
        "campaign_hourly": read_sql(
            paths,
            """
            SELECT campaign_id, hour_ts, spend::DOUBLE AS spend, impressions, clicks, conversions,
                   revenue::DOUBLE AS revenue
            FROM marts.fct_campaign_hourly""",
        ),
        "campaigns": read_sql(paths, "SELECT * FROM marts.dim_campaigns"),
        "market_daily": read_sql(
            paths,
            """
            SELECT date, network, geo, cpm_index, competition_index, seasonality_index, economic_index,
                   sentiment_index FROM marts.fct_market_daily""",
        ),
    }
