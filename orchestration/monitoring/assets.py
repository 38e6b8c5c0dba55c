"""Accuracy of past predictions against what happened."""

import dagster as dg

from ml.monitoring.accuracy import evaluate_predictions
from ml.monitoring.alerts import check_and_act, open_alerts
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.assets import dbt_model_key


@dg.asset(
    group_name="monitoring",
    kinds={"duckdb"},
    deps=[dbt_model_key("fct_campaign_daily"), dg.AssetKey("applied_allocation")],
)
def model_accuracy(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """MAE, MAPE, sMAPE, RMSE and direction accuracy of allocation predictions whose day is complete."""
    table = evaluate_predictions(pmi_home.paths())
    if table.empty:
        context.log.info("no prediction has a complete actual day yet")
        return dg.MaterializeResult(metadata={"evaluated_pairs": 0})
    shown = table[["metric", "model_version", "n", "mae", "mape", "smape", "rmse", "direction_accuracy"]]
    return dg.MaterializeResult(
        metadata={
            "evaluation_id": table["evaluation_id"].iloc[0],
            "accuracy": dg.MetadataValue.md(shown.round(3).to_markdown(index=False)),
        }
    )


@dg.asset(group_name="monitoring", deps=[model_accuracy], kinds={"duckdb"})
def campaign_alerts(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Actual-vs-predicted alerts (stored once per campaign, metric, day) and their auto-actions."""
    paths = pmi_home.paths()
    outcome = check_and_act(paths)
    context.log.info(f"alerts: {outcome}")
    recent = open_alerts(paths)
    shown = recent[["campaign_id", "date", "metric", "severity", "predicted", "actual", "deviation", "action"]]
    return dg.MaterializeResult(
        metadata={
            **outcome,
            "open_alerts": len(recent),
            "latest_alerts": dg.MetadataValue.md(
                shown.head(15).round(3).to_markdown(index=False) if len(recent) else "no open alerts"
            ),
        }
    )
