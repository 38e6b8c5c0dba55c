"""When to retrain: a campaign whose CPA error is a break beyond the model's own predictive noise.

A fixed MAPE threshold alone retrains on noise: a campaign with 70 conversions a day misses its CPA by 12% (one
Poisson standard deviation) on an ordinary day, a refit moves its curve by the width of its posterior, and on the
simulator without any drift such misses retrained campaigns on a few days of data and cost more profit than any
other rule pmi adds (tuning seed 0: +9,291 with retrains switched off). So the rule asks the model how wrong it
may be: each day's log CPA error has the count noise of the conversions the model promised for the money spent,
inflated by the fit's own over-dispersion estimate (``dispersion``, the HAC variance ratio of the response fit),
plus the posterior's uncertainty of the curve at that spend (``log_sd``, the draws' spread, which does not
average out over days of one model). A campaign drifts when, over its recent window,
- the mean log CPA error exceeds ``z`` standard errors of that predictive noise (the model is wrong beyond its
  own interval),
- it moved from the baseline days before by more than ``z`` standard errors (a break, not a standing bias the
  scheduled refit handles),
- and the CPA MAPE of the window exceeds the practical threshold (``mape["cpa"]``, the issue's 30%), as does the
  shift.

The Dagster sensor (`orchestration/monitoring/sensors.py`) and the backtest's monitor (`ml/backtest/monitor.py`)
both call :func:`drift_evidence`: one rule on the production path and in the backtest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from ml.monitoring.alerts import predicted_day_sql  # alerts key predictions by day the same way
from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql, table_exists

PAIR_COLUMNS = ("campaign_id", "day", "expected_conversions", "expected_cpa", "actual_conversions", "actual_cpa")


class DriftThresholds(BaseModel):
    """What counts as drift: practical size (MAPE) and statistical evidence (standard errors of the model's noise)."""

    mape: dict[str, float] = Field(default_factory=lambda: {"cpa": 0.30})
    z: float = Field(3.0, gt=0, description="Standard errors of predictive noise the error and its shift must pass.")
    window_days: int = Field(4, ge=1, description="Recent days judged.")
    min_days: int = Field(1, ge=1, description="Judged days a campaign needs in the window (strong evidence is quick).")
    baseline_days: int = Field(7, ge=1, description="Days before the window that show what the model used to miss.")
    min_conversions: float = Field(
        50.0, ge=0, description="Expected daily conversions below which a day's CPA is too noisy to judge."
    )


def drifted_metrics(accuracy: pd.DataFrame, thresholds: DriftThresholds) -> list[str]:
    """Metrics of one accuracy evaluation whose MAPE exceeds their threshold (a summary for dashboards; the retrain
    decision is :func:`drift_evidence`, which also asks whether the miss is beyond noise)."""
    if accuracy.empty:
        return []
    worst = accuracy.groupby("metric")["mape"].max()
    return sorted(m for m, limit in thresholds.mape.items() if m in worst and worst[m] > limit)


def _one_day(as_of: object) -> object:
    """The unit of `day`: a calendar day for dates, 1 for day numbers."""
    return pd.Timedelta(days=1) if isinstance(as_of, pd.Timestamp | np.datetime64) else 1


def _period_stats(days: pd.DataFrame) -> pd.DataFrame:
    """Per campaign: days, mean log CPA error, its variance under the model's predictive noise, MAPE, signs."""
    grouped = days.groupby("campaign_id")
    return pd.DataFrame(
        {
            "days": grouped.size(),
            "error": grouped["log_error"].mean(),
            # count noise averages out over days; the curve's posterior uncertainty (one model) does not
            "variance": grouped["count_variance"].mean() / grouped.size() + grouped["log_sd"].mean() ** 2,
            "mape": grouped["abs_pct_error"].mean(),
            "signs": grouped["sign"].nunique(),
            "min_expected": grouped["expected_conversions"].min(),
        }
    )


def drift_evidence(
    pairs: pd.DataFrame,
    as_of: object,
    thresholds: DriftThresholds,
    judged_from: pd.Series | None = None,
) -> pd.DataFrame:
    """Per campaign judged: the window's mean log CPA error, its shift from the baseline, their z-scores, the
    window's CPA MAPE and whether that is drift (``drifted``).

    ``pairs`` holds one row per campaign and predicted day (``PAIR_COLUMNS``; optional ``log_sd``, the posterior
    sd of log expected conversions, and ``dispersion``, the fit's variance inflation: missing means a certain
    curve and Poisson counts). The window is the ``window_days`` days before ``as_of``; ``judged_from`` (per
    campaign, optional) drops earlier days from its window, so a campaign is judged on its current model only.
    """
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise ValueError(f"drift pairs lack columns {missing}; need {list(PAIR_COLUMNS)}")
    step = _one_day(as_of)
    frame = pairs.dropna(subset=["expected_cpa", "actual_cpa"])
    frame = frame[(frame["expected_cpa"] > 0) & (frame["actual_cpa"] > 0)]
    log_sd = frame["log_sd"] if "log_sd" in frame else pd.Series(0.0, index=frame.index)
    dispersion = frame["dispersion"] if "dispersion" in frame else pd.Series(1.0, index=frame.index)
    ratio = frame["actual_cpa"] / frame["expected_cpa"]
    # conversions the model promised for the money actually spent: the count behind the CPA's noise
    promised = frame["actual_cpa"] * frame["actual_conversions"] / frame["expected_cpa"]
    frame = frame.assign(
        log_error=np.log(ratio),
        abs_pct_error=(1.0 / ratio - 1.0).abs(),  # |predicted - actual| / actual: error_metrics' CPA MAPE
        sign=np.sign(ratio - 1.0),
        count_variance=dispersion.fillna(1.0).clip(lower=1.0) / promised.clip(lower=1.0),
        log_sd=log_sd.fillna(0.0).clip(lower=0.0),
    )
    start = as_of - thresholds.window_days * step
    in_window = (frame["day"] >= start) & (frame["day"] < as_of)
    if judged_from is not None:
        in_window &= frame["day"] >= frame["campaign_id"].map(judged_from).fillna(start)
    in_baseline = (frame["day"] >= start - thresholds.baseline_days * step) & (frame["day"] < start)
    window, baseline = _period_stats(frame[in_window]), _period_stats(frame[in_baseline])
    if window.empty:
        return window.assign(shift=[], z_error=[], z_shift=[], drifted=[])
    base = baseline.reindex(window.index)
    shift = window["error"] - base["error"]
    out = window.assign(
        shift=shift,
        z_error=window["error"].abs() / np.sqrt(window["variance"]),
        z_shift=shift.abs() / np.sqrt(window["variance"] + base["variance"]),
    )
    practical = -np.log1p(-min(thresholds.mape.get("cpa", 0.30), 0.99))  # the log shift a 30% MAPE means
    out["drifted"] = (
        (out["days"] >= thresholds.min_days)
        & (out["min_expected"] >= thresholds.min_conversions)
        & (out["signs"] == 1)
        & (out["mape"] > thresholds.mape.get("cpa", 0.30))
        & (out["z_error"] > thresholds.z)
        & (out["z_shift"].fillna(np.inf) > thresholds.z)  # no baseline (a new campaign): the error test alone
        & (shift.abs().fillna(np.inf) > practical)
    )
    return out


_PAIRS_SQL = """
    WITH p AS (SELECT *, {day} AS day FROM predictions.allocation_predictions)
    SELECT p.campaign_id, p.day, p.expected_conversions, p.expected_cpa, p.response_curves_version AS model_version,
           {noise} d.conversions::DOUBLE AS actual_conversions, d.cpa::DOUBLE AS actual_cpa
    FROM p JOIN marts.fct_campaign_daily d ON d.campaign_id = p.campaign_id AND d.date = p.day
    WHERE d.is_complete_day
    QUALIFY row_number() OVER (PARTITION BY p.campaign_id, p.day ORDER BY p.predicted_at DESC) = 1
"""
NOISE_COLUMNS = {"expected_conversions_log_sd": "log_sd", "response_dispersion": "dispersion"}


def drift_pairs(paths: PmiPaths) -> pd.DataFrame:
    """Every complete campaign-day with the latest prediction made for it (and that prediction's own noise where
    logged): the drift rule's input on the production path."""
    if not table_exists(paths, "predictions.allocation_predictions"):
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    logged = set(read_sql(paths, "DESCRIBE predictions.allocation_predictions")["column_name"])
    noise = "".join(f"p.{column} AS {name}, " for column, name in NOISE_COLUMNS.items() if column in logged)
    pairs = read_sql(paths, _PAIRS_SQL.format(day=predicted_day_sql(logged), noise=noise))
    return pairs.assign(day=pd.to_datetime(pairs["day"]))


def current_model_start(pairs: pd.DataFrame) -> pd.Series:
    """Per campaign, the first day predicted by its latest model version: days before it judged an older model
    (a retrain since then answered them), so the next judgement starts with the new model."""
    ordered = pairs.sort_values("day")
    latest = ordered.groupby("campaign_id")["model_version"].transform("last")
    older = ordered[ordered["model_version"].astype(str) != latest.astype(str)]
    first = ordered.groupby("campaign_id")["day"].min()
    after_older = older.groupby("campaign_id")["day"].max() + pd.Timedelta(days=1)
    return after_older.reindex(first.index).fillna(first)


def drifted_campaigns(paths: PmiPaths, thresholds: DriftThresholds | None = None) -> pd.DataFrame:
    """The drift rule on the warehouse: evidence per campaign for the window ending with the last complete day."""
    thresholds = thresholds or DriftThresholds()
    pairs = drift_pairs(paths)
    if pairs.empty:
        return drift_evidence(pairs, pd.Timestamp("1970-01-01"), thresholds)
    as_of = pd.Timestamp(pairs["day"].max()) + pd.Timedelta(days=1)
    return drift_evidence(pairs, as_of, thresholds, judged_from=current_model_start(pairs))
