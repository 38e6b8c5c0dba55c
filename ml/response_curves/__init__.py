"""Spend-response curves: expected daily conversions as a concave (or S-shaped Hill) function of daily spend.

The one definition of the curve families, their parameters and the inverse slope, shared by the response model
that fits them (``ml/models/response``), the optimiser that allocates on them (``ml/optimize``), the allocation
paths, the backtest and MMM (whose media saturation is the Hill family).
"""

from ml.response_curves.curves import ResponseCurves
from ml.response_curves.family import FAMILY_NAMES, CurveFamily, family_codes, family_names
from ml.response_curves.hill import hill_value, inflection_spend, tangent_spend

__all__ = [
    "FAMILY_NAMES",
    "CurveFamily",
    "ResponseCurves",
    "family_codes",
    "family_names",
    "hill_value",
    "inflection_spend",
    "tangent_spend",
]
