"""The incremental facts (dbt_project/macros/incremental.sql) equal a full rebuild of the same raw data.

A small simulation is built from raw (`--full-refresh`); then the simulator runs 30 live hours (across midnight) and
two rows held back from the history arrive late (an hour and a revenue event of the last history day, inside the
lookback); a plain `dbt build` updates the facts incrementally. Each incremental model must hold exactly the rows a
`--full-refresh` build of the same raw tables gives (SQL ``EXCEPT ALL`` both ways). A change to a day older than the
lookback is not seen by an incremental run, only by a full refresh: that is why every job but the hourly one
rebuilds from raw (orchestration/warehouse/project.py, ``dbt_build_args``).
"""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import duckdb
import pytest

from ml.settings import PmiPaths, pmi_paths
from orchestration.warehouse.project import DBT_BUILD_TAG, INCREMENTAL, dbt_build_args, invoke_dbt

INCREMENTAL_MODELS = ("marts.fct_campaign_hourly", "intermediate.int_campaign_daily", "intermediate.int_user_revenue")
END = dt.date(2026, 10, 1)  # the history ends at END 00:00; live hours start there
LIVE_HOURS = 30
LATE_HOUR = dt.datetime(2026, 9, 30, 7)  # on the last history day: inside the 2-day lookback
LATE_EVENT_DAY = dt.date(2026, 9, 30)


def run_dbt(paths: PmiPaths, *args: str, manifest=None):
    """One in-process `dbt build` on the warehouse (closed afterwards so the test can open it); the result."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        return invoke_dbt(
            paths,
            "build",
            paths.home / "dbt_target",
            "--log-path",
            str(paths.home / "dbt_logs"),
            *args,
            manifest=manifest,
        )
    finally:
        DuckDBConnectionManager.close_all_connections()
        gc.collect()


def built_ok(result) -> dict[str, str]:
    """Each model's materialisation in a successful build (fails the test, naming what failed, otherwise)."""
    assert result.result is not None, repr(result.exception)
    bad = [f"{r.node.unique_id}: {r.status} {r.message}" for r in result.result.results if str(r.status) == "error"]
    assert result.success and not bad, bad
    return {
        r.node.name: r.node.config.materialized for r in result.result.results if str(r.node.resource_type) == "model"
    }


def snapshot(warehouse: Path, schema: str) -> None:
    """Copy every incremental model into ``schema`` (replacing an earlier copy)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for model in INCREMENTAL_MODELS:
            name = model.split(".")[1]
            con.execute(f"CREATE OR REPLACE TABLE {schema}.{name} AS SELECT * FROM {model}")


def differing_rows(warehouse: Path, left: str, right: str) -> tuple[int, int]:
    """Rows of ``left`` missing from ``right`` and of ``right`` missing from ``left`` (multisets)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        only_left = con.execute(f"SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right})")
        n_left = only_left.fetchone()[0]
        n_right = con.execute(f"SELECT count(*) FROM (SELECT * FROM {right} EXCEPT ALL SELECT * FROM {left})")
        return n_left, n_right.fetchone()[0]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    home = pmi_paths(tmp_path_factory.mktemp("dbt_parse")).ensure()
    parsed = invoke_dbt(home, "parse", home.home / "target")
    assert parsed.success, parsed.exception
    return parsed.result


@pytest.fixture(scope="module")
def incremental_home(tmp_path_factory, manifest):
    """History (late rows held back) -> full build -> 30 live hours and the late rows -> incremental build, its
    facts copied to schema ``incremental`` -> full-refresh build of the same raw, copied to ``rebuilt``."""
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill
    from ml.simulation.live import step_one_hour

    paths = pmi_paths(tmp_path_factory.mktemp("incremental_home")).ensure()
    run_backfill(SimulationConfig(n_campaigns=4, days=30, seed=7, end_date=END), paths)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CREATE SCHEMA held")
        con.execute(
            "CREATE TABLE held.campaign_hourly AS SELECT * FROM raw.campaign_hourly "
            "WHERE hour_ts = ? ORDER BY campaign_id LIMIT 1",
            [LATE_HOUR],
        )
        con.execute(
            "CREATE TABLE held.revenue_events AS SELECT * FROM raw.revenue_events "
            "WHERE CAST(event_ts AS DATE) = ? ORDER BY event_id LIMIT 1",
            [LATE_EVENT_DAY],
        )
        for table in ("campaign_hourly", "revenue_events"):
            assert con.execute(f"SELECT count(*) FROM held.{table}").fetchone()[0] == 1, table
        con.execute(
            "DELETE FROM raw.campaign_hourly WHERE (campaign_id, hour_ts) IN (SELECT campaign_id, hour_ts "
            "FROM held.campaign_hourly)"
        )
        con.execute("DELETE FROM raw.revenue_events WHERE event_id IN (SELECT event_id FROM held.revenue_events)")
    first = built_ok(run_dbt(paths, "--full-refresh", manifest=manifest))

    for _ in range(LIVE_HOURS):
        step_one_hour(paths)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("INSERT INTO raw.campaign_hourly SELECT * FROM held.campaign_hourly")
        con.execute("INSERT INTO raw.revenue_events SELECT * FROM held.revenue_events")
    incremental = built_ok(run_dbt(paths, manifest=manifest))
    snapshot(paths.warehouse, "incremental")
    full = built_ok(run_dbt(paths, "--full-refresh", manifest=manifest))
    snapshot(paths.warehouse, "rebuilt")
    return paths, first, incremental, full


