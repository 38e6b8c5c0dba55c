"""What a time-split training run of a campaign-level model returns (CAC, pricing, KPI forecaster alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class TrainedModel:
    """The deployable model (refit on all data) with its validation metrics, the validation rows to re-score any
    model on, and the holdout model fitted before them, which stands in for it when champions are compared."""

    model: Any
    metrics: dict[str, float]
    params: dict
    validation_score: float  # lower is better
    valid_df: pd.DataFrame
    holdout_model: Any = None
