"""Running the suites: full-table SQL counts decide (ml/quality/full_table.py), Great Expectations validates a
bounded frame (a sample plus the failing rows found) for the failing-row reports and the GX Data Docs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.core import ExpectationValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig

from ml.quality import full_table
from ml.quality.results import ERROR, WARNING, RuleResult, TableReport
from ml.quality.rules import EPOCH_SUFFIX, TableSuite, rule
from ml.settings import PmiPaths
from ml.warehouse.connection import connect

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

DOCS_DIR = "gx_data_docs"
SCHEMA_KEYS = ("column_name",)
# Rows GX validates besides the failing ones the full-table SQL found: enough for the Data Docs' picture of the
# table and the warning rules' examples, small enough that the gate's memory does not grow with the table.
SAMPLE_ROWS = 50_000


def quality_context(docs_dir: Path | None):
    """An in-memory GX context (nothing to keep between runs but the Data Docs site)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(
            "pmi",
            {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _columns_of(result: ExpectationValidationResult) -> str:
    kwargs = result.expectation_config.kwargs
    columns = kwargs.get("column_list") or [kwargs.get(k) for k in ("column", "column_A", "column_B") if k in kwargs]
    return ", ".join(columns)


def to_rule_result(table: str, keys: tuple[str, ...], result: ExpectationValidationResult) -> RuleResult:
    """Translate one GX result into the domain's shape: rule, severity, failing count and first failing rows."""
    config = result.expectation_config
    details = result.result or {}
    rows = pd.DataFrame(details.get("partial_unexpected_index_list") or [])
    if not rows.empty:
        first = [c for c in keys if c in rows.columns]
        rows = rows[[*first, *[c for c in rows.columns if c not in first]]]
    exception = result.exception_info or {}
    observed = exception.get("exception_message") if exception.get("raised_exception") else None
    if observed is None and "observed_value" in details:
        observed = str(details["observed_value"])
    return RuleResult(
        table=table,
        rule=(config.meta or {}).get("rule", config.type),
        expectation=f"{config.type}({_columns_of(result)})",
        severity=ERROR if config.severity == "critical" else WARNING,
        success=bool(result.success),
        failing_count=int(details.get("unexpected_count") or (0 if result.success else 1)),
        checked_count=int(details.get("element_count") or 0),
        failing_rows=rows,
        observed=observed or "",
    )


def run_expectations(
    context,
    name: str,
    frame: pd.DataFrame,
    table: str,
    keys: tuple[str, ...],
    expectations: list[gxe.Expectation],
    max_rows: int,
) -> list[RuleResult]:
    """Validate a frame against expectations through a GX validation definition (so Data Docs can show it)."""
    source = context.data_sources.add_or_update_pandas("pmi")
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=[e.copy() for e in expectations]))
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    outcome = validation.run(
        batch_parameters={"dataframe": frame},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": max_rows,
            "unexpected_index_column_names": list(keys),
        },
    )
    return [to_rule_result(table, keys, r) for r in outcome.results]


