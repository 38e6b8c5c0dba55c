"""Opening the warehouse and running a unit of work as one transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from ml.settings import PmiPaths, is_production, production_settings

LOCK_RETRY_SECONDS = 0.25


def connect(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file; a read-only open of a missing file fails with a message saying what to run.

    In the production profile steps run in parallel processes (Celery workers) and DuckDB lets one process hold the
    file for writing, so an open that meets another process's lock waits for it (up to the profile's limit); the
    embedded profile runs steps one after another and never waits.
    """
    if read_only and not Path(warehouse).exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `pmi run` (or `make run`) first")
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (production_settings().warehouse_lock_wait_seconds if is_production() else 0.0)
    while True:
        try:
            return duckdb.connect(str(warehouse), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(LOCK_RETRY_SECONDS)


@contextmanager
def transaction(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together or not at all (a crash half-way leaves the file as it was)."""
    con = connect(warehouse)
    try:
        con.execute("BEGIN TRANSACTION")
        yield con
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # a failed COMMIT already ended the transaction; the original error is the one to report
        raise
    finally:
        con.close()


def read_sql(paths: PmiPaths, sql: str, params: list | None = None, memory_limit: str | None = None) -> pd.DataFrame:
    """Run one read-only query against the warehouse and return a DataFrame (the connection is closed at once).

    ``memory_limit`` (e.g. ``'2GB'``) caps DuckDB's own memory for big scans, joins and windows (it spills to disk
    beyond it); DuckDB's default is 80% of the machine's RAM.
    """
    con = connect(paths.warehouse, read_only=True)
    try:
        if memory_limit is not None:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def table_exists(paths: PmiPaths, qualified: str) -> bool:
    """True when ``schema.table`` exists in the warehouse (a step that has not run yet has not created it)."""
    schema, table = qualified.split(".", 1)
    con = connect(paths.warehouse, read_only=True)
    try:
        return bool(
            con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
            ).fetchall()[0][0]
        )
    finally:
        con.close()


def warehouse_as_of(paths: PmiPaths) -> pd.Timestamp:
    """The end of the newest delivered hour the warehouse holds (``intermediate.int_warehouse_as_of``)."""
    return read_sql(paths, "SELECT max(as_of_ts) AS t FROM intermediate.int_warehouse_as_of")["t"].iloc[0]
