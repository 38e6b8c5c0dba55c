"""Saturation / response curves fitted per campaign: daily conversions as a concave function of daily spend.

The curves themselves (families, parameters, inverse) live in ``ml.response_curves``; this package fits them.
"""

from ml.models.response.fit import ResponseFitConfig, fit_response_curves
from ml.models.response.panel import daily_panel
from ml.models.response.result import ResponseCurveSet

__all__ = ["ResponseCurveSet", "ResponseFitConfig", "daily_panel", "fit_response_curves"]
