"""Every quality rule as DuckDB SQL over the whole table, so the Great Expectations run can work on a bounded frame.

Memory: one streaming scan per table (a count per rule), one GROUP BY per key rule (DuckDB spills it past its memory
limit), and at most ``max_rows`` failing rows per failed rule; nothing here grows a pandas frame with the table.
The SQL mirrors the GX semantics of pandas frames: missing values (NULL, and NaN in floating columns) are skipped by
range, set, regex and length rules and by pair rules that ignore rows with a missing value; ``mostly`` is the share
of non-missing values that must pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import great_expectations.expectations as gxe
import pandas as pd

from ml.io.sql_text import sql_identifier, sql_literal
from ml.quality.rules import EPOCH_SUFFIX

UNIQUE_RULES = (gxe.ExpectColumnValuesToBeUnique, gxe.ExpectCompoundColumnsToBeUnique)
TABLE_RULES = (gxe.ExpectTableRowCountToBeBetween, gxe.ExpectColumnMaxToBeBetween)


@dataclass(frozen=True)
class RuleCount:
    """What one rule found on the whole table: failing rows, rows it judged, and a table-level observation."""

    failing: int
    judged: int
    success: bool
    observed: str = ""


def value_sql(column: str) -> str:
    """The SQL value of a frame column: ``<c>_epoch_s`` columns are added by the runner as epoch seconds of ``c``."""
    if column.endswith(EPOCH_SUFFIX):
        return f"epoch({sql_identifier(column.removesuffix(EPOCH_SUFFIX))})"
    return sql_identifier(column)


def missing_sql(column: str, types: dict[str, str]) -> str:
    base = column.removesuffix(EPOCH_SUFFIX)
    floating = types.get(base, "") in ("DOUBLE", "FLOAT", "REAL")
    return f"({sql_identifier(base)} IS NULL" + (f" OR isnan({sql_identifier(base)}))" if floating else ")")


def _range_sql(value: str, low, high, strict_low: bool = False, strict_high: bool = False) -> str:
    parts = []
    if low is not None:
        parts.append(f"{value} {'<=' if strict_low else '<'} {float(low)!r}")
    if high is not None:
        parts.append(f"{value} {'>=' if strict_high else '>'} {float(high)!r}")
    return " OR ".join(parts) or "false"


def failing_sql(e: gxe.Expectation, types: dict[str, str]) -> str:
    """A predicate true exactly on the rows a row-level expectation counts as unexpected."""
    if isinstance(e, gxe.ExpectColumnValuesToNotBeNull):
        return missing_sql(e.column, types)
    if isinstance(e, gxe.ExpectColumnPairValuesAToBeGreaterThanB):
        if e.ignore_row_if != "either_value_is_missing":
            raise ValueError(f"{e.description}: only pair rules that ignore missing values have SQL")
        a, b = value_sql(e.column_A), value_sql(e.column_B)
        skip = f"{missing_sql(e.column_A, types)} OR {missing_sql(e.column_B, types)}"
        return f"(NOT ({skip}) AND {a} {'<' if e.or_equal else '<='} {b})"
    present = f"NOT {missing_sql(e.column, types)}"
    value = value_sql(e.column)
    if isinstance(e, gxe.ExpectColumnValuesToBeBetween):
        bad = _range_sql(value, e.min_value, e.max_value, bool(e.strict_min), bool(e.strict_max))
    elif isinstance(e, gxe.ExpectColumnValuesToBeInSet):
        bad = f"{value}::VARCHAR NOT IN ({', '.join(sql_literal(v) for v in e.value_set)})"
    elif isinstance(e, gxe.ExpectColumnValuesToNotMatchRegex):
        bad = f"regexp_matches({value}, {sql_literal(e.regex)})"
    elif isinstance(e, gxe.ExpectColumnValueLengthsToBeBetween):
        bad = _range_sql(f"length({value})", e.min_value, e.max_value)
    else:
        raise ValueError(f"{type(e).__name__} ({e.description}) has no full-table SQL: add it to {__name__}")
    return f"({present} AND ({bad}))"


def _key_columns(e: gxe.Expectation) -> list[str]:
    return [e.column] if isinstance(e, gxe.ExpectColumnValuesToBeUnique) else list(e.column_list)


def duplicates_sql(e: gxe.Expectation, source: str, limit: int | None = None) -> str:
    """Key values held by more than one row (rows whose keys are all missing are skipped, as GX does)."""
    keys = ", ".join(sql_identifier(c) for c in _key_columns(e))
    present = " OR ".join(f"{sql_identifier(c)} IS NOT NULL" for c in _key_columns(e))
    tail = f" LIMIT {limit}" if limit is not None else ""
    return (
        f"SELECT {keys}, count(*) AS n FROM ({source}) WHERE {present} GROUP BY ALL HAVING count(*) > 1"
        f" ORDER BY ALL{tail}"
    )


def column_types(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE ({source})").fetchall()}


def _passes(failing: int, judged: int, mostly: float | None) -> bool:
    if not failing:
        return True
    return mostly is not None and mostly < 1 and (judged - failing) / judged >= mostly


def count_rules(con: duckdb.DuckDBPyConnection, source: str, expectations: list[gxe.Expectation]) -> list[RuleCount]:
    """Each expectation's outcome on the whole table, in order: one scan for the row and table rules, a GROUP BY
    per key rule."""
    types = column_types(con, source)
    selects = ["count(*)"]
    for e in expectations:
        if isinstance(e, gxe.ExpectColumnMaxToBeBetween):
            selects.append(f"max({value_sql(e.column)})")
        elif not isinstance(e, UNIQUE_RULES + TABLE_RULES):
            column = getattr(e, "column", None)
            judged = f"count_if(NOT {missing_sql(column, types)})" if column else "count(*)"
            selects.append(f"count_if(coalesce({failing_sql(e, types)}, false))")
            selects.append(judged)
    row = list(con.execute(f"SELECT {', '.join(selects)} FROM ({source})").fetchone())
    total, values = int(row[0]), iter(row[1:])
    counts = []
    for e in expectations:
        if isinstance(e, gxe.ExpectTableRowCountToBeBetween):
            ok = (e.min_value is None or total >= e.min_value) and (e.max_value is None or total <= e.max_value)
            counts.append(RuleCount(0 if ok else 1, total, ok, str(total)))
        elif isinstance(e, gxe.ExpectColumnMaxToBeBetween):
            newest = next(values)
            ok = (
                newest is not None
                and (e.min_value is None or newest >= e.min_value)
                and (e.max_value is None or newest <= e.max_value)
            )
            counts.append(RuleCount(0 if ok else 1, total, ok, str(pd.Timestamp(newest)) if newest else "None"))
        elif isinstance(e, UNIQUE_RULES):
            failing = int(con.execute(f"SELECT coalesce(sum(n), 0) FROM ({duplicates_sql(e, source)})").fetchone()[0])
            counts.append(RuleCount(failing, total, failing == 0))
        else:
            failing, judged = int(next(values) or 0), int(next(values) or 0)
            counts.append(RuleCount(failing, total, _passes(failing, judged, e.mostly)))
    return counts


def failing_rows(con: duckdb.DuckDBPyConnection, source: str, e: gxe.Expectation, max_rows: int) -> pd.DataFrame:
    """The first failing rows of one failed rule (for a key rule: every row of its first duplicated keys)."""
    if isinstance(e, TABLE_RULES):
        return pd.DataFrame()
    if isinstance(e, UNIQUE_RULES):
        on = " AND ".join(f"s.{sql_identifier(c)} IS NOT DISTINCT FROM d.{sql_identifier(c)}" for c in _key_columns(e))
        return con.execute(f"SELECT s.* FROM ({source}) s JOIN ({duplicates_sql(e, source, max_rows)}) d ON {on}").df()
    predicate = failing_sql(e, column_types(con, source))
    return con.execute(f"SELECT * FROM ({source}) WHERE coalesce({predicate}, false) LIMIT {max_rows}").df()


def fetched_sql(e: gxe.Expectation, source: str, types: dict[str, str], max_rows: int) -> str:
    """A predicate on alias ``s`` true on the rows ``failing_rows`` may return for a failed rule."""
    if isinstance(e, UNIQUE_RULES):
        on = " AND ".join(f"s.{sql_identifier(c)} IS NOT DISTINCT FROM d.{sql_identifier(c)}" for c in _key_columns(e))
        return f"EXISTS (SELECT 1 FROM ({duplicates_sql(e, source, max_rows)}) d WHERE {on})"
    return f"coalesce({failing_sql(e, types)}, false)"


def sample_rows(con: duckdb.DuckDBPyConnection, source: str, rows: int, exclude: list[str]) -> pd.DataFrame:
    """A reservoir sample (repeatable) of the rows not already fetched as failing rows (``exclude``: predicates on
    alias ``s``), so no row is validated twice."""
    where = f" WHERE NOT ({' OR '.join(exclude)})" if exclude else ""
    return con.execute(
        f"SELECT * FROM (SELECT s.* FROM ({source}) s{where}) USING SAMPLE reservoir({rows} ROWS) REPEATABLE (7)"
    ).df()
