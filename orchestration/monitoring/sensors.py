"""Retrain when the drift rule finds a campaign whose CPA miss is beyond the model's own predictive noise; the cursor
makes each accuracy evaluation count once."""

import dagster as dg

from ml.monitoring.accuracy import latest_accuracy
from ml.monitoring.drift import DriftThresholds, drifted_campaigns
from orchestration.warehouse.project import code_location_home


@dg.sensor(
    job_name="retrain",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests the retrain job when a campaign's CPA misses its prediction by more than 30% and by more "
    "than 3 standard errors of the model's own predictive noise (ml/monitoring/drift.py, the backtest's rule).",
)
def mape_drift_sensor(context: dg.SensorEvaluationContext):
    """Once per new accuracy evaluation (cursor = evaluation id) of the location's data directory, apply the drift
    rule to the logged predictions and their actuals; request `retrain` when it names any campaign."""
    home = code_location_home()
    accuracy = latest_accuracy(home)
    if accuracy.empty:
        return dg.SkipReason("no accuracy evaluation yet")
    evaluation = str(accuracy["evaluation_id"].iloc[0])
    if evaluation == context.cursor:
        return dg.SkipReason(f"{evaluation} already handled")
    context.update_cursor(evaluation)
    evidence = drifted_campaigns(home, DriftThresholds())
    drifted = evidence[evidence["drifted"]]
    if drifted.empty:
        worst = evidence["z_error"].max() if len(evidence) else float("nan")
        return dg.SkipReason(f"{evaluation}: no CPA miss beyond the model's predictive noise (largest z {worst:.1f})")
    return dg.RunRequest(
        run_key=f"retrain_{evaluation}",
        tags={
            "pmi/drifted_metrics": "cpa",
            "pmi/drifted_campaigns": ",".join(sorted(map(str, drifted.index)))[:200],
            "pmi/evaluation_id": evaluation,
        },
    )
