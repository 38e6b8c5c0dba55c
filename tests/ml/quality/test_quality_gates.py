"""Each raw invariant catches one crafted bad row (and names it); clean data passes every rule."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from ml.quality import ERROR, WARNING, raw_suites, validate
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill

END = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 10, 1, 6)  # a few hours after the simulated history ends


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory):
    """A small simulated raw schema (no dbt needed), copied by every test that corrupts it."""
    paths = pmi_paths(tmp_path_factory.mktemp("quality_raw")).ensure()
    run_backfill(SimulationConfig(n_campaigns=3, days=12, seed=5, end_date=END), paths)
    return paths


@pytest.fixture
def corrupt(clean_raw, tmp_path):
    """Copy the clean warehouse, run SQL on the copy and validate the raw suites on it."""

    def apply(*statements: str, now: dt.datetime = NOW, tables: tuple[str, ...] = ()):
        paths = pmi_paths(tmp_path / "home").ensure()
        shutil.copy(clean_raw.warehouse, paths.warehouse)
        with duckdb.connect(str(paths.warehouse)) as con:
            for sql in statements:
                con.execute(sql)
        return validate(paths, [s for s in raw_suites(now) if not tables or s.table in tables])

    return apply


def failed(reports, table: str, severity: str = ERROR) -> dict:
    report = reports[table]
    return {r.rule: r for r in (report.errors if severity == ERROR else report.warnings)}


FIRST_HOUR = "(SELECT min(hour_ts) FROM raw.campaign_hourly WHERE campaign_id = 'cmp_00001')"
FIRST_USER = "(SELECT min(user_id) FROM raw.users)"

# (SQL breaking one row, table, rule expected to fail, key column, key value of the bad row)
INVARIANTS = [
    (
        f"UPDATE raw.campaign_hourly SET clicks = impressions + 1 WHERE campaign_id = 'cmp_00001' "
        f"AND hour_ts = {FIRST_HOUR}",
        "raw.campaign_hourly",
        "clicks_le_impressions",
        "campaign_id",
        "cmp_00001",
    ),
    (
        f"UPDATE raw.campaign_hourly SET conversions = impressions + 2 WHERE campaign_id = 'cmp_00002' "
        f"AND hour_ts = {FIRST_HOUR}",
        "raw.campaign_hourly",
        "conversions_le_impressions",
        "campaign_id",
        "cmp_00002",
    ),
    (
        f"UPDATE raw.campaign_hourly SET spend = -3 WHERE campaign_id = 'cmp_00003' AND hour_ts = {FIRST_HOUR}",
        "raw.campaign_hourly",
        "spend_not_negative",
        "campaign_id",
        "cmp_00003",
    ),
    (
        f"UPDATE raw.campaign_hourly SET revenue = NULL WHERE campaign_id = 'cmp_00001' AND hour_ts = {FIRST_HOUR}",
        "raw.campaign_hourly",
        "revenue_not_null",
        "campaign_id",
        "cmp_00001",
    ),
    (
        "UPDATE raw.campaign_hourly SET campaign_id = 'cmp_99999' WHERE hour_ts = "
        "(SELECT max(hour_ts) FROM raw.campaign_hourly) AND campaign_id = 'cmp_00002'",
        "raw.campaign_hourly",
        "campaign_ref_exists_in_raw.campaigns",
        "campaign_id",
        "cmp_99999",
    ),
    (
        "UPDATE raw.campaign_hourly SET hour_ts = TIMESTAMP '2031-01-01' WHERE hour_ts = "
        "(SELECT max(hour_ts) FROM raw.campaign_hourly) AND campaign_id = 'cmp_00001'",
        "raw.campaign_hourly",
        "hour_ts_in_range_not_future",
        "campaign_id",
        "cmp_00001",
    ),
    (
        "UPDATE raw.campaigns SET platform = 'windows' WHERE campaign_id = 'cmp_00002'",
        "raw.campaigns",
        "platform_in_contract_values",
        "campaign_id",
        "cmp_00002",
    ),
    (
        "UPDATE raw.campaigns SET creative_production_cost = -1 WHERE campaign_id = 'cmp_00003'",
        "raw.campaigns",
        "creative_production_cost_not_negative",
        "campaign_id",
        "cmp_00003",
    ),
    (
        f"UPDATE raw.users SET campaign_id = 'cmp_99999' WHERE user_id = {FIRST_USER}",
        "raw.users",
        "campaign_ref_exists_in_raw.campaigns",
        "campaign_id",
        "cmp_99999",
    ),
    (
        f"UPDATE raw.users SET install_ts = TIMESTAMP '1970-01-01' WHERE user_id = {FIRST_USER}",
        "raw.users",
        "install_ts_in_range_not_future",
        "install_ts",
        dt.datetime(1970, 1, 1),
    ),
    (
        "CREATE OR REPLACE TABLE raw.users AS SELECT * FROM raw.users UNION ALL "
        "SELECT * FROM raw.users WHERE user_id = (SELECT min(user_id) FROM raw.users)",
        "raw.users",
        "key_unique(user_id)",
        "campaign_id",
        None,
    ),
    (
        "UPDATE raw.revenue_events SET event_ts = (SELECT install_ts FROM raw.users u WHERE u.user_id = "
        "revenue_events.user_id) - INTERVAL 1 HOUR WHERE event_id = (SELECT min(event_id) FROM raw.revenue_events)",
        "raw.revenue_events",
        "event_after_install",
        "event_id",
        None,
    ),
    (
        "UPDATE raw.revenue_events SET user_id = 'u_nobody' WHERE event_id = (SELECT min(event_id) FROM "
        "raw.revenue_events)",
        "raw.revenue_events",
        "user_ref_exists_in_raw.users",
        "user_id",
        "u_nobody",
    ),
    (
        "UPDATE raw.revenue_events SET revenue = -0.99 WHERE event_id = (SELECT max(event_id) FROM raw.revenue_events)",
        "raw.revenue_events",
        "revenue_not_negative",
        "revenue",
        -0.99,
    ),
    (
        "UPDATE raw.revenue_events SET event_type = 'refund' WHERE event_id = (SELECT max(event_id) FROM "
        "raw.revenue_events)",
        "raw.revenue_events",
        "event_type_in_contract_values",
        "event_type",
        "refund",
    ),
    (
        "UPDATE raw.market_daily SET cpm_index = 0 WHERE date = (SELECT min(date) FROM raw.market_daily) "
        "AND network = 'facebook' AND geo = 'US'",
        "raw.market_daily",
        "cpm_index_positive",
        "geo",
        "US",
    ),
    (
        "UPDATE raw.budgets SET daily_budget = -10 WHERE campaign_id = 'cmp_00001' AND effective_ts = "
        "(SELECT min(effective_ts) FROM raw.budgets WHERE campaign_id = 'cmp_00001')",
        "raw.budgets",
        "daily_budget_not_negative",
        "campaign_id",
        "cmp_00001",
    ),
    (
        "UPDATE raw.budgets SET campaign_id = 'cmp_99999' WHERE campaign_id = 'cmp_00002' AND effective_ts = "
        "(SELECT min(effective_ts) FROM raw.budgets WHERE campaign_id = 'cmp_00002')",
        "raw.budgets",
        "campaign_ref_exists_in_raw.campaigns",
        "campaign_id",
        "cmp_99999",
    ),
    ("DELETE FROM raw.campaign_hourly", "raw.campaign_hourly", "table_not_empty", None, None),
    ("ALTER TABLE raw.users DROP COLUMN geo", "raw.users", "column_present", "column_name", "geo"),
    (
        "ALTER TABLE raw.campaign_hourly ALTER clicks TYPE DOUBLE",
        "raw.campaign_hourly",
        "column_type_matches_contract",
        "column_name",
        "clicks",
    ),
]


def test_clean_simulation_passes_every_rule(corrupt):
    reports = corrupt()
    assert all(report.passed for report in reports.values()), {t: r.markdown() for t, r in reports.items()}
    assert sum(len(r.results) for r in reports.values()) > 80


@pytest.mark.parametrize(
    ("sql", "table", "rule", "key", "value"), INVARIANTS, ids=[f"{t}:{r}" for _, t, r, _, _ in INVARIANTS]
)
def test_invariant_catches_the_bad_row(corrupt, sql, table, rule, key, value):
    reports = corrupt(sql, tables=(table,))
    errors = failed(reports, table)
    assert rule in errors, reports[table].markdown()
    result = errors[rule]
    if key is not None:  # row-level rule: exactly the broken row(s), named by their keys
        assert 1 <= result.failing_count <= 2 and len(result.failing_rows) == result.failing_count
        if value is not None:
            assert value in result.failing_rows[key].tolist()
    assert [r.rule for r in reports[table].errors] == [rule] or rule.startswith(("column_", "table_"))


def test_view_through_conversions_are_flagged_not_fatal(corrupt):
    reports = corrupt(
        f"UPDATE raw.campaign_hourly SET conversions = clicks + 1 WHERE campaign_id = 'cmp_00001' "
        f"AND hour_ts = {FIRST_HOUR}",
        tables=("raw.campaign_hourly",),
    )
    report = reports["raw.campaign_hourly"]
    assert not report.errors
    flagged = failed(reports, "raw.campaign_hourly", WARNING)["view_through_conversions_flagged"]
    assert flagged.failing_count == 1 and flagged.failing_rows["campaign_id"].tolist() == ["cmp_00001"]


def test_stale_data_and_unusual_ratios_are_warnings(corrupt):
    reports = corrupt(
        "UPDATE raw.campaign_hourly SET spend = spend * 1000 WHERE campaign_id = 'cmp_00002'",
        now=dt.datetime(2026, 10, 9),
        tables=("raw.campaign_hourly",),
    )
    report = reports["raw.campaign_hourly"]
    assert not report.errors
    warnings = failed(reports, "raw.campaign_hourly", WARNING)
    assert {"hour_ts_fresh_within_48h", "cpm_plausible"} <= set(warnings)
    assert "2026-09-30 23:00:00" in warnings["hour_ts_fresh_within_48h"].observed
    assert set(warnings["cpm_plausible"].failing_rows["campaign_id"]) == {"cmp_00002"}


def test_report_markdown_names_rule_and_rows(corrupt):
    reports = corrupt(
        f"UPDATE raw.campaign_hourly SET clicks = impressions + 7 WHERE campaign_id = 'cmp_00003' "
        f"AND hour_ts = {FIRST_HOUR}",
        tables=("raw.campaign_hourly",),
    )
    text = reports["raw.campaign_hourly"].markdown()
    assert "clicks_le_impressions" in text and "cmp_00003" in text and "expect_column_pair_values_a_to_be" in text


def test_data_docs_are_built_into_the_data_directory(clean_raw, tmp_path):
    paths = pmi_paths(tmp_path / "docs_home").ensure()
    shutil.copy(clean_raw.warehouse, paths.warehouse)
    validate(paths, raw_suites(NOW), docs_site="raw")
    index = paths.home / "gx_data_docs" / "raw" / "index.html"
    assert index.exists() and "raw__campaign_hourly" in index.read_text()
