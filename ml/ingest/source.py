"""Where a pipeline run's raw tables come from: the simulator, the warehouse `pmi ingest` loaded, or a drop folder.

A run must never replace a user's ingested data with a simulation by default, so the choice is made here, once,
for the command line and the Dagster asset alike.
"""

from __future__ import annotations

from pathlib import Path

from ml.io.errors import BadInputError
from ml.settings import PmiPaths
from ml.warehouse.connection import connect
from ml.warehouse.raw_schema import RAW_TABLES

SIMULATOR, WAREHOUSE, AUTO = "simulator", "warehouse", "auto"


def _tables(con, schema: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [schema]).fetchall()
    return {r[0] for r in rows}


def raw_row_counts(paths: PmiPaths) -> dict[str, int]:
    """Rows in each raw contract table (a table not created yet, or no warehouse, counts 0)."""
    if not paths.warehouse.exists():
        return dict.fromkeys(RAW_TABLES, 0)
    con = connect(paths.warehouse, read_only=True)
    try:
        present = _tables(con, "raw")
        return {
            t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0] if t in present else 0 for t in RAW_TABLES
        }
    finally:
        con.close()


def holds_simulation(paths: PmiPaths) -> bool:
    """True when the raw tables were written by the simulator (its clock table is there)."""
    if not paths.warehouse.exists():
        return False
    con = connect(paths.warehouse, read_only=True)
    try:
        return "state" in _tables(con, "sim")
    finally:
        con.close()


def holds_ingested_data(paths: PmiPaths) -> bool:
    """True when the raw tables hold campaigns that `pmi ingest` loaded and no simulation."""
    return raw_row_counts(paths)["campaigns"] > 0 and not holds_simulation(paths)


def ingested_row_counts(paths: PmiPaths) -> dict[str, int]:
    """Row counts of the warehouse a run will use as it is; one line saying what to do when it holds nothing."""
    counts = raw_row_counts(paths)
    if counts["campaigns"] == 0 or counts["campaign_hourly"] == 0:
        raise BadInputError(
            f"{paths.warehouse}: no campaigns and delivery rows to run on; load them with "
            "`pmi ingest --campaigns FILE --hourly FILE` (or --daily FILE) first"
        )
    return counts


def resolve_source(paths: PmiPaths, source: str) -> str:
    """``auto`` -> the ingested warehouse if there is one, else the simulator; refuse to simulate over user data."""
    if source == AUTO:
        return WAREHOUSE if holds_ingested_data(paths) else SIMULATOR
    if source == SIMULATOR and holds_ingested_data(paths):
        n = raw_row_counts(paths)["campaigns"]
        raise BadInputError(
            f"{paths.home} holds {n:,} campaigns loaded by `pmi ingest`; a simulation would replace "
            "them: use --source warehouse, or another --home for the simulator"
        )
    if source not in (SIMULATOR, WAREHOUSE) and not Path(source).is_dir():
        raise BadInputError(f"--source {source}: not 'simulator', 'warehouse' or a drop folder")
    return source
