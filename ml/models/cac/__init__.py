"""CAC model: a campaign-day's cost per acquisition predicted from what is known before the day."""

from ml.models.cac.model import CacModel, score, train_cac_model

__all__ = ["CacModel", "score", "train_cac_model"]
