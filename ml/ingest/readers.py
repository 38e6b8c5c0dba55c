"""Copying a user's CSV or Parquet file into a staging table as text, so every later check runs in SQL.

The file is streamed by DuckDB (bounded memory); only the header line and a small sample are read in Python, to
name faults DuckDB's own messages would leave vague (encoding, delimiter, duplicate or missing header names).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from pathlib import Path

import duckdb

from ml.cli.errors import BadInputError

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
BOM = b"\xef\xbb\xbf"
_SAMPLE_BYTES = 1 << 16
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
        raise BadInputError(f"{path}: {where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                            f"{exc.start}); save the file as UTF-8") from exc


def csv_header(path: Path, warnings: list[str]) -> list[str]:
    """Column names of a comma-separated UTF-8 file; oddities that are harmless become warnings."""
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    with _open(path) as fh:
        first = fh.readline()
        sample = first + fh.read(_SAMPLE_BYTES)
    if not sample.strip():
        raise BadInputError(f"{path}: empty file")
    body = sample[len(first):]
    if first.startswith(BOM):
        warnings.append(f"{path}: starts with a UTF-8 byte-order mark (ignored)")
        first = first[len(BOM):]
    names = [n.strip() for n in next(csv.reader(io.StringIO(_decode(path, first, 0))))]
    if len(names) == 1 and ";" in names[0]:
        raise BadInputError(f"{path}: column {names[0][:60]}: the header is separated by semicolons; "
                            "pmi reads comma-separated CSV")
    for position, name in enumerate(names, start=1):
        if not name:
            raise BadInputError(f"{path}: column {position}: the header has no name for this column")
        if names.index(name) != position - 1:
            raise BadInputError(f"{path}: column {name}: appears twice in the header")
    if _QUOTED_NUMBER.search(body):
        warnings.append(f"{path}: numbers in quotes (read as numbers)")
    return names


def _locate_bad_bytes(path: Path, line_no: int, names: list[str]) -> str:
    """The row and column holding the first non-UTF-8 bytes on a line DuckDB refused (streamed, line by line)."""
    with _open(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if number == line_no:
                fields = next(csv.reader([raw.decode("latin-1")]))
                for name, value in zip(names, fields, strict=False):
                    try:
                        value.encode("latin-1").decode("utf-8")
                    except UnicodeDecodeError:
                        return f"row {line_no - 1}, column {name}: not UTF-8 text ({value!r}); save the file as UTF-8"
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
    return BadInputError(f"{path}: {where}: malformed CSV ({message.splitlines()[1 if line else 0][:120]})")


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, table: str, warnings: list[str]) -> list[str]:
    """Copy the file into ``table`` (text cells, ``rowid`` = data row - 1); returns the file's column names."""
    if file_format(path) == "parquet":
        if not path.exists():
            raise BadInputError(f"{path}: no such file")
        try:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
        except duckdb.Error as exc:
            raise BadInputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0][:120]})") from exc
        names = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    else:
        names = csv_header(path, warnings)
        columns = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
        try:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, delim=',', quote='\"', escape='\"', "
                        f"header=false, skip=1, columns={columns}, auto_detect=false, strict_mode=true)", [str(path)])
        except duckdb.Error as exc:
            raise _csv_error(path, str(exc), names) from exc
    if con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 0:
        raise BadInputError(f"{path}: no data rows (header only)")
    return names
