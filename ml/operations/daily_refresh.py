"""When the `daily_user_value` job is due: the data day moved past the user-level marts or the LTV scores.

The hourly job keeps both across a new data day (so the hour's allocation never waits minutes for them); this says
when the daily job should move them to the new day. A state the hourly job would rebuild itself (never built, a
build that failed its tests, a new champion, a new campaign) is not the daily job's.
"""

from __future__ import annotations

from ml.models.training.ltv_scoring import campaign_ltv_staleness
from ml.settings import PmiPaths
from ml.warehouse.user_marts import user_marts_staleness


def daily_user_value_due(paths: PmiPaths) -> str | None:
    """Why the daily user-value job should run now, or None when the user marts and the LTV are on today's data."""
    marts = user_marts_staleness(paths)
    if marts is not None and marts.new_data_day_only:
        return f"user-level marts {marts.reason}"
    ltv = campaign_ltv_staleness(paths)
    if ltv is not None and ltv.new_data_day_only:
        return f"LTV {ltv.reason}"
    return None
