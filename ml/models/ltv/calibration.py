"""Per-source level calibration: each campaign's predicted future value scaled to what its mature users realised.

Boosted trees stopped early on heavy-tailed value spend their splits on user behaviour and smooth campaigns
towards each other, so a cheap campaign can be over-predicted by a third while users are ranked well. Decisions
are taken per source, so per campaign the ratio ``realised / predicted`` future value of its mature training
users is applied, shrunk by empirical Bayes: the ratio's sampling variance (from the users' squared residuals)
against the between-campaign variance of true ratios (observed variance minus mean sampling variance). Big
campaigns keep their own ratio, small ones stay near 1, unseen ones get exactly 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_PRIOR_VARIANCE = 1e-4
FACTOR_BOUNDS = (0.25, 4.0)


@dataclass
class SourceCalibration:
    """Shrunk realised/predicted ratios per source key."""

    factors: dict[str, float] = field(default_factory=dict)
    prior_variance: float = MIN_PRIOR_VARIANCE

    def fit(self, keys: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> SourceCalibration:
        """Fit from in-sample predicted and realised future value of mature users."""
        predicted = np.asarray(predicted, dtype=float)
        actual = np.asarray(actual, dtype=float)
        frame = pd.DataFrame(
            {"key": np.asarray(keys).astype(str), "pred": predicted, "act": actual, "sq": (actual - predicted) ** 2}
        )
        agg = frame.groupby("key").sum()
        agg = agg[agg["pred"] > 0]
        if agg.empty:
            self.factors = {}
            return self
        ratio = agg["act"] / agg["pred"]
        noise = agg["sq"] / agg["pred"] ** 2
        weight = agg["pred"] / agg["pred"].sum()
        spread = float(np.sum(weight * (ratio - np.sum(weight * ratio)) ** 2))
        self.prior_variance = max(spread - float(np.sum(weight * noise)), MIN_PRIOR_VARIANCE)
        credibility = self.prior_variance / (self.prior_variance + noise)
        factor = np.clip(1.0 + credibility * (ratio - 1.0), *FACTOR_BOUNDS)
        self.factors = {str(k): float(v) for k, v in factor.items()}
        return self

    def factor(self, keys: pd.Series | np.ndarray) -> np.ndarray:
        """Calibration factor per row (1 for sources not seen in training)."""
        return pd.Series(np.asarray(keys).astype(str)).map(self.factors).fillna(1.0).to_numpy(dtype=float)
