"""Retrain when an evaluation's MAPE drifts past its threshold; the cursor makes each evaluation count once."""

import dagster as dg

from ml.monitoring.accuracy import latest_accuracy
from ml.monitoring.drift import DriftThresholds, drifted_metrics
from orchestration.warehouse.project import code_location_home


@dg.sensor(
    job_name="retrain",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests the retrain job when the latest accuracy evaluation shows CPA MAPE above 30%.",
)
def mape_drift_sensor(context: dg.SensorEvaluationContext):
    """Read the latest evaluation of the location's data directory; request `retrain` once per drifted evaluation
    (cursor = evaluation id)."""
    accuracy = latest_accuracy(code_location_home())
    if accuracy.empty:
        return dg.SkipReason("no accuracy evaluation yet")
    evaluation = str(accuracy["evaluation_id"].iloc[0])
    if evaluation == context.cursor:
        return dg.SkipReason(f"{evaluation} already handled")
    context.update_cursor(evaluation)
    drifted = drifted_metrics(accuracy, DriftThresholds())
    if not drifted:
        return dg.SkipReason(f"{evaluation}: every metric within its MAPE threshold")
    return dg.RunRequest(
        run_key=f"retrain_{evaluation}",
        tags={"pmi/drifted_metrics": ",".join(drifted), "pmi/evaluation_id": evaluation},
    )
