"""`pmi loop` retrains once the data has moved a set span past the last training run's data, on the data's clock."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from mlflow import MlflowClient

from ml.cli.loop import retrain_every
from ml.io.errors import BadInputError
from ml.models.training.response_curves import MODEL_NAME
from ml.operations.retrain_due import retrain_due
from ml.settings import pmi_paths
from ml.tracking.registry import DATA_END_TAG, configure, newest_version_data_end
from ml.warehouse.connection import warehouse_as_of


@pytest.fixture
def trained(pipeline_run, tmp_path):
    """A copy of the shared pipeline's data directory (its own MLflow registry), trained by `full_pipeline`."""
    paths, _ = pipeline_run
    shutil.copytree(paths.home, tmp_path / "home", ignore=shutil.ignore_patterns("dagster", "logs", "dbt_targets"))
    return pmi_paths(tmp_path / "home")


def move_newest_data_end(paths, to: pd.Timestamp) -> None:
    """As if the last training run had seen data up to ``to`` (its version's tag, as registration writes it)."""
    configure(paths)
    client = MlflowClient()
    newest = max(client.search_model_versions(f"name = '{MODEL_NAME}'"), key=lambda v: int(v.version))
    client.set_model_version_tag(MODEL_NAME, newest.version, DATA_END_TAG, to.isoformat())


def test_retrain_is_due_a_span_of_data_after_the_last_training(trained):
    as_of = pd.Timestamp(warehouse_as_of(trained))
    trained_through = newest_version_data_end(trained, MODEL_NAME)
    assert trained_through is not None and abs(as_of - trained_through) < pd.Timedelta(days=1)
    assert retrain_due(trained) is None  # just trained

    move_newest_data_end(trained, as_of - pd.Timedelta(days=6, hours=23))
    assert retrain_due(trained) is None
    move_newest_data_end(trained, as_of - pd.Timedelta(days=7))
    assert "7.0 days later" in retrain_due(trained)
    assert retrain_due(trained, pd.Timedelta(days=8)) is None


def test_a_newer_version_counts_even_when_it_was_not_promoted(trained):
    """A challenger that lost still trained on the newest data: retraining again a cycle later would repeat it."""
    configure(trained)
    client = MlflowClient()
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion").version
    as_of = pd.Timestamp(warehouse_as_of(trained))
    for version in versions:  # every training so far a month of data ago
        client.set_model_version_tag(
            MODEL_NAME, version.version, DATA_END_TAG, (as_of - pd.Timedelta(days=30)).isoformat()
        )
    assert "30.0 days later" in retrain_due(trained)
    newer = client.create_model_version(MODEL_NAME, versions[0].source, tags={DATA_END_TAG: as_of.isoformat()})
    assert client.get_model_version_by_alias(MODEL_NAME, "champion").version == champion  # not promoted
    assert newest_version_data_end(trained, MODEL_NAME) == as_of and int(newer.version) > int(champion)
    assert retrain_due(trained) is None


def test_retrain_every_option():
    assert retrain_every("7d") == pd.Timedelta(days=7)
    assert retrain_every("36h") == pd.Timedelta(hours=36)
    assert retrain_every("0") is None
    with pytest.raises(BadInputError, match="--retrain-every weekly"):
        retrain_every("weekly")
