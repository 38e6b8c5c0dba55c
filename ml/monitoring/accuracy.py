"""Compare what allocation runs predicted for a day with what happened: MAE, MAPE, sMAPE, RMSE, direction.

Delivery metrics (conversions, CPA, spend, same-day ROAS) are scored once the predicted day is complete; value
metrics (LTV and ROI at d90) once that day's users are 90 days old. MAPE is undefined where the actual is zero:
those rows are skipped from MAPE and counted (``n_zero_actual``); sMAPE, which is bounded and defined unless both
values are zero, is reported beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.economics.costs import CostConfig
from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql, table_exists, transaction

# metric -> (predicted column, actual column)
METRICS = {
    "conversions": ("expected_conversions", "conversions"),
    "cpa": ("expected_cpa", "cpa"),
    "spend": ("recommended_budget", "spend"),
    "roas": ("expected_same_day_roas", "same_day_roas"),
    "ltv_d90": ("expected_ltv_d90", "actual_ltv_d90"),
    "roi_d90": ("expected_roi_d90", "actual_roi_d90"),
}
DELIVERY_METRICS = ("conversions", "cpa", "spend", "roas")
VALUE_METRICS = ("ltv_d90", "roi_d90")

# Campaign-days with the trailing 28-day revenue per conversion made on the install day: a run's same-day ROAS
# prediction is its expected conversions x that value over its budget (shared with the ROAS alert rule).
SAME_DAY_DAILY_CTE = """daily AS (
        SELECT f.campaign_id, f.date, f.is_complete_day, f.cpa::DOUBLE AS cpa, f.conversions::DOUBLE AS conversions,
               f.spend::DOUBLE AS spend, f.revenue::DOUBLE AS revenue,
               sum(f.revenue) OVER last_4_weeks / nullif(sum(f.conversions) OVER last_4_weeks, 0)
                   AS same_day_value_per_conversion
        FROM marts.fct_campaign_daily f
        WINDOW last_4_weeks AS (PARTITION BY campaign_id ORDER BY date ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)
    )"""

_PAIRS_SQL = f"""
    WITH {SAME_DAY_DAILY_CTE}
    SELECT p.run_id, p.campaign_id, p.predicted_at, p.response_curves_version AS model_version,
           p.expected_conversions, p.expected_cpa, p.recommended_budget, p.current_budget,
           p.expected_conversions * d.same_day_value_per_conversion / nullif(p.recommended_budget, 0)
               AS expected_same_day_roas,
           d.conversions, d.cpa, d.spend, d.revenue / nullif(d.spend, 0) AS same_day_roas
    FROM predictions.allocation_predictions p
    JOIN daily d ON d.campaign_id = p.campaign_id AND d.date = p.predicted_at::DATE
    WHERE d.is_complete_day
"""

# Value metrics wait until the predicted day's cohort is 90 days old: its users' d90 revenue is then known.
_VALUE_PAIRS_SQL = """
    WITH cohorts AS (
        SELECT campaign_id, install_date AS date, count(*)::DOUBLE AS users,
               avg(revenue_d90)::DOUBLE AS actual_ltv_d90
        FROM marts.fct_user_value GROUP BY ALL HAVING bool_and(is_mature_d90)
    )
    SELECT p.run_id, p.campaign_id, p.predicted_at, p.ltv_version AS model_version, p.ltv_d90 AS expected_ltv_d90,
           p.expected_conversions, p.recommended_budget, c.users, c.actual_ltv_d90, d.spend::DOUBLE AS spend,
           k.has_agency, k.creative_production_cost::DOUBLE AS creative_production_cost
    FROM predictions.allocation_predictions p
    JOIN marts.fct_campaign_daily d ON d.campaign_id = p.campaign_id AND d.date = p.predicted_at::DATE
    JOIN cohorts c ON c.campaign_id = p.campaign_id AND c.date = p.predicted_at::DATE
    JOIN marts.dim_campaigns k ON k.campaign_id = p.campaign_id
    WHERE d.is_complete_day
