"""S-shaped (thresholded) response end to end: with the Hill shape's range opened past 1, the fit finds shape > 1
where the data have a threshold and stays concave where they do not, and the optimiser allocates on such curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.allocation.portfolio.curves import curves_for
from ml.models.response import ResponseFitConfig, fit_response_curves
from ml.models.response.shape_range import hill_shape_max
from ml.optimize import PortfolioProblem, optimize_portfolio


def _panel(rng: np.random.Generator) -> pd.DataFrame:
    truth = {"s_shaped": (300.0, 1000.0, 2.5), "concave": (150.0, 800.0, 0.7)}
    rows = []
    dates = pd.date_range("2026-01-01", periods=150, freq="D")
    for cid, (scale, k, n) in truth.items():
        spend = k * rng.lognormal(0.0, 0.6, len(dates))
        mean = scale * (spend / k) ** n / (1.0 + (spend / k) ** n)
        rows.append(
            pd.DataFrame(
                {
                    "campaign_id": cid,
                    "date": dates,
                    "spend": spend,
                    "conversions": rng.poisson(mean).astype(float),
                    "price_index": 1.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_the_fit_takes_shape_past_one_where_the_data_have_a_threshold():
    panel = _panel(np.random.default_rng(0))
    fitted = fit_response_curves(panel, None, ResponseFitConfig(n_draws=50, families=("hill",), hill_shape_max=3.0))
    shape = dict(zip(fitted.campaign_ids, fitted.curves.shape, strict=True))
    assert shape["s_shaped"] == pytest.approx(2.5, abs=0.4)
    assert shape["concave"] < 1.0
    curves = curves_for(fitted, np.array(["s_shaped", "concave"], dtype=object))
    problem = PortfolioProblem(
        total_budget=1500.0,
        current_budget=[500.0, 1000.0],
        curves=curves.curves,
        value_per_conversion=[12.0, 12.0],
        max_change_pct=np.inf,
    )
    allocation = optimize_portfolio(problem, "profit")
    assert allocation.daily_budget.sum() <= 1500.0 * (1 + 1e-9)
    assert np.isfinite(allocation.objective_value)


def test_by_default_the_shape_stays_concave():
    panel = _panel(np.random.default_rng(0))
    fitted = fit_response_curves(panel, None, ResponseFitConfig(n_draws=20, families=("hill",)))
    assert (fitted.curves.shape <= 1.0).all() and (fitted.draws[..., 2] <= 1.0).all()
    assert hill_shape_max() == 1.0  # the wider range of a fit ends with it
