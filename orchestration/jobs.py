"""Jobs: the whole pipeline, and retraining every model."""

from __future__ import annotations

import dagster as dg

full_pipeline = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all(),
    description="Simulate (or ingest) raw data, then build and test every dbt model.",
)

retrain = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.groups("models"),
    description="Retrain every model on the current warehouse; each is promoted only if it beats its champion.",
)
