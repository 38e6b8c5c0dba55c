"""Train, validate and backtest the KPI forecaster with rolling origins, so every reported error comes from
forecasts made with only the data available at their origin.

Error metric: MAPE of the p50 forecast over (campaign, origin) windows whose actual is > 0 (window totals of
spend and conversions are never 0 for a live campaign; a D7 ROAS window can be, and those few rows are left
out of MAPE and counted in ``n_zero_actual``); WAPE (sum |error| / sum actual) is reported beside it.
Coverage is the share of actuals inside [p10, p90] (nominal 80%).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.models.forecast.examples import HOLIDAY_HORIZON_CAP, HORIZONS, KPIS, build_examples, holiday_days
from ml.models.forecast.grid import build_grid
from ml.models.forecast.model import MIN_ACTIVE_DAYS, KpiForecaster, fit_forecaster
from ml.models.trained import TrainedModel

VALIDATION_DAYS = 42  # holdout: origins in the last 6 weeks, model trained on outcomes known before them
MIN_VALIDATION_DAYS = 14
VALIDATION_HORIZONS = (7, 14)  # horizons whose windows fit in the holdout at least several times over


def derive_holidays(rows: pd.DataFrame) -> pd.DataFrame:
    """Recurring (month, day) holidays implied by the calendar columns (date + days_to_next_holiday)."""
    dates = pd.to_datetime(rows["date"]) + pd.to_timedelta(rows["days_to_next_holiday"].fillna(-1), unit="D")
    dates = pd.Series(pd.DatetimeIndex(dates[rows["days_to_next_holiday"].notna()]).unique())
    return pd.DataFrame({"month": dates.dt.month, "day": dates.dt.day}).drop_duplicates().reset_index(drop=True)


def all_examples(rows: pd.DataFrame, holidays: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> pd.DataFrame:
    """Examples at every (campaign, day) with a full delivered week before it, for every horizon."""
    grid = build_grid(rows)
    n_campaigns, n_days = len(grid.campaign_ids), len(grid.dates)
    campaign = np.repeat(np.arange(n_campaigns), n_days)
    day = np.tile(np.arange(n_days), n_campaigns)
    examples = build_examples(
        grid, campaign, day, horizons, holiday_days(holidays, grid, max(horizons) + HOLIDAY_HORIZON_CAP)
    )
    return examples[examples["active_days_7d"] >= MIN_ACTIVE_DAYS].reset_index(drop=True)


def forecast_metrics(examples: pd.DataFrame, predicted: pd.DataFrame, kpis: Sequence[str] = KPIS) -> pd.DataFrame:
    """Per (kpi, horizon): model and seasonal-naive MAPE/WAPE, p10-p90 coverage, rows and origins scored."""
    records = []
    for kpi in kpis:
        actual = examples[f"actual_{kpi}"].to_numpy()
        frame = pd.DataFrame(
            {
                "horizon_days": examples["horizon_days"].to_numpy(),
                "origin": examples["origin_index"].to_numpy(),
                "actual": actual,
                "p10": predicted[f"{kpi}_p10"].to_numpy(),
                "p50": predicted[f"{kpi}_p50"].to_numpy(),
                "p90": predicted[f"{kpi}_p90"].to_numpy(),
                "naive": examples[f"naive_{kpi}"].to_numpy(),
            }
        )
        frame = frame[np.isfinite(frame["actual"]) & np.isfinite(frame["naive"]) & np.isfinite(frame["p50"])]
        positive = frame["actual"] > 0
        frame = frame.assign(
            ape_model=np.where(positive, (frame["p50"] - frame["actual"]).abs() / frame["actual"], np.nan),
            ape_naive=np.where(positive, (frame["naive"] - frame["actual"]).abs() / frame["actual"], np.nan),
            ae_model=(frame["p50"] - frame["actual"]).abs(),
            ae_naive=(frame["naive"] - frame["actual"]).abs(),
            covered=(frame["actual"] >= frame["p10"]) & (frame["actual"] <= frame["p90"]),
            zero=~positive,
        )
        grouped = frame.groupby("horizon_days").agg(
            mape_model=("ape_model", "mean"),
            mape_naive=("ape_naive", "mean"),
            ae_model=("ae_model", "sum"),
            ae_naive=("ae_naive", "sum"),
            actual=("actual", "sum"),
            coverage_p10_p90=("covered", "mean"),
            n=("actual", "size"),
            n_origins=("origin", "nunique"),
            n_zero_actual=("zero", "sum"),
        )
        grouped["wape_model"] = grouped["ae_model"] / grouped["actual"]
        grouped["wape_naive"] = grouped["ae_naive"] / grouped["actual"]
        grouped = grouped.drop(columns=["ae_model", "ae_naive", "actual"]).reset_index()
        grouped.insert(0, "kpi", kpi)
        records.append(grouped)
    return pd.concat(records, ignore_index=True)


def score(model: KpiForecaster, valid_df: pd.DataFrame) -> float:
    """Mean p50 MAPE over the KPIs x horizons present in ``valid_df`` (lower is better); for champion checks."""
    metrics = forecast_metrics(valid_df, model.predict_examples(valid_df), model.kpis)
    return float(metrics["mape_model"].mean())


def flatten(metrics: pd.DataFrame, prefix: str) -> dict[str, float]:
    """``{prefix}{kpi}_h{h}_{metric}: value`` for MLflow-style flat metric dicts."""
    out = {}
    for row in metrics.to_dict("records"):
        for key in ("mape_model", "mape_naive", "wape_model", "wape_naive", "coverage_p10_p90", "n", "n_origins"):
            out[f"{prefix}{row['kpi']}_h{row['horizon_days']}_{key}"] = float(row[key])
    return out


def train_kpi_forecaster(
    features: pd.DataFrame,
    holidays: pd.DataFrame | None = None,
    seed: int = 0,
    params: dict | None = None,
    validation_days: int = VALIDATION_DAYS,
    refit: bool = True,
) -> TrainedModel:
    """Fit on ``marts.fct_campaign_day_features`` rows: holdout-validate on the last ``validation_days`` of
    origins (7- and 14-day windows), then refit on every known outcome for deployment."""
    holidays = derive_holidays(features) if holidays is None else holidays[["month", "day"]]
    examples = all_examples(features, holidays)
    complete_until = int(build_grid(features).complete_until)
    # Short histories (a new account, a 60-day export) keep two thirds of their days for training.
    validation_days = min(validation_days, max(MIN_VALIDATION_DAYS, complete_until // 3))
    cutoff = complete_until - validation_days
    holdout = fit_forecaster(examples, holidays, known_by=cutoff, params=params, seed=seed)
    valid = examples[(examples["origin_index"] >= cutoff) & examples["horizon_days"].isin(VALIDATION_HORIZONS)]
    valid = valid[np.isfinite(valid[[f"actual_{k}" for k in KPIS]]).all(axis=1)].reset_index(drop=True)
    metrics_frame = forecast_metrics(valid, holdout.predict_examples(valid))
    model = fit_forecaster(examples, holidays, params=params, seed=seed) if refit else holdout
    metrics = {
        **flatten(metrics_frame, "valid_"),
        "n_train_examples": float(len(examples)),
        "validation_cutoff_index": float(cutoff),
    }
    validation_score = float(metrics_frame["mape_model"].mean())
    return TrainedModel(
        model=model,
        metrics=metrics,
        params={**model.params, "seed": seed, "validation_days": validation_days},
        validation_score=validation_score,
        valid_df=valid,
        holdout_model=holdout,
    )


def backtest(
    features: pd.DataFrame,
    holidays: pd.DataFrame | None = None,
    first_origin: int = 56,
    every_days: int = 7,
    seed: int = 0,
    params: dict | None = None,
    horizons: tuple[int, ...] = HORIZONS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest: at each origin (every ``every_days`` from day index ``first_origin``) refit on
    outcomes known by then and forecast every horizon whose window is final in the data.

    Returns (metrics per kpi x horizon, the scored rows with their predictions).
    """
    holidays = derive_holidays(features) if holidays is None else holidays[["month", "day"]]
    examples = all_examples(features, holidays, horizons)
    complete_until = build_grid(features).complete_until
    origins = np.arange(first_origin, complete_until - min(horizons) + 1, every_days)
    scored = []
    for origin in origins:  # one refit per origin: the training set grows as outcomes become known
        test = examples[examples["origin_index"] == origin]
        test = test[np.isfinite(test[[f"actual_{k}" for k in KPIS if k != "roas"]]).all(axis=1)]
        if test.empty:
            continue
        model = fit_forecaster(examples, holidays, known_by=int(origin), params=params, seed=seed, horizons=horizons)
        scored.append(
            pd.concat([test.reset_index(drop=True), model.predict_examples(test).reset_index(drop=True)], axis=1)
        )
    rows = pd.concat(scored, ignore_index=True)
    return forecast_metrics(rows, rows), rows
