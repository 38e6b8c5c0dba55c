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
    pairs = pd.DataFrame(
        {
            "model_version": ["1", "1", "2"],
            "expected_conversions": [10.0, 20.0, 30.0],
            "conversions": [10.0, 10.0, 15.0],
            "expected_cpa": [5.0, 5.0, 5.0],
            "cpa": [5.0, 10.0, 4.0],
            "recommended_budget": [50.0, 100.0, 150.0],
            "spend": [50.0, 100.0, 150.0],
            "current_budget": [40.0, 120.0, 150.0],
        }
    )
    table = accuracy_table(pairs, ("conversions", "cpa", "spend")).set_index(["model_version", "metric"])
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
                       40.0 AS current_budget, '1' AS ltv_version, 20.0 AS ltv_d90""")
        con.execute("""CREATE TABLE marts.fct_campaign_daily AS SELECT 'c1' AS campaign_id, DATE '2026-10-01' AS date,
                       8 AS conversions, 6.25 AS cpa, 50.0 AS spend, 4.0 AS revenue, true AS is_complete_day""")
        con.execute("""CREATE TABLE marts.fct_user_value (campaign_id VARCHAR, install_date DATE, revenue_d90 DOUBLE,
                       is_mature_d90 BOOLEAN)""")  # the day's users are not 90 days old: no value metrics yet
        con.execute("""CREATE TABLE marts.dim_campaigns AS SELECT 'c1' AS campaign_id, false AS has_agency,
                       0.0 AS creative_production_cost""")
    table = evaluate_predictions(paths).set_index("metric")
    assert table.loc["conversions", "mape"] == pytest.approx(0.25)
    assert table.loc["cpa", "mape"] == pytest.approx(0.2)
    evaluate_predictions(paths)  # re-evaluating the same data replaces, never duplicates
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        stored = con.execute("SELECT metric FROM monitoring.model_accuracy ORDER BY metric").fetchall()
    assert [m for (m,) in stored] == ["conversions", "cpa", "roas", "spend"]  # no d90 metric before d90
    configure(paths)
    runs = mlflow.search_runs(filter_string="tags.`pmi.kind` = 'prediction_accuracy'")
    assert len(runs) == 2 and runs["metrics.cpa_mape_v3"].iloc[0] == pytest.approx(0.2)


def test_value_metrics_wait_for_mature_cohorts_and_score_them(small_warehouse_copy):
    """A prediction 113 days old: its day's users are 90 days old, so LTV and ROI at d90 are scored against them."""
    import duckdb

    from ml.monitoring.accuracy import evaluate_predictions

    paths = small_warehouse_copy
    day = pd.Timestamp("2026-06-10")
    with duckdb.connect(str(paths.warehouse)) as con:
        actual = con.execute(
            """
            SELECT d.campaign_id, d.conversions::DOUBLE AS conversions, d.spend::DOUBLE AS spend, d.cpa::DOUBLE AS cpa,
                   avg(u.revenue_d90)::DOUBLE AS ltv_d90
            FROM marts.fct_campaign_daily d JOIN marts.fct_user_value u
              ON u.campaign_id = d.campaign_id AND u.install_date = d.date
            WHERE d.date = ? GROUP BY ALL HAVING bool_and(u.is_mature_d90)""",
            [day.date()],
        ).df()
        assert len(actual) >= 4
        logged = pd.DataFrame(
            {
                "run_id": "r_old",
                "campaign_id": actual["campaign_id"],
                "predicted_at": day,
                "expected_conversions": actual["conversions"],
                "expected_cpa": actual["cpa"],
                "recommended_budget": actual["spend"],
                "current_budget": actual["spend"],
                "ltv_d90": actual["ltv_d90"] * 1.1,
                "ltv_version": "3",
                "response_curves_version": "2",
            }
        )
        con.execute("CREATE SCHEMA predictions")
        con.register("logged", logged)
        con.execute("CREATE TABLE predictions.allocation_predictions AS SELECT * FROM logged")
    table = evaluate_predictions(paths).set_index(["metric", "model_version"])
    assert table.loc[("conversions", "2"), "mape"] == pytest.approx(0.0)
    assert table.loc[("cpa", "2"), "mape"] == pytest.approx(0.0)
    assert table.loc[("ltv_d90", "3"), "mape"] == pytest.approx(0.1)  # every cohort's value predicted 10% high
    assert table.loc[("ltv_d90", "3"), "n"] == len(actual)
    roi = table.loc[("roi_d90", "3")]
    assert roi["n"] == len(actual) and roi["mae"] > 0  # 10% more value than came in: ROI overstated
