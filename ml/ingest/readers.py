"""Copying a user's CSV or Parquet file into a staging table as text, so every later check runs in SQL.

The file is streamed by DuckDB (bounded memory) through ml/io/tables.py, which locates bad rows from DuckDB's
rejects table; only the header line (at most 1 MB) and a small sample are read here in Python, to name header
faults (encoding, delimiter, duplicate or missing names) before any staging database exists.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from pathlib import Path

import duckdb

from ml.io.errors import BadInputError
from ml.io.tables import check_readable, stage_csv, table_format
from ml.quality.plausibility import CONTROL_CHARACTERS, MAX_TEXT_CHARS, printable

BOM = b"\xef\xbb\xbf"
_SAMPLE_BYTES = 1 << 16
MAX_COLUMNS = 1024
MAX_HEADER_BYTES = 1 << 20  # MAX_COLUMNS names of MAX_TEXT_CHARS: a longer first line is not a header
_CONTROL = re.compile(CONTROL_CHARACTERS)
_LINE_END = re.compile(rb"\r\n|\n|\r")
_QUOTED_NUMBER = re.compile(rb'(?:^|,)"[+-]?\d+(?:\.\d+)?"(?=,|\r?$)', re.MULTILINE)


def _open(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _decode(path: Path, raw: bytes, row: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = "header" if row == 0 else f"row {row}"
        raise BadInputError(
            f"{path}: {where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
            f"{exc.start}); save the file as UTF-8"
        ) from exc


def _head(path: Path) -> tuple[bytes, bytes]:
    """The first line (ended by \\n, \\r\\n or a lone \\r) and up to 64 KB after it; read in one bounded chunk, so
    a first line longer than MAX_HEADER_BYTES is returned cut there, however long it really is."""
    try:
        with _open(path) as fh:
            head = fh.read(MAX_HEADER_BYTES + 1 + _SAMPLE_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        what = "a readable gzip file" if path.name.lower().endswith(".gz") else "readable"
        raise BadInputError(
            f"{path}: not {what} ({getattr(exc, 'strerror', None) or exc or type(exc).__name__})"
        ) from exc
    end = _LINE_END.search(head, 0, MAX_HEADER_BYTES + 2)
    if end is None:
        return head[: MAX_HEADER_BYTES + 1], b""
    return head[: end.start()], head[end.end() :]


def _long_header(path: Path, first: bytes) -> BadInputError:
    """A first line past the header bound: too many columns, or one name far too long (a binary file, usually)."""
    cells = first.split(b",")
    if len(cells) > MAX_COLUMNS:
        return BadInputError(f"{path}: header: more than {MAX_COLUMNS:,} columns; pmi reads at most {MAX_COLUMNS:,}")
    position = next(i for i, cell in enumerate(cells, start=1) if len(cell) > MAX_TEXT_CHARS)
    return BadInputError(
        f"{path}: header, column {position}: a column name longer than {MAX_TEXT_CHARS:,} "
        "characters (is the first line a header?)"
    )


def _header_names(path: Path, line: str) -> list[str]:
    try:
        return [n.strip() for n in next(csv.reader([line]), [])]
    except csv.Error as exc:  # a name past the csv module's field limit (131,072 characters)
        long = [i for i, cell in enumerate(line.split(","), start=1) if len(cell) > MAX_TEXT_CHARS]
        if long:
            raise BadInputError(
                f"{path}: header, column {long[0]}: a column name longer than {MAX_TEXT_CHARS:,} characters"
            ) from exc
        raise BadInputError(f"{path}: header: not a readable CSV header line ({exc})") from exc


def _check_names(path: Path, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise BadInputError(f"{path}: header: {len(names):,} columns; pmi reads at most {MAX_COLUMNS:,}")
    if len(names) == 1 and ";" in names[0]:
        raise BadInputError(
            f"{path}: column {printable(names[0][:60])}: the header is separated by semicolons; "
            "pmi reads comma-separated CSV"
        )
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise BadInputError(f"{path}: column {position}: the header has no name for this column")
        if len(name) > MAX_TEXT_CHARS:
            raise BadInputError(
                f"{path}: header, column {position}: a column name longer than {MAX_TEXT_CHARS:,} characters"
            )
        if _CONTROL.search(name):
            raise BadInputError(
                f"{path}: header, column {position}: the name {printable(name[:60])!r} holds a control character"
            )
        if name in seen:
            raise BadInputError(f"{path}: column {name}: appears twice in the header")
        seen.add(name)


def csv_header(path: Path, warnings: list[str]) -> list[str]:
    """Column names of a comma-separated UTF-8 file; oddities that are harmless become warnings."""
    check_readable(path)
    first, body = _head(path)
    if len(first) > MAX_HEADER_BYTES:
        raise _long_header(path, first)
    if not (first + body).strip():
        raise BadInputError(f"{path}: empty file")
    if first.startswith(BOM):
        warnings.append(f"{path}: starts with a UTF-8 byte-order mark (ignored)")
        first = first[len(BOM) :]
    names = _header_names(path, _decode(path, first, 0))
    _check_names(path, names)
    if _QUOTED_NUMBER.search(body):
        warnings.append(f"{path}: numbers in quotes (read as numbers)")
    return names


def read_header(path: Path, warnings: list[str]) -> list[str] | None:
    """File-level checks before any staging: the CSV header's names, or None for Parquet (its schema is read later)."""
    if table_format(path) == "parquet":
        check_readable(path)
        return None
    return csv_header(path, warnings)


def _parquet_names(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> list[str]:
    try:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as exc:
        raise BadInputError(
            f"{path}: not a readable Parquet file ({printable(str(exc).splitlines()[0][:120])})"
        ) from exc
    names = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    _check_names(path, names)
    return names


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, table: str, names: list[str] | None) -> list[str]:
    """Copy the file into ``table`` (text cells, ``rowid`` = data row - 1); returns the file's column names.

    ``names`` is the CSV header `read_header` checked (None for Parquet).
    """
    if names is None:
        names = _parquet_names(con, path, table)
    else:
        try:
            stage_csv(con, path, table, names)
        except duckdb.Error as exc:  # not a row fault (DuckDB records those): the file as a whole is unreadable
            raise BadInputError(f"{path}: malformed CSV ({printable(str(exc).splitlines()[0][:120])})") from exc
    if con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 0:
        raise BadInputError(f"{path}: no data rows (header only)")
    return names
