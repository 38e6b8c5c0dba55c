"""dbt's `postgres` target against the real PostgreSQL server: same models, same dbt tests, same marts as DuckDB.

A small simulation (3 campaigns x 60 days) is built by dbt on DuckDB; its raw tables are loaded into a fresh
PostgreSQL database (dropped afterwards), `dbt build --target postgres` runs there, and every mart is compared row
by row with DuckDB's. Skips with one line naming the address when PostgreSQL is unreachable.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import shutil
import socket
import uuid
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.settings import ENV_FIELDS, ProductionSettings, pmi_paths, production_settings
from ml.warehouse.raw_schema import RAW_TABLES
from orchestration.warehouse.project import invoke_dbt

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt_project"
# The key of every mart: rows are compared in this order on both engines (a new mart must be added here).
MART_KEYS = {
    "dim_campaigns": ["campaign_id"],
    "fct_campaign_daily": ["campaign_id", "date"],
    "fct_campaign_day_features": ["campaign_id", "date"],
    "fct_campaign_hourly": ["campaign_id", "hour_ts"],
    "fct_cohort_curves": ["campaign_id", "install_week", "day_since_install"],
    "fct_market_daily": ["date", "network", "geo"],
    "fct_market_day_features": ["date", "network", "geo"],
    "fct_user_features": ["user_id"],
    "fct_user_value": ["user_id"],
}
RTOL, ATOL = 1e-9, 1e-12  # floats: DuckDB's DOUBLE against PostgreSQL's double precision or numeric


def run_dbt(home: Path, target: str, env: dict[str, str], *args: str):
    """`dbt build` in-process on one target, with its own target and log directories; the dbtRunnerResult."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        try:
            return invoke_dbt(
                pmi_paths(home),
                "build",
                home / f"dbt_target_{target}",
                "--target",
                target,
                "--log-path",
                str(home / f"dbt_logs_{target}"),
                *args,
            )
        finally:
            DuckDBConnectionManager.close_all_connections()
            gc.collect()


def node_statuses(result) -> dict[str, str]:
    assert result.result is not None, repr(result.exception)
    return {r.node.unique_id: str(r.status) for r in result.result.results}


def pg_rows(settings: ProductionSettings, sql: str) -> list[tuple]:
    from ml.warehouse.postgres_raw import pg_connect

    con = pg_connect(settings, settings.warehouse_db)
    try:
        cur = con.cursor()
        cur.execute(sql)
        return cur.fetchall()
    finally:
        con.close()


def duck_rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def drop_database(settings: ProductionSettings, name: str) -> None:
    from ml.warehouse.postgres_raw import pg_connect

    con = pg_connect(settings, "postgres")
    con.autocommit = True
    try:
        con.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        con.close()


@pytest.fixture(scope="module")
def pg_settings():
    """The configured server with a fresh warehouse database of this module's own (dropped afterwards)."""
    from ml.warehouse.postgres_raw import create_warehouse_database

    settings = production_settings().model_copy(update={"warehouse_db": f"pmi_test_warehouse_{uuid.uuid4().hex[:10]}"})
    try:
        socket.create_connection((settings.pg_host, settings.pg_port), timeout=2).close()
    except OSError:
        pytest.skip(f"PostgreSQL is not reachable on {settings.pg_host}:{settings.pg_port}")
    assert create_warehouse_database(settings)
    try:
        yield settings
    finally:
        drop_database(settings, settings.warehouse_db)


@pytest.fixture(scope="module")
def builds(pg_settings, tmp_path_factory):
    """DuckDB build, raw load into PostgreSQL (twice: re-running must change nothing), PostgreSQL build."""
    from ml.settings import pmi_paths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill
    from ml.warehouse.postgres_raw import dbt_postgres_env, load_raw_into_postgres

    paths = pmi_paths(tmp_path_factory.mktemp("dbt_pg_home")).ensure()
    run_backfill(SimulationConfig(n_campaigns=3, days=60, seed=5, end_date=dt.date(2026, 10, 1)), paths)
    duck = run_dbt(paths.home, "dev", {})
    first = load_raw_into_postgres(paths.warehouse, pg_settings, batch_rows=1_000)  # several batches per table
    again = load_raw_into_postgres(paths.warehouse, pg_settings)
    pg = run_dbt(paths.home, "postgres", dbt_postgres_env(pg_settings))
    return paths, duck, pg, first, again


