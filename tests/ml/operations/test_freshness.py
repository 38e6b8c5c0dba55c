"""`pmi status` tells a warehouse in step from one whose marts are older than raw, or mixed (a killed dbt build)."""

from __future__ import annotations

import json
import os

import pytest
from dbt.adapters.duckdb.connections import DuckDBConnectionManager

from ml.cli.main import main
from ml.operations.freshness import IN_STEP, MIXED, STALE, warehouse_freshness
from ml.operations.retention import dbt_target_dir
from ml.simulation.live import step_one_hour
from orchestration.warehouse.project import invoke_dbt


@pytest.fixture
def home(small_warehouse_copy):
    """The session's small warehouse, copied."""
    return small_warehouse_copy


def status_lines(paths, capsys) -> str:
    assert main(["status", "--home", str(paths.home)]) == 0
    return capsys.readouterr().out


def dbt_run(paths, *select: str) -> None:
    """Rebuild only the selected models, as a dbt build killed after them would leave the warehouse."""
    result = invoke_dbt(paths, "run", paths.home / "scratch_target", "--select", *select)
    DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception


def test_in_step_then_older_than_raw_then_mixed(home, capsys):
    assert warehouse_freshness(home).state == IN_STEP
    assert "Warehouse in step" in status_lines(home, capsys)

    step_one_hour(home)  # `pmi simulate --live-hours 1`: raw moves on, the marts do not
    stale = warehouse_freshness(home)
    assert stale.state == STALE and set(stale.behind) >= {"marts.fct_campaign_hourly", "marts.fct_user_value"}
    out = status_lines(home, capsys)
    assert "Warehouse older than raw: marts rebuilt at" in out and "raw changed after that" in out
    assert "run `pmi run`" in out

    dbt_run(home, "fct_campaign_hourly")  # the hourly mart caught up, the daily one did not
    mixed = warehouse_freshness(home)
    assert mixed.state == MIXED and "marts.fct_campaign_hourly" not in mixed.behind
    assert "marts.fct_campaign_daily" in mixed.behind
    assert "Warehouse mixed: marts.fct_campaign_daily" in status_lines(home, capsys)


def test_mixed_names_the_interrupted_build(home):
    step_one_hour(home)
    dbt_run(home, "fct_campaign_hourly")
    complete, killed = dbt_target_dir(home) / "aaa", dbt_target_dir(home) / "bbb"
    complete.mkdir(parents=True)
    (complete / "run_results.json").write_text(json.dumps({"metadata": {"generated_at": "2026-10-01T05:06:07Z"}}))
    killed.mkdir()
    (killed / "manifest.json").write_text("{}")  # parsed, then killed before run_results.json
    os.utime(complete, (1.0e9, 1.0e9))  # the complete build came first
    message = warehouse_freshness(home).message
    assert "a dbt build stopped part-way" in message and "2026-10-01 05:06 UTC" in message
