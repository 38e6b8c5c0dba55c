"""How `pmi ltv` reads a transaction log that is not a plain comma-separated contract file.

A `--mapping` YAML (or the `--separator` / `--date-format` flags for the common case) says which of the user's
columns are customer_id, date and amount, how cells are separated, how dates are written and whether there is a
header line, so files like CDNOW_master.txt (whitespace-separated, YYYYMMDD dates) load without editing:

```yaml
columns: {customer_id: customer_id, date: date, amount: dollar_value}   # ltv column: column in your file
separator: whitespace        # whitespace, or one character: ",", ";", "\\t", "|", ...
date_format: "%Y%m%d"        # strptime directives; default: ISO dates/timestamps or YYYYMMDD
header: true                 # false: the file has no header line; then names: [...] names its columns
```

The mapping is untrusted input, read by the loader `pmi ingest` shares (ml/io/yaml_safe.py): safe_load only, at
most 64 KB, no anchors or aliases (no alias bombs), no key twice; every mistake is one BadInputError line naming
the file and the key or column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.cells import text_cells
from ml.io.errors import BadInputError
from ml.io.tables import read_cells
from ml.io.yaml_safe import YamlRefused, load_small_yaml
from ml.quality.plausibility import printable

TRANSACTION_COLUMNS = ("customer_id", "date", "amount")
WHITESPACE = "whitespace"
_KEYS = ("columns", "separator", "date_format", "header", "names")
_FORBIDDEN_SEPARATORS = {'"', "\n", "\r"}
_TAB_SPELLINGS = {"tab", "\\t"}
_YEAR = re.compile(r"%[Yy]")
_DAY = re.compile(r"%[mbBj]")


@dataclass(frozen=True)
class TransactionFormat:
    """How to read one transaction file; ``where`` names the mapping file (or flag) in error lines."""

    columns: dict[str, str]
    separator: str = ","
    date_format: str | None = None
    header: bool = True
    names: tuple[str, ...] = ()
    where: str = ""


PLAIN = TransactionFormat(columns={})


def check_separator(value: object, where: str) -> str:
    """'whitespace' (any run of spaces/tabs), 'tab' or '\\t', or exactly one character that can separate cells."""
    if isinstance(value, str) and value.lower() in _TAB_SPELLINGS:  # a tab is hard to type on a command line
        return "\t"
    if isinstance(value, str) and (
        value.lower() == WHITESPACE or (len(value) == 1 and value not in _FORBIDDEN_SEPARATORS)
    ):
        return WHITESPACE if value.lower() == WHITESPACE else value
    raise BadInputError(f'{where}: expected "whitespace" or one character (",", ";", "\\t", ...), got {value!r}')


def check_date_format(value: object, where: str) -> str:
    """A strptime format that round-trips a date and names at least a year and a month or day of year."""
    if not isinstance(value, str) or "%" not in value:
        raise BadInputError(f'{where}: expected a date format with % directives such as "%Y%m%d", got {value!r}')
    probe = datetime(2001, 11, 23, 13, 45, 56)
    try:
        datetime.strptime(probe.strftime(value), value)
    except ValueError as exc:
        raise BadInputError(f"{where}: {value!r} is not a usable date format ({exc})") from exc
    if not _YEAR.search(value) or not _DAY.search(value):
        raise BadInputError(f"{where}: {value!r} needs a year (%Y or %y) and a month or day of year (%m, %b, %j)")
    return value


def _read_document(path: Path) -> object:
    """The mapping through the safe loader `pmi ingest --mapping` shares (ml/io/yaml_safe.py)."""
    try:
        return load_small_yaml(path)
    except YamlRefused as exc:
        raise BadInputError(printable(str(exc))) from exc


def _column_name(path: Path, where: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise BadInputError(f"{path}: {where}: expected a column name, got {value!r}")
    return str(value).strip()


def _columns(path: Path, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInputError(
            f"{path}: columns: expected ltv column: column in your file ({', '.join(TRANSACTION_COLUMNS)})"
        )
    columns: dict[str, str] = {}
    for key, source in value.items():
        if key not in TRANSACTION_COLUMNS:
            raise BadInputError(
                f"{path}: columns.{key}: not a transaction column (expected {', '.join(TRANSACTION_COLUMNS)})"
            )
        name = _column_name(path, f"columns.{key}", source)
        taken = [k for k, v in columns.items() if v.lower() == name.lower()]
        if taken:
            raise BadInputError(f"{path}: columns.{key}: column {name!r} is already columns.{taken[0]}")
        columns[key] = name
    return columns


def load_mapping(path: Path) -> TransactionFormat:
    """Parse and check a `--mapping` file; any mistake is one line naming the file and the key."""
    document = _read_document(path)
    if not isinstance(document, dict):
        raise BadInputError(f"{path}: expected a mapping with keys {', '.join(_KEYS)}")
    unknown = [str(k) for k in document if k not in _KEYS]
    if unknown:
        raise BadInputError(f"{path}: {unknown[0]}: unknown key (expected one of {', '.join(_KEYS)})")
    header = document.get("header", True)
    if not isinstance(header, bool):
        raise BadInputError(f"{path}: header: expected true or false, got {header!r}")
    names = document.get("names")
    if header and names is not None:
        raise BadInputError(f"{path}: names: only with header: false (the file's header names its columns)")
    if not header:
        if not isinstance(names, list) or not names:
            raise BadInputError(f"{path}: names: header: false needs names: [...], one per column of the file")
        names = [_column_name(path, f"names[{i}]", n) for i, n in enumerate(names)]
        if len({n.lower() for n in names}) < len(names):
            raise BadInputError(f"{path}: names: a column name appears twice")
    date_format = document.get("date_format")
    return TransactionFormat(
        columns=_columns(path, document.get("columns")),
        separator=check_separator(document.get("separator", ","), f"{path}: separator"),
        date_format=None if date_format is None else check_date_format(date_format, f"{path}: date_format"),
        header=header, names=tuple(names or ()), where=str(path),
    )  # fmt: skip


def resolve_format(mapping: Path | None, separator: str | None, date_format: str | None) -> TransactionFormat:
    """The mapping file's settings with the plain flags on top (a flag given on the command line wins)."""
    fmt = load_mapping(mapping) if mapping is not None else PLAIN
    if separator is not None:
        fmt = replace(fmt, separator=check_separator(separator, "--separator"))
    if date_format is not None:
        fmt = replace(fmt, date_format=check_date_format(date_format, "--date-format"))
    return fmt


