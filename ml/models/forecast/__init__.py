"""KPI forecaster: multi-horizon p10/p50/p90 forecasts of spend, conversions, CPA and ROAS per campaign."""

from ml.models.forecast.model import HISTORY_DAYS_NEEDED, KpiForecaster
from ml.models.forecast.train import backtest, score, train_kpi_forecaster

__all__ = ["HISTORY_DAYS_NEEDED", "KpiForecaster", "backtest", "score", "train_kpi_forecaster"]
