"""A short soak of the hourly loop, in a data directory whose path has a space and an apostrophe.

The full pipeline, then `pmi simulate --live-hours` to 22:00, then `pmi loop` cycles through midnight: after each
cycle the marts reconcile with raw, every user acquired up to the LTV's as-of is in their campaign's LTV (no row
without a campaign), and the retention policy keeps the history bounded. The hourly job always keeps the user-level
marts and the LTV; after the first cycle of a data day (the one that crosses midnight) `pmi loop` runs the
`daily_user_value` job, which rebuilds and re-scores them; the full pipeline always does both.
`benchmarks/hourly_soak_bench.py` runs 48 such cycles.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import duckdb
import pytest

from ml.cli.main import main
from ml.features.store import registry_reads_here
from ml.operations.retention import dbt_target_dir
from ml.operations.soak import check_cycle
from ml.settings import pmi_paths

CYCLES = 4


@pytest.fixture(scope="module")
def quirky_home(tmp_path_factory):
    """`pmi run`'s pipeline on a small simulation in ".../Ops team's data" (space and apostrophe)."""
    from ml.cli.pipeline import run_full_pipeline

    paths = pmi_paths(tmp_path_factory.mktemp("soak") / "Ops team's data").ensure()
    result = run_full_pipeline(paths, campaigns=6, days=60, seed=3, end_date="2026-10-01")
    return paths, result


def dbt_build_args(paths) -> list[dict]:
    """The arguments of every finished `dbt build` kept in the data directory, oldest first."""
    folders = sorted(dbt_target_dir(paths).iterdir(), key=lambda p: p.stat().st_mtime)
    return [
        json.loads((p / "run_results.json").read_text())["args"] for p in folders if (p / "run_results.json").exists()
    ]


def sim_clock(paths) -> dt.datetime:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute("SELECT next_hour_ts FROM sim.state").fetchone()[0]


def hourly_day(instance: dg.DagsterInstance) -> str:
    """The data day (partition) the newest hourly run materialised the live hour for."""
    run = instance.get_runs(filters=dg.RunsFilter(job_name="hourly_allocation"), limit=1)[0]
    event = instance.get_latest_materialization_event(dg.AssetKey("simulator_live_hour"))
    assert event.run_id == run.run_id
    return event.asset_materialization.partition


def hourly_kept(instance: dg.DagsterInstance) -> tuple[str, str]:
    """What the newest hourly run did with the LTV table and the user-level marts (its own materialisations)."""
    run = instance.get_runs(filters=dg.RunsFilter(job_name="hourly_allocation"), limit=1)[0]
    events = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    metadata = {
        e.event_log_entry.asset_materialization.asset_key: e.event_log_entry.asset_materialization.metadata
        for e in events
    }
    marts = metadata[dg.AssetKey(["marts", "fct_user_value"])].get("pmi/user_marts")
    return metadata[dg.AssetKey("campaign_ltv")]["scoring"].value, marts.value if marts else "rebuilt"


def ltv_scoring(instance: dg.DagsterInstance) -> tuple[str, str]:
    """Whether the newest ``campaign_ltv`` materialisation kept or re-scored the table, and why."""
    metadata = instance.get_latest_materialization_event(dg.AssetKey("campaign_ltv")).asset_materialization.metadata
    return metadata["scoring"].value, metadata["scoring_reason"].value


def user_marts_build(instance: dg.DagsterInstance) -> str:
    """Whether the newest run rebuilt the user-level marts or kept the data day's build."""
    event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_user_value"]))
    kept = event.asset_materialization.metadata.get("pmi/user_marts")
    return kept.value if kept else "rebuilt"


def test_pipeline_runs_where_the_path_has_a_space_and_an_apostrophe(quirky_home):
    paths, result = quirky_home
    assert result.success, [e.step_key for e in result.all_events if e.is_step_failure]
    assert {p.name for p in (paths.feast_dir / "data").glob("*.parquet")} == {
        "user_features.parquet",
        "campaign_day_features.parquet",
        "market_day_features.parquet",
    }
    assert registry_reads_here(paths)
    assert not check_cycle(paths).problems
    builds = dbt_build_args(paths)
    assert builds and all(args["full_refresh"] for args in builds)  # full_pipeline rebuilds from raw
    [ltv] = result.asset_materializations_for_node("campaign_ltv")
    assert (ltv.metadata["scoring"].value, ltv.metadata["scoring_reason"].value) == ("re-scored", "a full_pipeline run")


