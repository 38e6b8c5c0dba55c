"""Row checks of one staged file, in SQL: every cell typed, every fault a (row, column, reason) row in ``faults``.

Checking by set-based queries over the staged table keeps memory bounded for files far larger than RAM and
finds every faulty row at once (needed to quarantine them), not only the first.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ml.ingest.specs import ColumnSpec, FileKind
from ml.ingest.staging import quote_literal

NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)"
FLOAT = NUMBER + r"([eE][+-]?\d+)?"
WHOLE = r"[+-]?\d+(\.0*)?"
THOUSANDS = r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?"
OFFSET = r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"
_TRUE, _FALSE = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")
NUMERIC_KINDS = ("money", "count", "float")

FAULTS_DDL = ("CREATE TABLE IF NOT EXISTS faults (kind VARCHAR, file VARCHAR, file_order INTEGER, _row BIGINT, "
              "col VARCHAR, reason VARCHAR, seq INTEGER)")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(quote_literal(v) for v in values) + ")"


def typed_expression(spec: ColumnSpec, t: str) -> str:
    """SQL turning the text cell ``t`` into the column's type, NULL where it does not parse."""
    if spec.kind == "money":
        return f"CASE WHEN regexp_full_match({t}, '{NUMBER}') THEN TRY_CAST(TRY_CAST({t} AS DECIMAL(38,9)) " \
               "AS DECIMAL(18,2)) END"
    if spec.kind == "count":
        return f"CASE WHEN regexp_full_match({t}, '{WHOLE}') THEN TRY_CAST(TRY_CAST({t} AS DECIMAL(38,0)) " \
               "AS BIGINT) END"
    if spec.kind == "float":
        return f"CASE WHEN regexp_full_match({t}, '{FLOAT}') THEN TRY_CAST({t} AS DOUBLE) END"
    if spec.kind == "timestamp":
        return f"TRY_CAST(TRY_CAST({t} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if spec.kind == "date":
        return f"TRY_CAST({t} AS DATE)"
    if spec.kind == "bool":
        return f"CASE WHEN lower({t}) IN {_in(_TRUE)} THEN true WHEN lower({t}) IN {_in(_FALSE)} THEN false END"
    if spec.kind == "enum":
        return f"CASE WHEN lower({t}) IN {_in(spec.choices)} THEN lower({t}) END"
    return t


def _unparsable_reason(spec: ColumnSpec, t: str) -> str:
    shown = f"'''' || left({t}, 40) || ''''"
    if spec.kind in NUMERIC_KINDS:
        whole = f"WHEN regexp_full_match({t}, '{FLOAT}') THEN 'not a whole number: ' || {shown} " \
            if spec.kind == "count" else ""
        return (f"CASE WHEN lower({t}) IN ('nan', 'na', 'n/a', 'null', 'none', '-', '-nan') "
                f"THEN 'missing value (' || {t} || ')' "
                f"WHEN regexp_full_match({t}, '{THOUSANDS}') THEN 'thousands separator in ' || {shown} || "
                "' (write 1234.5, not 1,234.5)' "
                f"{whole}ELSE 'not a number: ' || {shown} END")
    expected = {"timestamp": "an ISO timestamp", "date": "an ISO date (YYYY-MM-DD)", "bool": "true or false",
                "enum": "one of " + ", ".join(spec.choices)}[spec.kind]
    return f"'not {expected}: ' || {shown}"


def build_typed(con: duckdb.DuckDBPyConnection, kind: FileKind) -> str:
    """Create ``typed_<kind>``: each column typed, next to its text (``<column>__text``) for the checks."""
    parts = ["_row"]
    for spec in kind.columns:
        parts += [f"{typed_expression(spec, spec.name)} AS {spec.name}", f"{spec.name} AS {spec.name}__text"]
    table = f"typed_{kind.name}"
    con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(parts)} FROM stg_{kind.name}")
    return table


