"""Track training runs and keep one champion per model: a new version wins only on the same validation data.

MLflow runs on a sqlite store and a local artifact folder under ``PMI_HOME/mlflow``, so it works offline and
tests can point it at a temporary directory; the production profile keeps tracking and registry in PostgreSQL
(``PMI_PG_MLFLOW_DB``) and the artefacts in the same folder (a shared volume or object store on a cluster).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ml.settings import PmiPaths, is_production, production_settings
from ml.tracking.relocation import ensure_local_artifacts

CHAMPION = "champion"
EXPERIMENT = "pmi"


class _Wrapped(mlflow.pyfunc.PythonModel):
    """Carries any picklable pmi model object through MLflow's pyfunc flavour."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None):  # noqa: ARG002 - MLflow's signature
        return self.model.predict(model_input)


@dataclass(frozen=True)
class RegisteredModel:
    """What a training run produced: the run, the registered version and whether it became champion."""

    name: str
    run_id: str
    version: str
    promoted: bool
    score: float
    champion_score: float | None
    reason: str = ""


def run_ui_url(run_id: str) -> str:
    """Where the MLflow UI shows a run, for links from the Dagster UI: ``$PMI_MLFLOW_UI_URL``, else port 5000 of
    this machine (``mlflow ui --backend-store-uri sqlite:///$PMI_HOME/mlflow/mlflow.db`` serves it there)."""
    base = os.environ.get("PMI_MLFLOW_UI_URL", "http://127.0.0.1:5000").rstrip("/")
    experiment_id = mlflow.get_run(run_id).info.experiment_id
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def tracking_uri(paths: PmiPaths) -> str:
    """The sqlite file under PMI_HOME (embedded profile) or the PostgreSQL database (production profile)."""
    if is_production():
        settings = production_settings()
        return settings.postgres_url(settings.mlflow_db)
    return f"sqlite:///{paths.mlflow_dir / 'mlflow.db'}"


def tracking_store_exists(paths: PmiPaths) -> bool:
    """True when there may be runs to read: the sqlite file exists, or the profile's store is a server."""
    return is_production() or (paths.mlflow_dir / "mlflow.db").exists()


def configure(paths: PmiPaths) -> str:
    """Point MLflow at the profile's tracking store and return the tracking URI."""
    paths.mlflow_dir.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(paths)
    os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    artifacts = (paths.mlflow_dir / "artifacts").as_uri()
    if not is_production():  # a moved or copied data directory reads its own artifacts (relocation.py)
        ensure_local_artifacts(paths.mlflow_dir / "mlflow.db", EXPERIMENT, artifacts)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        try:
            mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts)
        except MlflowException:  # created concurrently
            pass
    mlflow.set_experiment(EXPERIMENT)
    return uri


@contextmanager
def training_run(paths: PmiPaths, name: str, params: Mapping[str, Any]) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run for one model's training, with its parameters logged up front."""
    configure(paths)
    with mlflow.start_run(run_name=name) as run:
        mlflow.set_tag("pmi.model", name)
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        yield run


def load_champion(paths: PmiPaths, name: str) -> Any | None:
    """The current champion's model object, or None when no version holds the alias yet or when this code cannot
    unpickle it (its classes were moved or renamed since it was trained): the next training run then registers a
    readable version as the first one, instead of every run failing on the old pickle."""
    configure(paths)
    try:
        # The check of the model's pip requirements against this environment scans every installed distribution
        # (1.6 s a load, each hourly run loads several); the models are trained in this same environment.
        model = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}", suppress_warnings=True)
    except MlflowException:
        return None
    except (ImportError, AttributeError) as err:
        warnings.warn(
            f"the {name} champion was pickled by older code and cannot be read ({err}); "
            "it counts as absent until a training run registers a new one",
            stacklevel=2,
        )
        return None
    return model.unwrap_python_model().model


