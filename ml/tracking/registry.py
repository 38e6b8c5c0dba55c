"""Track training runs and keep one champion per model: a new version wins only on the same validation data.

MLflow runs on a sqlite store and a local artifact folder under ``PMI_HOME/mlflow``, so it works offline and
tests can point it at a temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ml.settings import PmiPaths

CHAMPION = "champion"
EXPERIMENT = "pmi"


class _Wrapped(mlflow.pyfunc.PythonModel):
    """Carries any picklable pmi model object through MLflow's pyfunc flavour."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, context, model_input, params=None):  # noqa: ARG002 - MLflow's signature
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


def configure(paths: PmiPaths) -> str:
    """Point MLflow at the sqlite store under PMI_HOME and return the tracking URI."""
    paths.mlflow_dir.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{paths.mlflow_dir / 'mlflow.db'}"
    os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    artifacts = (paths.mlflow_dir / "artifacts").as_uri()
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
    """The current champion's model object, or None when no version holds the alias yet."""
    configure(paths)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
    except MlflowException:
        return None
    return model.unwrap_python_model().model


def champion_version(paths: PmiPaths, name: str) -> str | None:
    """The registered version currently aliased champion (recorded with every prediction)."""
    configure(paths)
    try:
        return str(MlflowClient().get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def register_if_better(paths: PmiPaths, name: str, model: Any, score: float,
                       evaluate: Callable[[Any], float], lower_is_better: bool = True) -> RegisteredModel:
    """Log the model in the active run, register it, and move the champion alias only if it beats the champion.

    The champion is re-scored by ``evaluate`` on the same validation data as the new model, so the comparison
    is fair even when the data moved since the champion was trained.
    """
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("register_if_better must be called inside training_run()")
    champion = load_champion(paths, name)
    champion_score = None if champion is None else float(evaluate(champion))
    mlflow.log_metric("validation_score", score)
    if champion_score is not None:
        mlflow.log_metric("champion_validation_score", champion_score)
    info = mlflow.pyfunc.log_model(name="model", python_model=_Wrapped(model), pip_requirements=[],
                                   registered_model_name=name)
    version = str(info.registered_model_version)
    better = champion_score is None or (score < champion_score if lower_is_better else score > champion_score)
    if better:
        MlflowClient().set_registered_model_alias(name, CHAMPION, version)
    mlflow.set_tag("pmi.promoted", str(better))
    return RegisteredModel(name=name, run_id=run.info.run_id, version=version, promoted=better, score=score,
                           champion_score=champion_score)
