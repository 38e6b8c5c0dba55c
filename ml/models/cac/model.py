"""CAC model: LightGBM on campaign-day features predicting a day's cost per acquisition before the day runs,
so budget decisions can be priced in CPA rather than in last month's average.

What it predicts: the day's CPA directly, as log(CPA) with an L2 objective (so ``predict`` returns the
geometric-mean CPA). The spend plan is an input: ``planned_spend`` when the frame has it, else the
``daily_budget`` in effect at the start of the day (actual spend tracks it within a few percent); the implied
conversions are ``planned_spend / CPA`` (:meth:`CacModel.predict_conversions`). Inputs are known before the
day: trailing KPIs over prior days, the plan, calendar, campaign attributes and the day's market indices
(treated as a scenario driver; feed the latest published values when planning ahead). Validation is a time
split (the last ``validation_days``), compared with the trailing-28-day CPA baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.models.insufficient import InsufficientDataError
from ml.models.trained import TrainedModel

CATEGORICAL = ("network", "platform", "geo", "creative_format", "targeting")
MARKET = (
    "cpm_index",
    "competition_index",
    "seasonality_index",
    "economic_index",
    "sentiment_index",
    "cpm_index_change_7d",
    "competition_index_change_7d",
)
NUMERIC_FEATURES = (
    "log_planned_spend",
    "plan_vs_spend_7d",
    "plan_vs_spend_28d",
    "log_cpa_7d",
    "log_cpa_14d",
    "log_cpa_28d",
    "cpa_7d_vs_28d",
    "log_cpm_7d",
    "log_cpm_28d",
    "log_ctr_28d",
    "log_cvr_7d",
    "log_cvr_28d",
    "log_days_since_launch",
    "trailing_28d_active_days",
    "day_of_week",
    "is_holiday",
    "days_to_next_holiday",
    "has_agency",
    "auto_optimization_enabled",
    *MARKET,
)
DEFAULT_PARAMS: dict[str, float | int | str] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 30,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "num_boost_round": 300,
    "num_threads": 1,
}
MIN_HISTORY_DAYS = 7  # trailing active days a campaign-day needs to be trained on or scored
MIN_ACTIVE_HOURS = 20  # partial days (launch, extract edge) distort a day's CPA
VALIDATION_DAYS = 30


def _log(values: pd.Series | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(arr)
    return np.where(np.isfinite(out), out, np.nan)


def planned_spend(frame: pd.DataFrame) -> np.ndarray:
    """The day's spend plan: ``planned_spend`` when given (what-if), else the budget in effect at day start."""
    plan = frame["planned_spend"] if "planned_spend" in frame else frame["daily_budget"]
    return plan.to_numpy(dtype=float)


def cac_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model inputs from ``marts.fct_campaign_day_features`` rows (no same-day outcomes are read)."""
    plan = planned_spend(frame)
    out = {
        "log_planned_spend": _log(plan),
        "plan_vs_spend_7d": _log(plan / frame["trailing_7d_mean_daily_spend"].to_numpy(dtype=float)),
        "plan_vs_spend_28d": _log(plan / frame["trailing_28d_mean_daily_spend"].to_numpy(dtype=float)),
        **{f"log_cpa_{n}d": _log(frame[f"trailing_{n}d_cpa"]) for n in (7, 14, 28)},
        "cpa_7d_vs_28d": _log(frame["cpa_trend_7d_vs_28d"]),
        **{f"log_cpm_{n}d": _log(frame[f"trailing_{n}d_cpm"]) for n in (7, 28)},
        "log_ctr_28d": _log(frame["trailing_28d_ctr"]),
        **{f"log_cvr_{n}d": _log(frame[f"trailing_{n}d_cvr"]) for n in (7, 28)},
        "log_days_since_launch": np.log1p(np.maximum(frame["days_since_launch"].to_numpy(dtype=float), 0)),
        "days_to_next_holiday": np.minimum(frame["days_to_next_holiday"].to_numpy(dtype=float), 120),
    }
    for col in (
        "trailing_28d_active_days",
        "day_of_week",
        "is_holiday",
        "has_agency",
        "auto_optimization_enabled",
        *MARKET,
    ):
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype(float).to_numpy()
    return pd.DataFrame(out, index=frame.index)


def usable_rows(frame: pd.DataFrame) -> pd.Series:
    """Campaign-days with a week of history, a (nearly) full day of delivery and at least one conversion."""
    return (
        (frame["trailing_28d_active_days"] >= MIN_HISTORY_DAYS)
        & (frame["n_active_hours"] >= MIN_ACTIVE_HOURS)
        & (frame["conversions"] > 0)
        & (frame["spend"] > 0)
        & frame["trailing_28d_cpa"].notna()
        & frame["is_complete_day"].astype(bool)
    )


@dataclass
class CacModel:
    """Predicts a campaign-day's CPA from what is known before the day and its spend plan."""

    booster: lgb.Booster
    categories: dict[str, list[str]]
    params: dict = field(default_factory=dict)

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Encoded model matrix (campaign attributes as fixed integer codes; unknown levels are NaN)."""
        features = cac_features(frame)
        for c in CATEGORICAL:
            codes = pd.Categorical(frame[c].astype(str), categories=self.categories[c]).codes.astype(float)
            features[c] = np.where(codes < 0, np.nan, codes)
        return features

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Predicted CPA (USD) for each row of ``df`` (``marts.fct_campaign_day_features`` columns)."""
        return np.exp(self.booster.predict(self.matrix(df)))

    def predict_conversions(self, df: pd.DataFrame) -> np.ndarray:
        """Conversions implied by the spend plan and the predicted CPA."""
        return planned_spend(df) / self.predict(df)


