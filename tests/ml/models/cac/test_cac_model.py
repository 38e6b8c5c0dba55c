"""The CAC model trains on a small simulation, predicts only from what is known before the day, and its
holdout score can be recomputed for champion comparisons."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from ml.models.cac import CacModel, score, train_cac_model
from ml.models.cac.model import usable_rows

SAME_DAY_OUTCOMES = (
    "spend",
    "impressions",
    "clicks",
    "conversions",
    "revenue",
    "cpm",
    "ctr",
    "cvr",
    "cpa",
    "roas",
    "new_users",
    "cohort_revenue_d7",
    "spend_vs_trailing_7d_mean",
)


@pytest.fixture(scope="module")
def features(model_frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return model_frames["features"]


@pytest.fixture(scope="module")
def holdout(features):
    return train_cac_model(features, seed=2, refit=False)


def test_trains_and_predicts_positive_cpa(holdout, features):
    assert isinstance(holdout.model, CacModel)
    rows = features[usable_rows(features)]
    predicted = holdout.model.predict(rows)
    assert predicted.shape == (len(rows),)
    assert np.isfinite(predicted).all() and (predicted > 0).all()
    conversions = holdout.model.predict_conversions(rows)
    np.testing.assert_allclose(conversions * predicted, rows["daily_budget"].to_numpy())
    assert {"mape_model", "mape_trailing_28d", "mape_trailing_7d", "n"} <= set(holdout.metrics)
    assert holdout.metrics["n"] > 0


def test_prediction_ignores_the_days_own_outcomes(holdout, features):
    rows = features[usable_rows(features)].copy()
    before = holdout.model.predict(rows)
    for col in SAME_DAY_OUTCOMES:
        rows[col] = rows[col] * 3.0 + 1.0
    np.testing.assert_allclose(holdout.model.predict(rows), before)


def test_spend_plan_is_an_input(holdout, features):
    rows = features[usable_rows(features)].head(20)
    base = holdout.model.predict(rows)
    planned = holdout.model.predict(rows.assign(planned_spend=rows["daily_budget"] * 2.0))
    assert not np.allclose(base, planned)


def test_validation_score_is_reproducible(holdout):
    assert score(holdout.model, holdout.valid_df) == pytest.approx(holdout.validation_score)
    assert holdout.validation_score == pytest.approx(holdout.metrics["mape_model"])


def test_survives_pickling_for_mlflow(holdout):
    restored = pickle.loads(pickle.dumps(holdout.model))
    np.testing.assert_allclose(restored.predict(holdout.valid_df), holdout.model.predict(holdout.valid_df))
