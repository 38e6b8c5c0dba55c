"""Row checks of one staged file, in SQL: every cell typed, every fault a (row, column, reason) row in ``faults``.

Checking by set-based queries over the staged table keeps memory bounded for files far larger than RAM and
finds every faulty row at once (needed to quarantine them), not only the first. The plausibility bounds (times
from 2000 on, finite bounded numbers, printable ids) are the raw gate's (ml/quality/plausibility.py).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ml.ingest.specs import ColumnSpec, FileKind
from ml.io.cells import FALSE_WORDS, TRUE_WORDS
from ml.io.sql_text import sql_literal
from ml.quality.plausibility import CONTROL_CHARACTERS, EARLIEST_TS, NUMBER_BOUNDS, label_limit

NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)"
FLOAT = NUMBER + r"([eE][+-]?\d+)?"  # spreadsheets export large and small numbers as 1.5E+03
THOUSANDS = r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?"
OFFSET = r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"
NUMERIC_KINDS = tuple(NUMBER_BOUNDS)  # money, count, index
NUM_SUFFIX, TEXT_SUFFIX = "__num", "__text"

FAULTS_DDL = (
    "CREATE TABLE IF NOT EXISTS faults (kind VARCHAR, file VARCHAR, file_order INTEGER, _row BIGINT, "
    "col VARCHAR, reason VARCHAR, seq INTEGER)"
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


def shown(t: str, limit: int = 40, quoted: bool = True) -> str:
    """SQL showing a user's cell in a message: shortened, control characters as '?', so the line stays one line."""
    text = f"regexp_replace(left({t}, {limit}), '{CONTROL_CHARACTERS}', '?', 'g')"
    return f"'''' || {text} || ''''" if quoted else text


def _number(t: str) -> str:
    """The text cell as a DOUBLE (plain or scientific notation), NULL where it is not a number."""
    return f"CASE WHEN regexp_full_match({t}, '{FLOAT}') THEN TRY_CAST({t} AS DOUBLE) END"


def _typed_number(spec: ColumnSpec, t: str, num: str) -> str:
    """The exact typed value, NULL outside the bounds (money to the cent, counts only when whole)."""
    bounds = NUMBER_BOUNDS[spec.kind]
    within = f"{num} {'>' if bounds.strict_low else '>='} {bounds.low!r} AND {num} <= {bounds.high!r}"
    exact = f"TRY_CAST({t} AS DECIMAL(38,9))"  # bounded above, so 29 integer digits always suffice
    value = {
        "money": f"CAST({exact} AS DECIMAL(18,2))",
        "count": f"CASE WHEN {exact} = trunc({exact}) AND {num} = floor({num}) THEN CAST({exact} AS BIGINT) END",
        "index": num,
    }[spec.kind]
    return f"CASE WHEN {within} THEN {value} END"


def typed_expression(spec: ColumnSpec, t: str) -> str:
    """SQL turning the text cell ``t`` into the column's type, NULL where it does not parse or is out of bounds."""
    if spec.kind in NUMERIC_KINDS:
        return _typed_number(spec, t, f"{spec.name}{NUM_SUFFIX}")
    if spec.kind == "timestamp":
        return f"TRY_CAST(TRY_CAST({t} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if spec.kind == "date":
        return f"TRY_CAST({t} AS DATE)"
    if spec.kind == "bool":
        yes, no = _in(TRUE_WORDS), _in(FALSE_WORDS)
        return f"CASE WHEN lower({t}) IN {yes} THEN true WHEN lower({t}) IN {no} THEN false END"
    if spec.kind == "enum":
        return f"CASE WHEN lower({t}) IN {_in(spec.choices)} THEN lower({t}) END"
    return t


def _unparsable_reason(spec: ColumnSpec, t: str) -> str:
    if spec.kind in NUMERIC_KINDS:
        return (
            f"CASE WHEN lower({t}) IN ('nan', 'na', 'n/a', 'null', 'none', '-', '-nan') "
            f"THEN 'missing value (' || {t} || ')' "
            f"WHEN regexp_full_match({t}, '{THOUSANDS}') THEN 'thousands separator in ' || {shown(t)} || "
            "' (write 1234.5, not 1,234.5)' "
            f"ELSE 'not a number: ' || {shown(t)} END"
        )
    expected = {
        "timestamp": "an ISO timestamp",
        "date": "an ISO date (YYYY-MM-DD)",
        "bool": "true or false",
        "enum": "one of " + ", ".join(spec.choices),
    }[spec.kind]
    return f"'not {expected}: ' || {shown(t)}"


