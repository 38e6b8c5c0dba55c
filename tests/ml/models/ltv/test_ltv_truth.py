"""Accuracy against the simulator's ground truth, with tolerances from sampling error (truth is evaluation only)."""

from __future__ import annotations

import numpy as np

from ml.evaluation.truth import expected_ltv, expected_value_share_by_day, monte_carlo_ltv
from ml.models.ltv.curves import TimeCurve


def test_analytic_truth_matches_monte_carlo(ltv_frames):
    truth = ltv_frames["campaign_truth"]
    analytic = expected_ltv(truth, 90)
    mc = monte_carlo_ltv(truth, 90, users_per_campaign=100_000, seed=1)
    # per-user coefficient of variation of d90 value is < 12 for these campaigns: 4 SE = 4 * 12 / sqrt(1e5)
    assert np.allclose(mc / analytic, 1.0, atol=4 * 12 / np.sqrt(100_000))


def test_portfolio_ltv_d90_matches_truth(ltv_frames, trained_ltv):
    df = ltv_frames["features"]
    pred = trained_ltv.model.predict_distribution(df)
    truth = expected_ltv(ltv_frames["campaign_truth"], 90)
    true_mean = df["campaign_id"].map(truth).mean()
    # Sampling error of what the model learned from: mature training users' d90 revenue.
    mature = df.loc[df["is_mature_d90"], "revenue_d90"].to_numpy()
    tolerance = 3 * mature.std() / np.sqrt(len(mature)) + 0.05 * true_mean
    assert abs(pred["ltv_d90_mean"].mean() - true_mean) < tolerance


def test_payer_probability_calibrated_on_validation(trained_ltv):
    valid = trained_ltv.valid_df
    p = trained_ltv.model.predict_distribution(valid, trained_ltv.as_of)["p_payer"].to_numpy()
    paid = (valid["revenue_d90"] > 0).to_numpy()
    assert abs(p.mean() - paid.mean()) < 3 * np.sqrt(paid.mean() * (1 - paid.mean()) / len(paid)) + 0.005


def test_time_curve_factor_close_to_truth(ltv_frames):
    df = ltv_frames["features"]
    truth = ltv_frames["campaign_truth"]
    curve = TimeCurve(ref=90).fit(df, df["as_of_ts"].max())
    true_factor = expected_value_share_by_day(truth, 180) / expected_value_share_by_day(truth, 90)
    fitted = curve.factor(truth["campaign_id"], 180)
    assert np.all(np.abs(fitted / true_factor - 1) < 0.08)


def test_campaign_ltv_d90_within_sampling_error_of_truth(ltv_frames, trained_ltv):
    """The allocator's per-campaign LTV (every user's revenue so far, developed) sits inside the sampling band of
    the campaign's own mature users around the true expected d90."""
    from ml.models.ltv import ltv_by_source

    df = ltv_frames["features"]
    pred = trained_ltv.model.predict_distribution(df)
    table = ltv_by_source(df, pred, ("campaign_id",)).set_index("campaign_id")
    truth = expected_ltv(ltv_frames["campaign_truth"], 90).reindex(table.index)
    mature = df[df["is_mature_d90"]].groupby("campaign_id")["revenue_d90"]
    band = 3 * mature.std() / np.sqrt(mature.size()) + 0.03 * truth
    assert (table["observed_weight"] > 0.9).all()
    assert (np.abs(table["blended_ltv_d90"] - truth) < band.reindex(table.index)).all()
