"""Customer lifetime value: BG/NBD purchases, Gamma-Gamma spend, Monte Carlo value quantiles, boosted ensemble."""

from ml.models.clv.bgnbd import BGNBDParams, expected_purchases, fit_bgnbd, p_alive
from ml.models.clv.gamma_gamma import GammaGammaParams, expected_spend, fit_gamma_gamma
from ml.models.clv.predict import OUTPUT_COLUMNS, LTVResult, ParametricFit, fit_parametric, predict_ltv
from ml.models.clv.summary import daily_purchases, rfm_summary

__all__ = [
    "OUTPUT_COLUMNS",
    "BGNBDParams",
    "GammaGammaParams",
    "LTVResult",
    "ParametricFit",
    "daily_purchases",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_parametric",
    "p_alive",
    "predict_ltv",
    "rfm_summary",
]
