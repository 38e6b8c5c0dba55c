"""Response curves: values and slopes match the formulas, the inverse slope round-trips, families parse by name."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml.response_curves import CurveFamily, ResponseCurves, family_codes, family_names

FAST = settings(deadline=None, database=None, derandomize=not os.environ.get("PMI_HYPOTHESIS_RANDOM"))


def formula(family: int, scale: float, k: float, shape: float, s: np.ndarray) -> np.ndarray:
    x = s / k
    if family == CurveFamily.HILL:
        return scale * x**shape / (1 + x**shape)
    return -scale * np.expm1(-x) if family == CurveFamily.EXPONENTIAL else scale * np.log1p(x)


curve_params = st.tuples(
    st.sampled_from(list(CurveFamily)),
    st.floats(0.5, 1e4),
    st.floats(1.0, 1e5),
    st.one_of(st.just(1.0), st.floats(0.05, 1.0)),
)


@settings(FAST, max_examples=300)
@given(params=curve_params, seed=st.integers(0, 2**32 - 1))
def test_value_and_slope_match_the_formulas(params, seed):
    family, scale, k, shape = params
    curves = ResponseCurves.build(family, scale, k, shape)
    s = k * np.exp(np.random.default_rng(seed).uniform(-5, 5, 16))
    np.testing.assert_allclose(curves.take(np.zeros(16, int)).value(s), formula(family, scale, k, shape, s), rtol=1e-12)
    h = s * 1e-6
    numeric = (formula(family, scale, k, shape, s + h) - formula(family, scale, k, shape, s - h)) / (2 * h)
    slope = curves.take(np.zeros(16, int)).marginal(s)
    np.testing.assert_allclose(slope, numeric, rtol=1e-5, atol=1e-7 * scale / k)  # atol: saturated tails
    assert np.all(np.diff(slope[np.argsort(s)]) <= 0)  # concave: slopes never rise with spend


@settings(FAST, max_examples=500)
@given(params=curve_params, log_x=st.floats(-20, 20))
def test_spend_at_marginal_inverts_the_slope(params, log_x):
    family, scale, k, shape = params
    curves = ResponseCurves.build(family, scale, k, shape)
    s = np.array([k * np.exp(log_x)])
    target = curves.marginal(s)
    if not (np.isfinite(target[0]) and target[0] > 0):
        return
    back = curves.spend_at_marginal(target)
    # Compare in slope space (well conditioned even where the curve is nearly linear).
    np.testing.assert_allclose(curves.marginal(back), target, rtol=1e-9)
    warm = curves.spend_at_marginal(target * 1.5, upper=back)  # larger target: old answer is an upper bound
    np.testing.assert_allclose(warm, curves.spend_at_marginal(target * 1.5), rtol=1e-10)


def test_targets_at_the_extremes():
    curves = ResponseCurves.build([0, 0, 1, 2], [10.0] * 4, [100.0] * 4, [0.5, 1.0, 1.0, 1.0])
    assert np.all(curves.spend_at_marginal(np.zeros(4)) == np.inf)
    assert np.all(curves.spend_at_marginal(np.full(4, np.inf)) == 0.0)
    # Above the slope at zero spend there is nothing to buy (Hill with shape < 1 has an infinite one).
    at_zero = curves.spend_at_marginal(np.full(4, 0.2))
    assert at_zero[0] > 0 and np.all(at_zero[1:] == 0.0)
    assert curves.marginal(np.zeros(4))[0] == np.inf


def test_mixed_unsorted_families_match_one_family_at_a_time():
    rng = np.random.default_rng(0)
    n = 3000
    curves = ResponseCurves.build(
        rng.integers(0, 3, n),
        rng.uniform(1, 100, n),
        rng.uniform(10, 1000, n),
        np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.2, 1.0, n)),
    )
    s, target = rng.uniform(0, 2000, n), rng.uniform(1e-4, 1.0, n)
    for i in rng.choice(n, 50, replace=False):
        one = curves.take(np.array([i]))
        assert curves.value(s)[i] == pytest.approx(one.value(s[[i]])[0], rel=1e-14)
        assert curves.marginal(s)[i] == pytest.approx(one.marginal(s[[i]])[0], rel=1e-14)
        assert curves.spend_at_marginal(target)[i] == pytest.approx(one.spend_at_marginal(target[[i]])[0], rel=1e-9)


def test_build_accepts_family_names_and_stores_shape_one_off_hill():
    curves = ResponseCurves.build(["hill", "Exponential", "LOG"], 1.0, 1.0, 0.5)
    assert curves.family.tolist() == [CurveFamily.HILL, CurveFamily.EXPONENTIAL, CurveFamily.LOG] == [0, 1, 2]
    assert curves.shape.tolist() == [0.5, 1.0, 1.0]
    assert len(ResponseCurves.hill([1.0, 2.0], 10.0, 0.8)) == 2


def test_a_family_prints_as_the_name_configs_and_files_use():
    assert [f"aic_{f}" for f in CurveFamily] == ["aic_hill", "aic_exponential", "aic_log"]
    assert family_names(family_codes(["log", "HILL", CurveFamily.EXPONENTIAL, 2])).tolist() == [
        "log",
        "hill",
        "exponential",
        "log",
    ]
    with pytest.raises(ValueError, match="unknown response-curve families: \\['sigmoid'\\]"):
        family_codes(["hill", "sigmoid"])
