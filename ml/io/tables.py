"""The one reader of user tables (CSV or Parquet): `pmi ingest`, `pmi allocate` and `pmi ltv` all read through it.

The file suffixes are defined here once. A structurally broken CSV row (too many or too few cells, an unclosed
quote, bytes that are not UTF-8) is located by DuckDB's rejects table (`store_rejects`), which records the line
and column of each bad row, so no reader parses error text. Rows are numbered 1-based from the first data row
(the header is not counted) and blank lines keep their number: the row in an error is the row a user finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from ml.io.cells import cell_error
from ml.io.errors import BadInputError
from ml.io.sql_text import sql_literal
from ml.quality.plausibility import printable

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_SUFFIXES = (".csv", ".csv.gz", *PARQUET_SUFFIXES)  # what pmi writes, and what a drop folder holds
REJECTS_KEPT = 1000  # bad rows DuckDB records per scan (bounded memory); the earliest recorded one is reported


def table_format(path: Path) -> str:
    """'csv' or 'parquet' by the file name's ending; anything else is refused."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise BadInputError(f"{path}: unsupported file type (expected .csv, .csv.gz or .parquet)")


def check_readable(path: Path) -> None:
    """The path names a regular file (not a directory, not missing)."""
    if not path.exists():
        raise BadInputError(f"{path}: file not found")
    if not path.is_file():
        raise BadInputError(f"{path}: not a file")


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    names: Sequence[str],
    *,
    separator: str = ",",
    header: bool = True,
    required: Sequence[str] = (),
) -> None:
    """Copy a CSV file into ``table`` as text cells named ``names`` (``rowid`` = data row - 1, blank lines aside);
    the first structurally bad row raises one line naming file, row and column (and a ``required`` column the
    header lacks, when rows are longer than the header)."""
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    rejects = f"{table}_rejects"
    con.execute(
        f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, delim={sql_literal(separator)}, quote='\"', "
        f"escape='\"', header=false, skip={int(header)}, columns={columns}, auto_detect=false, strict_mode=true, "
        f"store_rejects=true, rejects_table='{rejects}', rejects_scan='{table}_scans', rejects_limit={REJECTS_KEPT})",
        [str(path)],
    )
    first = con.execute(
        f"SELECT line, error_type, max(column_idx), any_value(column_name) FROM {rejects} "
        "GROUP BY line, error_type ORDER BY line LIMIT 1"
    ).fetchone()
    if first is not None:
        line, kind, column_idx, column_name = first
        raise _row_fault(path, int(line) - int(header), kind, column_idx, column_name, list(names), required)


def _row_fault(
    path: Path, row: int, kind: str, column_idx: int, column_name: str | None, names: list[str], required: Sequence
) -> BadInputError:
    """One line for a rejected row, from DuckDB's record of it (error type, column index and name)."""
    expected = len(names)
    if kind == "TOO MANY COLUMNS":  # one record per extra cell; the largest index is the row's length
        header = {n.strip().lower() for n in names}
        lacking = [c for c in required if c not in header]
        hint = f" (no column {lacking[0]} in the header)" if lacking else ""
        message = f"the row has {column_idx} cells, the header {expected}{hint}"
        return cell_error(path, message, row, f"{expected + 1} (no header)")
    if kind == "MISSING COLUMNS":
        return cell_error(path, f"the row has {column_idx} cells, the header {expected}", row, column_name)
    if kind == "UNQUOTED VALUE":
        return cell_error(path, "a quoted cell is never closed", row, column_name)
    if kind == "INVALID ENCODING":
        return cell_error(path, "not UTF-8 text; save the file as UTF-8", row, column_name)
    return cell_error(path, f"malformed CSV ({kind.lower()})", row, column_name)


def read_cells(
    path: Path, *, separator: str = ",", names: Sequence[str] | None = None, required: Sequence[str] = ()
) -> pd.DataFrame:
    """All cells of a CSV file as text (nothing silently coerced); index = 1-based data row, blank lines dropped.

    ``separator`` may be the regular expression ``\\s+`` (runs of whitespace); ``names`` replaces a missing header.
    """
    options: dict[str, object] = {"sep": separator}
    if names is not None:
        options.update(header=None, names=list(names), index_col=False)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, **options)
    except pd.errors.EmptyDataError as exc:
        raise BadInputError(f"{path}: empty file") from exc
    except pd.errors.ParserError as exc:
        raise _locate_row_fault(path, separator, names, required) from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not (isinstance(frame.index, pd.RangeIndex) or pd.api.types.is_integer_dtype(frame.index)):
        # Rows one cell longer than the header: pandas took the first column as the index, shifting every cell.
        raise _locate_row_fault(path, separator, names, required)
    blank = frame.apply(lambda col: col.isna() | (col.astype("string").str.strip() == "")).all(axis=1)
    frame = frame[~blank.to_numpy()]
    frame.index = frame.index + 1
    return frame


def _locate_row_fault(
    path: Path, separator: str, names: Sequence[str] | None, required: Sequence[str]
) -> BadInputError:
    """The first malformed row pandas refused (or silently shifted), located by a DuckDB scan of the file."""
    if len(separator) != 1:  # a regular-expression separator DuckDB cannot scan with
        return BadInputError(f"{path}: malformed rows: not every row splits into the same number of cells")
    header = names is None
    if header:
        try:
            names = [str(c) for c in pd.read_csv(path, sep=separator, dtype=str, nrows=0).columns]
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            return BadInputError(f"{path}: header: not a readable CSV header line ({type(exc).__name__})")
    con = duckdb.connect()
    try:
        stage_csv(con, path, "cells", names, separator=separator, header=header, required=required)
    except BadInputError as exc:
        return exc
    except duckdb.Error as exc:
        return BadInputError(f"{path}: malformed CSV ({printable(str(exc).splitlines()[0][:120])})")
    finally:
        con.close()
    return BadInputError(f"{path}: malformed CSV (rows of different lengths)")


def read_parquet_rows(path: Path) -> pd.DataFrame:
    """Typed columns as stored, rows numbered from 1 like CSV data rows."""
    try:
        frame = pd.read_parquet(path).reset_index(drop=True)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a corrupt file; all mean bad input
        raise BadInputError(f"{path}: cannot read as Parquet ({str(exc).strip().splitlines()[0]})") from exc
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def read_typed_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV or Parquet file with the column types its reader infers, for numeric model inputs (weekly media, lift
    tests) whose own validators check values; a file that cannot be read at all is bad input naming it."""
    path = Path(path)
    check_readable(path)
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        return read_parquet_rows(path).reset_index(drop=True)
    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' parser and empty-data errors are ValueErrors
        raise BadInputError(f"{path}: cannot read the {what}: {str(exc).strip().splitlines()[-1]}") from exc


def read_table(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """The file's rows with canonical lower-case column names; the index is the 1-based data row number."""
    check_readable(path)
    if path.stat().st_size == 0:
        raise BadInputError(f"{path}: empty file")
    is_parquet = path.name.lower().endswith(PARQUET_SUFFIXES)  # any other name is read as CSV
    raw = read_parquet_rows(path) if is_parquet else read_cells(path, required=required)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    duplicated = raw.columns[raw.columns.duplicated()]
    if len(duplicated):
        raise BadInputError(f"{path}: column {printable(duplicated[0])}: appears more than once in the header")
    missing = [c for c in required if c not in raw.columns]
    if missing:
        found = printable(", ".join(raw.columns)) or "none"
        raise BadInputError(f"{path}: column {missing[0]}: missing (columns found: {found})")
    if raw.empty:
        raise BadInputError(f"{path}: header only, no data rows")
    return raw
