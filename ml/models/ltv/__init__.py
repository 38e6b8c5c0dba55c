"""User lifetime value: a stacked LightGBM + XGBoost + MLP model of value at 30/90/180 days from days 0..7."""

from ml.models.ltv.by_source import confidence_label, ltv_by_source
from ml.models.ltv.ensemble import LtvConfig, LtvEnsemble
from ml.models.ltv.train import TrainedLtv, time_split, train_ltv

__all__ = ["LtvConfig", "LtvEnsemble", "TrainedLtv", "confidence_label", "ltv_by_source", "time_split", "train_ltv"]
