"""The user-level marts: rebuilt once per data day by the `daily_user_value` job, kept by the hourly job.

Every user's row moves with the warehouse's clock (age, maturity flags), so these marts cannot be updated for the
new hour alone; rebuilding them from every user cost the hourly job most of its dbt step at scale, while what reads
them (LTV scoring, once per data day; LTV training and accuracy, in other jobs) works in days. A marker beside the
warehouse records the as-of of the last build that passed its tests, so a build that failed part-way is never kept.
"""

from __future__ import annotations

import json

import pandas as pd

from ml.io.atomic import write_atomically
from ml.settings import PmiPaths
from ml.warehouse.connection import connect, read_sql, table_exists
from ml.warehouse.staleness import Staleness

# dbt models built from every user (their own marts and what only they read), upstream first; the hourly job may
# skip them.
USER_LEVEL_MODELS = ("int_user_value_by_age", "fct_user_value", "fct_user_features", "fct_cohort_curves")
USER_LEVEL_TABLES = tuple(
    f"{'intermediate' if name.startswith('int_') else 'marts'}.{name}" for name in USER_LEVEL_MODELS
)
MARKER_NAME = "user_marts_built.json"


def _marker(paths: PmiPaths):
    return paths.home / "state" / MARKER_NAME


def user_marts_as_of(paths: PmiPaths) -> pd.Timestamp | None:
    """The warehouse as-of the user-level marts were built at (``fct_user_value.as_of_ts``), None if not built."""
    if not table_exists(paths, "marts.fct_user_value"):
        return None
    as_of = read_sql(paths, "SELECT max(as_of_ts) AS t FROM marts.fct_user_value")["t"].iloc[0]
    return None if pd.isna(as_of) else pd.Timestamp(as_of)


def _read_marker(paths: PmiPaths) -> dict:
    marker = _marker(paths)
    return json.loads(marker.read_text()) if marker.exists() else {}


def record_user_marts_built(paths: PmiPaths) -> None:
    """Mark the user-level marts as built and tested at their as-of (call only after their build succeeded)."""
    as_of = user_marts_as_of(paths)
    write_atomically(_marker(paths), json.dumps({"as_of_ts": None if as_of is None else as_of.isoformat()}))


def record_user_marts_validated(paths: PmiPaths) -> None:
    """Mark the recorded build as having passed the marts' quality gate, every expectation (errors and warnings)."""
    recorded = _read_marker(paths)
    if recorded.get("as_of_ts") is not None and pd.Timestamp(recorded["as_of_ts"]) == user_marts_as_of(paths):
        write_atomically(_marker(paths), json.dumps(recorded | {"validated": True}))


def user_marts_validated(paths: PmiPaths) -> pd.Timestamp | None:
    """The as-of of the kept user-level marts when their build passed the quality gate whole, else None (validate
    them): a table unchanged since it passed needs no second pass."""
    recorded = _read_marker(paths)
    if not recorded.get("validated") or recorded.get("as_of_ts") is None:
        return None
    built = user_marts_as_of(paths)
    return built if built == pd.Timestamp(recorded["as_of_ts"]) else None


def user_marts_staleness(paths: PmiPaths) -> Staleness | None:
    """Why the user-level marts must be rebuilt, or None when they are on the warehouse's current data day.

    They are kept while the last build that passed its tests made them, on the warehouse's current data day (UTC
    date of ``int_warehouse_as_of``, a view over raw, so it already counts the hour just appended). A tested build
    of an earlier day is stale only by the day (``new_data_day_only``), which the hourly job may keep.
    """
    missing, built, as_of = _build_state(paths)
    if missing:
        return Staleness(f"not built yet: {', '.join(missing)}")
    if not _marker(paths).exists():
        return Staleness("no record of a build of the user-level marts that passed its tests")
    recorded = _read_marker(paths)["as_of_ts"]
    if built is None or recorded is None or pd.Timestamp(recorded) != built:
        return Staleness(f"the last tested build was as of {recorded}, the marts are as of {built}")
    if built.date() != as_of.date():
        return Staleness(f"built as of {built}, the warehouse is as of {as_of}: a new data day", True)
    return None


def user_marts_are_current(paths: PmiPaths) -> str | None:
    """Why the user-level marts must be rebuilt, or None when they are on the current data day."""
    staleness = user_marts_staleness(paths)
    return None if staleness is None else staleness.reason


def hourly_rebuild_reason(paths: PmiPaths) -> str | None:
    """Why an hourly run must rebuild the user-level marts itself, or None when it keeps them.

    A tested build of an earlier data day is kept too: moving it to the new day is the `daily_user_value` job's work
    (minutes at scale), so the hour's allocation never waits for it.
    """
    staleness = user_marts_staleness(paths)
    return None if staleness is None or staleness.new_data_day_only else staleness.reason


def _build_state(paths: PmiPaths) -> tuple[list[str], pd.Timestamp | None, pd.Timestamp | None]:
    """The user-level tables not built yet, the as-of of those built and the warehouse's, over one read-only open
    (the hourly job asks this on every run, at any scale)."""
    con = connect(paths.warehouse, read_only=True)
    try:
        present = {f"{schema}.{table}" for schema, table in con.execute(_TABLES_SQL).fetchall()}
        missing = [table for table in USER_LEVEL_TABLES if table not in present]
        if missing:
            return missing, None, None
        built, as_of = con.execute(_AS_OF_SQL).fetchone()
    finally:
        con.close()
    return [], None if built is None else pd.Timestamp(built), None if as_of is None else pd.Timestamp(as_of)


_TABLES_SQL = "SELECT schema_name, table_name FROM duckdb_tables()"
_AS_OF_SQL = """SELECT (SELECT max(as_of_ts) FROM marts.fct_user_value),
                       (SELECT max(as_of_ts) FROM intermediate.int_warehouse_as_of)"""
