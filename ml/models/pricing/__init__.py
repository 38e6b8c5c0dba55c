"""Dynamic CPM/CPA predictor: the price of scale for each campaign under given market indices."""

from ml.models.pricing.model import PricingModel, score, train_pricing_model

__all__ = ["PricingModel", "score", "train_pricing_model"]
