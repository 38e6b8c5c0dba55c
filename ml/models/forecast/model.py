"""The global quantile KPI forecaster: one LightGBM per (KPI, quantile) pooled over campaigns and horizons, so
small campaigns and long horizons borrow strength from everything else in the portfolio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.models.forecast.examples import (
    CATEGORICAL,
    HOLIDAY_HORIZON_CAP,
    HORIZONS,
    KPIS,
    MARKET,
    build_examples,
    from_log_target,
    holiday_days,
    to_log_target,
)
from ml.models.forecast.grid import CampaignDayGrid, build_grid
from ml.models.insufficient import InsufficientDataError

QUANTILES = (0.1, 0.5, 0.9)
QUANTILE_NAMES = ("p10", "p50", "p90")
NUMERIC_FEATURES = (
    "horizon_days",
    "has_agency",
    "auto_optimization_enabled",
    "log_budget",
    "budget_vs_spend_7d",
    "budget_vs_spend_28d",
    "spend_7d_vs_28d",
    "prev_day_vs_spend_7d",
    "conv_7d_vs_28d",
    "log_cpa_7d",
    "cpa_7d_vs_28d",
    "log_cpm_7d",
    "cpm_7d_vs_28d",
    "log_ctr_28d",
    "log_cvr_28d",
    "log_roas_d7_28d",
    "roas_d7_7d_vs_28d",
    "log_days_since_launch",
    "active_days_28d",
    "day_of_week",
    "days_to_next_holiday",
    *MARKET,
    "cpm_index_change_7d",
    "competition_index_change_7d",
    "holidays_in_window",
    "weekend_share",
)
FEATURES = (*NUMERIC_FEATURES, *CATEGORICAL)
DEFAULT_PARAMS: dict[str, float | int | str] = {
    "learning_rate": 0.08,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "num_boost_round": 120,
    "num_threads": 1,
    # Rows one booster trains on at most (a seeded random subset beyond it): the examples grow with campaigns x
    # days x horizons, so without a cap 500 campaigns x 180 days fit 12 boosters on 360k rows four times over.
    # The default portfolio (24 campaigns: 17k rows) and 100 campaigns (72k) train on every row.
    "max_training_examples": 100_000,
}
# Days of campaign-day rows a forecast from now reads: the 28-day windows of the features end up to 8 days before
# the origin (D7 cohort maturity), so 36 are needed; twice that leaves a margin (tests check equal forecasts).
HISTORY_DAYS_NEEDED = 72
MIN_ACTIVE_DAYS = 7  # a campaign needs a full delivered week before its forecasts are trained or scored
CALIBRATION_DAYS = 28  # origins held out (inside the training period) to calibrate the p10-p90 width
CALIBRATION_HORIZONS = (7, 14)  # horizons whose outcomes fall inside the calibration span
NOMINAL_COVERAGE = 0.8


def encode(frame: pd.DataFrame, categories: dict[str, list[str]]) -> pd.DataFrame:
    """Model matrix: numeric features as floats, campaign attributes as fixed integer codes (unknown = NaN)."""
    out = {c: pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy() for c in NUMERIC_FEATURES}
    for c in CATEGORICAL:
        codes = pd.Categorical(frame[c].astype(str), categories=categories[c]).codes.astype(float)
        out[c] = np.where(codes < 0, np.nan, codes)
    return pd.DataFrame(out, index=frame.index)


def training_rows(known: np.ndarray, max_examples: int, seed: int) -> np.ndarray:
    """Positions of the rows one booster trains on: every known row, or a seeded uniform subset of
    ``max_examples`` of them, so training time and memory stop growing with the portfolio."""
    rows = np.flatnonzero(known)
    if len(rows) <= max_examples:
        return rows
    return np.sort(np.random.default_rng([seed, 17]).choice(rows, size=max_examples, replace=False))


def fit_quantile_boosters(
    examples: pd.DataFrame, categories: dict[str, list[str]], kpis: Sequence[str], params: dict, seed: int
) -> dict[tuple[str, float], lgb.Booster]:
    """Fit one quantile booster per (KPI, quantile) on the rows whose outcome is known (non-NaN), at most
    ``params["max_training_examples"]`` of them (memory: that many rows x the features, per KPI)."""
    lgb_params = {k: v for k, v in params.items() if k not in ("num_boost_round", "max_training_examples")}
    rounds = int(params.get("num_boost_round", 200))
    max_examples = int(params.get("max_training_examples", DEFAULT_PARAMS["max_training_examples"]))
    boosters = {}
    matrix = encode(examples, categories)
    for kpi in kpis:
        target = to_log_target(kpi, examples[f"actual_{kpi}"].to_numpy(), examples)
        keep = np.isfinite(target)
        if keep.sum() < 20:
            raise InsufficientDataError(f"{int(keep.sum())} known {kpi} outcomes; the KPI forecaster needs at least 20")
        rows = training_rows(keep, max_examples, seed)
        data = lgb.Dataset(
            matrix.iloc[rows], label=target[rows], categorical_feature=list(CATEGORICAL), free_raw_data=False
        )
        for q in QUANTILES:
            boosters[(kpi, q)] = lgb.train(
                {
                    **lgb_params,
                    "objective": "quantile",
                    "alpha": q,
                    "seed": seed,
                    "deterministic": True,
                    "verbosity": -1,
                },
                data,
                num_boost_round=rounds,
            )
    return boosters


@dataclass
class KpiForecaster:
    """Forecasts total spend, conversions, CPA and D7 ROAS over the next 7/14/30/90 days with p10/p50/p90."""

    boosters: dict[tuple[str, float], lgb.Booster]
    categories: dict[str, list[str]]
    holidays: pd.DataFrame
    horizons: tuple[int, ...] = HORIZONS
    kpis: tuple[str, ...] = KPIS
    params: dict = field(default_factory=dict)
    # widening of p10/p90 around p50 in log space, per KPI and calibrated horizon (longer horizons use the
    # longest calibrated one)
    interval_scale: dict[str, dict[int, float]] = field(default_factory=dict)

    def interval_factor(self, kpi: str, horizon: np.ndarray) -> np.ndarray:
        """Interval widening for each row's horizon: that of the longest calibrated horizon <= it."""
        by_horizon = self.interval_scale.get(kpi, {})
        if not by_horizon:
            return np.ones(len(horizon))
        keys = np.array(sorted(by_horizon))
        values = np.array([by_horizon[k] for k in keys])
        return values[np.clip(np.searchsorted(keys, horizon, side="right") - 1, 0, len(keys) - 1)]

    def predict_examples(self, examples: pd.DataFrame) -> pd.DataFrame:
        """Quantiles for prepared example rows: columns ``<kpi>_p10/_p50/_p90``, sorted so they never cross."""
        matrix = encode(examples, self.categories)
        out = {}
        for kpi in self.kpis:
            raw = np.sort(np.column_stack([self.boosters[(kpi, q)].predict(matrix) for q in QUANTILES]), axis=1)
            factor = self.interval_factor(kpi, examples["horizon_days"].to_numpy())
            raw = raw[:, [1]] + factor[:, None] * (raw - raw[:, [1]])
            values = from_log_target(kpi, raw, examples)
            for j, name in enumerate(QUANTILE_NAMES):
                out[f"{kpi}_{name}"] = values[:, j]
        return pd.DataFrame(out, index=examples.index)

    def examples_at(self, rows: pd.DataFrame, origins: Sequence | None = None) -> pd.DataFrame:
        """Example rows (features only are needed) for every live campaign at each origin date.

        ``rows`` are campaign-day rows as in ``marts.fct_campaign_day_features`` covering at least the 35 days
        before the origins. The default origin is the day after the last complete day (forecast from now).
        """
        grid = build_grid(rows)
        days = np.array([grid.complete_until]) if origins is None else grid.day_index(pd.to_datetime(origins))
        campaign = np.repeat(np.arange(len(grid.campaign_ids)), len(days))
        day = np.tile(days, len(grid.campaign_ids))
        return self._examples(grid, campaign, day)

    def _examples(self, grid: CampaignDayGrid, campaign: np.ndarray, day: np.ndarray) -> pd.DataFrame:
        holidays = holiday_days(self.holidays, grid, max(self.horizons) + HOLIDAY_HORIZON_CAP)
        examples = build_examples(grid, campaign, day, self.horizons, holidays)
        return examples[examples["active_days_7d"] > 0].reset_index(drop=True)

    def predict(
        self, df: pd.DataFrame, origins: Sequence | None = None, daily_budgets: pd.Series | None = None
    ) -> pd.DataFrame:
        """Long forecast table: campaign_id, origin_date, horizon_days, kpi, p10, p50, p90 (campaigns that
        delivered in the week before the origin; ``df`` as in :meth:`examples_at`).

        ``daily_budgets`` (campaign_id -> budget) forecasts at those budgets instead of the ones in force at the
        origin, e.g. an allocation's recommended budgets, so the forecast describes the plan being applied.
        """
        examples = self.examples_at(df, origins)
        if daily_budgets is not None:
            examples = with_budgets(examples, daily_budgets)
        wide = self.predict_examples(examples)
        parts = []
        for kpi in self.kpis:
            part = examples[["campaign_id", "origin_date", "horizon_days"]].copy()
            part["kpi"] = kpi
            for name in QUANTILE_NAMES:
                part[name] = wide[f"{kpi}_{name}"].to_numpy()
            parts.append(part)
        return pd.concat(parts, ignore_index=True)