def read_delimited(path: Path, fmt: TransactionFormat) -> pd.DataFrame:
    """All cells as text with the format's separator and header (ml/io/tables.py's reader); index = 1-based row."""
    separator = r"\s+" if fmt.separator == WHITESPACE else fmt.separator
    required = () if fmt.columns else TRANSACTION_COLUMNS  # named in an error when rows outgrow the header
    return read_cells(path, separator=separator, names=None if fmt.header else fmt.names, required=required)


def select_columns(raw: pd.DataFrame, path: Path, fmt: TransactionFormat) -> pd.DataFrame:
    """customer_id, date, amount from the file's columns (mapped ones by their source name, case-insensitive)."""
    names = {str(c).strip().lower(): c for c in raw.columns}
    found = f"(columns found: {', '.join(str(c).strip() for c in raw.columns) or 'none'})" + _separator_hint(raw)
    picked = []
    for column in TRANSACTION_COLUMNS:
        source = fmt.columns.get(column, column)
        if source.lower() in names:
            picked.append(names[source.lower()])
        elif column in fmt.columns:
            raise BadInputError(f"{fmt.where}: columns.{column}: column {source!r} not in {path} {found}")
        elif fmt.where:
            raise BadInputError(f"{fmt.where}: columns.{column}: not mapped, and {path} has no {column} column {found}")
        else:
            raise BadInputError(f"{path}: column {column}: missing {found}")
    return raw[picked].set_axis(list(TRANSACTION_COLUMNS), axis=1)


def _separator_hint(raw: pd.DataFrame) -> str:
    """One column whose name holds spaces, ';', tabs or '|' usually means the file is not comma-separated."""
    if len(raw.columns) == 1 and re.search(r"[\s;|]", str(raw.columns[0]).strip()):
        return "; the file does not look comma-separated: set --separator or the mapping's separator"
    return ""


def parse_formatted_dates(values: pd.Series, date_format: str) -> tuple[np.ndarray, np.ndarray]:
    """Days parsed with an explicit format (offsets converted to UTC) and a problem label per row ('' = ok)."""
    problem = np.full(len(values), "", dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values):  # Parquet dates are already typed: the format is moot
        parsed = values.dt.tz_convert("UTC").dt.tz_localize(None) if values.dt.tz is not None else values
        missing = parsed.isna().to_numpy()
    else:
        text, missing = text_cells(values)
        parsed = pd.to_datetime(text.mask(missing), format=date_format, errors="coerce", utc=True)
        parsed = parsed.dt.tz_localize(None)
    problem[parsed.isna().to_numpy()] = f"does not match the date format {date_format!r}"
    problem[missing] = "missing date"
    return pd.to_datetime(parsed).dt.normalize().to_numpy(), problem
