"""Compare what allocation runs predicted for a day with what happened: MAE, MAPE, sMAPE, RMSE, direction.

MAPE is undefined where the actual is zero: those rows are skipped from MAPE and counted (``n_zero_actual``);
sMAPE, which is bounded and defined unless both values are zero, is reported beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql, transaction

# metric -> (predicted column, actual column)
METRICS = {"conversions": ("expected_conversions", "conversions"), "cpa": ("expected_cpa", "cpa"),
           "spend": ("recommended_budget", "spend")}

_PAIRS_SQL = """
    SELECT p.run_id, p.campaign_id, p.predicted_at, p.response_curves_version AS model_version,
           p.expected_conversions, p.expected_cpa, p.recommended_budget, p.current_budget,
           d.conversions::DOUBLE AS conversions, d.cpa::DOUBLE AS cpa, d.spend::DOUBLE AS spend
    FROM predictions.allocation_predictions p
    JOIN marts.fct_campaign_daily d ON d.campaign_id = p.campaign_id AND d.date = p.predicted_at::DATE
    WHERE d.is_complete_day
"""


def error_metrics(predicted: np.ndarray, actual: np.ndarray, baseline: np.ndarray | None = None) -> dict[str, float]:
    """MAE, MAPE (zeros skipped and counted), sMAPE, RMSE and directional accuracy against a baseline."""
    predicted, actual = np.asarray(predicted, float), np.asarray(actual, float)
    ok = np.isfinite(predicted) & np.isfinite(actual)
    predicted, actual = predicted[ok], actual[ok]
    error = predicted - actual
    nonzero = actual != 0
    denom = np.abs(predicted) + np.abs(actual)
    out = {
        "n": float(len(actual)),
        "mae": float(np.mean(np.abs(error))) if len(error) else np.nan,
        "rmse": float(np.sqrt(np.mean(error**2))) if len(error) else np.nan,
        "mape": float(np.mean(np.abs(error[nonzero] / actual[nonzero]))) if nonzero.any() else np.nan,
        "n_zero_actual": float((~nonzero).sum()),
        "smape": float(np.mean(np.where(denom > 0, 2 * np.abs(error) / np.where(denom > 0, denom, 1), 0.0)))
        if len(error) else np.nan,
        "direction_accuracy": np.nan,
    }
    if baseline is not None:
        base = np.asarray(baseline, float)[ok]
        moved = actual != base
        if moved.any():
            same_sign = np.sign(predicted - base)[moved] == np.sign(actual - base)[moved]
            out["direction_accuracy"] = float(np.mean(same_sign))
    return out


def accuracy_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per metric x model version over all prediction/actual pairs given."""
    rows = []
    for version, group in pairs.groupby("model_version", dropna=False):
        for metric, (pred_col, actual_col) in METRICS.items():
            baseline = group["current_budget"] if metric == "spend" else None
            rows.append({"metric": metric, "model_version": str(version)}
                        | error_metrics(group[pred_col], group[actual_col], baseline))
    return pd.DataFrame(rows)


def evaluate_predictions(paths: PmiPaths) -> pd.DataFrame:
    """Score every stored prediction whose day is complete; append to ``monitoring.model_accuracy``."""
    pairs = read_sql(paths, _PAIRS_SQL)
    table = accuracy_table(pairs) if len(pairs) else pd.DataFrame()
    if table.empty:
        return table
    evaluated_through = pd.Timestamp(pairs["predicted_at"].max())
    table = table.assign(evaluation_id=f"eval_{evaluated_through:%Y%m%dT%H%M}", evaluated_through=evaluated_through,
                         evaluated_at=pd.Timestamp.now(tz="UTC").tz_localize(None))
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
        con.register("accuracy_rows", table)
        con.execute("CREATE TABLE IF NOT EXISTS monitoring.model_accuracy AS SELECT * FROM accuracy_rows LIMIT 0")
        con.execute("DELETE FROM monitoring.model_accuracy WHERE evaluation_id = ?", [table["evaluation_id"].iloc[0]])
        con.execute("INSERT INTO monitoring.model_accuracy BY NAME SELECT * FROM accuracy_rows")
    log_accuracy_to_mlflow(paths, table)
    return table


def log_accuracy_to_mlflow(paths: PmiPaths, table: pd.DataFrame) -> None:
    """One MLflow run per evaluation, metrics named metric/statistic/version, so drift is visible over time."""
    import mlflow

    from ml.tracking.registry import configure

    configure(paths)
    with mlflow.start_run(run_name=f"accuracy_{table['evaluation_id'].iloc[0]}"):
        mlflow.set_tag("pmi.kind", "prediction_accuracy")
        mlflow.log_metrics({f"{row.metric}_{stat}_v{row.model_version}": float(getattr(row, stat))
                            for row in table.itertuples() for stat in ("mae", "mape", "smape", "rmse")
                            if np.isfinite(getattr(row, stat))})


def latest_accuracy(paths: PmiPaths) -> pd.DataFrame:
    """The most recent evaluation's rows (empty when nothing was evaluated yet)."""
    try:
        return read_sql(paths, """SELECT * FROM monitoring.model_accuracy WHERE evaluation_id =
                                  (SELECT evaluation_id FROM monitoring.model_accuracy
                                   ORDER BY evaluated_through DESC, evaluated_at DESC LIMIT 1)""")
    except Exception:  # noqa: BLE001 - no monitoring table yet means no evaluation yet
        return pd.DataFrame()
