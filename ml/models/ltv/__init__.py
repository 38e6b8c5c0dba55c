"""User lifetime value: a stacked LightGBM + XGBoost + MLP model of value at 30/90/180 days from days 0..7.

The model lives here; training it on a time split and registering it is ``ml/models/training/ltv.py``.
"""

from ml.models.ltv.by_source import confidence_label, ltv_by_source
from ml.models.ltv.ensemble import LtvConfig, LtvEnsemble

__all__ = ["LtvConfig", "LtvEnsemble", "confidence_label", "ltv_by_source"]
