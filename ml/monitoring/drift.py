"""When to retrain: an evaluation whose MAPE breaks a per-metric threshold."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, Field


class DriftThresholds(BaseModel):
    """MAPE above which a metric's models are considered drifted (default: CPA 30%)."""

    mape: dict[str, float] = Field(default_factory=lambda: {"cpa": 0.30})


def drifted_metrics(accuracy: pd.DataFrame, thresholds: DriftThresholds) -> list[str]:
    """Metrics of one evaluation whose MAPE exceeds their threshold."""
    if accuracy.empty:
        return []
    worst = accuracy.groupby("metric")["mape"].max()
    return sorted(m for m, limit in thresholds.mape.items() if m in worst and worst[m] > limit)
