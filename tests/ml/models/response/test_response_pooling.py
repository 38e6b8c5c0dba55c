"""Partial pooling: a campaign whose spend never moved borrows its half-saturation from its own group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.response import ResponseFitConfig, fit_response_curves
from ml.models.response.pooling import crossed_prior, pooled_prior
from ml.response_curves import ResponseCurves

K_OVER_BASE = {"facebook/ios": 0.6, "google/android": 3.0}
PER_GROUP = 5


def portfolio(rng: np.random.Generator) -> tuple[ResponseCurves, np.ndarray, list[str]]:
    """Five varied campaigns per group plus one constant-spend campaign that truly belongs to facebook/ios."""
    groups = [g for g in K_OVER_BASE for _ in range(PER_GROUP)] + ["facebook/ios"]
    base = rng.uniform(800.0, 2500.0, len(groups))
    k = base * np.array([K_OVER_BASE[g] for g in groups])
    scale = rng.uniform(150.0, 300.0, len(groups))
    curves = ResponseCurves.hill(scale, k, np.full(len(groups), 0.9))
    return curves, base, groups


@pytest.fixture(scope="module")
def pooled_fits(make_panel):
    rng = np.random.default_rng(4)
    truth, base, groups = portfolio(rng)
    panel = make_panel(truth, base, rng, days=120)
    flat_id = f"syn_{len(groups) - 1:03d}"
    flat = panel["campaign_id"] == flat_id
    panel.loc[flat, "spend"] = base[-1] * rng.lognormal(0.0, 0.01, int(flat.sum()))  # spend never moved
    flat_mean = truth.take([-1]).value(panel.loc[flat, "spend"].to_numpy()[None, :])[0]
    panel.loc[flat, "conversions"] = rng.poisson(flat_mean)
    attrs = pd.DataFrame(
        {
            "campaign_id": [f"syn_{i:03d}" for i in range(len(groups))],
            "network": [g.split("/")[0] for g in groups],
            "platform": [g.split("/")[1] for g in groups],
        }
    )
    moved = attrs.copy()
    moved.loc[moved["campaign_id"] == flat_id, ["network", "platform"]] = ["google", "android"]
    config = ResponseFitConfig(families=("hill",), n_draws=50, demand_covariates=False)
    return truth, flat_id, fit_response_curves(panel, attrs, config), fit_response_curves(panel, moved, config)


def test_constant_spend_campaign_gets_its_groups_curve(pooled_fits):
    truth, flat_id, fitted, _ = pooled_fits
    i = fitted.index_of([flat_id])[0]
    stats = fitted.summary()
    relative_k = np.log(stats["spend_scale"] / stats["reference_spend"])
    siblings = (fitted.groups == "facebook/ios") & (fitted.campaign_ids != flat_id)
    assert abs(relative_k[i] - relative_k[siblings].mean()) < 0.3
    assert 1 / 1.6 < fitted.curves.spend_scale[i] / truth.spend_scale[-1] < 1.6
    # The data say nothing about its k: the posterior keeps the prior's width, wider than its siblings'.
    assert stats["log_k_posterior_sd"][i] > 0.8 * stats["log_k_prior_sd"][i]
    assert stats["log_k_posterior_sd"][i] > stats["log_k_posterior_sd"][siblings].max()
    # Its level at the spend it actually runs is still pinned by its own data.
    ref = stats["reference_spend"][i]
    assert abs(fitted.expected_conversions([flat_id], [ref])[0] / truth.take([-1]).value([ref])[0] - 1) < 0.1
    low, high = fitted.half_saturation_interval[i]
    assert low <= truth.spend_scale[-1] <= high


def test_pooling_shrinks_toward_the_campaigns_own_group(pooled_fits):
    _, flat_id, fitted, moved = pooled_fits
    i = fitted.index_of([flat_id])[0]
    # Relabelled as google/android (k ~ 3x spend), the same data yield a far less saturated curve.
    assert moved.curves.spend_scale[i] > 2.5 * fitted.curves.spend_scale[i]
    assert (
        moved.saturation([flat_id], moved.stats["reference_spend"][[i]])[0]
        < fitted.saturation([flat_id], fitted.stats["reference_spend"][[i]])[0] - 0.2
    )
    # Campaigns with real spend variation barely notice the relabelling.
    others = fitted.campaign_ids != flat_id
    np.testing.assert_allclose(moved.curves.spend_scale[others], fitted.curves.spend_scale[others], rtol=0.25)


def test_pooled_prior_leaves_out_each_campaigns_own_estimate():
    est = np.array([0.0, 0.1, -0.1, 1.0, 1.1, 0.9, 5.0])
    var = np.array([0.01] * 6 + [np.inf])  # the last campaign carries no information
    groups = np.array(["a", "a", "a", "b", "b", "b", "a"])
    prior = pooled_prior(est, var, groups, sd_floor=0.05, fallback_mean=0.0, fallback_sd=1.0)
    assert abs(prior.mean[-1] - 0.0) < 0.1  # uninformative campaign: its group's mean, not its own value
    assert abs(prior.mean[3] - 1.0) < 0.15 and abs(prior.mean[0] - 0.0) < 0.15
    assert prior.group_sd > 0.2  # the groups differ


def _crossed_portfolio(seed: int, n: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log relative half-saturations with network and format effects (geo has none), noisy per-campaign estimates."""
    rng = np.random.default_rng(seed)
    factors = np.column_stack([rng.integers(5, size=n), rng.integers(4, size=n), rng.integers(8, size=n)])
    truth = 0.3 + rng.normal(0, 0.5, 5)[factors[:, 0]] + rng.normal(0, 0.4, 4)[factors[:, 1]] + rng.normal(0, 0.15, n)
    variance = rng.uniform(0.05, 1.0, n)
    variance[:12] = np.inf  # no information of their own (spend never moved)
    estimate = truth + rng.normal(0, np.sqrt(np.where(np.isinf(variance), 1.0, variance)))
    return truth, estimate, variance, factors


