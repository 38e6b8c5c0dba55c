"""Lift tests (geo or holdout experiments): channel, period, measured incremental outcome and its standard error.

Each test enters the fit as one more Gaussian observation, (measured - modelled) / standard error, of the
channel's contribution summed over the test's periods -- the calibration Robyn and PyMC-Marketing use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.tables import read_typed_table
from ml.models.mmm.data import MediaData, MmmInputError

LIFT_COLUMNS = ("channel", "start", "end", "lift", "lift_se")


@dataclass(frozen=True, eq=False)
class LiftTests:
    """Validated tests aligned with a data set: channel index, period mask (tests, T), lift and its SE."""

    channel: np.ndarray
    periods: np.ndarray
    lift: np.ndarray
    lift_se: np.ndarray

    def __len__(self) -> int:
        return self.lift.size

    @classmethod
    def none(cls, n_periods: int) -> LiftTests:
        return cls(np.zeros(0, int), np.zeros((0, n_periods), bool), np.zeros(0), np.zeros(0))


def _fail(source: str, row: int, column: str, why: str) -> MmmInputError:
    return MmmInputError(f"{source}: row {row + 1}, column '{column}': {why}")


def lift_tests(frame: pd.DataFrame, data: MediaData, source: str = "lift tests") -> LiftTests:
    """Check a lift-test table against the data (known channel, a period with data, lift finite, SE > 0)."""
    missing = [c for c in LIFT_COLUMNS if c not in frame.columns]
    if missing:
        raise MmmInputError(f"{source}: missing column '{missing[0]}' (expected {', '.join(LIFT_COLUMNS)})")
    channel = np.empty(len(frame), int)
    periods = np.zeros((len(frame), len(data)), bool)
    lift = pd.to_numeric(frame["lift"], errors="coerce").to_numpy(float)
    se = pd.to_numeric(frame["lift_se"], errors="coerce").to_numpy(float)
    start = pd.to_datetime(frame["start"], errors="coerce")
    end = pd.to_datetime(frame["end"], errors="coerce")
    for i, name in enumerate(frame["channel"].astype(str)):
        if name not in data.channels:
            raise _fail(source, i, "channel", f"unknown channel {name!r} (known: {', '.join(data.channels)})")
        channel[i] = data.channels.index(name)
        for col, value in (("start", start.iloc[i]), ("end", end.iloc[i])):
            if pd.isna(value):
                raise _fail(source, i, col, f"not a date: {frame[col].iloc[i]!r}")
        if not np.isfinite(lift[i]):
            raise _fail(source, i, "lift", f"expected a finite number, got {frame['lift'].iloc[i]!r}")
        if not (np.isfinite(se[i]) and se[i] > 0):
            raise _fail(source, i, "lift_se", f"expected a number > 0, got {frame['lift_se'].iloc[i]!r}")
        periods[i] = (data.dates >= start.iloc[i]) & (data.dates <= end.iloc[i])
        if not periods[i].any():
            raise _fail(
                source, i, "start", f"no period of the data falls in {start.iloc[i].date()} .. {end.iloc[i].date()}"
            )
    return LiftTests(channel, periods, lift, se)


def read_lift_tests(path: Path, data: MediaData) -> LiftTests:
    """A lift-test CSV or Parquet file, validated against the data (errors name file, row and column)."""
    path = Path(path)
    return lift_tests(read_typed_table(path, "lift-test table"), data, str(path))
