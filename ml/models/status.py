"""What each model and allocation step did last (trained, or skipped and why), for the summary and the dashboard.

A skipped model is a fact about the user's data, not a failure of the run, so it is kept in the warehouse where
every reader of the run can say it in words instead of showing an empty section.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql, transaction

STATUS_TABLE = "monitoring.step_status"
TRAINED, RAN, SKIPPED = "trained", "ran", "skipped"


def record_step_status(paths: PmiPaths, step_name: str, status: str, reason: str = "") -> None:
    """Replace ``step_name``'s row: what its step did in the latest run and, when skipped, why."""
    recorded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
        con.execute(f"""CREATE TABLE IF NOT EXISTS {STATUS_TABLE} (step_name VARCHAR PRIMARY KEY,
                        status VARCHAR NOT NULL, reason VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL)""")
        con.execute(
            f"INSERT OR REPLACE INTO {STATUS_TABLE} VALUES (?, ?, ?, ?)", [step_name, status, reason, recorded_at]
        )


def skipped_steps(paths: PmiPaths) -> pd.DataFrame:
    """Models whose latest step was skipped, with the reason (empty when the table does not exist yet)."""
    try:
        return read_sql(
            paths,
            f"SELECT step_name, reason, recorded_at FROM {STATUS_TABLE} WHERE status = '{SKIPPED}' ORDER BY step_name",
        )
    except Exception:  # noqa: BLE001 - a warehouse that never ran a model step has skipped nothing
        return pd.DataFrame(columns=["step_name", "reason", "recorded_at"])
