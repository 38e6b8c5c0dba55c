"""The KPI forecaster: no leakage from after the origin, honest training sets, non-crossing quantiles, and a
working train/predict/backtest cycle on a small simulation."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from ml.models.forecast import HISTORY_DAYS_NEEDED, KpiForecaster, backtest, score, train_kpi_forecaster
from ml.models.forecast.examples import KPIS, build_examples, holiday_days, seasonal_naive
from ml.models.forecast.grid import build_grid
from ml.models.forecast.model import FEATURES, known_examples, with_budgets
from ml.models.forecast.train import all_examples

OUTCOMES = ("spend", "impressions", "clicks", "conversions", "cohort_revenue_d7", "n_active_hours")
LATER_ONLY = (
    "daily_budget",
    "cpm_index",
    "competition_index",
    "seasonality_index",
    "economic_index",
    "sentiment_index",
)
FAST = {"num_boost_round": 60}  # small boosters keep the suite quick; the benchmark uses the defaults


@pytest.fixture(scope="module")
def features(model_frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return model_frames["features"]


@pytest.fixture(scope="module")
def trained(model_frames: dict[str, pd.DataFrame]):
    return train_kpi_forecaster(
        model_frames["features"], model_frames["holidays"], seed=1, validation_days=35, params=FAST
    )


def _examples_at(rows: pd.DataFrame, origin: pd.Timestamp, holidays: pd.DataFrame) -> pd.DataFrame:
    grid = build_grid(rows)
    day = int((origin - grid.dates[0]).days)
    campaign = np.arange(len(grid.campaign_ids))
    return build_examples(
        grid, campaign, np.full(len(campaign), day), (7, 14, 30, 90), holiday_days(holidays, grid, 300)
    )


def test_features_at_an_origin_ignore_everything_after_it(features, model_frames):
    origin = pd.Timestamp(features["date"].min()) + pd.Timedelta(days=60)
    before = _examples_at(features, origin, model_frames["holidays"])
    later = pd.to_datetime(features["date"]) >= origin
    changed = features.copy()
    rng = np.random.default_rng(0)
    for col in OUTCOMES:  # the origin day's own outcomes are unknown at its start
        changed.loc[later, col] = (changed.loc[later, col] * rng.uniform(0.2, 3.0, later.sum())).astype(
            changed[col].dtype
        )
    after_origin = pd.to_datetime(features["date"]) > origin
    for col in LATER_ONLY:  # the budget in effect at the origin is known; later budgets and markets are not
        changed.loc[after_origin, col] = changed.loc[after_origin, col] * 1.7
    after = _examples_at(changed, origin, model_frames["holidays"])
    known = [*FEATURES, "spend_scale", "conversions_scale", "cpa_scale", "roas_scale", *(f"naive_{k}" for k in KPIS)]
    pd.testing.assert_frame_equal(before[known], after[known])
    assert not np.allclose(before["actual_spend"].fillna(0), after["actual_spend"].fillna(0))


def test_training_rows_only_hold_outcomes_known_by_the_cutoff(features, model_frames):
    examples = all_examples(features, model_frames["holidays"])
    cutoff = int(examples["origin_index"].median())
    train = known_examples(examples, cutoff, KPIS)
    for kpi in KPIS:
        known = train[f"actual_{kpi}"].notna()
        assert known.any()
        assert (train.loc[known, f"known_at_{kpi}"] <= cutoff).all()


def test_seasonal_naive_repeats_last_week(features):
    grid = build_grid(features)
    campaign, day = np.array([0, 0]), np.array([40, 40])
    horizon = np.array([7, 10])
    naive = seasonal_naive(grid, campaign, day, horizon, np.full(2, np.nan))
    week = grid.window_sum("spend", campaign[:1], day[:1] - 7, day[:1])[0]
    first3 = grid.window_sum("spend", campaign[:1], day[:1] - 7, day[:1] - 4)[0]
    assert naive["spend"][0] == pytest.approx(week)
    assert naive["spend"][1] == pytest.approx(week + first3)


def test_quantiles_never_cross_and_cover_every_kpi_and_horizon(trained, features):
    forecast = trained.model.predict(features)
    assert isinstance(trained.model, KpiForecaster)
    assert set(forecast["kpi"]) == set(KPIS)
    assert set(forecast["horizon_days"]) == {7, 14, 30, 90}
    assert forecast["campaign_id"].nunique() == features["campaign_id"].nunique()
    values = forecast[["p10", "p50", "p90"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (values[:, 0] <= values[:, 1]).all() and (values[:, 1] <= values[:, 2]).all()
    assert (forecast["origin_date"] == pd.Timestamp(features["date"].max()) + pd.Timedelta(days=1)).all()


def test_forecast_at_other_budgets_moves_only_the_campaigns_given(trained, features):
    """An allocation's budgets reach the forecast: budget features shift by the log ratio, others stay."""
    base_examples = trained.model.examples_at(features)
    ids = base_examples["campaign_id"].to_numpy()
    current = np.exp(base_examples.groupby("campaign_id")["log_budget"].first())
    doubled = (2 * current).iloc[:2]
    moved = with_budgets(base_examples, doubled)
    touched = np.isin(ids, doubled.index)
    for col in ("log_budget", "budget_vs_spend_7d", "budget_vs_spend_28d"):
        shift = (moved[col] - base_examples[col]).to_numpy()
        assert np.allclose(shift[touched], np.log(2)) and np.allclose(shift[~touched], 0.0)
    assert moved.drop(columns=["log_budget", "budget_vs_spend_7d", "budget_vs_spend_28d"]).equals(
        base_examples.drop(columns=["log_budget", "budget_vs_spend_7d", "budget_vs_spend_28d"])
    )
    base = trained.model.predict(features).set_index(["campaign_id", "kpi", "horizon_days"])["p50"]
    at_double = trained.model.predict(features, daily_budgets=doubled).set_index(
        ["campaign_id", "kpi", "horizon_days"]
    )["p50"]
    spend = at_double.xs("spend", level="kpi") / base.xs("spend", level="kpi")
    assert (spend.loc[list(doubled.index)] > 1.0).mean() > 0.5  # more budget, more spend forecast
    untouched = [c for c in set(ids) if c not in doubled.index]
    assert np.allclose(at_double.loc[untouched], base.loc[untouched])


