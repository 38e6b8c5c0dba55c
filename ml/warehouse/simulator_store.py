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


def write_backfill(warehouse: Path, frames) -> None:  # frames: ml.simulation.frames.SimulationFrames
    """Replace raw, truth and sim tables with a fresh simulation in one transaction."""
    with transaction(warehouse) as con:
        for schema in ("raw", TRUTH_SCHEMA, SIM_SCHEMA):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table, frame in frames.raw.items():
            con.execute(f"DROP TABLE IF EXISTS raw.{table}")
            con.execute(create_table_sql(table))
            insert_raw(con, table, frame)
        _replace_table(con, "truth.campaign_truth", frames.truth["campaign_truth"])
        _replace_table(con, "truth.user_value", frames.truth["user_value"],
                       "'u' || user_seq::VARCHAR AS user_id, * EXCLUDE (user_seq)")
        _replace_table(con, "sim.state", frames.sim["state"])
        _replace_table(con, "sim.pending_revenue_events", frames.sim["pending_revenue_events"])
