"""The Dagster code location of pmi."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.allocation.assets import allocation_run, simulator_live_hour
from orchestration.features.assets import feast_online_store, feast_registry, feature_exports
from orchestration.ingest.assets import simulator_backfill
from orchestration.jobs import (
    daily_user_value,
    daily_user_value_schedule,
    full_pipeline,
    hourly_allocation,
    hourly_allocation_schedule,
    media_mix_pipeline,
    retrain,
    retrain_schedule,
)
from orchestration.media_mix.assets import media_mix_model
from orchestration.models.assets import (
    cac_model,
    campaign_ltv,
    kpi_forecast_model,
    ltv_model,
    pricing_model,
    response_curves_model,
)
from orchestration.monitoring.assets import campaign_alerts, model_accuracy
from orchestration.monitoring.sensors import mape_drift_sensor
from orchestration.production import pipeline_executor
from orchestration.quality.checks import quality_checks
from orchestration.reporting.assets import executive_dashboard
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.assets import warehouse_models
from orchestration.warehouse.project import DBT_EXECUTABLE, pmi_dbt_project

defs = dg.Definitions(
    assets=[
        simulator_backfill,
        warehouse_models,
        feature_exports,
        feast_registry,
        feast_online_store,
        response_curves_model,
        cac_model,
        pricing_model,
        kpi_forecast_model,
        ltv_model,
        campaign_ltv,
        allocation_run,
        simulator_live_hour,
        model_accuracy,
        campaign_alerts,
        executive_dashboard,
        media_mix_model,
    ],
    asset_checks=quality_checks,
    # Embedded: DuckDB takes one writer at a time and dbt shares the file, so steps run one after another.
    # Production profile: Celery workers run steps in parallel (orchestration/production.py).
    executor=pipeline_executor(),
    jobs=[full_pipeline, retrain, hourly_allocation, daily_user_value, media_mix_pipeline],
    schedules=[hourly_allocation_schedule, daily_user_value_schedule, retrain_schedule],
    sensors=[mape_drift_sensor],
    resources={
        "pmi_home": PmiHomeResource(),
        "dbt": DbtCliResource(project_dir=pmi_dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
)
