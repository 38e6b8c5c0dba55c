"""Train the campaign-level models (CAC, dynamic CPM/CPA pricing, KPI forecaster) and register them in MLflow.

They read the campaign-day feature mart, the table Feast's ``campaign_day_source`` exports: every trailing
feature in it is computed from days before the row's date, so no row leaks its own outcome.

Memory budget: one row per campaign-day (about 1 KB with its joined features), so these steps grow linearly
with campaigns x days and not with users or hours; the KPI forecaster's examples add one row per campaign,
origin and horizon (the same order). At 500 campaigns x 180 days that is 90k campaign-days.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from ml.features.store import training_frame
from ml.models import cac, forecast, pricing
from ml.models.trained import rows_known_after
from ml.settings import PmiPaths
from ml.tracking.registry import (
    RegisteredModel,
    champion_version,
    load_champion,
    register_if_better,
    training_run,
)
from ml.warehouse.connection import read_sql, transaction

CAMPAIGN_DAY_MART = "marts.fct_campaign_day_features"
FEATURE_SERVICE = {"cac": "cac_model", "pricing": "cac_model", "kpi_forecast": "kpi_forecast"}


def campaign_day_mart(paths: PmiPaths, recent_days: int | None = None) -> pd.DataFrame:
    """The campaign-day feature mart (keys, attributes, the day's outcomes and features), money as floats; only
    its last ``recent_days`` days when given (a forecast from now needs weeks, not the whole history)."""
    since = (
        "" if recent_days is None else f"WHERE date > (SELECT max(date) FROM {CAMPAIGN_DAY_MART}) - {int(recent_days)}"
    )
    frame = read_sql(paths, f"SELECT * FROM {CAMPAIGN_DAY_MART} {since} ORDER BY campaign_id, date")
    numeric = frame.select_dtypes(include=["object"]).columns
    for col in numeric:
        if col not in ("campaign_id", "network", "platform", "geo", "creative_format", "targeting", "holiday_name"):
            frame[col] = frame[col].astype(float)
    return frame


def campaign_day_features(paths: PmiPaths, service: str | None = None, recent_days: int | None = None) -> pd.DataFrame:
    """Campaign-days with the outcomes from the mart and, for ``service``, every feature it serves taken from
    Feast's point-in-time join at the start of the day: what was known then, and nothing later (the last
    ``recent_days`` days only, when given)."""
    frame = campaign_day_mart(paths, recent_days)
    if service is None:
        return frame
    day_start = pd.to_datetime(frame["date"]).dt.tz_localize("UTC")
    entities = pd.DataFrame(
        {
            "campaign_id": frame["campaign_id"],
            "market_id": frame["network"] + ":" + frame["geo"],
            "event_timestamp": day_start,
        }
    )
    served = training_frame(paths, entities, service).rename(columns={"event_timestamp": "_day_start"})
    features = [c for c in served.columns if c not in ("campaign_id", "market_id", "_day_start")]
    keyed = frame.drop(columns=features, errors="ignore").assign(_day_start=day_start)
    joined = keyed.merge(
        served.drop(columns="market_id"), on=["campaign_id", "_day_start"], how="left", validate="one_to_one"
    )
    for col in features:
        if joined[col].dtype == object:
            joined[col] = pd.to_numeric(joined[col])
    return joined.drop(columns="_day_start")[frame.columns]


def outcome_known_at(valid_df: pd.DataFrame) -> pd.Series:
    """When each validation row's outcome was known: the end of its day, or of its forecast window."""
    if "origin_date" in valid_df:
        return pd.to_datetime(valid_df["origin_date"]) + pd.to_timedelta(valid_df["horizon_days"] + 1, unit="D")
    return pd.to_datetime(valid_df["date"]) + pd.Timedelta(days=1)


def _register(
    paths: PmiPaths, name: str, trained: Any, score: Callable[[Any, Any], float], features: pd.DataFrame
) -> RegisteredModel:
    def evaluate(model: Any, unseen_after: pd.Timestamp | None) -> float:
        rows = rows_known_after(trained.valid_df, outcome_known_at(trained.valid_df), unseen_after)
        return score(model, rows) if len(rows) else float("nan")

    data_end = pd.to_datetime(features["date"]).max() + pd.Timedelta(days=1)
    with training_run(paths, name, dict(trained.params) | {"feature_service": FEATURE_SERVICE[name]}):
        mlflow.log_metrics({k: float(v) for k, v in trained.metrics.items() if np.isfinite(v)})
        return register_if_better(
            paths,
            name,
            trained.model,
            trained.validation_score,
            evaluate=evaluate,
            data_end=data_end,
            holdout_model=trained.holdout_model,
        )


def train_cac(paths: PmiPaths, seed: int = 0) -> RegisteredModel:
    """LightGBM cost-per-acquisition model on campaign-day features."""
    features = campaign_day_features(paths, FEATURE_SERVICE["cac"])
    return _register(paths, "cac", cac.train_cac_model(features, seed=seed), cac.score, features)


def train_pricing(paths: PmiPaths, seed: int = 0) -> RegisteredModel:
    """CPM and CPA at any spend given the market indices."""
    features = campaign_day_features(paths, FEATURE_SERVICE["pricing"])
    return _register(paths, "pricing", pricing.train_pricing_model(features, seed=seed), pricing.score, features)


def train_kpi_forecast(paths: PmiPaths, seed: int = 0) -> RegisteredModel:
    """Multi-horizon quantile forecasts of spend, conversions, CPA and ROAS."""
    holidays = read_sql(paths, "SELECT * FROM reference.marketing_holidays")
    features = campaign_day_features(paths, FEATURE_SERVICE["kpi_forecast"])
    trained = forecast.train_kpi_forecaster(features, holidays=holidays, seed=seed)
    result = _register(paths, "kpi_forecast", trained, forecast.score, features)
    champion = trained.model if result.promoted else load_champion(paths, "kpi_forecast")
    publish_kpi_forecast(paths, champion.predict(features), result.version if result.promoted else None)
    return result


def publish_kpi_forecast_at_budgets(paths: PmiPaths, daily_budgets: pd.Series, run_id: str) -> bool:
    """Re-publish the champion's forecast at an allocation's budgets (False when there is no forecaster)."""
    champion = load_champion(paths, "kpi_forecast")
    if champion is None:
        return False
    # The hourly job calls this: the point-in-time join of the whole history took most of its allocation step.
    features = campaign_day_features(paths, FEATURE_SERVICE["kpi_forecast"], recent_days=forecast.HISTORY_DAYS_NEEDED)
    table = champion.predict(features, daily_budgets=daily_budgets)
    publish_kpi_forecast(paths, table.assign(budget_basis=f"allocation {run_id}"), None)
    return True


def publish_kpi_forecast(paths: PmiPaths, table: pd.DataFrame, version: str | None) -> None:
    """Store the champion's forecast from now (per campaign, KPI, horizon: p10/p50/p90) for the dashboard."""
    if "budget_basis" not in table.columns:
        table = table.assign(budget_basis="budgets in force")
    table = table.assign(model_version=version or champion_version(paths, "kpi_forecast"))
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS predictions")
        con.register("forecast_rows", table)
        con.execute("CREATE OR REPLACE TABLE predictions.kpi_forecast AS SELECT * FROM forecast_rows")
