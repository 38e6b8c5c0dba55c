"""Shared fixtures: every test that writes state gets its own PMI_HOME."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture
def pmi_home(tmp_path, monkeypatch):
    """A fresh data directory exported as PMI_HOME for the duration of one test."""
    home = tmp_path / "pmi_home"
    home.mkdir()
    monkeypatch.setenv("PMI_HOME", str(home))
    return home


def build_warehouse(home, **simulation):
    """Simulate into ``home`` and run `dbt build` in-process; returns the PmiPaths of the built warehouse."""
    import datetime as dt

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    from ml.settings import pmi_paths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill
    from orchestration.warehouse.project import DBT_PROJECT_DIR

    paths = pmi_paths(home).ensure()
    settings = {"n_campaigns": 5, "days": 45, "seed": 3, "end_date": dt.date(2026, 10, 1)} | simulation
    run_backfill(SimulationConfig(**settings), paths)
    result = dbtRunner().invoke(["build", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                                 "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(paths.home / "target")])
    DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception
    return paths


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory):
    """A small simulated portfolio (6 campaigns x 120 days) built through dbt, shared read-only by tests."""
    return build_warehouse(tmp_path_factory.mktemp("small_warehouse"), n_campaigns=6, days=120)


MODEL_TABLES = {"features": "marts.fct_campaign_day_features", "truth": "truth.campaign_truth",
                "holidays": "reference.marketing_holidays"}


@pytest.fixture(scope="session")
def model_frames(small_warehouse):
    """Frames the campaign-level models train on: ``features``, ``truth`` (evaluation only) and ``holidays``."""
    import duckdb

    with duckdb.connect(str(small_warehouse.warehouse), read_only=True) as con:
        return {name: con.sql(f"SELECT * FROM {table}").df() for name, table in MODEL_TABLES.items()}


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """One `full_pipeline` run through Dagster (6 campaigns x 120 days), shared by every test that needs the whole
    graph: read-only tests (dashboard, gates) run before tests/orchestration, whose hourly and drift tests move it on.
    """
    from ml.cli.pipeline import run_full_pipeline
    from ml.settings import pmi_paths

    paths = pmi_paths(tmp_path_factory.mktemp("pipeline_home")).ensure()
    result = run_full_pipeline(paths, campaigns=6, days=120, seed=3, end_date="2026-10-01")
    return paths, result
