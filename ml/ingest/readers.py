"""Copying a user's CSV or Parquet file into a staging table as text, so every later check runs in SQL.

The file is streamed by DuckDB (bounded memory); only the header line (at most 1 MB) and a small sample are read
in Python, to name faults DuckDB's own messages would leave vague (encoding, delimiter, duplicate or missing header
names), before any staging database exists.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from pathlib import Path

import duckdb

from ml.io.errors import BadInputError
from ml.quality.plausibility import CONTROL_CHARACTERS, MAX_TEXT_CHARS, printable

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
BOM = b"\xef\xbb\xbf"
_SAMPLE_BYTES = 1 << 16
MAX_COLUMNS = 1024
MAX_HEADER_BYTES = 1 << 20  # MAX_COLUMNS names of MAX_TEXT_CHARS: a longer first line is not a header
_CONTROL = re.compile(CONTROL_CHARACTERS)
_LINE_END = re.compile(rb"\r\n|\n|\r")
_QUOTED_NUMBER = re.compile(rb'(?:^|,)"[+-]?\d+(?:\.\d+)?"(?=,|\r?$)', re.MULTILINE)
_CSV_LINE = re.compile(r"Line: (\d+)")
_COLUMN_COUNT = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def file_format(path: Path) -> str:
    """'csv' or 'parquet' by the file name's ending; anything else is refused."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise BadInputError(f"{path}: unsupported file type (expected .csv, .csv.gz or .parquet)")


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


def check_readable(path: Path) -> None:
    """The path names a regular file (not a directory, not missing)."""
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    if not path.is_file():
        raise BadInputError(f"{path}: not a file")


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
    if file_format(path) == "parquet":
        check_readable(path)
        return None
    return csv_header(path, warnings)


def _locate_bad_bytes(path: Path, line_no: int, names: list[str]) -> str:
    """The row and column holding the first non-UTF-8 bytes on a line DuckDB refused (streamed, line by line)."""
    with _open(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if number == line_no:
                try:
                    fields = next(csv.reader([raw.decode("latin-1")]))
                except csv.Error:  # a cell past the csv module's field limit: name the row only
                    break
                for name, value in zip(names, fields, strict=False):
                    try:
                        value.encode("latin-1").decode("utf-8")
                    except UnicodeDecodeError:
                        return (
                            f"row {line_no - 1}, column {name}: not UTF-8 text ({printable(repr(value[:40]))}); "
                            "save the file as UTF-8"
                        )
                break
    return f"row {line_no - 1}: not UTF-8 text; save the file as UTF-8"


def _csv_error(path: Path, message: str, names: list[str]) -> BadInputError:
    line = _CSV_LINE.search(message)
    row = int(line.group(1)) - 1 if line else None
    where = f"row {row}" if row is not None else "row ?"
    if "Invalid unicode" in message and line:
        return BadInputError(f"{path}: {_locate_bad_bytes(path, int(line.group(1)), names)}")
    counts = _COLUMN_COUNT.search(message)
    if counts:
        expected, found = int(counts.group(1)), int(counts.group(2))
        column = names[found] if found < expected else f"{expected + 1} (no header)"
        return BadInputError(f"{path}: {where}, column {column}: the row has {found} cells, the header {expected}")
    if "unterminated quote" in message:
        return BadInputError(f"{path}: {where}: a quoted cell is never closed")
    lines = message.splitlines() or [""]
    detail = printable(lines[1 if line and len(lines) > 1 else 0][:120])
    return BadInputError(f"{path}: {where}: malformed CSV ({detail})")


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
        columns = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
        try:
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, delim=',', quote='\"', escape='\"', "
                f"header=false, skip=1, columns={columns}, auto_detect=false, strict_mode=true)",
                [str(path)],
            )
        except duckdb.Error as exc:
            raise _csv_error(path, str(exc), names) from exc
    if con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 0:
        raise BadInputError(f"{path}: no data rows (header only)")
    return names
