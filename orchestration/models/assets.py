"""Trained models as assets (group ``models``); the ``retrain`` job re-materialises them all."""

import dagster as dg

from ml.models.training.response_curves import train_response_curves
from ml.tracking.registry import RegisteredModel
from orchestration.resources import PmiHomeResource

DELIVERY_MARTS = [dg.AssetKey(["marts", n]) for n in ("fct_campaign_hourly", "dim_campaigns", "fct_market_daily")]


def registration_metadata(result: RegisteredModel) -> dict:
    """What the Dagster UI shows for a training run: version, whether it won, scores, and the MLflow run."""
    return {
        "registered_version": result.version,
        "promoted_to_champion": result.promoted,
        "validation_score": result.score,
        "champion_validation_score": result.champion_score if result.champion_score is not None else float("nan"),
        "mlflow_run_id": result.run_id,
    }


@dg.asset(group_name="models", deps=DELIVERY_MARTS, kinds={"mlflow"})
def response_curves_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Per-campaign saturating response curves of conversions to daily spend, with posterior draws."""
    result = train_response_curves(pmi_home.paths())
    context.log.info(f"response curves v{result.version}: WAPE {result.score:.3f}, promoted={result.promoted}")
    return dg.MaterializeResult(metadata=registration_metadata(result))
