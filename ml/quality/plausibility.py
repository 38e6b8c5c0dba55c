"""The plausibility bounds of the raw contract, in one place: `pmi ingest` refuses what they exclude, in DuckDB SQL,
and the raw Great Expectations gate (ml/quality/suites.py) checks the same bounds, so a file ingest accepts is
never stopped by the gate afterwards.

No Great Expectations import here: ingest reads these bounds and must stay quick to start.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ml.warehouse.raw_schema import RAW_TABLES

# Times: no ad network, app store or market feed pmi reads has data before 2000; earlier dates are defaults such as
# 0001-01-01 or 1900-01-01 left by an export. The upper bound is "now", checked where "now" is known.
EARLIEST_TS = dt.datetime(2000, 1, 1)
# Money (account currency) and counts per row. DECIMAL(18,2) could hold 1e16; no real hourly or daily row comes
# near a trillion even in currencies like IDR or KRW, so above it a value is a unit or parsing mistake (1e308...).
MAX_AMOUNT = 1e12
MAX_COUNT = 1e12
# Market indices are multiplicative ratios around 1 (the simulator's stay within 0.2-5): strictly positive, and
# at most 1000 so that a 100-based index still loads; outside 0.2-5 the gate warns (ml/quality/suites.py).
MAX_INDEX = 1000.0
# Identifiers and names: printable (no C0/C1 control characters, so no NUL, tab or line break) and bounded.
MAX_ID_CHARS = 256
MAX_TEXT_CHARS = 1024
# The same pattern is read by DuckDB (RE2) and Python's re: both take \xHH escapes.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"
_CONTROL = re.compile(CONTROL_CHARACTERS)


@dataclass(frozen=True)
class NumberBounds:
    """Finite values in [low, high] (``low`` excluded when ``strict_low``); what the bound says to a user."""

    low: float
    high: float
    strict_low: bool
    meaning: str


# Value kinds of the ingest specs (ml/ingest/specs.py) -> bounds; the gate maps DuckDB types to the same objects.
NUMBER_BOUNDS: dict[str, NumberBounds] = {
    "money": NumberBounds(0.0, MAX_AMOUNT, False, f"money is at most {MAX_AMOUNT:,.0f} per row"),
    "count": NumberBounds(0.0, MAX_COUNT, False, f"counts are at most {MAX_COUNT:,.0f} per row"),
    "index": NumberBounds(0.0, MAX_INDEX, True, f"market indices are ratios above 0 and at most {MAX_INDEX:,.0f}"),
}
_TYPE_KINDS = {"DECIMAL(18,2)": "money", "BIGINT": "count", "DOUBLE": "index"}


def label_limit(column: str) -> int:
    """Longest allowed value of a text column: ids are shorter than names."""
    return MAX_ID_CHARS if column.endswith("_id") else MAX_TEXT_CHARS


def number_columns(table: str) -> dict[str, NumberBounds]:
    """Numeric columns of a raw table and their bounds, from the contract's types."""
    return {c: NUMBER_BOUNDS[_TYPE_KINDS[t]] for c, t in RAW_TABLES[table][0].items() if t in _TYPE_KINDS}


def label_columns(table: str) -> list[str]:
    """Text columns of a raw table: each must be printable and within ``label_limit``."""
    return [c for c, t in RAW_TABLES[table][0].items() if t == "VARCHAR"]


def printable(text: str) -> str:
    """``text`` with control characters shown as escapes, so a message built from user text stays one line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