def test_hourly_cycles_across_midnight_keep_every_user_and_bounded_history(quirky_home, monkeypatch, capsys):
    paths, result = quirky_home
    assert result.success
    monkeypatch.setenv("PMI_KEEP_RUNS", "2")
    monkeypatch.setenv("PMI_KEEP_DBT_TARGETS", "2")
    assert main(["simulate", "--home", str(paths.home), "--live-hours", "22"]) == 0
    assert sim_clock(paths) == dt.datetime(2026, 10, 1, 22)
    parts, disk, scoring, user_marts, user_export, hourly, daily_lines, days = [], [], [], [], [], [], [], []
    exported_by_pipeline = (paths.feast_dir / "data" / "user_features.parquet").stat().st_mtime_ns
    for cycle in range(1, CYCLES + 1):
        capsys.readouterr()
        assert main(["loop", "--home", str(paths.home), "--cycles", "1"]) == 0, capsys.readouterr()
        daily_lines.append([line for line in capsys.readouterr().out.splitlines() if "daily user value: run" in line])
        check = check_cycle(paths)
        assert not check.problems, (cycle, check.problems)  # the kept user marts reconcile with raw to their as-of
        assert check.null_campaign_rows == 0 and check.ltv_users == check.users_scored
        disk.append(check.disk_bytes)
        parts.append(check.disk_parts)
        scoring.append(ltv_scoring(dg.DagsterInstance.get()))
        user_marts.append(user_marts_build(dg.DagsterInstance.get()))
        hourly.append(hourly_kept(dg.DagsterInstance.get()))
        days.append(hourly_day(dg.DagsterInstance.get()))
        user_export.append((paths.feast_dir / "data" / "user_features.parquet").stat().st_mtime_ns)
    assert sim_clock(paths) == dt.datetime(2026, 10, 2, 2)  # hours 22, 23, 00 and 01 ran: midnight crossed
    # each hourly run is the partition of the data day its hour fell on; the days are added as the data reaches them
    assert days == ["2026-10-01", "2026-10-01", "2026-10-02", "2026-10-02"], days
    assert dg.DagsterInstance.get().get_dynamic_partitions("data_day") == ["2026-10-01", "2026-10-02"]
    # Hour 23 moves the warehouse's as-of to 2026-10-02 00:00, a new data day: the hourly run still keeps the user
    # marts and the LTV (the hour's allocation never waits for them), then the loop's daily job re-scores LTV ...
    assert hourly == [("kept", "kept")] * CYCLES, hourly
    assert [len(lines) for lines in daily_lines] == [0, 1, 0, 0], daily_lines
    assert "the warehouse is as of 2026-10-02 00:00:00: a new data day" in daily_lines[1][0], daily_lines
    assert [kept for kept, _ in scoring] == ["kept", "re-scored", "kept", "kept"], scoring
    assert scoring[1][1] == "a daily_user_value run", scoring
    # ... and rebuilds the user-level marts (re-exported for Feast) on the new data day.
    assert user_marts == ["kept", "rebuilt", "kept", "kept"], user_marts
    assert user_export[0] == exported_by_pipeline and user_export[1] != user_export[0], user_export
    assert user_export[1] == user_export[2] == user_export[3], user_export
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        as_of = con.execute("SELECT max(as_of_ts) FROM marts.fct_user_value").fetchone()[0]
    assert as_of == dt.datetime(2026, 10, 2)  # built by the daily job after hour 23, kept by hours 00 and 01
    assert check.users_scored < check.users  # the hour-01 users wait for the next data day's scoring

    instance = dg.DagsterInstance.get()  # the data directory's (pmi's commands set DAGSTER_HOME to it)
    assert len(instance.get_runs(filters=dg.RunsFilter(job_name="hourly_allocation"))) == 2
    assert len(list(dbt_target_dir(paths).iterdir())) <= 3  # the kept ones and the last cycle's own
    # Bounded once each job's kept history is full: the daily job's run and dbt target join it at cycle 2, kept
    # beside the hourly ones (per job), so cycles 3 and 4 hold the same history.
    assert disk[-1] <= disk[2] * 1.10, parts
    newest = dbt_build_args(paths)[-1]  # the last cycle's: the hourly job builds the large facts incrementally
    assert newest["which"] == "build" and not newest.get("full_refresh"), newest