def _cell_checks(spec: ColumnSpec, now: dt.datetime) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one column, in the order a user should hear about them."""
    c, t = spec.name, f"{spec.name}__text"
    checks = [(f"{t} IS NULL", "'missing value'")] if spec.required else []
    if spec.kind not in ("id", "text"):
        checks.append((f"{t} IS NOT NULL AND {c} IS NULL", _unparsable_reason(spec, t)))
    if spec.kind in ("money", "count"):
        checks.append((f"{c} < 0", f"'negative value: ' || {t}"))
    if spec.kind in ("timestamp", "date"):
        checks.append((f"CAST({c} AS TIMESTAMP) > TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'",
                       f"'in the future: ' || {t} || ' (now is {now:%Y-%m-%d %H:%M} UTC)'"))
    return checks


def _row_checks(kind: FileKind, view_through: bool, now: dt.datetime) -> list[tuple[str, str, str]]:
    checks = [(spec.name, cond, reason) for spec in kind.columns for cond, reason in _cell_checks(spec, now)]
    if kind.table == "campaign_hourly":
        checks.append(("clicks", "clicks > impressions",
                       "'clicks (' || clicks || ') exceed impressions (' || impressions || ')'"))
        if not view_through:
            checks.append(("conversions", "conversions > clicks",
                           "'conversions (' || conversions || ') exceed clicks (' || clicks || '); if the network "
                           "counts view-through conversions, set view_through_conversions: true in --mapping'"))
    if kind.name == "hourly":
        checks.append(("hour_ts", "date_trunc('hour', hour_ts) <> hour_ts", "'not on the hour: ' || hour_ts__text"))
    return checks


def insert_faults(con: duckdb.DuckDBPyConnection, kind: FileKind, file: str, order: int,
                   checks: list[tuple[str, str, str]], source: str, first_seq: int) -> None:
    selects = [f"SELECT _row, {quote_literal(col)} AS col, {reason} AS reason, {first_seq + i} AS seq "
               f"FROM {source} WHERE {cond}" for i, (col, cond, reason) in enumerate(checks)]
    con.execute(f"INSERT INTO faults SELECT {quote_literal(kind.name)}, {quote_literal(file)}, {order}, _row, col, "
                f"reason, seq FROM ({' UNION ALL '.join(selects)})")


def _mixed_offset_checks(kind: FileKind) -> list[tuple[str, str, str]]:
    """A column mixing naive times (read as UTC) with times carrying an offset is ambiguous: refuse it."""
    checks = []
    for spec in kind.columns:
        if spec.kind != "timestamp":
            continue
        t = f"{spec.name}__text"
        first = f"(SELECT first(regexp_matches({t}, '{OFFSET}') ORDER BY _row) FROM typed_{kind.name} " \
                f"WHERE {t} IS NOT NULL)"
        checks.append((spec.name, f"{t} IS NOT NULL AND regexp_matches({t}, '{OFFSET}') <> {first}",
                       f"CASE WHEN regexp_matches({t}, '{OFFSET}') THEN 'a time zone offset here (' || {t} || ') "
                       "but none in earlier rows; use one convention per file (no offset = UTC)' ELSE "
                       f"'no time zone offset here (' || {t} || ') but earlier rows have one; use one convention "
                       "per file (no offset = UTC)' END"))
    return checks


def _duplicate_key_check(kind: FileKind) -> tuple[str, str, str, str]:
    keys = ", ".join(kind.key)
    shown = " || ', ' || ".join(f"'{k}=' || {k}__text" for k in kind.key)
    source = (f"(SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY _row) AS _nth, "
              f"min(_row) OVER (PARTITION BY {keys}) AS _first FROM typed_{kind.name} "
              f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in kind.key)})")
    return (kind.key[-1], "_nth > 1", f"'duplicate key (' || {shown} || '), first in row ' || _first", source)


def insert_row_faults(con: duckdb.DuckDBPyConnection, kind: FileKind, file: str, order: int,
                      view_through: bool, now: dt.datetime) -> None:
    """Record every cell and row fault of ``typed_<kind>`` in ``faults``."""
    con.execute(FAULTS_DDL)
    checks = _row_checks(kind, view_through, now) + _mixed_offset_checks(kind)
    insert_faults(con, kind, file, order, checks, f"typed_{kind.name}", 0)
    col, cond, reason, source = _duplicate_key_check(kind)
    insert_faults(con, kind, file, order, [(col, cond, reason)], source, 100)
