"""The Dagster graph end to end on a small simulation in a temporary PMI_HOME, reconciled against raw."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ml.cli.pipeline import run_full_pipeline
from ml.features.store import online_features
from ml.settings import pmi_paths
from ml.tracking.registry import champion_version

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    paths = pmi_paths(tmp_path_factory.mktemp("pipeline_home")).ensure()
    result = run_full_pipeline(paths, campaigns=6, days=120, seed=3, end_date="2026-10-01")
    return paths, result


@pytest.fixture
def con(pipeline):
    paths, _ = pipeline
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        yield connection


def test_full_pipeline_succeeds(pipeline):
    _, result = pipeline
    assert result.success
    materialized = {key.to_user_string() for key in
                    (e.asset_key for e in result.get_asset_materialization_events())}
    assert {"raw/campaign_hourly", "raw/users", "marts/fct_campaign_daily", "marts/fct_user_value"} <= materialized


def test_models_are_registered_with_a_champion(pipeline):
    paths, _ = pipeline
    for model in ("response_curves", "cac", "pricing", "kpi_forecast", "ltv"):
        assert champion_version(paths, model) == "1", model


def test_feature_store_is_applied_and_online(pipeline):
    paths, _ = pipeline
    served = online_features(paths, "cac_model", [{"campaign_id": "cmp_00001", "market_id": "facebook:US"}])
    assert served["trailing_7d_spend"].notna().all()


def test_marts_reconcile_with_raw(con):
    raw = con.execute("SELECT sum(spend), sum(conversions), sum(revenue) FROM raw.campaign_hourly").fetchone()
    for mart in ("marts.fct_campaign_hourly", "marts.fct_campaign_daily"):
        assert con.execute(f"SELECT sum(spend), sum(conversions), sum(revenue) FROM {mart}").fetchone() == raw
    events = con.execute("SELECT sum(revenue) FROM raw.revenue_events").fetchone()[0]
    assert con.execute("SELECT sum(revenue_total) FROM marts.fct_user_value").fetchone()[0] == events
    assert con.execute("SELECT sum(cohort_revenue) FROM marts.fct_campaign_daily").fetchone()[0] == events


def test_every_users_revenue_reconciles(con):
    mismatches = con.execute("""
        SELECT count(*) FROM marts.fct_user_value v
        FULL OUTER JOIN (SELECT u.user_id, coalesce(sum(e.revenue), 0) AS revenue
                         FROM raw.users u LEFT JOIN raw.revenue_events e USING (user_id) GROUP BY 1) r USING (user_id)
        WHERE v.user_id IS NULL OR r.user_id IS NULL OR v.revenue_total <> r.revenue
    """).fetchone()[0]
    assert mismatches == 0


def test_definitions_validate():
    env_bin = Path(sys.executable).parent
    completed = subprocess.run([str(env_bin / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
                               cwd=REPO, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
