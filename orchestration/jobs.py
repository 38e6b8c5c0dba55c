"""Jobs: the whole pipeline from raw data to marts."""

from __future__ import annotations

import dagster as dg

full_pipeline = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all(),
    description="Simulate (or ingest) raw data, then build and test every dbt model.",
)