def build_typed(con: duckdb.DuckDBPyConnection, kind: FileKind) -> str:
    """Create ``typed_<kind>``: each column typed, next to its text (``<column>__text``) and, for numbers, its DOUBLE
    (``<column>__num``) for the checks; the DOUBLE is read once and reused by the typing and every bound check."""
    inner, outer = ["_row"], ["*"]
    for spec in kind.columns:
        t = f"{spec.name}{TEXT_SUFFIX}"
        inner.append(f"{spec.name} AS {t}")
        if spec.kind in NUMERIC_KINDS:
            inner.append(f"{_number(spec.name)} AS {spec.name}{NUM_SUFFIX}")
        outer.append(f"{typed_expression(spec, t)} AS {spec.name}")
    table = f"typed_{kind.name}"
    con.execute(
        f"CREATE TABLE {table} AS SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM stg_{kind.name})"
    )
    return table


def _number_checks(spec: ColumnSpec, c: str, t: str) -> list[tuple[str, str]]:
    """Parsable, finite, within the shared plausibility bounds, and whole where a count is expected."""
    bounds, num = NUMBER_BOUNDS[spec.kind], f"{c}{NUM_SUFFIX}"
    low = (
        (f"{num} <= {bounds.low!r}", f"'not positive: ' || {shown(t)} || ' ({bounds.meaning})'")
        if bounds.strict_low
        else (f"{num} < {bounds.low!r}", f"'negative value: ' || {shown(t)}")
    )
    return [
        (f"{t} IS NOT NULL AND {num} IS NULL", _unparsable_reason(spec, t)),
        (f"NOT isfinite({num})", f"'not a finite number: ' || {shown(t)}"),
        low,
        (f"{num} > {bounds.high!r}", f"'implausibly large: ' || {shown(t)} || ' ({bounds.meaning})'"),
        (
            f"{t} IS NOT NULL AND {c} IS NULL",
            f"'not a whole number: ' || {shown(t)}" if spec.kind == "count" else f"'not a number: ' || {shown(t)}",
        ),
    ]


def _time_checks(spec: ColumnSpec, c: str, t: str, now: dt.datetime) -> list[tuple[str, str]]:
    """Parsable, from 2000 on (earlier dates are export placeholders such as 1900-01-01), not in the future."""
    return [
        (f"{t} IS NOT NULL AND {c} IS NULL", _unparsable_reason(spec, t)),
        (
            f"CAST({c} AS TIMESTAMP) < TIMESTAMP '{EARLIEST_TS:%Y-%m-%d %H:%M:%S}'",
            f"'before {EARLIEST_TS:%Y-%m-%d}: ' || {shown(t)} || ' (pmi reads data from {EARLIEST_TS:%Y} on; "
            "a placeholder date?)'",
        ),
        (
            f"CAST({c} AS TIMESTAMP) > TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'",
            f"'in the future: ' || {shown(t)} || ' (now is {now:%Y-%m-%d %H:%M} UTC)'",
        ),
    ]


def _label_checks(spec: ColumnSpec, t: str) -> list[tuple[str, str]]:
    """Ids and names are printable text of bounded length (a NUL or line break in a name breaks every report)."""
    limit = label_limit(spec.name)
    code = f"printf('U+%04X', ord(regexp_extract({t}, '{CONTROL_CHARACTERS}')))"
    return [
        (
            f"regexp_matches({t}, '{CONTROL_CHARACTERS}')",
            f"'a control character (' || {code} || ') in ' || {shown(t)} || '; ids and names must be printable text'",
        ),
        (f"length({t}) > {limit}", f"'longer than {limit:,} characters (' || length({t}) || ')'"),
    ]


