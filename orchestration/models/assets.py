"""Trained models as assets (group ``models``); the ``retrain`` job re-materialises them all."""

import dagster as dg

from ml.models.insufficient import InsufficientDataError
from ml.models.status import SKIPPED, TRAINED, record_step_status
from ml.models.training.campaign_models import train_cac, train_kpi_forecast, train_pricing
from ml.models.training.ltv import train_ltv_model
from ml.models.training.ltv_scoring import campaign_ltv_is_current, portfolio_ltv_summary, publish_campaign_ltv
from ml.models.training.response_curves import train_response_curves
from ml.tracking.registry import RegisteredModel, run_ui_url
from ml.warehouse.connection import read_sql
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.assets import dbt_model_key
from orchestration.warehouse.project import is_incremental_run, reuses_stored_ltv_scores

DELIVERY_MARTS = [dbt_model_key(n) for n in ("fct_campaign_hourly", "dim_campaigns", "fct_market_daily")]


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


def train_or_skip(
    context: dg.AssetExecutionContext, pmi_home: PmiHomeResource, step_name: str, train, describe
) -> dg.MaterializeResult:
    """Train and register a model; data that cannot support it skip it in one line and the run goes on."""
    paths = pmi_home.paths()
    try:
        result = train(paths)
    except InsufficientDataError as exc:
        context.log.warning(f"{step_name} model skipped: {exc}")
        record_step_status(paths, step_name, SKIPPED, str(exc))
        return dg.MaterializeResult(metadata={"skipped": str(exc)})
    record_step_status(paths, step_name, TRAINED)
    context.log.info(describe(result))
    return dg.MaterializeResult(metadata=registration_metadata(result))


@dg.asset(group_name="models", deps=DELIVERY_MARTS, kinds={"mlflow"})
def response_curves_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Per-campaign saturating response curves of conversions to daily spend, with posterior draws."""
    return train_or_skip(
        context,
        pmi_home,
        "response_curves",
        train_response_curves,
        lambda r: f"response curves v{r.version}: WAPE {r.score:.3f}, promoted={r.promoted}",
    )


# Campaign models train on Feast point-in-time joins (outcomes from the mart): both must be current.
CAMPAIGN_FEATURES = [dbt_model_key("fct_campaign_day_features"), dg.AssetKey("feast_registry")]


@dg.asset(group_name="models", deps=CAMPAIGN_FEATURES, kinds={"lightgbm", "mlflow"})
def cac_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """LightGBM model of a campaign-day's cost per acquisition from features known before the day."""
    return train_or_skip(
        context,
        pmi_home,
        "cac",
        train_cac,
        lambda r: f"CAC v{r.version}: validation MAPE {r.score:.3f}, promoted={r.promoted}",
    )


@dg.asset(group_name="models", deps=CAMPAIGN_FEATURES, kinds={"mlflow"})
def pricing_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Dynamic CPM and CPA at any spend level given the market indices (the price of scale)."""
    return train_or_skip(
        context,
        pmi_home,
        "pricing",
        train_pricing,
        lambda r: f"pricing v{r.version}: CPM MAPE {r.score:.4f}, promoted={r.promoted}",
    )


@dg.asset(group_name="models", deps=CAMPAIGN_FEATURES, kinds={"lightgbm", "mlflow"})
def kpi_forecast_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Global quantile model forecasting spend, conversions, CPA and ROAS at 7/14/30/90 days."""
    return train_or_skip(
        context,
        pmi_home,
        "kpi_forecast",
        train_kpi_forecast,
        lambda r: f"KPI forecaster v{r.version}: MAPE {r.score:.3f}, promoted={r.promoted}",
    )


@dg.asset(
    group_name="models",
    deps=[dbt_model_key("fct_user_features"), dg.AssetKey("feast_registry")],
    kinds={"lightgbm", "xgboost", "scikitlearn", "mlflow"},
)
def ltv_model(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Ensemble (LightGBM + XGBoost + MLP) predicting each user's 30/90/180-day value from days 0..7."""
    return train_or_skip(
        context,
        pmi_home,
        "ltv",
        train_ltv_model,
        lambda r: f"LTV v{r.version}: d90 RMSE {r.score:.2f}, promoted={r.promoted}",
    )


# Scoring reads the users' features from the Parquet exports: the job that re-scores refreshes them first.
# The hourly job keeps the table while the champion that scored it is current and every campaign has a row
# (ltv_scoring.campaign_ltv_is_current): re-scoring every user takes minutes at scale while a campaign's d90 LTV
# moves over days, so a new data day is scored by the `daily_user_value` job; every other job re-scores.
@dg.asset(group_name="predictions", deps=[ltv_model, dg.AssetKey("feature_exports")], kinds={"duckdb"})
def campaign_ltv(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """d90 LTV per campaign: users' revenue so far developed to day 90, the champion model for the newest users."""
    paths = pmi_home.paths()
    hourly = is_incremental_run(context.run.tags)
    stale = campaign_ltv_is_current(paths, same_data_day=False) if hourly else f"a {context.job_name} run"
    if stale is None:
        table = read_sql(paths, "SELECT * FROM predictions.campaign_ltv ORDER BY campaign_id")
        context.log.info("campaign_ltv kept: scored by the current champion, every campaign has a row")
    else:
        table = publish_campaign_ltv(paths, reuse_stored=reuses_stored_ltv_scores(context.run.tags))
        context.log.info(f"campaign_ltv re-scored: {stale}")
    preview = table[["campaign_id", "n_users", "n_mature", "ltv_d90_mean", "blended_ltv_d90", "confidence"]]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "model_version": str(table["model_version"].iloc[0]) if len(table) else "none",
            "scoring": "kept" if stale is None else "re-scored",
            "scoring_reason": stale or "current: scored by the champion, every campaign has a row",
            "scored_as_of": str(table["as_of_ts"].max()) if len(table) else "none",
            "portfolio_ltv_d90": portfolio_ltv_summary(paths),
            "campaign_ltv": dg.MetadataValue.md(preview.round(2).to_markdown(index=False)),
        }
    )
