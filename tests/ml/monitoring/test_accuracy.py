"""Accuracy metrics: known values, honest handling of zeros, grouping by model version, drift thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.monitoring.accuracy import accuracy_table, error_metrics
from ml.monitoring.drift import DriftThresholds, drifted_metrics


def test_error_metrics_known_values():
    out = error_metrics(predicted=[110.0, 90.0, 5.0], actual=[100.0, 100.0, 0.0], baseline=[100.0, 85.0, 1.0])
    assert out["mae"] == pytest.approx((10 + 10 + 5) / 3)
    assert out["rmse"] == pytest.approx(np.sqrt((100 + 100 + 25) / 3))
    assert out["mape"] == pytest.approx(0.10)  # the zero actual is skipped from MAPE ...
    assert out["n_zero_actual"] == 1  # ... and counted
    assert out["smape"] == pytest.approx((20 / 210 + 20 / 190 + 2.0) / 3)
    # direction vs baseline: row 2 (up vs up), row 3 (up vs down); row 1 unchanged actual is skipped
    assert out["direction_accuracy"] == pytest.approx(0.5)


def test_accuracy_table_splits_by_model_version():
    pairs = pd.DataFrame({
        "model_version": ["1", "1", "2"], "expected_conversions": [10.0, 20.0, 30.0], "conversions": [10.0, 10.0, 15.0],
        "expected_cpa": [5.0, 5.0, 5.0], "cpa": [5.0, 10.0, 4.0], "recommended_budget": [50.0, 100.0, 150.0],
        "spend": [50.0, 100.0, 150.0], "current_budget": [40.0, 120.0, 150.0],
    })
    table = accuracy_table(pairs).set_index(["model_version", "metric"])
    assert table.loc[("1", "conversions"), "mape"] == pytest.approx(0.5)
    assert table.loc[("2", "conversions"), "mape"] == pytest.approx(1.0)
    assert table.loc[("1", "spend"), "direction_accuracy"] == 1.0


def test_drift_thresholds():
    accuracy = pd.DataFrame({"metric": ["cpa", "cpa", "conversions"], "mape": [0.2, 0.35, 0.9]})
    assert drifted_metrics(accuracy, DriftThresholds()) == ["cpa"]
    assert drifted_metrics(accuracy, DriftThresholds(mape={"cpa": 0.4, "conversions": 0.5})) == ["conversions"]
    assert drifted_metrics(pd.DataFrame(), DriftThresholds()) == []


def test_evaluation_is_stored_and_logged(tmp_path):
    import duckdb
    import mlflow

    from ml.monitoring.accuracy import evaluate_predictions
    from ml.settings import pmi_paths
    from ml.tracking.registry import configure

    paths = pmi_paths(tmp_path / "home").ensure()
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CREATE SCHEMA predictions; CREATE SCHEMA marts")
        con.execute("""CREATE TABLE predictions.allocation_predictions AS SELECT 'r1' AS run_id, 'c1' AS campaign_id,
                       TIMESTAMP '2026-10-01' AS predicted_at, '3' AS response_curves_version,
                       10.0 AS expected_conversions, 5.0 AS expected_cpa, 50.0 AS recommended_budget,
                       40.0 AS current_budget""")
        con.execute("""CREATE TABLE marts.fct_campaign_daily AS SELECT 'c1' AS campaign_id, DATE '2026-10-01' AS date,
                       8 AS conversions, 6.25 AS cpa, 50.0 AS spend, true AS is_complete_day""")
    table = evaluate_predictions(paths).set_index("metric")
    assert table.loc["conversions", "mape"] == pytest.approx(0.25)
    assert table.loc["cpa", "mape"] == pytest.approx(0.2)
    evaluate_predictions(paths)  # re-evaluating the same data replaces, never duplicates
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM monitoring.model_accuracy").fetchall()[0][0] == 3
    configure(paths)
    runs = mlflow.search_runs(filter_string="tags.`pmi.kind` = 'prediction_accuracy'")
    assert len(runs) == 2 and runs["metrics.cpa_mape_v3"].iloc[0] == pytest.approx(0.2)