def _cell_checks(spec: ColumnSpec, now: dt.datetime) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one column, in the order a user should hear about them."""
    c, t = spec.name, f"{spec.name}{TEXT_SUFFIX}"
    checks = [(f"{t} IS NULL", "'missing value'")] if spec.required else []
    if spec.kind in NUMERIC_KINDS:
        return checks + _number_checks(spec, c, t)
    if spec.kind in ("timestamp", "date"):
        return checks + _time_checks(spec, c, t, now)
    if spec.kind in ("id", "text"):
        return checks + _label_checks(spec, t)
    return [*checks, (f"{t} IS NOT NULL AND {c} IS NULL", _unparsable_reason(spec, t))]


def _row_checks(kind: FileKind, view_through: bool, now: dt.datetime) -> list[tuple[str, str, str]]:
    checks = [(spec.name, cond, reason) for spec in kind.columns for cond, reason in _cell_checks(spec, now)]
    if kind.table == "campaign_hourly":
        checks.append(
            ("clicks", "clicks > impressions", "'clicks (' || clicks || ') exceed impressions (' || impressions || ')'")
        )
        # view-through conversions may exceed clicks, never impressions (an error in the raw gate too)
        checks.append(
            (
                "conversions",
                "conversions > impressions",
                "'conversions (' || conversions || ') exceed impressions (' || impressions || ')'",
            )
        )
        if not view_through:
            checks.append(
                (
                    "conversions",
                    "conversions > clicks",
                    "'conversions (' || conversions || ') exceed clicks (' || clicks || '); if the network "
                    "counts view-through conversions, set view_through_conversions: true in --mapping'",
                )
            )
    if kind.name == "hourly":
        checks.append(
            (
                "hour_ts",
                "date_trunc('hour', hour_ts) <> hour_ts",
                f"'not on the hour: ' || {shown('hour_ts' + TEXT_SUFFIX)}",
            )
        )
    return checks


def insert_faults(
    con: duckdb.DuckDBPyConnection,
    kind: FileKind,
    file: str,
    order: int,
    checks: list[tuple[str, str, str]],
    source: str,
    first_seq: int,
) -> None:
    selects = [
        f"SELECT _row, {sql_literal(col)} AS col, {reason} AS reason, {first_seq + i} AS seq FROM {source} WHERE {cond}"
        for i, (col, cond, reason) in enumerate(checks)
    ]
    con.execute(
        f"INSERT INTO faults SELECT {sql_literal(kind.name)}, {sql_literal(file)}, {order}, _row, col, "
        f"reason, seq FROM ({' UNION ALL '.join(selects)})"
    )


def _mixed_offset_checks(kind: FileKind) -> list[tuple[str, str, str]]:
    """A column mixing naive times (read as UTC) with times carrying an offset is ambiguous: refuse it."""
    checks = []
    for spec in kind.columns:
        if spec.kind != "timestamp":
            continue
        t = f"{spec.name}__text"
        first = (
            f"(SELECT first(regexp_matches({t}, '{OFFSET}') ORDER BY _row) FROM typed_{kind.name} "
            f"WHERE {t} IS NOT NULL)"
        )
        checks.append(
            (
                spec.name,
                f"{t} IS NOT NULL AND regexp_matches({t}, '{OFFSET}') <> {first}",
                f"CASE WHEN regexp_matches({t}, '{OFFSET}') THEN 'a time zone offset here (' || {shown(t)} "
                "|| ') but none in earlier rows; use one convention per file (no offset = UTC)' ELSE "
                f"'no time zone offset here (' || {shown(t)} || ') but earlier rows have one; use one "
                "convention per file (no offset = UTC)' END",
            )
        )
    return checks


def _duplicate_key_check(kind: FileKind) -> tuple[str, str, str, str]:
    keys = ", ".join(kind.key)
    pairs = " || ', ' || ".join(f"'{k}=' || {shown(k + TEXT_SUFFIX)}" for k in kind.key)
    source = (
        f"(SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY _row) AS _nth, "
        f"min(_row) OVER (PARTITION BY {keys}) AS _first FROM typed_{kind.name} "
        f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in kind.key)})"
    )
    return (kind.key[-1], "_nth > 1", f"'duplicate key (' || {pairs} || '), first in row ' || _first", source)


def insert_row_faults(
    con: duckdb.DuckDBPyConnection, kind: FileKind, file: str, order: int, view_through: bool, now: dt.datetime
) -> None:
    """Record every cell and row fault of ``typed_<kind>`` in ``faults``."""
    con.execute(FAULTS_DDL)
    checks = _row_checks(kind, view_through, now) + _mixed_offset_checks(kind)
    insert_faults(con, kind, file, order, checks, f"typed_{kind.name}", 0)
    col, cond, reason, source = _duplicate_key_check(kind)
    insert_faults(con, kind, file, order, [(col, cond, reason)], source, 100)
