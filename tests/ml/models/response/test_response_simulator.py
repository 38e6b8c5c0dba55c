"""Curves fitted on simulator history against the hidden truth (which only tests and benchmarks may read)."""

from __future__ import annotations

import numpy as np

GRID_MULTIPLES = np.linspace(0.0, 5.0, 101)


def test_true_half_saturation_inside_90pct_interval_for_most_campaigns(simulated):
    frames, _, curves = simulated
    truth = frames.truth["campaign_truth"].set_index("campaign_id").loc[curves.campaign_ids]
    true_half = truth["half_saturation_spend"].to_numpy()
    low, high = curves.half_saturation_interval.T
    assert np.all(low < curves.half_saturation_spend) and np.all(curves.half_saturation_spend < high)
    assert np.mean((low <= true_half) & (true_half <= high)) >= 0.8


def test_every_fitted_curve_and_draw_is_increasing_and_concave(simulated):
    _, _, curves = simulated
    spend = curves.stats["reference_spend"].to_numpy()[:, None] * GRID_MULTIPLES[None, :]
    for params in [curves.curves, *(curves.draw_curves(d) for d in range(0, curves.n_draws, 15))]:
        values = params.value(spend)
        slopes = np.diff(values, axis=1)
        assert np.all(slopes > 0)
        assert np.all(np.diff(slopes, axis=1) <= 1e-9 * np.abs(slopes[:, 1:]).max())
        assert np.all(params.shape <= 1.0) and np.all(params.shape > 0)


def test_saturation_in_unit_interval_and_increasing(simulated):
    _, _, curves = simulated
    spend = curves.stats["reference_spend"].to_numpy()[:, None] * GRID_MULTIPLES[None, 1:]
    level = curves.saturation(curves.campaign_ids, spend)
    assert np.all((level >= 0) & (level <= 1))
    assert np.all(np.diff(level, axis=1) > 0)
    np.testing.assert_allclose(curves.saturation(None, curves.half_saturation_spend), 0.5)


def test_curves_track_the_truth_near_current_spend(simulated):
    """At each campaign's mean spend the curve matches the truth's level and its marginal cost is sane."""
    frames, panel, curves = simulated
    truth = frames.truth["campaign_truth"].set_index("campaign_id").loc[curves.campaign_ids]
    deflated = panel.assign(spend=panel["spend"] / panel["price_index"])
    observed = deflated.groupby("campaign_id")["conversions"].mean().loc[curves.campaign_ids].to_numpy()
    mean_spend = curves.stats["reference_spend"].to_numpy()
    fitted = curves.expected_conversions(curves.campaign_ids, mean_spend)
    assert np.median(np.abs(fitted / observed - 1)) < 0.1
    marginal = curves.marginal(curves.campaign_ids, mean_spend)
    assert np.all(marginal > 0) and np.all(marginal < fitted / mean_spend)  # concave: marginal below average
    assert np.all(truth["hill_shape"].to_numpy() > 0)  # truth is read here only for scoring


def test_draws_and_thompson_samples(simulated):
    _, _, curves = simulated
    assert curves.draws.shape == (len(curves), 300, 3)
    log_k = np.log(curves.draws[:, :, 1])
    spread = log_k.std(axis=1)
    assert np.all(np.abs(np.median(log_k, axis=1) - np.log(curves.curves.spend_scale)) < 0.5 * spread + 0.05)
    rng = np.random.default_rng(1)
    samples = [curves.sample_curves(rng) for _ in range(50)]
    k_samples = np.stack([s.spend_scale for s in samples])
    assert np.all(k_samples.std(axis=0) > 0)  # Thompson draws actually explore


def test_shared_demand_effects_recover_the_weekday_pattern(simulated):
    """Weekday demand is multiplicative and shared: the fitted effects rank Friday-Sunday above Monday."""
    _, _, curves = simulated
    weekday = np.array([0.0] + [curves.demand_effects[f"weekday_{d}"] for d in range(1, 7)])
    true_log = np.log([0.95, 0.96, 0.97, 0.99, 1.03, 1.06, 1.04])
    assert np.corrcoef(weekday, true_log - true_log[0])[0, 1] > 0.8
