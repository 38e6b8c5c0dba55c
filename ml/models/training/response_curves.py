"""Train the portfolio's response curves, score them on the most recent days, and register them in MLflow.

Memory budget: the hourly delivery table is read once (a few hundred bytes per campaign-hour in pandas: 2.2M
rows at 500 campaigns x 180 days) and summed to a campaign-day panel; the fit holds that panel and
per-campaign posterior draws, so the step grows linearly with campaigns x hours and never with users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.models.insufficient import InsufficientDataError
from ml.models.response.fit import ResponseFitConfig, fit_response_curves
from ml.models.response.panel import daily_panel
from ml.models.response.result import ResponseCurveSet
from ml.models.trained import rows_known_after
from ml.models.training.data import delivery_frames
from ml.settings import PmiPaths
from ml.tracking.registry import RegisteredModel, register_if_better, training_run

MODEL_NAME = "response_curves"
VALIDATION_DAYS = 14


@dataclass
class ResponseCurveModel:
    """MLflow-servable wrapper: ``predict`` takes rows of (campaign_id, spend in market-neutral dollars)."""

    curves: ResponseCurveSet

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        known = np.isin(rows["campaign_id"].to_numpy(), self.curves.campaign_ids)
        out = np.full(len(rows), np.nan)
        if known.any():
            out[known] = self.curves.expected_conversions(
                rows.loc[known, "campaign_id"].to_numpy(), rows.loc[known, "spend"].to_numpy(float)
            )
        return out


def split_by_date(panel: pd.DataFrame, validation_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on everything before the last ``validation_days`` days; validate on those days."""
    cutoff = panel["date"].max() - pd.Timedelta(days=validation_days - 1)
    return panel[panel["date"] < cutoff], panel[panel["date"] >= cutoff]


def conversion_wape(model, validation: pd.DataFrame) -> float:
    """Weighted absolute error of each campaign's total conversions over the validation days.

    Campaign totals (not days) are what an allocation is judged on; days unknown to the model count as misses.
    """
    rows = validation.assign(spend=validation["spend"] / validation["price_index"])
    predicted = pd.Series(model.predict(rows[["campaign_id", "spend"]]), index=rows.index).fillna(0.0)
    totals = rows.assign(predicted=predicted).groupby("campaign_id")[["conversions", "predicted"]].sum()
    return float((totals["predicted"] - totals["conversions"]).abs().sum() / max(totals["conversions"].sum(), 1.0))


def train_response_curves(paths: PmiPaths, config: ResponseFitConfig | None = None) -> RegisteredModel:
    """Fit on all but the last two weeks to score, refit on everything, and register the refit model."""
    config = config or ResponseFitConfig()
    frames = delivery_frames(paths)
    panel = daily_panel(frames["campaign_days"], frames["campaigns"], frames["market_daily"])
    if panel.empty or panel["conversions"].sum() <= 0:
        raise InsufficientDataError(
            "no campaign reports conversions: per-campaign response curves need "
            "conversions per campaign, and the data hold spend only"
        )
    train, validation = split_by_date(panel, VALIDATION_DAYS)
    with training_run(
        paths,
        MODEL_NAME,
        config.model_dump() | {"validation_days": VALIDATION_DAYS, "feature_service": "delivery_panel"},
    ):
        holdout_model = ResponseCurveModel(fit_response_curves(train, frames["campaigns"], config))
        score = conversion_wape(holdout_model, validation)
        model = ResponseCurveModel(fit_response_curves(panel, frames["campaigns"], config))
        import mlflow

        stats = model.curves.stats
        mlflow.log_metrics(
            {
                "validation_conversion_wape": score,
                "n_campaigns": float(len(model.curves)),
                "median_half_saturation_interval_ratio": float(
                    np.median(model.curves.half_saturation_interval[:, 1] / model.curves.half_saturation_interval[:, 0])
                ),
            }
        )
        mlflow.log_text(stats.to_csv(index=False), "fit_stats.csv")

        def evaluate(candidate, unseen_after: pd.Timestamp | None) -> float:
            rows = rows_known_after(validation, validation["date"] + pd.Timedelta(days=1), unseen_after)
            return conversion_wape(candidate, rows) if len(rows) else float("nan")

        return register_if_better(
            paths,
            MODEL_NAME,
            model,
            score,
            evaluate=evaluate,
            data_end=panel["date"].max() + pd.Timedelta(days=1),
            holdout_model=holdout_model,
        )
