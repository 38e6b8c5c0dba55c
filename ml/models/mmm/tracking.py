"""Log a media-mix fit to MLflow through the project's tracking helper: settings, diagnostics, decomposition."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow

from ml.models.mmm.result import MmmResult
from ml.settings import PmiPaths
from ml.tracking.registry import training_run

MODEL_NAME = "media_mix"


def log_fit(paths: PmiPaths, result: MmmResult, holdout: dict[str, float] | None = None) -> str:
    """One MLflow run: config as parameters; R², NRMSE, MAPE, media share (and holdout figures) as metrics;
    each channel's share and ROAS; parameters, contributions and the decomposition as CSV artefacts. Returns its id."""
    params = result.config.model_dump() | {"channels": ",".join(result.channels), "periods": len(result.data)}
    with training_run(paths, MODEL_NAME, params) as run:
        mlflow.log_metrics(result.diagnostics() | {f"holdout_{k}": v for k, v in (holdout or {}).items()})
        contributions = result.contributions()
        for row in contributions.itertuples():
            mlflow.log_metrics({f"share_{row.channel}": row.share, f"roas_{row.channel}": row.roas})
        with tempfile.TemporaryDirectory() as tmp:
            for name, frame in (
                ("parameters", result.parameters()),
                ("contributions", contributions),
                ("decomposition", result.decomposition().reset_index(names="date")),
            ):
                path = Path(tmp) / f"{name}.csv"
                frame.to_csv(path, index=False)
                mlflow.log_artifact(str(path), artifact_path="mmm")
        return run.info.run_id
