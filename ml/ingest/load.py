"""Writing validated rows into the raw tables in one transaction, with an audit of every replaced row."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from ml.ingest.outcomes import load_period_outcomes, staged_file_has_outcomes
from ml.ingest.specs import FILE_KINDS
from ml.io.sql_text import sql_literal
from ml.warehouse.connection import transaction
from ml.warehouse.raw_schema import RAW_TABLES, create_table_sql

BOOKKEEPING_DDL = (
    "CREATE SCHEMA IF NOT EXISTS raw",
    "CREATE SCHEMA IF NOT EXISTS audit",
    "CREATE SCHEMA IF NOT EXISTS quarantine",
    "CREATE TABLE IF NOT EXISTS audit.ingest_runs (run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, "
    "files JSON, allow_partial BOOLEAN, rows_inserted BIGINT, rows_replaced BIGINT, rows_unchanged BIGINT, "
    "rows_quarantined BIGINT)",
    "CREATE TABLE IF NOT EXISTS audit.ingest_changes (run_id VARCHAR, changed_at TIMESTAMP, file VARCHAR, "
    "table_name VARCHAR, key JSON, old_values JSON, new_values JSON)",
    "CREATE TABLE IF NOT EXISTS quarantine.rejected_rows (run_id VARCHAR, rejected_at TIMESTAMP, file VARCHAR, "
    "table_name VARCHAR, row_number BIGINT, column_name VARCHAR, reason VARCHAR, raw_row JSON)",
)
STATUSES = ("inserted", "replaced", "unchanged", "quarantined")


def _struct(alias: str, columns: list[str]) -> str:
    return f"to_json(struct_pack({', '.join(f'{c} := {alias}.{c}' for c in columns)}))"


def upsert(
    con: duckdb.DuckDBPyConnection, table: str, source: str, file: str, run_id: str, now: dt.datetime
) -> dict[str, int]:
    """New keys are inserted, changed rows replaced (old and new values audited), identical rows left alone."""
    columns, key = RAW_TABLES[table]
    values = [c for c in columns if c not in key]
    on = " AND ".join(f"o.{k} = n.{k}" for k in key)
    differs = f"row({', '.join('n.' + c for c in values)}) IS DISTINCT FROM row({', '.join('o.' + c for c in values)})"
    con.execute(
        f"INSERT INTO audit.ingest_changes SELECT ?, ?, ?, ?, {_struct('n', list(key))}, "
        f"{_struct('o', values)}, {_struct('n', values)} FROM {source} n JOIN raw.{table} o ON {on} "
        f"WHERE {differs}",
        [run_id, now, file, table],
    )
    replaced = con.execute(
        "SELECT count(*) FROM audit.ingest_changes WHERE run_id = ? AND table_name = ? AND file = ?",
        [run_id, table, file],
    ).fetchall()[0][0]
    inserted = con.execute(f"SELECT count(*) FROM {source} n ANTI JOIN raw.{table} o ON {on}").fetchall()[0][0]
    total = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    con.execute(f"DELETE FROM raw.{table} o USING {source} n WHERE {on} AND {differs}")
    con.execute(
        f"INSERT INTO raw.{table} SELECT {', '.join('n.' + c for c in columns)} FROM {source} n "
        f"ANTI JOIN raw.{table} o ON {on}"
    )
    return {"inserted": inserted, "replaced": replaced, "unchanged": total - inserted - replaced}


def quarantine(con: duckdb.DuckDBPyConnection, kind: str, run_id: str, now: dt.datetime) -> int:
    """Keep every rejected row (its first fault, and the row as the user sent it) so nothing is silently lost."""
    table = FILE_KINDS[kind].table
    con.execute(
        "INSERT INTO quarantine.rejected_rows SELECT ?, ?, f.file, ?, f._row, f.col, f.reason, to_json(s) "
        "FROM (SELECT *, row_number() OVER (PARTITION BY _row ORDER BY seq) AS rn FROM stg.faults "
        f"WHERE kind = {sql_literal(kind)}) f JOIN stg.src_{kind} s ON s.rowid + 1 = f._row "
        "WHERE f.rn = 1",
        [run_id, now, table],
    )
    return con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE run_id = ? AND table_name = ?", [run_id, table]
    ).fetchall()[0][0]


def load(
    warehouse: Path,
    staging: Path,
    inputs: dict[str, Path],
    valid_tables: dict[str, str],
    run_id: str,
    now: dt.datetime,
    allow_partial: bool,
) -> dict[str, dict[str, int]]:
    """One transaction: raw tables, audit and quarantine commit together or (killed, failed) not at all."""
    summary: dict[str, dict[str, int]] = {}
    with transaction(warehouse) as con:
        con.execute(f"ATTACH {sql_literal(str(staging))} AS stg (READ_ONLY)")
        for ddl in BOOKKEEPING_DDL:
            con.execute(ddl)
        for table in RAW_TABLES:  # every contract table exists after an ingest, if only empty, for the marts
            con.execute(create_table_sql(table))
        for kind, source in valid_tables.items():
            table = FILE_KINDS[kind].table
            counts = upsert(con, table, f"stg.{source}", str(inputs[kind]), run_id, now)
            counts["quarantined"] = quarantine(con, kind, run_id, now) if allow_partial else 0
            summary[table] = counts
        if staged_file_has_outcomes(con):  # a channel-level file's total outcome and controls
            summary |= load_period_outcomes(con)
        totals = {s: sum(c[s] for c in summary.values()) for s in STATUSES}
        con.execute(
            "INSERT INTO audit.ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                now,
                json.dumps({k: str(p) for k, p in inputs.items()}),
                allow_partial,
                *(totals[s] for s in STATUSES),
            ],
        )
    return summary