def fit_cac_model(train: pd.DataFrame, params: dict | None = None, seed: int = 0) -> CacModel:
    """Fit the booster on usable rows of ``train`` (log CPA target)."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    rows = train[usable_rows(train)]
    if len(rows) < 50:
        raise InsufficientDataError(
            f"{len(rows)} usable campaign-days (a full day of hourly delivery, a week "
            "of history, conversions); the CAC model needs at least 50"
        )
    categories = {c: sorted(train[c].astype(str).unique().tolist()) for c in CATEGORICAL}
    model = CacModel(booster=None, categories=categories, params=merged)  # type: ignore[arg-type]
    lgb_params = {k: v for k, v in merged.items() if k != "num_boost_round"}
    data = lgb.Dataset(model.matrix(rows), label=_log(rows["cpa"]), categorical_feature=list(CATEGORICAL))
    model.booster = lgb.train(
        {**lgb_params, "seed": seed, "deterministic": True, "verbosity": -1},
        data,
        num_boost_round=int(merged["num_boost_round"]),
    )
    return model


def cpa_metrics(predicted: np.ndarray, frame: pd.DataFrame) -> dict[str, float]:
    """MAPE / WAPE of predicted CPA beside the trailing 28-day and 7-day CPA baselines on usable rows."""
    actual = frame["cpa"].to_numpy(dtype=float)
    out = {"n": float(len(frame))}
    for name, pred in (
        ("model", predicted),
        ("trailing_28d", frame["trailing_28d_cpa"].to_numpy(dtype=float)),
        ("trailing_7d", frame["trailing_7d_cpa"].to_numpy(dtype=float)),
    ):
        err = np.abs(pred - actual)
        out[f"mape_{name}"] = float(np.nanmean(err / actual))
        out[f"wape_{name}"] = float(np.nansum(err) / np.nansum(actual))
    return out


def score(model: CacModel, valid_df: pd.DataFrame) -> float:
    """Validation MAPE of predicted CPA on the usable rows of ``valid_df`` (lower is better)."""
    rows = valid_df[usable_rows(valid_df)]
    return cpa_metrics(model.predict(rows), rows)["mape_model"]


def train_cac_model(
    features: pd.DataFrame,
    seed: int = 0,
    params: dict | None = None,
    validation_days: int = VALIDATION_DAYS,
    refit: bool = True,
) -> TrainedModel:
    """Fit on campaign-days before the last ``validation_days``, validate on those days against the trailing
    28-day CPA, then (``refit``) fit again on all days for deployment."""
    dates = pd.to_datetime(features["date"])
    cutoff = dates.max() - pd.Timedelta(days=validation_days - 1)
    holdout = fit_cac_model(features[dates < cutoff], params, seed)
    valid = features[(dates >= cutoff) & usable_rows(features)].reset_index(drop=True)
    metrics = cpa_metrics(holdout.predict(valid), valid)
    metrics["n_train"] = float(usable_rows(features[dates < cutoff]).sum())
    model = fit_cac_model(features, params, seed) if refit else holdout
    return TrainedModel(
        model=model,
        metrics=metrics,
        params={**model.params, "seed": seed, "validation_days": validation_days},
        validation_score=metrics["mape_model"],
        valid_df=valid,
        holdout_model=holdout,
    )
