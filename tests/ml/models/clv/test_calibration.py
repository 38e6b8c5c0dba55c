"""Total calibration and value intervals on logs with known parameters; no holdout leakage into fit or calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.clv.bgnbd import BGNBDParams, fit_bgnbd
from ml.models.clv.calibration import inner_split, interval_report, rescale_quantiles, total_factor
from ml.models.clv.gamma_gamma import GammaGammaParams
from ml.models.clv.predict import ParametricFit, parametric_expectations, predict_ltv
from ml.models.clv.summary import daily_purchases, rfm_summary
from ml.models.clv.synthetic import FHL_BGNBD_WEEKS, FHL_GAMMA_GAMMA, LogSpec, simulate_log

CAL_END = pd.Timestamp("1997-09-30")  # day 272 of the synthetic calendar: 39 weeks, as CDNOW
HOLD_END = pd.Timestamp("1998-06-30")
HORIZON = 273


@pytest.fixture(scope="module")
def bgnbd_log() -> pd.DataFrame:
    return simulate_log(LogSpec(process="bgnbd", n_customers=6_000), seed=11)


def true_fit() -> ParametricFit:
    """The generating parameters in days, as a fit: the expectation a model that knew the truth would give."""
    w = FHL_BGNBD_WEEKS
    bg = BGNBDParams(r=w["r"], alpha=7.0 * w["alpha"], a=w["a"], b=w["b"], log_likelihood=0.0, n_customers=0)
    gg = GammaGammaParams(**FHL_GAMMA_GAMMA, log_likelihood=0.0, n_customers=0)
    return ParametricFit(bg, gg, "gamma-gamma")


def test_generated_log_recovers_the_published_bgnbd_parameters(bgnbd_log):
    summary = rfm_summary(bgnbd_log, CAL_END, time_unit_days=7.0)
    fit = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    # ~3 standard errors at 6,000 customers; daily rounding of purchase times merges a few same-day repeats.
    tolerance = {"r": 0.15, "alpha": 0.25, "a": 0.35, "b": 0.45}
    for name, value in FHL_BGNBD_WEEKS.items():
        assert getattr(fit, name) == pytest.approx(value, rel=tolerance[name]), name


def test_calibrated_total_matches_truth_on_a_simulated_bgnbd_population(bgnbd_log):
    """Portfolio total within 10% of what the true parameters expect and within 15% of the realised holdout.

    10%: the heavy-tailed spend (Gamma-Gamma q = 3.74) makes a 6,000-customer total noisy by a few percent, and
    the inner split has half the history; BG/NBD itself describes this population exactly.
    """
    result = predict_ltv(bgnbd_log[bgnbd_log["date"] <= CAL_END], CAL_END, HORIZON, model="bgnbd", draws=200)
    daily = daily_purchases(bgnbd_log)
    truth = rfm_summary(daily, CAL_END, holdout_end=HOLD_END, daily=daily)
    table = result.table.set_index("customer_id").reindex(truth.index)
    expected = parametric_expectations(true_fit(), truth, float(HORIZON))["predicted_value"].sum()
    predicted = table["predicted_value"].sum()
    assert predicted == pytest.approx(expected, rel=0.10)
    assert predicted == pytest.approx(truth["holdout_value"].sum(), rel=0.15)
    assert 0.5 < result.calibration_factor < 2.0
    # The interval: about 10% of customers above p90 (nominal), almost none below p10 (p10 is 0 for most).
    report = interval_report(
        truth["holdout_value"].to_numpy(), table[["value_p10", "value_p50", "value_p90"]].to_numpy()
    )
    assert 0.06 <= report["above_p90"] <= 0.14
    assert report["below_p10"] <= 0.02


def test_changing_holdout_rows_cannot_change_predictions(bgnbd_log):
    """The ensemble, its inner split and the total calibration only ever read the calibration window."""
    small = bgnbd_log[bgnbd_log["customer_id"].astype(int) < 1500]
    base = predict_ltv(small, CAL_END, HORIZON, model="auto", draws=50, seed=3)
    rng = np.random.default_rng(5)
    changed = small.copy()
    hold = changed["date"] > CAL_END
    changed.loc[hold, "amount"] = rng.uniform(0, 5_000, int(hold.sum()))
    changed = changed.drop(changed.index[hold.to_numpy()][::2])
    extra = pd.DataFrame(
        {"customer_id": ["0", "new"], "date": [CAL_END + pd.Timedelta(days=1), HOLD_END], "amount": [1e6, 5.0]}
    )
    again = predict_ltv(pd.concat([changed, extra]), CAL_END, HORIZON, model="auto", draws=50, seed=3)
    pd.testing.assert_frame_equal(again.table, base.table)
    assert again.calibration_factor == base.calibration_factor and again.value_source == base.value_source


def test_inner_split_reads_only_the_calibration_window(bgnbd_log):
    daily = daily_purchases(bgnbd_log)
    with pytest.raises(ValueError, match="calibration end"):
        inner_split(daily, CAL_END, HORIZON)
    split = inner_split(daily[daily["date"] <= CAL_END], CAL_END, HORIZON)
    assert split is not None and split.window_days == 136  # the horizon capped at half the 272-day span
    assert split.cutoff + pd.Timedelta(days=split.window_days) == CAL_END
    assert split.summary["T"].max() <= (split.cutoff - daily["date"].min()).days


def test_total_factor_and_quantile_rescaling():
    actual, predicted = np.array([0.0, 10.0, 30.0]), np.array([5.0, 5.0, 10.0])
    assert total_factor(actual, predicted) == pytest.approx(2.0)  # 40 / 20
    assert total_factor(actual * 10, predicted) == 2.0  # bounded: a split that far off is not evidence
    assert total_factor(actual, np.zeros(3)) == 1.0
    q = np.array([[0.0, 0.0, 8.0], [0.0, 4.0, 20.0], [1.0, 2.0, 3.0]])
    out = rescale_quantiles(q, calibrated_mean=np.array([2.0, 6.0, 100.0]), model_mean=np.array([1.0, 4.0, 1.0]))
    np.testing.assert_allclose(out, q * np.array([[2.0], [1.5], [5.0]]))  # last row's 100x capped at 5x
    assert (np.diff(out, axis=1) >= 0).all() and out[0, 0] == 0.0
