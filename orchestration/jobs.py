"""Jobs: the whole pipeline, and retraining every model."""

from __future__ import annotations

import dagster as dg

full_pipeline = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("simulator_live_hour"),
    description="Simulate (or ingest) raw data, then build and test every dbt model.",
)

retrain = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts", "features", "models"),
    description="Rebuild the marts from the raw tables (so data `pmi ingest` just loaded count), refresh the Feast "
                "features and retrain every model; each is promoted only if it beats its champion on outcomes "
                "neither has seen.",
)

hourly_allocation = dg.define_asset_job(
    "hourly_allocation",
    selection=dg.AssetSelection.assets("simulator_live_hour", "campaign_ltv")
    | dg.AssetSelection.groups("staging", "intermediate", "marts", "allocation", "monitoring", "reporting"),
    description="Advance the simulator one hour, rebuild the warehouse, re-score LTV, re-allocate the budget and "
                "refresh the executive dashboard.",
)

hourly_allocation_schedule = dg.ScheduleDefinition(
    job=hourly_allocation, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.STOPPED,
)
