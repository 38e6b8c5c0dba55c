"""Feature views: what each model may read about users, campaigns, markets and the calendar."""

from datetime import timedelta

from entities import campaign, market, user
from feast import FeatureView, Field
from feast.types import Bool, Float64, Int64, String
from sources import campaign_day_source, market_day_source, user_features_source

user_early_behaviour = FeatureView(
    name="user_early_behaviour",
    entities=[user],
    ttl=timedelta(days=400),
    source=user_features_source,
    schema=[
        Field(name="revenue_d1", dtype=Float64),
        Field(name="revenue_d3", dtype=Float64),
        Field(name="revenue_d7", dtype=Float64),
        Field(name="events_d1", dtype=Int64),
        Field(name="events_d3", dtype=Int64),
        Field(name="events_d7", dtype=Int64),
        Field(name="purchases_d7", dtype=Int64),
        Field(name="ad_revenue_d7", dtype=Float64),
        Field(name="subscription_revenue_d7", dtype=Float64),
        Field(name="is_payer_d7", dtype=Bool),
        Field(name="hours_to_first_purchase", dtype=Float64),
        Field(name="hours_to_first_event", dtype=Float64),
    ],
    description="What a user did in their first 7 days.",
)
user_acquisition = FeatureView(
    name="user_acquisition",
    entities=[user],
    ttl=timedelta(days=400),
    source=user_features_source,
    schema=[
        Field(name="campaign_id", dtype=String),
        Field(name="network", dtype=String),
        Field(name="platform", dtype=String),
        Field(name="geo", dtype=String),
        Field(name="creative_format", dtype=String),
        Field(name="targeting", dtype=String),
        Field(name="install_hour", dtype=Int64),
        Field(name="install_day_of_week", dtype=Int64),
    ],
    description="Where and when a user was acquired.",
)
campaign_trailing_kpis = FeatureView(
    name="campaign_trailing_kpis",
    entities=[campaign],
    ttl=timedelta(days=2),
    source=campaign_day_source,
    schema=[
        Field(name=f"trailing_{n}d_{kpi}", dtype=Float64)
        for n in (7, 14, 28)
        for kpi in ("spend", "conversions", "revenue", "cpm", "ctr", "cvr", "cpa", "roas", "mean_daily_spend")
    ]
    + [
        Field(name="daily_budget", dtype=Float64),
        Field(name="prev_day_spend", dtype=Float64),
        Field(name="prev_day_budget_utilization", dtype=Float64),
    ],
    description="Trailing 7/14/28-day spend and KPIs from days before the feature day.",
)
campaign_saturation_signals = FeatureView(
    name="campaign_saturation_signals",
    entities=[campaign],
    ttl=timedelta(days=2),
    source=campaign_day_source,
    schema=[
        Field(name=name, dtype=Float64)
        for name in (
            "spend_vs_trailing_7d_mean",
            "budget_vs_trailing_7d_mean",
            "cpa_trend_7d_vs_28d",
            "roas_trend_7d_vs_28d",
        )
    ],
    description="Signs of saturation: spend against its own recent level, and CPA/ROAS drifting with it.",
)
campaign_calendar = FeatureView(
    name="campaign_calendar",
    entities=[campaign],
    ttl=timedelta(days=2),
    source=campaign_day_source,
    schema=[
        Field(name="day_of_week", dtype=Int64),
        Field(name="is_weekend", dtype=Bool),
        Field(name="is_holiday", dtype=Bool),
        Field(name="days_to_next_holiday", dtype=Int64),
        Field(name="days_since_launch", dtype=Int64),
    ],
    description="Temporal features of the campaign-day: weekday, holidays, days since launch.",
)
market_indices = FeatureView(
    name="market_indices",
    entities=[market],
    ttl=timedelta(days=2),
    source=market_day_source,
    schema=[
        Field(name=name, dtype=Float64)
        for name in (
            "cpm_index",
            "competition_index",
            "seasonality_index",
            "economic_index",
            "sentiment_index",
            "cpm_index_change_7d",
            "competition_index_change_7d",
            "cpm_index_ma_7d",
            "competition_index_ma_7d",
        )
    ],
    description="Daily market feed per network x geo, with 7-day changes and averages.",
)
