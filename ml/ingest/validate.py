"""Validating every input file in a staging database before anything touches the warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ml.ingest.checks import FAULTS_DDL, build_typed, insert_row_faults
from ml.ingest.crossfile import insert_cross_faults, insert_install_faults
from ml.ingest.mapping import FileMapping
from ml.ingest.outcomes import stage_period_outcomes
from ml.ingest.readers import read_header, stage_file
from ml.ingest.specs import FILE_KINDS, FileKind
from ml.ingest.staging import build_stage
from ml.io.errors import BadInputError
from ml.warehouse.raw_schema import RAW_TABLES


@dataclass
class Validation:
    """What passed: per file kind, the staged table of valid rows; plus warnings and the count of rejected rows."""

    valid_tables: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    period_outcomes: bool = False  # a channel-level daily file's total outcome and controls were staged


def _contract_select(kind: FileKind) -> str:
    """The raw table's columns from ``typed_<kind>`` (a daily date becomes the 00:00 hour of that day)."""
    columns, _ = RAW_TABLES[kind.table]
    exprs = ["CAST(date AS TIMESTAMP) AS hour_ts" if kind.name == "daily" and c == "hour_ts" else c for c in columns]
    return ", ".join(["_row", *exprs])


def _build_valid(con: duckdb.DuckDBPyConnection, kind: FileKind) -> str:
    table = f"valid_{kind.name}"
    con.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT {_contract_select(kind)} FROM typed_{kind.name} "
        f"WHERE _row NOT IN (SELECT _row FROM faults WHERE kind = ?)",
        [kind.name],
    )
    return table


def _view_through_warning(con: duckdb.DuckDBPyConnection, kind: FileKind, path: Path, warnings: list[str]) -> None:
    rows = con.execute(f"SELECT count(*) FROM valid_{kind.name} WHERE conversions > clicks").fetchall()[0][0]
    if rows:
        warnings.append(f"{path}: {rows} row(s) with more conversions than clicks (view-through, as the mapping says)")


def first_fault(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fault a user should fix first: earliest file, then earliest row, then the most basic check."""
    rows = con.execute("SELECT file, _row, col, reason FROM faults ORDER BY file_order, _row, seq LIMIT 1").fetchall()
    if not rows:
        return None
    file, row, col, reason = rows[0]
    return f"{file}: row {row}, column {col}: {reason}"


def read_headers(inputs: dict[str, Path], warnings: list[str]) -> dict[str, list[str] | None]:
    """File-level checks of every input (exists, type, header) before any staging database is created: cheap, and
    a file that cannot be read at all is named before the row faults of the others."""
    return {name: read_header(inputs[name], warnings) for name in FILE_KINDS if name in inputs}


def validate_inputs(
    con: duckdb.DuckDBPyConnection,
    inputs: dict[str, Path],
    headers: dict[str, list[str] | None],
    mappings: dict[str, FileMapping],
    allow_partial: bool,
    now: dt.datetime,
    on_step: Callable[[str], None] | None = None,
) -> Validation:
    """Stage, type and check every file (in dependency order); all-or-nothing unless ``allow_partial``."""
    result = Validation()
    con.execute(FAULTS_DDL)
    loaded: set[str] = set()
    for order, name in enumerate(k for k in FILE_KINDS if k in inputs):
        kind, path, mapping = FILE_KINDS[name], inputs[name], mappings.get(name, FileMapping())
        if on_step:
            on_step(f"checking {path}")
        names = stage_file(con, path, f"src_{name}", headers[name])
        build_stage(con, kind, mapping, f"src_{name}", names, path, result.warnings)
        if name == "daily":
            result.period_outcomes = stage_period_outcomes(con, mapping, f"src_{name}", names, path)
        build_typed(con, kind)
        insert_row_faults(con, kind, str(path), order, mapping.view_through_conversions, now)
        insert_cross_faults(con, kind, str(path), order, loaded)
        if not allow_partial and (fault := first_fault(con)):
            raise BadInputError(fault)
        result.valid_tables[name] = _build_valid(con, kind)
        if kind.table == "campaign_hourly":
            _view_through_warning(con, kind, path, result.warnings)
        loaded.add(name)
    if "users" in loaded:
        order = list(k for k in FILE_KINDS if k in inputs).index("users")
        insert_install_faults(con, FILE_KINDS["users"], str(inputs["users"]), order, loaded)
        if not allow_partial and (fault := first_fault(con)):
            raise BadInputError(fault)
        _build_valid(con, FILE_KINDS["users"])  # without users the check above rejected
    counts = con.execute("SELECT kind, count(DISTINCT _row) FROM faults GROUP BY kind").fetchall()
    result.rejected = {kind: int(n) for kind, n in counts}
    return result