def test_large_facts_are_incremental_models(incremental_home):
    _, first, incremental, full = incremental_home
    for model in INCREMENTAL_MODELS:
        name = model.split(".")[1]
        assert first[name] == incremental[name] == full[name] == "incremental", name
    assert incremental["fct_campaign_daily"] == "table"  # the marts built from them stay tables


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_build_equals_a_full_refresh_of_the_same_raw(incremental_home, model):
    paths = incremental_home[0]
    name = model.split(".")[1]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT count(*) FROM incremental.{name}").fetchone()[0]
        first_rows = con.execute(f"SELECT count(*) FROM {model}").fetchone()[0]
    assert rows == first_rows > 0
    assert differing_rows(paths.warehouse, f"incremental.{name}", f"rebuilt.{name}") == (0, 0)


def test_live_hours_and_late_rows_inside_the_lookback_are_picked_up(incremental_home):
    paths = incremental_home[0]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        newest = con.execute("SELECT max(hour_ts) FROM incremental.fct_campaign_hourly").fetchone()[0]
        assert newest == dt.datetime.combine(END, dt.time(0)) + dt.timedelta(hours=LIVE_HOURS - 1)
        late_hour = con.execute(
            "SELECT count(*) FROM incremental.fct_campaign_hourly f JOIN held.campaign_hourly h "
            "ON f.campaign_id = h.campaign_id AND f.hour_ts = h.hour_ts AND f.spend = CAST(h.spend AS DECIMAL(18, 2))"
        ).fetchone()[0]
        late_event = con.execute(
            "SELECT count(*) FROM incremental.int_user_revenue WHERE event_id IN "
            "(SELECT event_id FROM held.revenue_events)"
        ).fetchone()[0]
        day_hours, raw_hours = con.execute(
            "SELECT d.n_active_hours, (SELECT count(*) FROM raw.campaign_hourly r WHERE r.campaign_id = h.campaign_id "
            "AND CAST(r.hour_ts AS DATE) = d.date) FROM incremental.int_campaign_daily d JOIN held.campaign_hourly h "
            "ON d.campaign_id = h.campaign_id AND d.date = CAST(h.hour_ts AS DATE)"
        ).fetchone()
    assert (late_hour, late_event) == (1, 1)
    assert day_hours == raw_hours  # the day's sum includes the late hour


def test_a_change_older_than_the_lookback_needs_a_full_refresh(incremental_home, manifest):
    """An incremental run leaves days before the lookback as they were (it is incremental) and the reconciliation
    test of the marts with raw fails, so a stale history is never silent; `--full-refresh` rebuilds them. This moves
    the module's warehouse on, so it runs last."""
    paths = incremental_home[0]
    old_day = dt.date(2026, 9, 10)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("UPDATE raw.campaign_hourly SET spend = spend + 1 WHERE CAST(hour_ts AS DATE) = ?", [old_day])

    def old_day_spend() -> tuple:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            sql = "SELECT sum(spend) FROM {} WHERE date = ?"
            tables = ("rebuilt.fct_campaign_hourly", "marts.fct_campaign_hourly", "intermediate.int_campaign_daily")
            return tuple(con.execute(sql.format(t), [old_day]).fetchone()[0] for t in tables)

    stale = run_dbt(paths, manifest=manifest)
    not_passed = {
        r.node.name: str(r.status) for r in stale.result.results if str(r.status) not in ("success", "pass", "warn")
    }
    assert not_passed == {"assert_campaign_marts_reconcile_with_raw": "fail"}
    before, hourly, daily = old_day_spend()
    assert hourly == daily == before  # not revisited
    built_ok(run_dbt(paths, "--full-refresh", manifest=manifest))
    before, hourly, daily = old_day_spend()
    assert hourly == daily > before


def test_only_the_hourly_job_builds_incrementally():
    from orchestration import jobs

    assert dbt_build_args({DBT_BUILD_TAG: INCREMENTAL}) == ["build"]
    assert dbt_build_args({}) == dbt_build_args({DBT_BUILD_TAG: "full"}) == ["build", "--full-refresh"]
    args = {
        job.name: dbt_build_args(job.run_tags)
        for job in (getattr(jobs, name) for name in dir(jobs))
        if hasattr(job, "run_tags") and hasattr(job, "selection")
    }
    assert args.pop("hourly_allocation") == ["build"]
    assert set(args) >= {"full_pipeline", "retrain", "media_mix_pipeline"}
    assert all(value == ["build", "--full-refresh"] for value in args.values()), args


def test_an_incremental_build_tests_recent_rows_and_a_full_refresh_every_row(incremental_home, manifest):
    """The generic tests of the hour-growing tables read only the lookback's rows in an incremental build
    (macros/test_window.sql), so a bad recent row fails the hourly build while a bad row of an old day waits for a
    full-refresh build; the singular reconciliations read every row in both. Moves the warehouse on: runs last."""
    paths = incremental_home[0]
    platform_test = "accepted_values_stg_users_platform__ios__android__web"

    def failed_tests(*args: str) -> set[str]:
        result = run_dbt(paths, *args, manifest=manifest)
        return {r.node.name for r in result.result.results if str(r.status) in ("fail", "error")}

    def add_user(user_id: str, day: dt.date) -> None:
        with duckdb.connect(str(paths.warehouse)) as con:
            con.execute(
                "INSERT INTO raw.users SELECT ?, campaign_id, ?, 'fax', geo FROM raw.users ORDER BY user_id LIMIT 1",
                [user_id, dt.datetime.combine(day, dt.time(5))],
            )

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        newest = con.execute("SELECT max(install_ts) FROM raw.users").fetchone()[0].date()
    add_user("recent_fax_user", newest)
    assert failed_tests() == {platform_test}
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("DELETE FROM raw.users WHERE user_id = 'recent_fax_user'")
    add_user("old_fax_user", newest - dt.timedelta(days=10))
    assert failed_tests() == set()  # the old day is not the hourly build's to test again
    assert failed_tests("--full-refresh") == {platform_test}
