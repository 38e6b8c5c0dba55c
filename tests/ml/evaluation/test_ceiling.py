"""The oracle ceiling: matches the normal approximation, rises with sample size, and a prior only helps."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ml.evaluation.ceiling import ceiling_summary, oracle_relative_errors, oracle_within_tolerance


def test_own_data_oracle_matches_the_delta_method():
    n, p, sigma = 40_000, 0.05, 1.1
    errors = oracle_relative_errors(np.array([n]), np.array([p]), np.array([sigma]), draws=20_000, pooled=False)[0]
    payers = n * p
    sd = np.sqrt((1 - p) / payers + sigma**2 / payers)  # log scale: payer share and mean log value
    assert abs(np.log1p(errors).std() - sd) < 0.03 * sd
    expected = stats.norm.cdf(np.log(1.1) / sd) - stats.norm.cdf(np.log(0.9) / sd)
    assert abs((np.abs(errors) <= 0.1).mean() - expected) < 0.01


def test_within_probability_rises_with_users_and_the_prior_helps_small_sources():
    sources = pd.DataFrame({"n_users": [500, 2_000, 8_000, 32_000], "payer_share": 0.06, "payer_value_log_sd": 1.1})
    table = oracle_within_tolerance(sources, draws=8_000)
    assert (np.diff(table["p_within_own"]) > 0).all() and (np.diff(table["p_within_pooled"]) > 0).all()
    assert table["p_within_pooled"].iloc[0] > table["p_within_own"].iloc[0] + 0.05
    assert table["p_within_pooled"].iloc[-1] > 0.99
    summary = ceiling_summary(table)
    assert np.isclose(summary["p_all_own"], table["p_within_own"].prod())
    assert np.isclose(summary["expected_share_pooled"], table["p_within_pooled"].mean())


def test_a_source_without_payers_is_a_full_miss_for_the_own_data_oracle():
    errors = oracle_relative_errors(np.array([10]), np.array([0.001]), np.array([1.1]), draws=1_000, pooled=False)
    assert (errors[errors < -0.99] == -1.0).all() and (errors == -1.0).mean() > 0.95
