"""A wide channel file's total outcome and controls: `raw.period_outcomes` and `raw.period_controls`.

Channel-level media data (the retail file: spend per channel per week, sales only as the business's total) carries
what a media-mix model needs beside spend: the total outcome per period and the controls (prices, holidays,
markdowns). The daily mapping names them (``total_outcome: sales``, ``controls: ["hldy_*", "me_*"]``); they are
checked in the staging database with the rest of the file (a bad value names file, row and column) and loaded in
the same transaction, keyed by period, so a re-ingest replaces a period's values and changes nothing when equal.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import duckdb

from ml.ingest.mapping import FileMapping
from ml.io.errors import BadInputError
from ml.io.sql_text import sql_identifier, sql_literal

OUTCOMES_TABLE, CONTROLS_TABLE = "period_outcomes", "period_controls"
DDL = (
    f"CREATE TABLE IF NOT EXISTS raw.{OUTCOMES_TABLE} (period_date DATE PRIMARY KEY, outcome DOUBLE NOT NULL, "
    "outcome_name VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS raw.{CONTROLS_TABLE} (period_date DATE, control VARCHAR, value DOUBLE NOT NULL, "
    "PRIMARY KEY (period_date, control))",
)
STAGED = ("valid_period_outcomes", "valid_period_controls")


def control_columns(mapping: FileMapping, names: list[str], path: Path) -> list[str]:
    """The file's columns matching the mapping's ``controls`` patterns (fnmatch), in file order."""
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in mapping.controls)]
    for pattern in mapping.controls:
        if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
            raise BadInputError(f"{path}: daily.controls: {pattern!r} matches no column of the file")
    return [c for c in chosen if c != mapping.total_outcome]


def _first_bad(con: duckdb.DuckDBPyConnection, source: str, column: str, rule: str) -> tuple[int, str] | None:
    rows = con.execute(
        f"SELECT _row, raw FROM (SELECT s.rowid + 1 AS _row, CAST({sql_identifier(column)} AS VARCHAR) AS raw, "
        f"TRY_CAST(trim(CAST({sql_identifier(column)} AS VARCHAR)) AS DOUBLE) AS v FROM {source} s) "
        f"WHERE NOT ({rule}) ORDER BY _row LIMIT 1"
    ).fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else None


def stage_period_outcomes(
    con: duckdb.DuckDBPyConnection, mapping: FileMapping, source: str, names: list[str], path: Path
) -> bool:
    """Check the total outcome and controls of the staged daily file and build the two staged tables; False when the
    mapping names no total outcome (a campaign-level file: nothing to do)."""
    if not mapping.total_outcome:
        return False
    if mapping.total_outcome not in names:
        raise BadInputError(f"{path}: column {mapping.total_outcome}: daily.total_outcome names it, but no such column")
    date = mapping.columns.get("date", "date")
    controls = control_columns(mapping, names, path)
    checks = [(mapping.total_outcome, "v IS NOT NULL AND isfinite(v) AND v >= 0", "a finite number >= 0")]
    checks += [(c, "v IS NOT NULL AND isfinite(v)", "a finite number") for c in controls]
    for column, rule, wanted in checks:
        if bad := _first_bad(con, source, column, rule):
            raise BadInputError(f"{path}: row {bad[0]}, column {column}: expected {wanted}, got {bad[1]!r}")
    con.execute(
        f"CREATE TABLE {STAGED[0]} AS SELECT s.rowid + 1 AS _row, "
        f"TRY_CAST(trim(CAST({sql_identifier(date)} AS VARCHAR)) AS DATE) AS period_date, "
        f"CAST(trim(CAST({sql_identifier(mapping.total_outcome)} AS VARCHAR)) AS DOUBLE) AS outcome, "
        f"{sql_literal(mapping.total_outcome)} AS outcome_name FROM {source} s"
    )
    bad = con.execute(
        f"SELECT _row, period_date IS NULL FROM {STAGED[0]} QUALIFY period_date IS NULL "
        "OR count(*) OVER (PARTITION BY period_date) > 1 ORDER BY _row LIMIT 1"
    ).fetchall()
    if bad:
        why = "not a date" if bad[0][1] else "a second row for the same period (one total outcome per period)"
        raise BadInputError(f"{path}: row {bad[0][0]}, column {date}: {why}")
    unpivot = " UNION ALL ".join(
        f"SELECT o.period_date, {sql_literal(c)} AS control, "
        f"CAST(trim(CAST(s.{sql_identifier(c)} AS VARCHAR)) AS DOUBLE) AS value "
        f"FROM {source} s JOIN {STAGED[0]} o ON o._row = s.rowid + 1"
        for c in controls
    )
    empty = "SELECT CAST(NULL AS DATE) AS period_date, CAST(NULL AS VARCHAR) AS control, 0.0 AS value LIMIT 0"
    con.execute(f"CREATE TABLE {STAGED[1]} AS {unpivot or empty}")
    return True


def persist_staged(con: duckdb.DuckDBPyConnection, staging: Path) -> None:
    """Copy the two staged tables into the staging file the load reads."""
    con.execute(f"ATTACH {sql_literal(str(staging))} AS out_outcomes")
    for table in STAGED:
        con.execute(f"CREATE TABLE out_outcomes.{table} AS SELECT * FROM {table}")
    con.execute("DETACH out_outcomes")


def load_period_outcomes(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Inside the load's transaction: replace the file's periods in both tables; counts per table as the summary."""
    for ddl in DDL:
        con.execute(ddl)
    summary = {}
    for table, staged, key, value in (
        (OUTCOMES_TABLE, STAGED[0], "period_date", "outcome"),
        (CONTROLS_TABLE, STAGED[1], "period_date, control", "value"),
    ):
        keys = [k.strip() for k in key.split(",")]
        on = " AND ".join(f"o.{k} = n.{k}" for k in keys)
        inserted, replaced = con.execute(
            f"SELECT count(*) FILTER (WHERE o.{keys[0]} IS NULL), "
            f"count(*) FILTER (WHERE o.{keys[0]} IS NOT NULL AND o.{value} IS DISTINCT FROM n.{value}) "
            f"FROM stg.{staged} n LEFT JOIN raw.{table} o ON {on}"
        ).fetchall()[0]
        total = con.execute(f"SELECT count(*) FROM stg.{staged}").fetchall()[0][0]
        columns = "period_date, outcome, outcome_name" if table == OUTCOMES_TABLE else "period_date, control, value"
        con.execute(f"DELETE FROM raw.{table} o USING stg.{staged} n WHERE {on}")
        con.execute(f"INSERT INTO raw.{table} SELECT {columns} FROM stg.{staged}")
        summary[table] = {
            "inserted": int(inserted),
            "replaced": int(replaced),
            "unchanged": int(total - inserted - replaced),
            "quarantined": 0,
        }
    return summary


def staged_file_has_outcomes(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the attached staging file (``stg``) holds a total outcome to load."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'stg' AND table_name = ?", [STAGED[0]]
    ).fetchall()
    return rows[0][0] > 0
