"""Problem validation names the campaign and the field; objectives validate their weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ml.optimize import (
    ObjectiveWeights,
    PortfolioProblem,
    ProblemValidationError,
    optimize_portfolio,
)
from ml.response_curves import ResponseCurves


def problem(**overrides: object) -> PortfolioProblem:
    fields = {
        "total_budget": 1000.0,
        "current_budget": [100.0, 200.0, 300.0],
        "curves": ResponseCurves.hill([50.0, 50.0, 50.0], [100.0, 200.0, 300.0], [0.8, 0.9, 1.0]),
        "value_per_conversion": [20.0, 20.0, 20.0],
        "campaign_id": ["alpha", "beta", "gamma"],
    }
    return PortfolioProblem(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("current_budget", [100.0, -1.0, 300.0], r"campaign 'beta' \(row 1\): current_budget must be finite"),
        ("value_per_conversion", [20.0, 20.0, np.nan], r"campaign 'gamma' \(row 2\): value_per_conversion"),
        ("max_change_pct", [-0.1, 0.25, 0.25], r"campaign 'alpha' \(row 0\): max_change_pct must be >= 0"),
        ("max_cpa", [10.0, 0.0, 10.0], r"campaign 'beta' \(row 1\): max_cpa must be > 0"),
        ("min_roas", [0.0, 0.0, -2.0], r"campaign 'gamma' \(row 2\): min_roas"),
        ("creative_production_cost", [0.0, np.inf, 0.0], r"'beta' \(row 1\): creative_production_cost"),
    ],
)
def test_bad_values_name_campaign_and_field(field, values, message):
    with pytest.raises(ProblemValidationError, match=message):
        problem(**{field: values})


def test_max_spend_below_min_spend_is_refused():
    with pytest.raises(ProblemValidationError, match=r"'gamma' \(row 2\): max_spend must be >= min_spend"):
        problem(min_spend=[0.0, 0.0, 500.0], max_spend=[np.inf, np.inf, 400.0])


def test_curve_parameters_are_checked():
    with pytest.raises(ProblemValidationError, match=r"'beta' \(row 1\): hill shape must be finite and > 0"):
        problem(curves=ResponseCurves.hill(50.0, 100.0, [0.5, -1.5, 1.0]))
    problem(curves=ResponseCurves.hill(50.0, 100.0, [0.5, 2.5, 1.0]))  # S-shaped curves are allowed
    with pytest.raises(ProblemValidationError, match=r"'alpha' \(row 0\): curve spend_scale"):
        problem(curves=ResponseCurves.log(50.0, [0.0, 1.0, 1.0]))


def test_shapes_ids_and_budget_are_checked():
    with pytest.raises(ProblemValidationError, match="min_spend: expected a scalar or 3 values"):
        problem(min_spend=[1.0, 2.0])
    with pytest.raises(ProblemValidationError, match="duplicate id 'beta'"):
        problem(campaign_id=["alpha", "beta", "beta"])
    with pytest.raises(ProblemValidationError, match="total_budget must be finite"):
        problem(total_budget=np.inf)


def test_rows_without_ids_are_named_by_position():
    with pytest.raises(ProblemValidationError, match=r"campaign #2 \(row 2\)"):
        problem(campaign_id=None, current_budget=[1.0, 1.0, -1.0])


def test_scalars_broadcast_and_costs_derive():
    p = problem(has_agency=[True, False, False], creative_production_cost=600.0)
    assert p.max_change_pct.tolist() == [0.25, 0.25, 0.25]
    np.testing.assert_allclose(p.cost_multiplier, [1.20, 1.05, 1.05])
    np.testing.assert_allclose(p.fixed_daily_cost, 20.0)


def test_from_frame_matches_the_direct_constructor():
    frame = pd.DataFrame(
        {
            "campaign_id": ["alpha", "beta", "gamma"],
            "current_budget": [100.0, 200.0, 300.0],
            "curve_family": ["hill", "hill", "hill"],
            "curve_scale": [50.0, 50.0, 50.0],
            "curve_spend_scale": [100.0, 200.0, 300.0],
            "curve_shape": [0.8, 0.9, 1.0],
            "value_per_conversion": [20.0, 20.0, 20.0],
            "has_agency": [False, True, False],
        }
    )
    from_frame = PortfolioProblem.from_frame(frame, total_budget=1000.0)
    direct = problem(has_agency=[False, True, False])
    np.testing.assert_array_equal(optimize_portfolio(from_frame).daily_budget, optimize_portfolio(direct).daily_budget)


def test_objective_weights_are_validated():
    with pytest.raises(ValidationError, match="at least one of profit, revenue or conversions"):
        ObjectiveWeights(spend_penalty=1.0)
    with pytest.raises(ValidationError):
        ObjectiveWeights(profit=-1.0)
    with pytest.raises(ValueError, match="objective must be"):
        optimize_portfolio(problem(), "roas")  # type: ignore[arg-type]
    assert ObjectiveWeights.of("revenue").label == "revenue"
