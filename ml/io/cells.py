"""Parsing the cells of a user table into numbers, flags, ids and times, with one problem label per row.

Every parser returns the parsed column and a label array ('' = fine), so a file is checked over all rows at once
and `raise_first` reports the earliest bad cell as "file: row N, column C: problem: 'cell'". The boolean words
are defined here once: `pmi ingest` builds its SQL from the same tuples `pmi allocate` parses with.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.errors import BadInputError
from ml.quality.plausibility import MAX_AMOUNT

TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0")


def cell_error(path: Path, message: str, row: int | None = None, column: object = None) -> BadInputError:
    """The one-line "file: row N, column C: problem" error every reader raises (row and column where known)."""
    where = ", ".join(part for part in (_part("row", row), _part("column", column)) if part)
    return BadInputError(f"{path}: {where}: {message}" if where else f"{path}: {message}")


def _part(name: str, value: object) -> str:
    return "" if value is None else f"{name} {value}"


def text_cells(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cells as stripped strings and a mask of empty ones (None, NaN or blank)."""
    text = values.astype("string").str.strip()
    return text, (values.isna().to_numpy() | (text == "").fillna(True).to_numpy())


def parse_numbers(
    values: pd.Series, what: str, *, allow_empty: bool = False, allow_inf: bool = False, positive: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Floats (NaN where empty and allowed) and a problem label per row ('' = fine)."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        number = values.astype(float).to_numpy()
        empty = np.isnan(number)
    else:
        text, empty = text_cells(values)
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
    text, empty = text_cells(values)
    lower = text.str.lower().fillna("")
    flag = np.where(lower.isin(TRUE_WORDS), 1.0, np.where(lower.isin(FALSE_WORDS), 0.0, np.nan))
    problem[np.isnan(flag) & ~empty] = f"{what} must be true or false"
    return flag, problem


def parse_ids(values: pd.Series, what: str = "campaign id") -> tuple[np.ndarray, np.ndarray]:
    """Ids as stripped strings (ids are labels, so 7 and '7' are the same campaign or customer)."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_float_dtype(values) and np.all(np.mod(values.dropna(), 1) == 0):
        values = values.astype("Int64")  # 7.0 read from Parquet is id 7
    text, empty = text_cells(values)
    problem[empty] = f"missing {what}"
    return text.fillna("").to_numpy(dtype=object), problem


def parse_timestamps(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps (UTC, naive; ISO dates or times, or YYYYMMDD) and a problem label per row."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_convert("UTC").dt.tz_localize(None) if values.dt.tz is not None else values
        missing = parsed.isna().to_numpy()
    else:
        text, missing = text_cells(values)
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        compact = text.str.fullmatch(r"\d{8}").fillna(False).to_numpy()
        if compact.any():
            parsed[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
        rest = ~compact & ~missing
        if rest.any():
            parsed[rest] = pd.to_datetime(text[rest], format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    parsed = pd.to_datetime(parsed)
    problem[parsed.isna().to_numpy()] = "unparsable date (expected an ISO date or timestamp)"
    problem[missing] = "missing date"
    return parsed.to_numpy(), problem


def raise_first(path: Path, frame: pd.DataFrame, problems: Sequence[tuple[str, np.ndarray]]) -> None:
    """Raise for the earliest row with a problem (ties go to the first listed column), quoting the cell.

    ``frame``'s index is the 1-based data row number the readers in ml/io/tables.py give every table.
    """
    found = [
        (int(np.argmax(labels != "")), order) for order, (_, labels) in enumerate(problems) if (labels != "").any()
    ]
    if not found:
        return
    position, order = min(found)
    column, labels = problems[order]
    cell = frame[column].iloc[position] if column in frame else None
    raise cell_error(path, f"{labels[position]}{show(cell)}", frame.index[position], column)


def show(value: object) -> str:
    """The offending cell, quoted and shortened, for an error line; nothing for empty cells."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) or str(value).strip() == "":
        return ""
    text = str(value)
    return ": " + repr(text if len(text) <= 40 else text[:37] + "...")
