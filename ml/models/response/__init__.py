"""Saturation / response curves: daily conversions as a concave function of daily spend, per campaign."""

from ml.models.response.curves import FAMILIES, CurveParameters
from ml.models.response.fit import ResponseFitConfig, fit_response_curves
from ml.models.response.panel import daily_panel
from ml.models.response.result import ResponseCurveSet

__all__ = ["FAMILIES", "CurveParameters", "ResponseCurveSet", "ResponseFitConfig", "daily_panel", "fit_response_curves"]
