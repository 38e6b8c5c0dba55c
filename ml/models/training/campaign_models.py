"""Train the campaign-level models (CAC, dynamic CPM/CPA pricing, KPI forecaster) and register them in MLflow.

They read the campaign-day feature mart, the table Feast's ``campaign_day_source`` exports: every trailing
feature in it is computed from days before the row's date, so no row leaks its own outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
import numpy as np

from ml.models import cac, forecast, pricing
from ml.settings import PmiPaths
from ml.tracking.registry import RegisteredModel, register_if_better, training_run
from ml.warehouse.connection import read_sql

FEATURE_SERVICE = {"cac": "cac_model", "pricing": "cac_model", "kpi_forecast": "kpi_forecast"}


def campaign_day_features(paths: PmiPaths):
    """The campaign-day feature mart, money as floats."""
    frame = read_sql(paths, "SELECT * FROM marts.fct_campaign_day_features ORDER BY campaign_id, date")
    numeric = frame.select_dtypes(include=["object"]).columns
    for col in numeric:
        if col not in ("campaign_id", "network", "platform", "geo", "creative_format", "targeting", "holiday_name"):
            frame[col] = frame[col].astype(float)
    return frame


def _register(paths: PmiPaths, name: str, trained: Any, score: Callable[[Any, Any], float]) -> RegisteredModel:
    with training_run(paths, name, dict(trained.params) | {"feature_service": FEATURE_SERVICE[name]}):
        mlflow.log_metrics({k: float(v) for k, v in trained.metrics.items() if np.isfinite(v)})
        return register_if_better(paths, name, trained.model, trained.validation_score,
                                  evaluate=lambda champion: score(champion, trained.valid_df))


def train_cac(paths: PmiPaths, seed: int = 0) -> RegisteredModel:
    """LightGBM cost-per-acquisition model on campaign-day features."""
    return _register(paths, "cac", cac.train_cac_model(campaign_day_features(paths), seed=seed), cac.score)


def train_pricing(paths: PmiPaths, seed: int = 0) -> RegisteredModel:
    """CPM and CPA at any spend given the market indices."""
    return _register(paths, "pricing", pricing.train_pricing_model(campaign_day_features(paths), seed=seed),
                     pricing.score)


def train_kpi_forecast(paths: PmiPaths, seed: int = 0) -> RegisteredModel:
    """Multi-horizon quantile forecasts of spend, conversions, CPA and ROAS."""
    holidays = read_sql(paths, "SELECT * FROM reference.marketing_holidays")
    trained = forecast.train_kpi_forecaster(campaign_day_features(paths), holidays=holidays, seed=seed)
    return _register(paths, "kpi_forecast", trained, forecast.score)
