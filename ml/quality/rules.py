"""Building blocks of the data-quality suites: GX expectations tagged with a domain rule name and a severity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import great_expectations.expectations as gxe

from ml.quality.plausibility import (
    CONTROL_CHARACTERS,
    EARLIEST_TS,
    label_columns,
    label_limit,
    number_columns,
)

ERROR = "critical"  # an invariant is broken: the data must not reach the models
WARNING = "warning"  # the value is merely unusual: say so, keep going
EPOCH_SUFFIX = "_epoch_s"


def rule(name: str, expectation: type[gxe.Expectation], severity: str = ERROR, **kwargs) -> gxe.Expectation:
    """One expectation carrying its rule name in `meta`, so results can be reported in the domain's words."""
    return expectation(**kwargs, severity=severity, description=name, meta={"rule": name}, catch_exceptions=True)


def not_negative(*columns: str) -> list[gxe.Expectation]:
    """Money and counts can never be below zero."""
    return [rule(f"{c}_not_negative", gxe.ExpectColumnValuesToBeBetween, column=c, min_value=0) for c in columns]


def not_null(*columns: str) -> list[gxe.Expectation]:
    """Required values are present."""
    return [rule(f"{c}_not_null", gxe.ExpectColumnValuesToNotBeNull, column=c) for c in columns]


def unique_key(*columns: str) -> list[gxe.Expectation]:
    """A table's key identifies one row (and is never missing)."""
    name = f"key_unique({', '.join(columns)})"
    if len(columns) == 1:
        return [rule(name, gxe.ExpectColumnValuesToBeUnique, column=columns[0]), *not_null(*columns)]
    return [rule(name, gxe.ExpectCompoundColumnsToBeUnique, column_list=list(columns)), *not_null(*columns)]


def at_most(smaller: str, larger: str, severity: str = ERROR, name: str | None = None) -> gxe.Expectation:
    """Row-wise ``smaller <= larger`` (e.g. clicks <= impressions)."""
    return rule(
        name or f"{smaller}_le_{larger}",
        gxe.ExpectColumnPairValuesAToBeGreaterThanB,
        severity=severity,
        column_A=larger,
        column_B=smaller,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def references(column: str, target: str) -> gxe.Expectation:
    """Referential integrity: ``column`` is the joined key of ``target`` (NULL when the referenced row is missing)."""
    return rule(f"{column}_exists_in_{target}", gxe.ExpectColumnValuesToNotBeNull, column=column)


def in_set(column: str, values: list[str], severity: str = ERROR) -> gxe.Expectation:
    """A categorical column holds only the contract's values."""
    return rule(
        f"{column}_in_contract_values",
        gxe.ExpectColumnValuesToBeInSet,
        severity=severity,
        column=column,
        value_set=values,
    )


def epoch_seconds(moment: dt.datetime) -> float:
    """Seconds since 1970 of a naive UTC time (the warehouse's convention)."""
    return (moment - dt.datetime(1970, 1, 1)).total_seconds()


def timestamps_in_range(
    now: dt.datetime | None, *columns: str, earliest: dt.datetime = EARLIEST_TS, name: str = "in_range_not_future"
) -> list[gxe.Expectation]:
    """Times lie between 2000-01-01 and now (no upper bound without one): no future, no epoch-zero defaults.

    Checked on epoch seconds (the runner adds ``<column>_epoch_s``): GX compares datetimes row by row in Python.
    """
    return [
        rule(
            f"{c}_{name}",
            gxe.ExpectColumnValuesToBeBetween,
            column=f"{c}{EPOCH_SUFFIX}",
            min_value=epoch_seconds(earliest),
            max_value=epoch_seconds(now) if now else None,
        )
        for c in columns
    ]


def within_bounds(table: str) -> list[gxe.Expectation]:
    """The upper plausibility bound of every numeric column (ml/quality/plausibility.py, which ingest enforces too).

    Lower bounds are the not-negative and positive rules; infinity fails the upper bound, NaN the not-null rules.
    """
    return [
        rule(f"{c}_within_bound", gxe.ExpectColumnValuesToBeBetween, column=c, max_value=bounds.high)
        for c, bounds in number_columns(table).items()
    ]


def printable_labels(table: str) -> list[gxe.Expectation]:
    """Ids and names hold no control characters (NUL, tab, line breaks) and are not absurdly long."""
    return [
        expectation
        for c in label_columns(table)
        for expectation in (
            rule(f"{c}_printable", gxe.ExpectColumnValuesToNotMatchRegex, column=c, regex=CONTROL_CHARACTERS),
            rule(
                f"{c}_length_within_bound", gxe.ExpectColumnValueLengthsToBeBetween, column=c, max_value=label_limit(c)
            ),
        )
    ]


def plausible(column: str, low: float, high: float, mostly: float = 1.0) -> gxe.Expectation:
    """A ratio outside its usual range is a warning: unusual, not impossible."""
    return rule(
        f"{column}_plausible",
        gxe.ExpectColumnValuesToBeBetween,
        severity=WARNING,
        column=column,
        min_value=low,
        max_value=high,
        mostly=mostly,
    )


def fresh(column: str, now: dt.datetime, max_age: dt.timedelta) -> gxe.Expectation:
    """The newest row is recent enough (a warning: old data is still correct data)."""
    return rule(
        f"{column}_fresh_within_{int(max_age.total_seconds() // 3600)}h",
        gxe.ExpectColumnMaxToBeBetween,
        severity=WARNING,
        column=column,
        min_value=now - max_age,
    )


@dataclass(frozen=True)
class TableSuite:
    """The expectations of one table and how to read it (contract columns plus joined reference columns)."""

    table: str  # qualified, e.g. raw.campaign_hourly
    sql: str
    keys: tuple[str, ...]
    expectations: list[gxe.Expectation] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # required column -> DuckDB type ('' = any type)
    context: tuple[str, ...] = ()  # shown next to the keys of a failing row (e.g. the user's campaign)

    @property
    def row_columns(self) -> tuple[str, ...]:
        """Columns that identify and describe a failing row in a report."""
        return self.keys + tuple(c for c in self.context if c not in self.keys)

    @property
    def name(self) -> str:
        return self.table.replace(".", "__")
