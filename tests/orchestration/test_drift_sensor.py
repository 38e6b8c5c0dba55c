"""The MAPE-drift sensor requests `retrain` once per drifted evaluation, using its cursor."""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd

from orchestration.monitoring.sensors import mape_drift_sensor


def write_evaluation(warehouse, evaluation_id: str, cpa_mape: float, when: str) -> None:
    rows = pd.DataFrame(
        {
            "evaluation_id": [evaluation_id] * 2,
            "metric": ["cpa", "conversions"],
            "model_version": ["1", "1"],
            "mape": [cpa_mape, 0.1],
            "evaluated_through": pd.Timestamp(when),
            "evaluated_at": pd.Timestamp(when),
        }
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
        con.register("rows_", rows)
        con.execute("CREATE TABLE IF NOT EXISTS monitoring.model_accuracy AS SELECT * FROM rows_ LIMIT 0")
        con.execute("INSERT INTO monitoring.model_accuracy BY NAME SELECT * FROM rows_")


def evaluate(cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor)
    result = mape_drift_sensor(context)
    return result, context.cursor


def test_sensor_fires_once_per_drifted_evaluation(pmi_home):
    warehouse = pmi_home / "warehouse.duckdb"
    result, cursor = evaluate(None)
    assert isinstance(result, dg.SkipReason)  # nothing evaluated yet

    write_evaluation(warehouse, "eval_1", cpa_mape=0.45, when="2026-10-01")
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key == "retrain_eval_1"
    assert result.tags["pmi/drifted_metrics"] == "cpa"

    result, cursor = evaluate(cursor)  # same evaluation again: no second retrain
    assert isinstance(result, dg.SkipReason)

    write_evaluation(warehouse, "eval_2", cpa_mape=0.12, when="2026-10-02")
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.SkipReason) and cursor == "eval_2"

    write_evaluation(warehouse, "eval_3", cpa_mape=0.31, when="2026-10-03")
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key == "retrain_eval_3"
