"""The drift sensor requests `retrain` once per evaluation, and only when a campaign's CPA miss is beyond the
model's own predictive noise (the drift rule of ml/monitoring/drift.py), not whenever MAPE passes 30%."""

from __future__ import annotations

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from orchestration.monitoring.sensors import mape_drift_sensor

START = pd.Timestamp("2026-09-20")


def write_evaluation(warehouse, evaluation_id: str, cpa_mape: float, when: pd.Timestamp) -> None:
    rows = pd.DataFrame(
        {
            "evaluation_id": [evaluation_id] * 2,
            "metric": ["cpa", "conversions"],
            "model_version": ["1", "1"],
            "mape": [cpa_mape, 0.1],
            "evaluated_through": when,
            "evaluated_at": when,
        }
    )
    append(warehouse, "monitoring.model_accuracy", rows)


def append(warehouse, table: str, rows: pd.DataFrame) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        con.register("rows_", rows)
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM rows_ LIMIT 0")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows_")


def write_days(warehouse, conversions: dict[str, list[float]], first_day: int) -> pd.Timestamp:
    """Predictions of 100 conversions for 1,000 a day (posterior spread 10%, over-dispersion 8: a noisy fit) and
    the given actual conversions per campaign, from ``first_day`` days after START; returns the last day."""
    ids = list(conversions)
    n = len(conversions[ids[0]])
    days = START + pd.to_timedelta(np.arange(first_day, first_day + n), unit="D")
    predictions = pd.DataFrame(
        {
            "run_id": "r",
            "campaign_id": np.repeat(ids, n),
            "predicted_at": np.tile(days - pd.Timedelta(hours=1), len(ids)),
            "target_date": np.tile(days, len(ids)),
            "recommended_budget": 1000.0,
            "expected_conversions": 100.0,
            "expected_cpa": 10.0,
            "response_curves_version": "1",
            "expected_conversions_log_sd": 0.10,
            "response_dispersion": 8.0,
        }
    )
    actual = np.concatenate([conversions[c] for c in ids])
    daily = pd.DataFrame(
        {
            "campaign_id": np.repeat(ids, n),
            "date": np.tile(days, len(ids)),
            "is_complete_day": True,
            "spend": 1000.0,
            "conversions": actual,
            "cpa": 1000.0 / actual,
        }
    )
    append(warehouse, "predictions.allocation_predictions", predictions)
    append(warehouse, "marts.fct_campaign_daily", daily)
    return days[-1]


def evaluate(cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor)
    result = mape_drift_sensor(context)
    return result, context.cursor


def test_sensor_retrains_on_a_break_beyond_noise_once_and_not_on_noisy_misses(pmi_home):
    warehouse = pmi_home / "warehouse.duckdb"
    result, cursor = evaluate(None)
    assert isinstance(result, dg.SkipReason)  # nothing evaluated yet

    # 7 ordinary days, then 4 days on which `noisy` misses by 35% MAPE (within its noise) and `steady` is on plan
    write_days(warehouse, {"noisy": [100.0] * 7, "steady": [100.0] * 7}, 0)
    last = write_days(warehouse, {"noisy": [65.0] * 4, "steady": [100.0] * 4}, 7)
    write_evaluation(warehouse, "eval_1", cpa_mape=0.54, when=last)
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.SkipReason) and "beyond the model's predictive noise" in str(result.skip_message)
    assert cursor == "eval_1"  # the old rule (CPA MAPE above 30%) would have retrained here

    # then `steady` breaks: CPA x2.5 for 4 days, far beyond its noise
    last = write_days(warehouse, {"noisy": [100.0] * 4, "steady": [40.0] * 4}, 11)
    write_evaluation(warehouse, "eval_2", cpa_mape=1.5, when=last)
    result, cursor = evaluate(cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key == "retrain_eval_2"
    assert result.tags["pmi/drifted_campaigns"] == "steady" and result.tags["pmi/drifted_metrics"] == "cpa"

    result, cursor = evaluate(cursor)  # same evaluation again: no second retrain
    assert isinstance(result, dg.SkipReason)
