"""`pmi ingest` as a library call: validate every file in a staging database, then load in one transaction.

Validation runs in a throw-away in-memory DuckDB database that spills to a folder next to the warehouse beyond its
memory limit (bounded memory for files larger than RAM) and reads the warehouse read-only, so bad input never opens
the warehouse for writing and leaves it byte-for-byte as it was. Only when every check passed is what the load reads
written to a staging file: a database file would sync its write-ahead log after every check statement, which made
most of the time of a small file's check.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ml.ingest.load import load
from ml.ingest.mapping import load_mapping
from ml.ingest.outcomes import persist_staged
from ml.ingest.validate import Validation, read_headers, validate_inputs
from ml.io.sql_text import sql_literal
from ml.settings import PmiPaths

# Staging (read, type, check) spills to disk beyond this, so a file larger than RAM is validated in bounded memory.
# The load is not capped: the raw tables' primary-key indexes must fit in memory (DuckDB cannot spill them).
STAGING_MEMORY_LIMIT = "1GB"


@dataclass
class IngestReport:
    """What one ingest did: rows per raw table and status, and the warnings to show the user."""

    run_id: str
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _staging_connection(directory: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        ":memory:", config={"temp_directory": str(directory / "spill"), "memory_limit": STAGING_MEMORY_LIMIT}
    )
    con.execute("SET TimeZone = 'UTC'")
    if warehouse.exists():
        con.execute(f"ATTACH {sql_literal(str(warehouse))} AS wh (READ_ONLY)")
    return con


def _persist(con: duckdb.DuckDBPyConnection, staging: Path, validation: Validation, allow_partial: bool) -> None:
    """Write what the load reads to the staging file: the valid rows, and with --allow-partial the faults and the
    source rows (copied in order, so their rowid still numbers the file's rows for the quarantine)."""
    tables = list(validation.valid_tables.values())
    if allow_partial:
        tables += ["faults", *(f"src_{kind}" for kind in validation.valid_tables)]
    con.execute(f"ATTACH {sql_literal(str(staging))} AS out")
    for table in tables:
        con.execute(f"CREATE TABLE out.{table} AS SELECT * FROM {table}")
    con.execute("DETACH out")


def ingest(
    paths: PmiPaths,
    inputs: dict[str, Path],
    mapping: Path | None = None,
    allow_partial: bool = False,
    on_step: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Load the user's files (file kind -> path) into raw.*; raises BadInputError naming file, row and column."""
    mappings = load_mapping(mapping)
    warnings: list[str] = []
    headers = read_headers(inputs, warnings)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    report = IngestReport(run_id=uuid.uuid4().hex[:16])
    paths.ensure()
    with tempfile.TemporaryDirectory(prefix=".ingest-", dir=paths.home) as tmp:
        con = _staging_connection(Path(tmp), paths.warehouse)
        try:
            validation = validate_inputs(con, inputs, headers, mappings, allow_partial, now, on_step)
            _persist(con, Path(tmp) / "staging.duckdb", validation, allow_partial)
            if validation.period_outcomes:
                persist_staged(con, Path(tmp) / "staging.duckdb")
        finally:
            con.close()
        report.warnings = warnings + validation.warnings
        if on_step:
            on_step(f"loading into {paths.warehouse} in one transaction")
        report.tables = load(
            paths.warehouse,
            Path(tmp) / "staging.duckdb",
            inputs,
            validation.valid_tables,
            report.run_id,
            now,
            allow_partial,
        )
    return report
