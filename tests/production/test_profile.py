"""The one switch: PMI_PROFILE picks the embedded default or the production shape, and says what is wrong."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from ml.features.store import feature_store
from ml.settings import ProfileError, active_profile, pmi_paths, production_settings
from ml.tracking.registry import tracking_uri
from orchestration.production import celery_config, instance_config, pipeline_executor, write_instance_yaml


@pytest.fixture
def embedded(monkeypatch, pmi_home):
    monkeypatch.delenv("PMI_PROFILE", raising=False)
    return pmi_paths(pmi_home).ensure()


def test_default_profile_is_embedded_and_names_no_service(embedded):
    assert active_profile() == "embedded"
    assert tracking_uri(embedded) == f"sqlite:///{embedded.mlflow_dir / 'mlflow.db'}"
    assert pipeline_executor() is dg.in_process_executor
    write_instance_yaml(embedded.home / "dagster")
    assert (embedded.home / "dagster" / "dagster.yaml").read_text() == ""  # Dagster's sqlite under PMI_HOME
    assert feature_store(embedded).config.online_store.type == "sqlite"


def test_production_profile_points_every_store_at_the_services(embedded, monkeypatch):
    monkeypatch.setenv("PMI_PROFILE", "production")
    monkeypatch.setenv("PMI_PG_MLFLOW_DB", "mlflow_x")
    monkeypatch.setenv("PMI_REDIS_DB", "4")
    assert tracking_uri(embedded) == "postgresql+psycopg2://postgres@127.0.0.1:5432/mlflow_x"
    store = feature_store(embedded)  # builds the config only: nothing connects yet
    assert store.config.online_store.type == "redis"
    assert store.config.online_store.connection_string == "127.0.0.1:6379,db=4"
    write_instance_yaml(embedded.home / "dagster")
    written = yaml.safe_load((embedded.home / "dagster" / "dagster.yaml").read_text())
    assert written == instance_config(production_settings())
    assert written["storage"]["postgres"]["postgres_db"]["db_name"] == "pmi_dagster"
    assert pipeline_executor().name == "celery"
    assert celery_config(production_settings())["broker"] == "pyamqp://guest:guest@127.0.0.1:5672//"
    monkeypatch.setenv("PMI_PROFILE", "embedded")
    write_instance_yaml(embedded.home / "dagster")  # back to the sqlite instance
    assert (embedded.home / "dagster" / "dagster.yaml").read_text() == ""


def test_unknown_profile_and_bad_settings_name_the_variable(monkeypatch):
    monkeypatch.setenv("PMI_PROFILE", "cluster")
    with pytest.raises(ProfileError, match="PMI_PROFILE='cluster'"):
        active_profile()
    monkeypatch.setenv("PMI_PG_PORT", "five")
    with pytest.raises(ProfileError, match="PMI_PG_PORT"):
        production_settings()
