"""How far back late rows may still change the hour-growing facts: the dbt incremental lookback, read from its one home.

dbt's incremental models revisit the last ``incremental_lookback_days`` of their table on every hourly build
(dbt_project/macros/incremental.sql), so anything that copies those facts onward incrementally (the Feast online
store) must re-read the same days, or a late row would reach the warehouse but never the copy.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"


@functools.cache
def incremental_lookback() -> dt.timedelta:
    """The dbt project's ``incremental_lookback_days`` var as a timedelta (2 days unless the project says otherwise)."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text()) or {}
    days = (project.get("vars") or {}).get("incremental_lookback_days", 2)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ValueError(
            f"{DBT_PROJECT_FILE}: vars.incremental_lookback_days must be a whole number >= 0, got {days!r}"
        )
    return dt.timedelta(days=days)
