"""When an unattended `pmi loop` should retrain: its models were last trained a set span of data ago.

A Dagster deployment retrains on `retrain_schedule` (weekly) and on the drift sensor; `pmi loop` runs the same
`retrain` job when the warehouse's data has moved ``retrain_every`` past the end of the last training run's data.
The data's own clock is used, not the wall clock, so a simulated or back-filled home retrains after a week of data.
"""

from __future__ import annotations

import pandas as pd

from ml.models.training.response_curves import MODEL_NAME
from ml.settings import PmiPaths
from ml.tracking.registry import newest_version_data_end
from ml.warehouse.connection import warehouse_as_of

DEFAULT_RETRAIN_EVERY = pd.Timedelta(days=7)


def retrain_due(paths: PmiPaths, retrain_every: pd.Timedelta = DEFAULT_RETRAIN_EVERY) -> str | None:
    """Why the models should be retrained now, or None (never trained: that is `pmi run`'s or `pmi train`'s)."""
    trained_through = newest_version_data_end(paths, MODEL_NAME)
    if trained_through is None:
        return None
    as_of = pd.Timestamp(warehouse_as_of(paths))
    if as_of - trained_through < retrain_every:
        return None
    return (
        f"the models were last trained on data up to {trained_through}, the warehouse is as of {as_of} "
        f"({(as_of - trained_through) / pd.Timedelta(days=1):.1f} days later)"
    )
