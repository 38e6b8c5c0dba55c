"""The LTV ensemble trains on a small simulation, outputs a consistent distribution and beats its parts."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from ml.models.ltv.ensemble import LtvEnsemble
from ml.models.ltv.learners import LEARNERS

HORIZONS = (30, 90, 180)


def test_output_columns_and_ordering(ltv_frames, trained_ltv):
    df = ltv_frames["features"]
    pred = trained_ltv.model.predict_distribution(df)
    expected = ["user_id"] + [f"ltv_d{h}_mean" for h in HORIZONS]
    expected += [f"ltv_d{h}_{s}" for h in HORIZONS for s in ("median", "p10", "p90")] + ["p_payer"]
    assert list(pred.columns) == expected
    assert len(pred) == len(df) and (pred["user_id"].to_numpy() == df["user_id"].to_numpy()).all()
    values = pred.drop(columns="user_id")
    assert np.isfinite(values.to_numpy()).all()
    seen = df["revenue_d7"].where(df["age_days"] >= 7, np.nan).fillna(0).to_numpy()
    for h in HORIZONS:
        assert (pred[f"ltv_d{h}_p10"] <= pred[f"ltv_d{h}_median"] + 1e-9).all()
        assert (pred[f"ltv_d{h}_median"] <= pred[f"ltv_d{h}_p90"] + 1e-9).all()
        assert (pred[f"ltv_d{h}_mean"] >= 0).all()
        assert (pred[f"ltv_d{h}_p10"] >= seen - 1e-6).all()  # never below revenue already earned
    for a, b in zip(HORIZONS, HORIZONS[1:], strict=False):
        assert (pred[f"ltv_d{b}_mean"] >= pred[f"ltv_d{a}_mean"] - 1e-9).all()
    assert pred["p_payer"].between(0, 1).all()
    assert (pred.loc[seen > 0, "p_payer"] == 1).all()
    assert np.allclose(trained_ltv.model.predict(df), pred["ltv_d90_mean"].to_numpy())


def test_d180_extended_by_time_curve(ltv_frames, trained_ltv):
    model = trained_ltv.model
    assert model.trained_horizons == [30, 90] and ltv_frames["features"]["is_mature_d180"].sum() == 0
    pred = model.predict_distribution(ltv_frames["features"])
    ratio = pred["ltv_d180_mean"].sum() / pred["ltv_d90_mean"].sum()
    assert 1.0 < ratio < 1.5


def test_ensemble_not_worse_than_best_learner(trained_ltv):
    """Stacking minimises squared error on validation, so RMSE must not lose; MAE (which rewards predicting
    less than the mean of a zero-inflated target) may lose a little to a learner biased low."""
    m = trained_ltv.metrics
    for h in (30, 90):
        weights = np.array([m[f"weight_{n}_d{h}"] for n in LEARNERS])
        assert (weights >= 0).all() and np.isclose(weights.sum(), 1.0)
        best_rmse = min(m[f"{n}_d{h}_rmse"] for n in LEARNERS)
        best_mae = min(m[f"{n}_d{h}_mae"] for n in LEARNERS)
        assert m[f"ltv_d{h}_rmse"] <= best_rmse * 1.01
        assert m[f"ltv_d{h}_mae"] <= best_mae * 1.15


def test_split_is_by_time_and_metrics_reported(ltv_frames, trained_ltv):
    params = trained_ltv.params
    valid = trained_ltv.valid_df
    assert pd.Timestamp(params["valid_start"]) <= valid["install_ts"].min()
    assert valid["install_ts"].max() < pd.Timestamp(params["valid_end"])
    assert (valid["is_mature_d90"]).all()
    assert np.isfinite(trained_ltv.validation_score)
    assert trained_ltv.score(trained_ltv.model) == trained_ltv.validation_score
    assert 0.5 < trained_ltv.metrics["ltv_d90_p10_p90_coverage"] <= 1.0


def test_pickle_roundtrip(ltv_frames, trained_ltv):
    df = ltv_frames["features"].head(500)
    clone: LtvEnsemble = pickle.loads(pickle.dumps(trained_ltv.model))
    assert np.allclose(clone.predict(df), trained_ltv.model.predict(df))


def test_training_does_not_depend_on_row_order(ltv_frames, trained_ltv):
    """The warehouse returns rows in no set order; the same users in another order give the same model."""
    import warnings

    from ml.models.training.ltv import train_ltv

    df = ltv_frames["features"]
    shuffled = df.sample(frac=1.0, random_state=5).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = train_ltv(shuffled, seed=1)
    first = trained_ltv.model.predict_distribution(df)
    second = again.model.predict_distribution(df)
    assert np.allclose(first["ltv_d90_mean"], second["ltv_d90_mean"], rtol=1e-9, atol=1e-9)
