"""Feature services: the exact feature set each model trains and predicts on (its version is logged to MLflow)."""

from feast import FeatureService
from feature_views import (
    campaign_calendar,
    campaign_saturation_signals,
    campaign_trailing_kpis,
    market_indices,
    user_acquisition,
    user_early_behaviour,
)

ltv_model_features = FeatureService(
    name="ltv_model",
    features=[user_early_behaviour, user_acquisition],
    description="LTV ensemble: day 0..7 behaviour and acquisition source.",
)
cac_model_features = FeatureService(
    name="cac_model",
    features=[campaign_trailing_kpis, campaign_saturation_signals, campaign_calendar, market_indices],
    description="CAC model: trailing KPIs, saturation signals, calendar and market indices.",
)
kpi_forecast_features = FeatureService(
    name="kpi_forecast",
    features=[campaign_trailing_kpis, campaign_calendar, market_indices],
    description="KPI forecaster: trailing KPIs, calendar and market drivers.",
)
