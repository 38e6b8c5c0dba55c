"""Great Expectations suites as Dagster asset checks that stop bad data before the models and the allocation.

Checks on raw and marts are both blocking: an ERROR result (a broken invariant) fails the check step, so every
asset downstream of the table is skipped in that run; a WARN result (freshness, unusual ratios) is reported only.
The mart gate matters on its own because `hourly_allocation` appends to raw through the live step, which is not
one of the raw assets, so there the marts are the first place its data is checked.
"""

import datetime as dt

import dagster as dg

from ml.quality import TableReport, docs_index, mart_suites, raw_suites, validate
from ml.quality.rules import TableSuite
from ml.warehouse.raw_schema import RAW_TABLES
from ml.warehouse.user_marts import USER_LEVEL_TABLES, record_user_marts_validated, user_marts_validated
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.assets import warehouse_table_key
from orchestration.warehouse.project import is_incremental_run

CHECK_NAME = "great_expectations"
MART_TABLES = ("fct_campaign_daily", "fct_user_value")


def check_result(report: TableReport, docs: str) -> dg.AssetCheckResult:
    """One table's suite as a check result: ERROR if an invariant broke, WARN if a value is merely unusual."""
    failed = report.errors + report.warnings
    return dg.AssetCheckResult(
        asset_key=warehouse_table_key(report.table),
        check_name=CHECK_NAME,
        passed=report.passed,
        severity=dg.AssetCheckSeverity.ERROR if report.errors else dg.AssetCheckSeverity.WARN,
        metadata={
            "failing_rows": sum(r.failing_count for r in report.errors),
            "flagged_rows": sum(r.failing_count for r in report.warnings),
            "failed_expectations": ", ".join(f"{r.rule} [{r.expectation}]" for r in failed) or "none",
            "expectations": len(report.results),
            "failing_rows_detail": dg.MetadataValue.md(report.markdown()),
            "data_docs": dg.MetadataValue.path(docs),
        },
    )


def _selected_suites(context: dg.AssetCheckExecutionContext, suites: list[TableSuite]) -> list[TableSuite]:
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    return [s for s in suites if warehouse_table_key(s.table) in selected]


def run_checks(context: dg.AssetCheckExecutionContext, pmi_home: PmiHomeResource, suites: list[TableSuite], site: str):
    """Validate the selected tables, build their Data Docs and yield one result per table."""
    paths = pmi_home.paths()
    reports = validate(paths, _selected_suites(context, suites), docs_site=site)
    docs = str(docs_index(paths, site))
    for report in reports.values():
        for failed in report.errors:
            context.log.error(f"{report.table}: {failed.rule} failed on {failed.failing_count} rows")
        yield check_result(report, docs)


def _spec(table: str, description: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(CHECK_NAME, asset=warehouse_table_key(table), blocking=True, description=description)


@dg.multi_asset_check(
    specs=[
        _spec(
            f"raw.{t}",
            "Contract, keys, invariants and references of the raw table (blocking); "
            "freshness and plausible CPM/CTR/CVR as warnings.",
        )
        for t in RAW_TABLES
    ],
    can_subset=True,
    name="raw_quality_gates",
    description="Great Expectations suites on the raw tables: a broken invariant stops the models and allocation.",
)
def raw_quality_gates(context: dg.AssetCheckExecutionContext, pmi_home: PmiHomeResource):
    """Gate the raw data as of now (naive UTC, like the warehouse).

    Memory: bounded; GX sees at most a 50k-row sample plus the failing rows shown, the full-table counts run in
    DuckDB (ml/quality/full_table.py); time grows linearly with the rows (a few scans and one GROUP BY per key).
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    yield from run_checks(context, pmi_home, raw_suites(now), "raw")


@dg.multi_asset_check(
    specs=[
        _spec(f"marts.{t}", "Keys, funnel and revenue invariants of the mart (blocking); unusual ratios as warnings.")
        for t in MART_TABLES
    ],
    can_subset=True,
    name="mart_quality_gates",
    description="Great Expectations suites on the marts the models read.",
)
def mart_quality_gates(context: dg.AssetCheckExecutionContext, pmi_home: PmiHomeResource):
    """Gate the marts after every dbt build (memory and time as for the raw gates).

    A user-level mart the hourly run kept (ml/warehouse/user_marts.py) is not validated again when its build passed
    every expectation: the result says so. Otherwise it is validated, and a pass is recorded for later runs.
    """
    paths = pmi_home.paths()
    suites = mart_suites()
    kept_as_of = user_marts_validated(paths) if is_incremental_run(context.run.tags) else None
    if kept_as_of is not None:
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        user_suites = [s for s in suites if s.table in USER_LEVEL_TABLES and warehouse_table_key(s.table) in selected]
        suites = [s for s in suites if s not in user_suites]
        for suite in user_suites:
            yield dg.AssetCheckResult(
                asset_key=warehouse_table_key(suite.table),
                check_name=CHECK_NAME,
                passed=True,
                metadata={"kept": f"unchanged since its build as of {kept_as_of} passed every expectation"},
            )
    for result in run_checks(context, pmi_home, suites, "marts"):
        if result.passed and result.asset_key == warehouse_table_key("marts.fct_user_value"):
            record_user_marts_validated(paths)
        yield result


quality_checks = [raw_quality_gates, mart_quality_gates]