def with_budgets(examples: pd.DataFrame, daily_budgets: pd.Series) -> pd.DataFrame:
    """Examples with their budget features moved to ``daily_budgets`` (campaigns not in it keep theirs).

    Each budget feature is log(budget / something known at the origin), so moving the budget shifts every one of
    them by the same log ratio; a budget of 0 (paused) is the smallest budget seen, as the model never saw 0.
    """
    new = examples["campaign_id"].map(daily_budgets).astype(float)
    floor = float(np.exp(examples["log_budget"].min()))
    shift = np.log(np.maximum(new, floor)) - examples["log_budget"]
    shift = shift.where(new.notna() & np.isfinite(examples["log_budget"]), 0.0)
    out = examples.copy()
    for col in ("log_budget", "budget_vs_spend_7d", "budget_vs_spend_28d"):
        out[col] = examples[col] + shift
    return out


def category_levels(examples: pd.DataFrame) -> dict[str, list[str]]:
    """Fixed category lists so training and prediction encode campaign attributes identically."""
    return {c: sorted(examples[c].astype(str).unique().tolist()) for c in CATEGORICAL}


def known_examples(examples: pd.DataFrame, known_by: int | None, kpis: Sequence[str]) -> pd.DataFrame:
    """Training rows as of day index ``known_by``: outcomes not yet known then are blanked (NaN)."""
    train = examples[examples["active_days_7d"] >= MIN_ACTIVE_DAYS]
    if known_by is None:
        return train
    train = train.copy()
    for kpi in kpis:
        late = train[f"known_at_{kpi}"].to_numpy() > known_by
        train.loc[late, f"actual_{kpi}"] = np.nan
    return train


