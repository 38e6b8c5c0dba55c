"""The price-of-scale model: CPM rises with spend and with market pressure, follows the simulator's true
direction and size of the effect, and CPA at a spend can come from an external response curve."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from ml.models.pricing import PricingModel, score, train_pricing_model
from ml.models.pricing.evaluation import scale_uplift_vs_truth, summarize_uplift
from ml.simulation import SimulationConfig


@pytest.fixture(scope="module")
def holdout(model_frames: dict[str, pd.DataFrame]):
    return train_pricing_model(model_frames["features"], refit=False)


def test_cpm_rises_with_spend_for_every_campaign(holdout):
    model = holdout.model
    ids = model.typical_spend.index.to_numpy()
    spend = model.typical_spend.to_numpy()[:, None] * np.geomspace(0.1, 10.0, 25)[None, :]
    cpm = model.cpm_at(ids, spend)
    assert cpm.shape == spend.shape
    assert (np.diff(cpm, axis=1) > 0).all()
    cpa = model.cpa_at(ids, spend)
    assert (np.diff(cpa, axis=1) >= -1e-9).all()


def test_cpm_rises_with_competition_and_market_price(holdout):
    model = holdout.model
    ids = model.typical_spend.index.to_numpy()
    spend = model.typical_spend.to_numpy()
    neutral = model.cpm_at(ids, spend, {"cpm_index": 1.0, "competition_index": 1.0})
    assert (model.cpm_at(ids, spend, {"cpm_index": 1.0, "competition_index": 1.3}) > neutral).all()
    assert (model.cpm_at(ids, spend, {"cpm_index": 1.2, "competition_index": 1.0}) > neutral).all()


def test_tracks_the_simulators_truth(holdout, model_frames):
    config = SimulationConfig(n_campaigns=6, days=120, seed=3)
    table = scale_uplift_vs_truth(holdout.model, model_frames["truth"], config.inventory_pressure)
    summary = summarize_uplift(table)
    assert summary["cpm_direction_agreement"] == 1.0
    assert summary["cpm_uplift_corr"] > 0.8
    assert summary["cpm_uplift_mae"] < 0.05
    assert summary["cpa_direction_agreement"] == 1.0
    elasticity = holdout.model.cpm_fit.index_elasticity
    assert elasticity["competition_index"] == pytest.approx(config.competition_elasticity, abs=0.2)
    assert elasticity["cpm_index"] == pytest.approx(1.0, abs=0.2)


def test_cpa_uses_an_external_response_curve_when_given(model_frames):
    def conversions_at(campaign_ids: np.ndarray, spend: np.ndarray) -> np.ndarray:
        return np.sqrt(spend)

    trained = train_pricing_model(model_frames["features"], refit=False, conversions_at=conversions_at)
    model: PricingModel = trained.model
    ids = model.typical_spend.index.to_numpy()
    np.testing.assert_allclose(model.cpa_at(ids, 400.0), np.full(len(ids), 20.0))


def test_predict_and_score(holdout):
    predicted = holdout.model.predict(holdout.valid_df)
    assert list(predicted.columns) == ["cpm", "cpa", "conversions"]
    assert np.isfinite(predicted.to_numpy()).all()
    assert score(holdout.model, holdout.valid_df) == pytest.approx(holdout.validation_score)
    assert holdout.metrics["mape_cpm"] < holdout.metrics["mape_cpm_trailing_28d"]


def test_survives_pickling_for_mlflow(holdout):
    restored = pickle.loads(pickle.dumps(holdout.model))
    pd.testing.assert_frame_equal(restored.predict(holdout.valid_df), holdout.model.predict(holdout.valid_df))
