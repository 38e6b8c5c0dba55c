"""Reading user tables strictly (every cell as text, rows numbered as in the file), shared by every file reader."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.errors import BadInputError

PARQUET_SUFFIXES = (".parquet", ".pq")


def read_csv_cells(path: Path) -> pd.DataFrame:
    """All cells as text (nothing silently coerced); index = 0-based data row in the file, blank lines dropped."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError as exc:
        raise BadInputError(f"{path}: empty file") from exc
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f"row {int(line.group(1)) - 1}: " if line else ""
        raise BadInputError(f"{path}: {where}malformed CSV ({str(exc).strip().splitlines()[-1]})") from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    # Blank lines are kept by the reader so row numbers match the file; drop them now without renumbering.
    blank = frame.apply(lambda col: col.isna() | (col.astype("string").str.strip() == "")).all(axis=1)
    return frame[~blank.to_numpy()]


def text_cells(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Cells as stripped strings and a mask of empty ones (None, NaN or blank)."""
    text = values.astype("string").str.strip()
    return text, (values.isna().to_numpy() | (text == "").fillna(True).to_numpy())


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