def calibrated_scale(model: KpiForecaster, rows: pd.DataFrame, kpi: str) -> float:
    """Factor on the p10/p90 distance from p50 (log space) that makes 80% of out-of-sample ``rows`` covered
    (normalised split-conformal, with the finite-sample correction); NaN when there are too few rows."""
    actual = to_log_target(kpi, rows[f"actual_{kpi}"].to_numpy(), rows)
    keep = np.isfinite(actual)
    if keep.sum() < 30:
        return float("nan")
    matrix = encode(rows[keep], model.categories)
    q = np.sort(np.column_stack([model.boosters[(kpi, a)].predict(matrix) for a in QUANTILES]), axis=1)
    y = actual[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(y < q[:, 1], (q[:, 1] - y) / (q[:, 1] - q[:, 0]), (y - q[:, 1]) / (q[:, 2] - q[:, 1]))
    need = np.nan_to_num(need, nan=0.0, posinf=1e3)
    level = min(1.0, NOMINAL_COVERAGE * (1 + 1 / len(need)))
    return float(np.clip(np.quantile(need, level), 0.5, 10.0))


def fit_forecaster(
    examples: pd.DataFrame,
    holidays: pd.DataFrame,
    known_by: int | None = None,
    params: dict | None = None,
    seed: int = 0,
    horizons: tuple[int, ...] = HORIZONS,
    kpis: tuple[str, ...] = KPIS,
    calibrate: bool = True,
) -> KpiForecaster:
    """Fit on examples whose outcome was known by day index ``known_by`` (all known outcomes when None).

    With ``calibrate`` a second fit on outcomes known ``CALIBRATION_DAYS`` earlier forecasts the origins in
    between; how far its intervals miss sets each KPI's interval widening (quantile boosters fitted on
    overlapping windows are overconfident out of sample, more so the longer the window).
    """
    merged = {**DEFAULT_PARAMS, **(params or {})}
    categories = category_levels(examples)
    train = known_examples(examples, known_by, kpis)
    model = KpiForecaster(
        boosters=fit_quantile_boosters(train, categories, kpis, merged, seed),
        categories=categories,
        holidays=holidays,
        horizons=horizons,
        kpis=kpis,
        params=merged,
    )
    if not calibrate:
        return model
    known = train.loc[train["actual_spend"].notna(), "known_at_spend"]
    last = (int(known.max()) if len(known) else 0) if known_by is None else known_by
    split = last - CALIBRATION_DAYS
    try:
        early = fit_forecaster(
            examples, holidays, known_by=split, params=params, seed=seed, horizons=horizons, kpis=kpis, calibrate=False
        )
    except ValueError:  # too little history before the split: keep the raw quantiles
        return model
    held = train[train["origin_index"] >= split]
    for kpi in kpis:
        factors = {
            h: calibrated_scale(early, held[held["horizon_days"] == h], kpi)
            for h in CALIBRATION_HORIZONS
            if h in horizons
        }
        model.interval_scale[kpi] = {h: f for h, f in factors.items() if np.isfinite(f)}
    return model