def test_raw_load_copies_every_row_exactly_and_is_idempotent(builds, pg_settings):
    paths, _, _, first, again = builds
    for table, (columns, key) in RAW_TABLES.items():
        query = f"SELECT {', '.join(columns)} FROM raw.{table} ORDER BY {', '.join(key)}"
        expected = duck_rows(paths.warehouse, query)
        assert len(expected) > 0, table
        assert first[table] == again[table] == len(expected), table
        # values equal exactly: decimals as decimals, doubles bit for bit (CSV round-trips them), timestamps, NULLs
        assert pg_rows(pg_settings, query) == expected, table


def test_failed_load_leaves_the_previous_tables(builds, pg_settings, tmp_path):
    """A load that fails half-way (duplicate user keys, refused by PostgreSQL's primary key after `campaigns` and
    `campaign_hourly` were already copied) rolls back: PostgreSQL still holds the previous load."""
    from psycopg2 import errors

    from ml.warehouse.postgres_raw import load_raw_into_postgres

    paths, _, _, first, _ = builds
    broken = tmp_path / "broken.duckdb"
    shutil.copy(paths.warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("DELETE FROM raw.campaigns WHERE campaign_id = (SELECT min(campaign_id) FROM raw.campaigns)")
        con.execute("CREATE TABLE raw.users_doubled AS SELECT * FROM raw.users UNION ALL SELECT * FROM raw.users")
        con.execute("DROP TABLE raw.users")
        con.execute("ALTER TABLE raw.users_doubled RENAME TO users")
    with pytest.raises(errors.UniqueViolation):
        load_raw_into_postgres(broken, pg_settings)
    for table in RAW_TABLES:
        assert pg_rows(pg_settings, f"SELECT count(*) FROM raw.{table}")[0][0] == first[table], table


def test_postgres_build_runs_the_same_models_and_tests_as_duckdb(builds):
    _, duck, pg, _, _ = builds
    duck_status, pg_status = node_statuses(duck), node_statuses(pg)
    assert duck.success and pg.success, {k: v for k, v in pg_status.items() if v not in ("success", "pass")}
    assert set(pg_status) == set(duck_status)
    assert pg_status == duck_status  # every model built, every test passed (or warned) alike
    kinds = {node.split(".")[0] for node in pg_status}
    assert {"model", "test", "seed"} <= kinds
    assert sum(node.startswith("test.") for node in pg_status) > 100


def _mismatches(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Rows where two columns differ: floats within RTOL/ATOL (either side float), everything else exactly."""
    if any(isinstance(v, float) for v in pd.concat([left, right]).dropna()):
        a = pd.to_numeric(left.map(lambda v: float(v) if isinstance(v, Decimal) else v), errors="raise")
        b = pd.to_numeric(right.map(lambda v: float(v) if isinstance(v, Decimal) else v), errors="raise")
        return ~np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=RTOL, atol=ATOL, equal_nan=True)
    both_null = left.isna().to_numpy() & right.isna().to_numpy()
    return ~(both_null | (left.to_numpy(object) == right.to_numpy(object)))


def test_every_mart_reconciles_between_postgres_and_duckdb(builds, pg_settings):
    paths = builds[0]
    listing = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
    assert {name for (name,) in duck_rows(paths.warehouse, listing)} == set(MART_KEYS)
    assert {name for (name,) in pg_rows(pg_settings, listing)} == set(MART_KEYS)
    for mart, key in MART_KEYS.items():
        columns_sql = (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' "
            f"AND table_name = '{mart}' ORDER BY ordinal_position"
        )
        columns = [name for (name,) in duck_rows(paths.warehouse, columns_sql)]
        assert [name for (name,) in pg_rows(pg_settings, columns_sql)] == columns, mart
        query = f"SELECT * FROM marts.{mart} ORDER BY {', '.join(key)}"
        duck = pd.DataFrame(duck_rows(paths.warehouse, query), columns=columns, dtype=object)
        pg = pd.DataFrame(pg_rows(pg_settings, query), columns=columns, dtype=object)
        assert len(duck) > 0 and len(pg) == len(duck), (mart, len(pg), len(duck))
        differing = {
            column: int(bad.sum()) for column in columns if (bad := _mismatches(duck[column], pg[column])).any()
        }
        assert differing == {}, f"{mart}: rows differing per column {differing}"


def test_profile_reads_the_typed_settings_with_their_defaults():
    """profiles.yml's `postgres` output reads the PMI_PG_* variables of ml/settings.py, defaulting as they do."""
    text = (DBT_DIR / "profiles.yml").read_text()
    defaults = dict(re.findall(r"env_var\('(PMI_PG_\w+)', '([^']*)'\)", text))
    fields = {env: field for field, env in ENV_FIELDS.items()}
    expected = {
        env: str(ProductionSettings.model_fields[fields[env]].default)
        for env in ("PMI_PG_HOST", "PMI_PG_PORT", "PMI_PG_USER", "PMI_PG_PASSWORD", "PMI_PG_WAREHOUSE_DB")
    }
    assert defaults == expected


def test_command_line_loads_a_home_and_names_a_missing_one(builds, pg_settings, monkeypatch, capsys, tmp_path):
    from ml.warehouse.postgres_raw import main

    paths, _, _, first, _ = builds
    monkeypatch.setenv("PMI_PG_WAREHOUSE_DB", pg_settings.warehouse_db)
    monkeypatch.setenv("PMI_HOME", str(paths.home))  # main() exports PMI_HOME; restored after the test
    assert main(["--home", str(paths.home)]) == 0
    out = capsys.readouterr().out
    assert f"/{pg_settings.warehouse_db}: raw.campaigns {first['campaigns']:,}" in out
    assert main(["--home", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no warehouse at" in err
    assert pg_rows(pg_settings, "SELECT count(*) FROM raw.users")[0][0] == first["users"]


INCREMENTAL_MODELS = ("marts.fct_campaign_hourly", "intermediate.int_campaign_daily", "intermediate.int_user_revenue")


def test_incremental_build_on_postgres_equals_a_full_refresh(builds, pg_settings):
    """After 26 live hours (across midnight) reach PostgreSQL, a plain `dbt build --target postgres` updates the
    incremental facts (delete+insert of their recent days) to exactly what `--full-refresh` builds from the same raw
    tables (EXCEPT ALL both ways). Moves the module's warehouse on, so it runs last."""
    from ml.simulation.live import step_one_hour
    from ml.warehouse.postgres_raw import dbt_postgres_env, load_raw_into_postgres

    paths = builds[0]
    for _ in range(26):
        step_one_hour(paths)
    load_raw_into_postgres(paths.warehouse, pg_settings)
    env = dbt_postgres_env(pg_settings)
    incremental = run_dbt(paths.home, "postgres", env)
    assert incremental.success, {k: v for k, v in node_statuses(incremental).items() if v not in ("success", "pass")}
    # the incremental path ran (delete+insert into the existing table, not a CREATE TABLE AS)
    messages = {r.node.name: r.message for r in incremental.result.results if r.node.resource_type == "model"}
    assert all(messages[model.split(".")[1]].startswith("INSERT") for model in INCREMENTAL_MODELS), messages
    assert messages["fct_campaign_daily"].startswith("SELECT"), messages  # a table model: CREATE TABLE AS
    copies = [f"incremental_copy.{model.split('.')[1]}" for model in INCREMENTAL_MODELS]
    pg_execute(pg_settings, "CREATE SCHEMA incremental_copy")
    for model, copy in zip(INCREMENTAL_MODELS, copies, strict=True):
        pg_execute(pg_settings, f"CREATE TABLE {copy} AS SELECT * FROM {model}")
    full = run_dbt(paths.home, "postgres", env, "--full-refresh")
    assert full.success, {k: v for k, v in node_statuses(full).items() if v not in ("success", "pass")}
    newest = pg_rows(pg_settings, "SELECT max(hour_ts) FROM incremental_copy.fct_campaign_hourly")[0][0]
    assert newest == dt.datetime(2026, 10, 2, 1)  # the live hours 00:00 .. 01:00 of the next day are in
    for model, copy in zip(INCREMENTAL_MODELS, copies, strict=True):
        counts = [
            pg_rows(pg_settings, f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) AS d")[0][0]
            for a, b in ((model, copy), (copy, model))
        ]
        assert counts == [0, 0], model
        assert pg_rows(pg_settings, f"SELECT count(*) FROM {copy}")[0][0] > 0, model


def pg_execute(settings: ProductionSettings, sql: str) -> None:
    from ml.warehouse.postgres_raw import pg_connect

    con = pg_connect(settings, settings.warehouse_db)
    try:
        con.cursor().execute(sql)
        con.commit()
    finally:
        con.close()
