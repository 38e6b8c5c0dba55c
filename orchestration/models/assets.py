"""Trained models as assets (group ``models``); the ``retrain`` job re-materialises them all."""

import dagster as dg

from ml.models.training.campaign_models import train_cac, train_kpi_forecast, train_pricing
from ml.models.training.ltv import publish_campaign_ltv, train_ltv_model
from ml.models.training.response_curves import train_response_curves
from ml.tracking.registry import RegisteredModel, run_ui_url
from orchestration.resources import PmiHomeResource

DELIVERY_MARTS = [dg.AssetKey(["marts", n]) for n in ("fct_campaign_hourly", "dim_campaigns", "fct_market_daily")]


def registration_metadata(result: RegisteredModel) -> dict:
    """What the Dagster UI shows for a training run: version, whether it won, scores, and the MLflow run."""
    return {
        "registered_version": result.version,
        "promoted_to_champion": result.promoted,
        "validation_score": result.score,
        "champion_validation_score": result.champion_score if result.champion_score is not None else float("nan"),
        "promotion_reason": result.reason,
        "mlflow_run_id": result.run_id,
        "mlflow_run": dg.MetadataValue.url(run_ui_url(result.run_id)),
    }


@dg.asset(group_name="models", deps=DELIVERY_MARTS, kinds={"mlflow"})
def response_curves_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Per-campaign saturating response curves of conversions to daily spend, with posterior draws."""
    result = train_response_curves(pmi_home.paths())
    context.log.info(f"response curves v{result.version}: WAPE {result.score:.3f}, promoted={result.promoted}")
    return dg.MaterializeResult(metadata=registration_metadata(result))


# Campaign models train on Feast point-in-time joins (outcomes from the mart): both must be current.
CAMPAIGN_FEATURES = [dg.AssetKey(["marts", "fct_campaign_day_features"]), dg.AssetKey("feast_registry")]


@dg.asset(group_name="models", deps=CAMPAIGN_FEATURES, kinds={"lightgbm", "mlflow"})
def cac_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """LightGBM model of a campaign-day's cost per acquisition from features known before the day."""
    result = train_cac(pmi_home.paths())
    context.log.info(f"CAC v{result.version}: validation MAPE {result.score:.3f}, promoted={result.promoted}")
    return dg.MaterializeResult(metadata=registration_metadata(result))


@dg.asset(group_name="models", deps=CAMPAIGN_FEATURES, kinds={"mlflow"})
def pricing_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Dynamic CPM and CPA at any spend level given the market indices (the price of scale)."""
    result = train_pricing(pmi_home.paths())
    context.log.info(f"pricing v{result.version}: CPM MAPE {result.score:.4f}, promoted={result.promoted}")
    return dg.MaterializeResult(metadata=registration_metadata(result))


@dg.asset(group_name="models", deps=CAMPAIGN_FEATURES, kinds={"lightgbm", "mlflow"})
def kpi_forecast_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Global quantile model forecasting spend, conversions, CPA and ROAS at 7/14/30/90 days."""
    result = train_kpi_forecast(pmi_home.paths())
    context.log.info(f"KPI forecaster v{result.version}: MAPE {result.score:.3f}, promoted={result.promoted}")
    return dg.MaterializeResult(metadata=registration_metadata(result))


@dg.asset(group_name="models", deps=[dg.AssetKey(["marts", "fct_user_features"]), dg.AssetKey("feast_registry")],
          kinds={"lightgbm", "xgboost", "scikitlearn", "mlflow"})
def ltv_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Ensemble (LightGBM + XGBoost + MLP) predicting each user's 30/90/180-day value from days 0..7."""
    result = train_ltv_model(pmi_home.paths())
    context.log.info(f"LTV v{result.version}: d90 RMSE {result.score:.2f}, promoted={result.promoted}")
    return dg.MaterializeResult(metadata=registration_metadata(result))


@dg.asset(group_name="predictions", deps=[ltv_model], kinds={"duckdb"})
def campaign_ltv(pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """d90 LTV per campaign: users' revenue so far developed to day 90, the champion model for the newest users."""
    table = publish_campaign_ltv(pmi_home.paths())
    preview = table[["campaign_id", "n_users", "n_mature", "ltv_d90_mean", "blended_ltv_d90", "confidence"]]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(table),
        "model_version": str(table["model_version"].iloc[0]),
        "campaign_ltv": dg.MetadataValue.md(preview.round(2).to_markdown(index=False)),
    })