def test_training_reports_holdout_metrics_that_can_be_rescored(trained, model_frames):
    assert trained.validation_score > 0
    assert {"valid_spend_h7_mape_model", "valid_spend_h7_mape_naive", "valid_cpa_h14_coverage_p10_p90"} <= set(
        trained.metrics
    )
    holdout = train_kpi_forecaster(
        model_frames["features"], model_frames["holidays"], seed=1, validation_days=35, refit=False, params=FAST
    )
    assert score(holdout.model, holdout.valid_df) == pytest.approx(holdout.validation_score)
    assert np.isfinite(score(trained.model, trained.valid_df))


def test_rolling_backtest_scores_each_horizon(features, model_frames):
    metrics, rows = backtest(
        features, model_frames["holidays"], first_origin=63, every_days=21, horizons=(7, 14), params=FAST
    )
    assert set(metrics["horizon_days"]) == {7, 14}
    assert (metrics["n_origins"] >= 1).all()
    assert metrics["coverage_p10_p90"].between(0, 1).all()
    assert (rows["origin_index"] >= 63).all()


def test_survives_pickling_for_mlflow(trained, features):
    restored = pickle.loads(pickle.dumps(trained.model))
    pd.testing.assert_frame_equal(restored.predict(features), trained.model.predict(features))


def test_boosters_train_on_at_most_the_cap_and_every_row_below_it(features, model_frames):
    """Training cost stops growing with the portfolio: beyond the cap a seeded subset of known rows is used."""
    from ml.models.forecast.model import category_levels, fit_quantile_boosters

    examples = known_examples(all_examples(features, model_frames["holidays"]), None, KPIS)
    known_spend = int(np.isfinite(examples["actual_spend"]).sum())
    cap = known_spend // 4
    params = {**FAST, "num_boost_round": 2, "bagging_fraction": 1.0, "bagging_freq": 0}

    def root_rows(max_examples: int, seed: int = 0) -> int:
        boosters = fit_quantile_boosters(
            examples, category_levels(examples), ["spend"], {**params, "max_training_examples": max_examples}, seed
        )
        return boosters[("spend", 0.5)].dump_model()["tree_info"][0]["tree_structure"]["internal_count"]

    assert root_rows(cap) == cap
    assert root_rows(10 * known_spend) == known_spend
    capped = fit_quantile_boosters(
        examples, category_levels(examples), ["spend"], {**params, "max_training_examples": cap}, 3
    )
    again = fit_quantile_boosters(
        examples, category_levels(examples), ["spend"], {**params, "max_training_examples": cap}, 3
    )
    assert capped[("spend", 0.5)].model_to_string() == again[("spend", 0.5)].model_to_string()


def test_a_forecast_from_now_needs_only_the_recent_days_it_reads(trained, features):
    """The hourly allocation forecasts from the last HISTORY_DAYS_NEEDED days of rows: the same table as from the
    whole history (the feature windows end inside them), at today's budgets and at other ones."""
    last = pd.to_datetime(features["date"]).max()
    recent = features[pd.to_datetime(features["date"]) > last - pd.Timedelta(days=HISTORY_DAYS_NEEDED)]
    assert len(recent) < len(features)
    budgets = features.groupby("campaign_id")["daily_budget"].last() * 1.5
    for at in (None, budgets):
        pd.testing.assert_frame_equal(
            trained.model.predict(recent, daily_budgets=at), trained.model.predict(features, daily_budgets=at)
        )
