"""When the `daily_user_value` job is due: the data day moved past the user-level marts or the LTV scores.

The hourly job keeps both across a new data day (so the hour's allocation never waits minutes for them); this says
when the daily job should move them to the new day. A state the hourly job would rebuild itself (never built, a
build that failed its tests, a new champion, a new campaign) is not the daily job's.
"""

from __future__ import annotations

from ml.models.training.ltv_scoring import campaign_ltv_is_current
from ml.settings import PmiPaths
from ml.warehouse.user_marts import hourly_rebuild_reason, user_marts_are_current


def daily_user_value_due(paths: PmiPaths) -> str | None:
    """Why the daily user-value job should run now, or None when the user marts and the LTV are on today's data."""
    marts = user_marts_are_current(paths)
    if marts is not None and hourly_rebuild_reason(paths) is None:
        return f"user-level marts {marts}"
    ltv = campaign_ltv_is_current(paths)
    if ltv is not None and campaign_ltv_is_current(paths, same_data_day=False) is None:
        return f"LTV {ltv}"
    return None