def schema_frame(suite: TableSuite, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Required columns and their contract types next to what the warehouse holds (NULL where absent)."""
    schema, table = suite.table.split(".")
    actual = con.execute(
        "SELECT column_name, data_type AS actual_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).df()
    expected = pd.DataFrame(
        {"column_name": list(suite.columns), "contract_type": [t or None for t in suite.columns.values()]}
    )
    return expected.merge(actual, on="column_name", how="left")


SCHEMA_RULES = [
    rule("column_present", gxe.ExpectColumnValuesToNotBeNull, column="actual_type"),
    rule(
        "column_type_matches_contract",
        gxe.ExpectColumnPairValuesToBeEqual,
        column_A="contract_type",
        column_B="actual_type",
        ignore_row_if="either_value_is_missing",
    ),
]


def with_epoch_seconds(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``<column>_epoch_s`` for every timestamp column (NaT stays missing) for fast range rules."""
    stamps = frame.select_dtypes(include=["datetime64"]).columns
    epochs = {f"{c}{EPOCH_SUFFIX}": (frame[c] - pd.Timestamp(0)).dt.total_seconds() for c in stamps}
    return frame.assign(**epochs)


def bounded_frame(
    suite: TableSuite, con: duckdb.DuckDBPyConnection, counts: list[full_table.RuleCount], max_rows: int
) -> pd.DataFrame:
    """What GX validates: the first failing rows of every failed rule plus a reservoir sample of the other rows,
    at most SAMPLE_ROWS + max_rows per failed rule whatever the table's size."""
    failed = [e for e, c in zip(suite.expectations, counts, strict=True) if c.failing and not c.success]
    row_rules = [e for e in failed if not isinstance(e, full_table.UNIQUE_RULES + full_table.TABLE_RULES)]
    fetched = [full_table.failing_rows(con, suite.sql, e, max_rows) for e in row_rules]
    rows = pd.concat(fetched, ignore_index=True).drop_duplicates() if fetched else pd.DataFrame()
    duplicates = [
        full_table.failing_rows(con, suite.sql, e, max_rows) for e in failed if isinstance(e, full_table.UNIQUE_RULES)
    ]
    types = full_table.column_types(con, suite.sql)
    exclude = [
        full_table.fetched_sql(e, suite.sql, types, max_rows)
        for e in failed
        if not isinstance(e, full_table.TABLE_RULES)
    ]
    sample = full_table.sample_rows(con, suite.sql, SAMPLE_ROWS, exclude)
    parts = [frame for frame in (sample, rows, *duplicates) if not frame.empty]
    return pd.concat(parts, ignore_index=True) if parts else sample


def with_full_table_counts(
    results: list[RuleResult], suite: TableSuite, counts: list[full_table.RuleCount]
) -> list[RuleResult]:
    """GX saw a bounded frame; the verdict, failing and checked counts are the whole table's (full_table.py).

    Matched by rule name (GX may order results its own way); a name used twice names the same rule."""
    by_rule = {e.meta["rule"]: count for e, count in zip(suite.expectations, counts, strict=True)}
    for result in results:
        count = by_rule[result.rule]
        result.success, result.failing_count, result.checked_count = count.success, count.failing, count.judged
        if count.observed and not result.observed.startswith("Error"):
            result.observed = count.observed
        if result.success:
            result.failing_rows = result.failing_rows.iloc[0:0]
    return results


def validate_table(context, suite: TableSuite, con: duckdb.DuckDBPyConnection, max_rows: int) -> TableReport:
    """Schema first; the data rules run only when every required column is there with the contract's type.

    Memory: bounded by SAMPLE_ROWS plus max_rows per failed rule (GX on pandas) and DuckDB's memory limit (the
    full-table counts), independent of the table's size.
    """
    schema = run_expectations(
        context, f"{suite.name}__schema", schema_frame(suite, con), suite.table, SCHEMA_KEYS, SCHEMA_RULES, max_rows
    )
    if not all(r.success for r in schema):
        return TableReport(suite.table, schema)
    counts = full_table.count_rules(con, suite.sql, suite.expectations)
    frame = with_epoch_seconds(bounded_frame(suite, con, counts, max_rows))
    results = run_expectations(context, suite.name, frame, suite.table, suite.row_columns, suite.expectations, max_rows)
    return TableReport(suite.table, schema + with_full_table_counts(results, suite, counts))


def validate(
    paths: PmiPaths, suites: list[TableSuite], docs_site: str | None = None, max_rows: int = 20
) -> dict[str, TableReport]:
    """Run every suite on the warehouse (read-only); with ``docs_site``, build Data Docs under PMI_HOME."""
    docs_dir = paths.home / DOCS_DIR / docs_site if docs_site else None
    context = quality_context(docs_dir)
    con = connect(paths.warehouse, read_only=True)
    try:
        reports = {suite.table: validate_table(context, suite, con, max_rows) for suite in suites}
    finally:
        con.close()
    if docs_dir is not None:
        context.build_data_docs(site_names=["pmi"])
    return reports


def docs_index(paths: PmiPaths, docs_site: str) -> Path:
    """Where the Data Docs of a site (``raw`` or ``marts``) open."""
    return paths.home / DOCS_DIR / docs_site / "index.html"
