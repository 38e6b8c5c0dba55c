"""Checks across files (and against what the warehouse already holds): references exist, events follow installs.

The referenced side is the valid rows of the other file plus the warehouse's raw table, so a user may load
campaigns once and their hourly data or users later.
"""

from __future__ import annotations

import duckdb

from ml.ingest.checks import insert_faults, shown
from ml.ingest.specs import FileKind

ID_CLASS = (
    "CASE WHEN regexp_full_match({c}, '\\d+') THEN 'whole number' "
    "WHEN regexp_full_match({c}, '\\d+\\.\\d+') THEN 'decimal number' ELSE 'text' END"
)


def warehouse_has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the attached warehouse (alias ``wh``) has ``raw.<table>``."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'wh' AND schema_name = 'raw' AND table_name = ?",
        [table],
    ).fetchall()
    return rows[0][0] > 0


def build_known(con: duckdb.DuckDBPyConnection, loaded: set[str]) -> None:
    """``known_campaigns`` / ``known_users``: valid rows of this ingest, then the warehouse's (this ingest wins)."""
    sources = {"campaigns": ("campaign_id", "campaign_id"), "users": ("user_id", "user_id, install_ts")}
    for name, (key, columns) in sources.items():
        parts = [f"SELECT {columns} FROM valid_{name}"] if name in loaded else []
        if warehouse_has(con, name):
            anti = f" WHERE {key} NOT IN (SELECT {key} FROM valid_{name})" if name in loaded else ""
            parts.append(f"SELECT {columns} FROM wh.raw.{name}{anti}")
        if not parts:
            parts = [
                f"SELECT CAST(NULL AS VARCHAR) AS {key}"
                + (", CAST(NULL AS TIMESTAMP) AS install_ts" if name == "users" else "")
                + " WHERE false"
            ]
        con.execute(f"CREATE OR REPLACE TABLE known_{name} AS {' UNION ALL '.join(parts)}")


def _campaign_checks(kind: FileKind) -> list[tuple[str, str, str]]:
    cid = shown("campaign_id", quoted=False)
    id_class = ID_CLASS.format(c="campaign_id")
    known_classes = f"(SELECT DISTINCT {ID_CLASS.format(c='campaign_id')} FROM known_campaigns)"
    return [
        (
            "campaign_id",
            f"campaign_id IS NOT NULL AND (SELECT count(*) FROM known_campaigns) > 0 "
            f"AND {id_class} NOT IN {known_classes}",
            f"'campaign_id ' || {cid} || ' is a ' || {id_class} || ' here, but the campaigns (--campaigns and "
            "the warehouse) have ids of another type'",
        ),
        (
            "campaign_id",
            "campaign_id IS NOT NULL AND campaign_id NOT IN (SELECT campaign_id FROM known_campaigns)",
            f"'unknown campaign_id ' || {cid} || ' (not in --campaigns nor in the warehouse)'",
        ),
    ]


def _event_checks() -> list[tuple[str, str, str]]:
    return [
        (
            "user_id",
            "user_id IS NOT NULL AND user_id NOT IN (SELECT user_id FROM known_users)",
            f"'unknown user_id ' || {shown('user_id', quoted=False)} || ' (not in --users nor in the warehouse)'",
        ),
        (
            "event_ts",
            "event_ts < (SELECT install_ts FROM known_users k WHERE k.user_id = e.user_id)",
            "'event at ' || event_ts || ' is before the user''s install at ' || "
            "(SELECT install_ts FROM known_users k WHERE k.user_id = e.user_id)",
        ),
    ]


def insert_cross_faults(
    con: duckdb.DuckDBPyConnection, kind: FileKind, file: str, order: int, loaded: set[str]
) -> None:
    """Record reference faults of ``typed_<kind>`` (rows already faulty are checked too: harmless, first wins)."""
    if "campaigns" in kind.depends_on:
        build_known(con, loaded)
        insert_faults(con, kind, file, order, _campaign_checks(kind), f"typed_{kind.name}", 200)
    if "users" in kind.depends_on:
        build_known(con, loaded)
        insert_faults(con, kind, file, order, _event_checks(), f"typed_{kind.name} e", 210)


def insert_install_faults(
    con: duckdb.DuckDBPyConnection, kind: FileKind, file: str, order: int, loaded: set[str]
) -> None:
    """A corrected install later than events the warehouse keeps would break "events follow installs" (a raw gate
    error) for rows this ingest never sees: refuse it, unless this ingest re-sends those events too.

    Runs after every file is checked, so re-sent events (``valid_revenue_events``) are known.
    """
    if not warehouse_has(con, "revenue_events"):
        return
    kept = "WHERE event_id NOT IN (SELECT event_id FROM valid_revenue_events)" if "revenue_events" in loaded else ""
    source = (
        f"(SELECT u._row, u.install_ts, min(e.event_ts) AS first_event FROM typed_{kind.name} u "
        f"JOIN (SELECT user_id, event_ts FROM wh.raw.revenue_events {kept}) e ON e.user_id = u.user_id "
        "GROUP BY u._row, u.install_ts)"
    )
    insert_faults(
        con,
        kind,
        file,
        order,
        [
            (
                "install_ts",
                "install_ts > first_event",
                "'install at ' || install_ts || ' is after this user''s event at ' || first_event "
                "|| ' in the warehouse; send the corrected revenue events with it'",
            )
        ],
        source,
        220,
    )
