"""Channel-level input of a media-mix model: one row per period with the total outcome, spend per channel, controls.

Validated up front, naming the file, row (1-based, header excluded) and column, because a model fitted on a
mistyped spend column quietly attributes sales to the wrong channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.errors import BadInputError
from ml.io.tables import read_typed_table


class MmmInputError(BadInputError, ValueError):
    """Input that cannot describe channel-level media data (the message names file, row and column)."""


@dataclass(frozen=True, eq=False)
class MediaData:
    """Aligned arrays, one row per period: ``outcome`` (T,), ``spend`` (T, channels), ``controls`` (T, k)."""

    dates: pd.DatetimeIndex
    outcome: np.ndarray
    spend: np.ndarray
    controls: np.ndarray
    channels: tuple[str, ...]
    control_names: tuple[str, ...]

    def __len__(self) -> int:
        return self.outcome.size

    def head(self, n: int) -> MediaData:
        """The first ``n`` periods (a training window)."""
        return MediaData(
            self.dates[:n], self.outcome[:n], self.spend[:n], self.controls[:n], self.channels, self.control_names
        )

    @property
    def period_days(self) -> float:
        """Typical length of a period (7 for weekly data), from the median gap between dates."""
        return float(np.median(np.diff(self.dates.values).astype("timedelta64[s]").astype(float))) / 86400.0


def _numeric(frame: pd.DataFrame, column: str, source: str, non_negative: bool) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | ((values < 0) if non_negative else False)
    if bad.any():
        row = int(np.argmax(bad))
        rule = "a finite number >= 0" if non_negative else "a finite number"
        raise MmmInputError(
            f"{source}: row {row + 1}, column '{column}': expected {rule}, got {frame[column].iloc[row]!r}"
        )
    return values


def media_data(
    frame: pd.DataFrame, *, date: str, outcome: str, spend: list[str], controls: list[str], source: str = "input"
) -> MediaData:
    """Validate a frame and build the model's arrays (rows sorted by date; duplicate dates refused)."""
    missing = [c for c in (date, outcome, *spend, *controls) if c not in frame.columns]
    if missing:
        raise MmmInputError(f"{source}: missing column '{missing[0]}'")
    if not spend:
        raise MmmInputError(f"{source}: no spend columns: a media-mix model needs at least one channel")
    dates = pd.to_datetime(frame[date], errors="coerce")
    if dates.isna().any():
        row = int(np.argmax(dates.isna().to_numpy()))
        raise MmmInputError(f"{source}: row {row + 1}, column '{date}': not a date: {frame[date].iloc[row]!r}")
    if dates.duplicated().any():
        row = int(np.argmax(dates.duplicated().to_numpy()))
        raise MmmInputError(f"{source}: row {row + 1}, column '{date}': duplicate period {dates.iloc[row].date()}")
    spend_arr = np.column_stack([_numeric(frame, c, source, True) for c in spend])
    idle = ~(spend_arr > 0).any(axis=0)
    if idle.any():
        raise MmmInputError(
            f"{source}: column '{spend[int(np.argmax(idle))]}': no spend in any period "
            "(nothing to learn; leave the channel out)"
        )
    y = _numeric(frame, outcome, source, True)
    ctrl = (
        np.column_stack([_numeric(frame, c, source, False) for c in controls])
        if controls
        else np.empty((len(frame), 0))
    )
    order = np.argsort(dates.to_numpy(), kind="stable")
    return MediaData(
        pd.DatetimeIndex(dates.to_numpy()[order]),
        y[order],
        spend_arr[order],
        ctrl[order],
        tuple(spend),
        tuple(controls),
    )


# The retail file's calendar columns (year, quarter, period, week numbers) restate the date; its impressions
# (mdip_*) duplicate spend where a channel has both. Everything else that is not spend or the outcome is a control.
_CALENDAR = ("yr_nbr", "qtr_nbr", "prd", "wk_nbr", "wk_in_yr_nbr")


def read_weekly_media(
    path: Path, outcome: str = "sales", spend_prefix: str = "mdsp_", impressions_prefix: str = "mdip_"
) -> MediaData:
    """The shipped retail layout (``weekly_sales_media.csv``, CSV or Parquet): first column the period, spend columns
    by prefix, every other column (but impressions and calendar numbers) a control."""
    path = Path(path)
    frame = read_typed_table(path, "media table")
    if frame.shape[1] < 3:
        raise MmmInputError(f"{path}: expected a date column, the outcome and spend columns; got {frame.shape[1]}")
    date = frame.columns[0]
    spend = [c for c in frame.columns if c.startswith(spend_prefix)]
    skip = {date, outcome, *spend, *_CALENDAR}
    controls = [c for c in frame.columns if c not in skip and not c.startswith(impressions_prefix)]
    return media_data(frame, date=date, outcome=outcome, spend=spend, controls=controls, source=str(path))
