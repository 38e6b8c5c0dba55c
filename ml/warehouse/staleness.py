"""Why a derived table must be rebuilt, and whether the only reason is that the data day moved on.

The hourly job keeps a user-level build of an earlier data day (moving it is the `daily_user_value` job's), so the
question "is that the only reason?" is asked as a field, never by matching the reason's text.
"""

from __future__ import annotations

from typing import NamedTuple


class Staleness(NamedTuple):
    """A derived table's reason to be rebuilt; ``new_data_day_only`` when nothing but the data day moved."""

    reason: str
    new_data_day_only: bool = False