def test_crossed_prior_predicts_from_every_shared_attribute():
    """Effects of network and format, not of their combination: the crossed prior beats one group per combination."""
    errors = {"crossed": [], "combined": []}
    for seed in range(3):
        truth, estimate, variance, factors = _crossed_portfolio(seed)
        crossed = crossed_prior(estimate, variance, factors, 0.05, 0.0, 1.5)
        labels = np.array([f"{a}/{b}/{c}" for a, b, c in factors])  # one group per combination: mostly singletons
        combined = pooled_prior(estimate, variance, labels, 0.05, 0.0, 1.5)
        errors["crossed"].append(np.sqrt(np.mean((crossed.mean - truth) ** 2)))
        errors["combined"].append(np.sqrt(np.mean((combined.mean - truth) ** 2)))
        # a campaign with no data of its own gets its attributes' prediction, close to its truth
        assert np.sqrt(np.mean((crossed.mean[:12] - truth[:12]) ** 2)) < 0.35
    assert np.mean(errors["crossed"]) < 0.8 * np.mean(errors["combined"]), errors


def test_crossed_prior_never_uses_a_campaigns_own_estimate():
    truth, estimate, variance, factors = _crossed_portfolio(7)
    base = crossed_prior(estimate, variance, factors, 0.05, 0.0, 1.5)
    moved = estimate.copy()
    moved[20] += 0.05  # a small change keeps the fitted variances (a large one would move them a little)
    again = crossed_prior(moved, variance, factors, 0.05, 0.0, 1.5)
    assert abs(again.mean[20] - base.mean[20]) < 0.01 * 0.05 + abs(again.portfolio_mean - base.portfolio_mean)
    assert np.max(np.abs(again.mean - base.mean)) > 1e-4  # its siblings do see it