"""


def value_pairs(paths: PmiPaths, costs: CostConfig | None = None) -> pd.DataFrame:
    """LTV and ROI at d90: predicted (the run's d90 LTV, its conversions and budget) against the cohort's actual."""
    pairs = read_sql(paths, _VALUE_PAIRS_SQL)
    if pairs.empty:
        return pairs
    costs = costs or CostConfig()
    agency, creative = pairs["has_agency"].to_numpy(bool), pairs["creative_production_cost"].to_numpy(float)
    planned_cost = costs.total_cost(pairs["recommended_budget"].to_numpy(float), agency, creative)
    actual_cost = costs.total_cost(pairs["spend"].to_numpy(float), agency, creative)
    planned_value = pairs["expected_conversions"] * pairs["expected_ltv_d90"]
    return pairs.assign(
        expected_roi_d90=(planned_value - planned_cost) / planned_cost,
        actual_roi_d90=(pairs["users"] * pairs["actual_ltv_d90"] - actual_cost) / actual_cost,
    )


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
        if len(error)
        else np.nan,
        "direction_accuracy": np.nan,
    }
    if baseline is not None:
        base = np.asarray(baseline, float)[ok]
        moved = actual != base
        if moved.any():
            same_sign = np.sign(predicted - base)[moved] == np.sign(actual - base)[moved]
            out["direction_accuracy"] = float(np.mean(same_sign))
    return out


def accuracy_table(pairs: pd.DataFrame, metrics: tuple[str, ...] = DELIVERY_METRICS) -> pd.DataFrame:
    """One row per metric x model version over all prediction/actual pairs given."""
    rows = []
    for version, group in pairs.groupby("model_version", dropna=False):
        for metric in metrics:
            pred_col, actual_col = METRICS[metric]
            baseline = group["current_budget"] if metric == "spend" else None
            rows.append(
                {"metric": metric, "model_version": str(version)}
                | error_metrics(group[pred_col], group[actual_col], baseline)
            )
    return pd.DataFrame(rows)


def evaluate_predictions(paths: PmiPaths) -> pd.DataFrame:
    """Score every stored prediction whose day is complete; append to ``monitoring.model_accuracy``."""
    if not table_exists(paths, "predictions.allocation_predictions"):
        return pd.DataFrame()  # no allocation has predicted anything on this data yet
    pairs = read_sql(paths, _PAIRS_SQL)
    if pairs.empty:
        return pd.DataFrame()
    value = value_pairs(paths)
    scored = [accuracy_table(pairs), accuracy_table(value, VALUE_METRICS) if len(value) else None]
    table = pd.concat(scored, ignore_index=True)
    if table.empty:
        return table
    evaluated_through = pd.Timestamp(pairs["predicted_at"].max())
    table = table.assign(
        evaluation_id=f"eval_{evaluated_through:%Y%m%dT%H%M}",
        evaluated_through=evaluated_through,
        evaluated_at=pd.Timestamp.now(tz="UTC").tz_localize(None),
    )
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
        mlflow.log_metrics(
            {
                f"{row.metric}_{stat}_v{row.model_version}": float(getattr(row, stat))
                for row in table.itertuples()
                for stat in ("mae", "mape", "smape", "rmse")
                if np.isfinite(getattr(row, stat))
            }
        )


def latest_accuracy(paths: PmiPaths) -> pd.DataFrame:
    """The most recent evaluation's rows (empty when nothing was evaluated yet)."""
    try:
        return read_sql(
            paths,
            """SELECT * FROM monitoring.model_accuracy WHERE evaluation_id =
                                  (SELECT evaluation_id FROM monitoring.model_accuracy
                                   ORDER BY evaluated_through DESC, evaluated_at DESC LIMIT 1)""",
        )
    except Exception:  # noqa: BLE001 - no monitoring table yet means no evaluation yet
        return pd.DataFrame()
