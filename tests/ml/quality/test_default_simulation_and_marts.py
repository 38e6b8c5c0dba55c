"""The suites pass on the default simulation (what `make run` builds) and on dbt's marts; mart invariants bite."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ml.quality import mart_suites, raw_suites, validate
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill


def test_raw_suites_pass_on_the_default_simulation(tmp_path):
    """CI gate of issue 7: the default portfolio (24 campaigns x 180 days, ending today) passes every rule."""
    paths = pmi_paths(tmp_path / "default").ensure()
    counts = run_backfill(SimulationConfig(), paths)
    assert counts["raw.revenue_events"] > 50_000
    reports = validate(paths, raw_suites(dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    assert all(report.passed for report in reports.values()), {t: r.markdown() for t, r in reports.items()}


def test_mart_suites_pass_on_the_built_warehouse(small_warehouse):
    reports = validate(small_warehouse, mart_suites())
    assert all(report.passed for report in reports.values()), {t: r.markdown() for t, r in reports.items()}
    assert reports["marts.fct_user_value"].results[-1].checked_count > 1_000


MART_BREAKS = [
    (
        "UPDATE marts.fct_campaign_daily SET clicks = impressions + 1 WHERE campaign_id = 'cmp_00002' AND date = "
        "(SELECT min(date) FROM marts.fct_campaign_daily)",
        "marts.fct_campaign_daily",
        "clicks_le_impressions",
        "campaign_id",
        "cmp_00002",
    ),
    (
        "UPDATE marts.fct_campaign_daily SET spend = -1 WHERE campaign_id = 'cmp_00003' AND date = "
        "(SELECT max(date) FROM marts.fct_campaign_daily)",
        "marts.fct_campaign_daily",
        "spend_not_negative",
        "campaign_id",
        "cmp_00003",
    ),
    (
        "UPDATE marts.fct_user_value SET revenue_d7 = revenue_d14 + 5 WHERE user_id = "
        "(SELECT min(user_id) FROM marts.fct_user_value)",
        "marts.fct_user_value",
        "revenue_d7_le_revenue_d14",
        "user_id",
        None,
    ),
    (
        "CREATE OR REPLACE TABLE marts.fct_user_value AS SELECT * FROM marts.fct_user_value UNION ALL "
        "SELECT * FROM marts.fct_user_value WHERE user_id = (SELECT max(user_id) FROM marts.fct_user_value)",
        "marts.fct_user_value",
        "key_unique(user_id)",
        "user_id",
        None,
    ),
]


@pytest.mark.parametrize(("sql", "table", "rule", "key", "value"), MART_BREAKS, ids=[b[2] for b in MART_BREAKS])
def test_mart_invariant_catches_the_bad_row(small_warehouse_copy, sql, table, rule, key, value):
    paths = small_warehouse_copy
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(sql)
    report = validate(paths, [s for s in mart_suites() if s.table == table])[table]
    assert [r.rule for r in report.errors] == [rule], report.markdown()
    broken = report.errors[0]
    assert 1 <= broken.failing_count <= 2 and key in broken.failing_rows.columns
    if value is not None:
        assert broken.failing_rows[key].tolist() == [value]
