"""Reading user tables (CSV or Parquet) and parsing their cells, so every input problem names file, row and column.

Rows are numbered 1-based from the first data row (the header is not counted) and blank CSV lines keep their
number, so the row in an error message is the row a user finds in their spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.errors import BadInputError
from ml.io.tables import PARQUET_SUFFIXES, read_csv_cells, text_cells
from ml.quality.plausibility import MAX_AMOUNT, printable

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def read_table(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """The file's rows with canonical lower-case column names; the index is the 1-based data row number."""
    if not path.is_file():
        raise BadInputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise BadInputError(f"{path}: empty file")
    raw = _read_parquet(path) if path.name.lower().endswith(PARQUET_SUFFIXES) else _read_csv(path)
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


def _read_csv(path: Path) -> pd.DataFrame:
    """All cells as text, rows labelled 1.. as numbered in the file (header excluded), blank lines dropped."""
    frame = read_csv_cells(path)
    refuse_shifted_rows(path, frame)
    frame.index = frame.index + 1
    return frame


def refuse_shifted_rows(path: Path, frame: pd.DataFrame) -> None:
    """Rows one cell longer than the header make pandas take the first column as the index, shifting every cell
    one column left (a history without a spend header would read dates as campaign ids): refuse that file."""
    if isinstance(frame.index, pd.RangeIndex) or pd.api.types.is_integer_dtype(frame.index):
        return
    width = len(frame.columns) + frame.index.nlevels
    raise BadInputError(
        f"{path}: row 1, column {width} (no header): the row has {width} cells, the header {len(frame.columns)}"
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    """Typed columns as stored, rows numbered from 1 like CSV data rows."""
    try:
        frame = pd.read_parquet(path).reset_index(drop=True)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a corrupt file; all mean bad input
        raise BadInputError(f"{path}: cannot read as Parquet ({str(exc).strip().splitlines()[0]})") from exc
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


_text = text_cells


def parse_numbers(
    values: pd.Series, what: str, *, allow_empty: bool = False, allow_inf: bool = False, positive: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Floats (NaN where empty and allowed) and a problem label per row ('' = fine)."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        number = values.astype(float).to_numpy()
        empty = np.isnan(number)
    else:
        text, empty = _text(values)
        number = pd.to_numeric(text.mask(empty), errors="coerce").astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        problem[(number <= 0) if positive else (number < 0)] = f"{what} must be {'> 0' if positive else '>= 0'}"
    with np.errstate(invalid="ignore"):  # the bound ingest shares: 1e308 parses, then breaks the curve fits
        too_large = np.isfinite(number) & (number > MAX_AMOUNT)
    problem[too_large] = f"{what} is implausibly large (at most {MAX_AMOUNT:,.0f})"
    if not allow_inf:
        problem[np.isinf(number)] = f"{what} is not finite"
    problem[np.isnan(number) & ~empty] = f"{what} is not a number"
    if not allow_empty:
        problem[empty] = f"missing {what}"
    return number, problem


def parse_flags(values: pd.Series, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Booleans as floats (1, 0, NaN where empty) from true/false, yes/no or 1/0, and a problem label per row."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float).to_numpy(), problem
    text, empty = _text(values)
    lower = text.str.lower().fillna("")
    flag = np.where(lower.isin(_TRUE), 1.0, np.where(lower.isin(_FALSE), 0.0, np.nan))
    problem[np.isnan(flag) & ~empty] = f"{what} must be true or false"
    return flag, problem


def parse_ids(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Campaign ids as stripped strings (ids are labels, so 7 and '7' are the same campaign)."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_float_dtype(values) and np.all(np.mod(values.dropna(), 1) == 0):
        values = values.astype("Int64")  # 7.0 read from Parquet is campaign 7
    text, empty = _text(values)
    problem[empty] = "missing campaign id"
    return text.fillna("").to_numpy(dtype=object), problem


def raise_first(path: Path, frame: pd.DataFrame, problems: Sequence[tuple[str, np.ndarray]]) -> None:
    """Raise for the earliest row with a problem (ties go to the first listed column), quoting the cell."""
    found = [
        (int(np.argmax(labels != "")), order) for order, (_, labels) in enumerate(problems) if (labels != "").any()
    ]
    if not found:
        return
    position, order = min(found)
    column, labels = problems[order]
    cell = frame[column].iloc[position] if column in frame else None
    raise BadInputError(f"{path}: row {frame.index[position]}, column {column}: {labels[position]}{show(cell)}")


def show(value: object) -> str:
    """The offending cell, quoted and shortened, for an error line; nothing for empty cells."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) or str(value).strip() == "":
        return ""
    text = str(value)
    return ": " + repr(text if len(text) <= 40 else text[:37] + "...")
