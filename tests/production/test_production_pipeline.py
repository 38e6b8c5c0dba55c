"""`full_pipeline` in the production profile: Dagster instance and MLflow on PostgreSQL, Feast online on Redis,
steps on Celery workers over RabbitMQ (the model-training steps in parallel); the marts reconcile to raw."""

from __future__ import annotations

import os

import duckdb
import pytest

MODELS = ("response_curves_model", "cac_model", "pricing_model", "kpi_forecast_model", "ltv_model")


@pytest.fixture(scope="module")
def production_run(production_env, celery_workers, tmp_path_factory):
    """One small `full_pipeline` run (3 campaigns x 60 days) through the Celery workers."""
    from ml.cli.pipeline import run_full_pipeline
    from ml.settings import pmi_paths

    paths = pmi_paths(tmp_path_factory.mktemp("production_home")).ensure()
    result = run_full_pipeline(paths, campaigns=3, days=60, seed=5, end_date="2026-10-01")
    if not result.success:
        failures = [
            (e.step_key, e.event_specific_data.error.message[:500]) for e in result.all_events if e.is_step_failure
        ]
        pytest.fail(f"production full_pipeline failed: {failures}")
    return paths, result


def pg_rows(database: str, sql: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=database) as con:
        cur = con.cursor()
        cur.execute(sql)
        return cur.fetchall()


def step_times(run_id: str, event_type: str) -> dict[str, float]:
    """When each step reached ``event_type``, from the run's event log (stored in PostgreSQL)."""
    import dagster as dg

    records = dg.DagsterInstance.get().all_logs(run_id)
    return {
        r.step_key: r.timestamp
        for r in records
        if r.dagster_event is not None and r.dagster_event.event_type_value == event_type
    }


def test_steps_run_on_celery_workers_with_models_in_parallel(production_run):
    _, result = production_run
    starts, ends = step_times(result.run_id, "STEP_START"), step_times(result.run_id, "STEP_SUCCESS")
    worker_pids = {e.pid for e in result.all_events if e.event_type_value == "STEP_START"}
    assert os.getpid() not in worker_pids  # no step ran in the launching process
    assert set(MODELS) <= set(ends)
    intervals = sorted((starts[m], ends[m]) for m in MODELS)
    overlapping = any(later[0] < earlier[1] for earlier, later in zip(intervals, intervals[1:], strict=False))
    assert overlapping, f"model steps ran one after another: {intervals}"


def test_run_is_stored_in_postgres(production_run, production_env):
    _, result = production_run
    rows = pg_rows(production_env["PMI_PG_DAGSTER_DB"], f"SELECT status FROM runs WHERE run_id = '{result.run_id}'")
    assert rows == [("SUCCESS",)]
    events = pg_rows(
        production_env["PMI_PG_DAGSTER_DB"], f"SELECT count(*) FROM event_logs WHERE run_id = '{result.run_id}'"
    )[0][0]
    assert events > 50


def test_models_are_registered_in_postgres(production_run, production_env):
    from ml.tracking.registry import champion_version

    paths, _ = production_run
    registered = pg_rows(production_env["PMI_PG_MLFLOW_DB"], "SELECT name FROM registered_models ORDER BY name")
    assert {"response_curves", "pricing", "kpi_forecast"} <= {name for (name,) in registered}
    for model in ("response_curves", "pricing", "kpi_forecast"):
        assert champion_version(paths, model) == "1", model


def test_online_features_come_from_redis(production_run):
    import redis

    from ml.features.store import feature_store, online_features
    from tests.production.conftest import REDIS_TEST_DB

    paths, _ = production_run
    assert feature_store(paths).config.online_store.type == "redis"
    assert redis.Redis(host="127.0.0.1", port=6379, db=REDIS_TEST_DB).dbsize() > 0
    served = online_features(paths, "cac_model", [{"campaign_id": "cmp_00001", "market_id": "facebook:US"}])
    assert served["trailing_7d_spend"].notna().all()


def test_marts_reconcile_with_raw(production_run):
    paths, _ = production_run
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        raw = con.execute("SELECT sum(spend), sum(conversions), sum(revenue) FROM raw.campaign_hourly").fetchone()
        for mart in ("marts.fct_campaign_hourly", "marts.fct_campaign_daily"):
            assert con.execute(f"SELECT sum(spend), sum(conversions), sum(revenue) FROM {mart}").fetchone() == raw
        events = con.execute("SELECT sum(revenue) FROM raw.revenue_events").fetchone()[0]
        assert con.execute("SELECT sum(revenue_total) FROM marts.fct_user_value").fetchone()[0] == events
        assert con.execute("SELECT sum(cohort_revenue) FROM marts.fct_campaign_daily").fetchone()[0] == events
