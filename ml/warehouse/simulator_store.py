"""Writing simulator output into the warehouse: raw contract tables, ground truth and simulator state."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from ml.warehouse.connection import transaction
from ml.warehouse.raw_schema import RAW_TABLES, create_table_sql

TRUTH_SCHEMA = "truth"
SIM_SCHEMA = "sim"

# Simulator frames carry integer sequence numbers; the contract's ids are strings.
_ID_EXPRESSIONS = {
    "user_id": "'u' || user_seq::VARCHAR",
    "event_id": "'e' || event_seq::VARCHAR",
}


def _select_list(table: str, frame: pd.DataFrame) -> str:
    columns, _ = RAW_TABLES[table]
    parts = []
    for name, dtype in columns.items():
        source = name if name in frame.columns else _ID_EXPRESSIONS[name]
        parts.append(f"CAST({source} AS {dtype}) AS {name}")
    return ", ".join(parts)


def insert_raw(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append simulator rows to a raw table, casting to the contract's types."""
    if frame.empty:
        return
    con.register("frame_to_insert", frame)
    con.execute(f"INSERT INTO raw.{table} SELECT {_select_list(table, frame)} FROM frame_to_insert")
    con.unregister("frame_to_insert")


def _replace_table(con: duckdb.DuckDBPyConnection, qualified: str, frame: pd.DataFrame, select: str = "*") -> None:
    con.register("frame_to_write", frame)
    con.execute(f"CREATE OR REPLACE TABLE {qualified} AS SELECT {select} FROM frame_to_write")
    con.unregister("frame_to_write")


# Tables the backfill streams chunk by chunk besides the raw ones: created empty first, so a first chunk without
# users still gives them their types.
_CHUNKED_DDL = {
    "truth.user_value": "user_id VARCHAR, is_payer BOOLEAN, true_value DOUBLE, expected_value DOUBLE",
    "sim.pending_revenue_events": "event_seq BIGINT, user_seq BIGINT, event_ts TIMESTAMP_NS, revenue DOUBLE, "
    "event_type VARCHAR",
}
_CHUNKED_SELECT = {
    "truth.user_value": "'u' || user_seq::VARCHAR AS user_id, * EXCLUDE (user_seq)",
    "sim.pending_revenue_events": "*",
}


def _append(con: duckdb.DuckDBPyConnection, qualified: str, frame: pd.DataFrame) -> None:
    schema, table = qualified.split(".")
    if schema == "raw":
        insert_raw(con, table, frame)
    elif not frame.empty:
        con.register("frame_to_write", frame)
        con.execute(f"INSERT INTO {qualified} SELECT {_CHUNKED_SELECT[qualified]} FROM frame_to_write")
        con.unregister("frame_to_write")


def write_backfill(warehouse: Path, backfill) -> dict[str, int]:  # backfill: ml.simulation.backfill.Backfill
    """Replace raw, truth and sim tables with a fresh simulation in one transaction, one chunk in memory at a time;
    return the raw tables' row counts."""
    rows = dict.fromkeys((f"raw.{t}" for t in RAW_TABLES), 0) | dict.fromkeys(_CHUNKED_DDL, 0)
    with transaction(warehouse) as con:
        for schema in ("raw", TRUTH_SCHEMA, SIM_SCHEMA):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in RAW_TABLES:
            con.execute(f"DROP TABLE IF EXISTS raw.{table}")
            con.execute(create_table_sql(table))
        for qualified, columns in _CHUNKED_DDL.items():
            con.execute(f"CREATE OR REPLACE TABLE {qualified} ({columns})")
        _replace_table(con, "truth.campaign_truth", backfill.static["truth.campaign_truth"])
        for qualified, frame in backfill.static.items():
            if qualified.startswith("raw."):
                _append(con, qualified, frame)
                rows[qualified] += len(frame)
        for chunk in backfill.chunks:
            for qualified, frame in chunk.items():
                _append(con, qualified, frame)
                rows[qualified] += len(frame)
        events = rows["raw.revenue_events"] + rows["sim.pending_revenue_events"]
        _replace_table(con, "sim.state", backfill.state(rows["raw.users"], events))
    return {name: count for name, count in rows.items() if name.startswith("raw.")}
