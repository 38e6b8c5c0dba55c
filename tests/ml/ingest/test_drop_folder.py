"""The raw-tables asset ingests a configured drop folder instead of simulating."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest
from ingest_helpers import GOOD

from orchestration.ingest.assets import simulator_backfill
from orchestration.resources import PmiHomeResource


def materialize_from(folder, home, raise_on_error=True):
    config = {"ops": {"simulator_backfill": {"config": {"drop_folder": str(folder)}}}}
    return dg.materialize(
        [simulator_backfill],
        run_config=config,
        raise_on_error=raise_on_error,
        resources={"pmi_home": PmiHomeResource(home=str(home))},
    )


def test_drop_folder_is_ingested_by_the_raw_asset(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    for name in ("campaigns.csv", "hourly.csv", "users.csv", "revenue_events.csv"):
        shutil.copy(GOOD / name, folder / name)
    result = materialize_from(folder, tmp_path / "home")
    assert result.success
    counts = {
        e.asset_key.path[-1]: e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
    }
    assert counts == {
        "campaigns": 3,
        "campaign_hourly": 6,
        "users": 4,
        "revenue_events": 4,
        "market_daily": 0,
        "budgets": 0,
    }
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT sum(spend)::VARCHAR FROM raw.campaign_hourly").fetchall() == [("78.50",)]


def test_a_bad_drop_folder_fails_the_step_and_writes_nothing(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(GOOD / "campaigns.csv", folder / "campaigns.csv")
    (folder / "hourly.csv").write_text((GOOD / "hourly.csv").read_text().replace(",500,30,", ",500,700,"))
    result = materialize_from(folder, tmp_path / "home", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "row 3, column clicks" in str(failure.event_specific_data.error)
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()


def test_drop_folder_without_campaigns_is_refused(tmp_path):
    with pytest.raises(dg.Failure, match="no campaigns.csv"):
        materialize_from(tmp_path, tmp_path / "home")