def champion_version(paths: PmiPaths, name: str) -> str | None:
    """The registered version currently aliased champion (recorded with every prediction)."""
    configure(paths)
    try:
        return str(MlflowClient().get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


DATA_END_TAG = "pmi.data_end"


def champion_data_end(name: str) -> pd.Timestamp | None:
    """When the champion's training data ends (tagged on its version), or None for versions without the tag."""
    try:
        tag = MlflowClient().get_model_version_by_alias(name, CHAMPION).tags.get(DATA_END_TAG)
    except MlflowException:
        return None
    return pd.Timestamp(tag) if tag else None


def newest_version_data_end(paths: PmiPaths, name: str) -> pd.Timestamp | None:
    """When the training data of the model's newest registered version ends, promoted or not (the last training
    run's data), or None before any tagged version."""
    configure(paths)
    try:
        versions = MlflowClient().search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    tagged = [v for v in versions if v.tags.get(DATA_END_TAG)]
    if not tagged:
        return None
    return pd.Timestamp(max(tagged, key=lambda v: int(v.version)).tags[DATA_END_TAG])


def _better(challenger: float, champion: float, lower_is_better: bool) -> bool:
    return challenger < champion if lower_is_better else challenger > champion


def register_if_better(
    paths: PmiPaths,
    name: str,
    model: Any,
    score: float,
    evaluate: Callable[[Any, pd.Timestamp | None], float],
    lower_is_better: bool = True,
    data_end: pd.Timestamp | None = None,
    holdout_model: Any | None = None,
) -> RegisteredModel:
    """Log the model in the active run, register it, and move the champion alias only if it beats the champion.

    ``evaluate(model, unseen_after)`` scores a model on this run's validation rows whose outcome became known
    after ``unseen_after`` (all rows for None; NaN when there are none). A champion refit on all data up to its
    ``data_end`` has seen part of the validation window, so it is compared with this run's holdout model on the
    rows known after that date only: data neither model saw. With no such rows (nothing new since the champion
    was trained) there is nothing to prove and the champion stays.
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("register_if_better must be called inside training_run()")
    champion = load_champion(paths, name)
    unseen_after = champion_data_end(name) if champion is not None and data_end is not None else None
    champion_score, challenger_score = None, score
    if champion is not None:
        champion_score = float(evaluate(champion, unseen_after))
        if unseen_after is not None:
            challenger_score = float(evaluate(holdout_model if holdout_model is not None else model, unseen_after))
    mlflow.log_metric("validation_score", score)
    if champion_score is not None and np.isfinite(champion_score):
        mlflow.log_metric("champion_validation_score", champion_score)
        mlflow.log_metric("challenger_validation_score", challenger_score)
    info = mlflow.pyfunc.log_model(
        name="model", python_model=_Wrapped(model), pip_requirements=[], registered_model_name=name
    )
    version = str(info.registered_model_version)
    if data_end is not None:
        MlflowClient().set_model_version_tag(name, version, DATA_END_TAG, pd.Timestamp(data_end).isoformat())
    if champion is None:
        better, reason = True, "first version"
    elif not np.isfinite(champion_score) or not np.isfinite(challenger_score):
        better, reason = False, f"no validation outcome known after the champion's data end ({unseen_after})"
    else:
        better = _better(challenger_score, champion_score, lower_is_better)
        window = "all validation rows" if unseen_after is None else f"rows known after {unseen_after}"
        reason = (
            f"{'beats' if better else 'does not beat'} the champion on {window}: "
            f"{challenger_score:.4g} vs {champion_score:.4g}"
        )
    if better:
        MlflowClient().set_registered_model_alias(name, CHAMPION, version)
    mlflow.set_tags({"pmi.promoted": str(better), "pmi.promotion_reason": reason})
    return RegisteredModel(
        name=name,
        run_id=run.info.run_id,
        version=version,
        promoted=better,
        score=score,
        champion_score=champion_score,
        reason=reason,
    )
