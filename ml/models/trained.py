"""What a time-split training run returns, and the validation rows a champion comparison may use."""

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


def rows_known_after(frame: pd.DataFrame, known_at: pd.Series, after: pd.Timestamp | None) -> pd.DataFrame:
    """Validation rows whose outcome was known only after ``after`` (all rows when None)."""
    if after is None:
        return frame
    return frame[(pd.to_datetime(known_at) > pd.Timestamp(after)).to_numpy()]
