"""The gate on big tables: full-table SQL decides, GX sees a bounded frame, a bad row outside the sample is caught."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from ml.quality import full_table, raw_suites, runner, validate
from ml.quality.runner import quality_context, run_expectations, with_epoch_seconds
from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill
from ml.warehouse.connection import connect

NOW = dt.datetime(2026, 10, 1, 6)
BROKEN = [  # rows broken far apart, so a small sample misses most of them
    "UPDATE raw.campaign_hourly SET clicks = impressions + 1 WHERE hour_ts = (SELECT max(hour_ts) FROM "
    "raw.campaign_hourly) AND campaign_id = 'cmp_00002'",
    "UPDATE raw.campaign_hourly SET spend = -1 WHERE hour_ts = (SELECT min(hour_ts) FROM raw.campaign_hourly) "
    "AND campaign_id = 'cmp_00001'",
    "UPDATE raw.campaign_hourly SET conversions = clicks + 5 WHERE hour_ts = (SELECT min(hour_ts) + INTERVAL 3 DAY "
    "FROM raw.campaign_hourly) AND campaign_id = 'cmp_00003'",
    "UPDATE raw.users SET geo = 'U' || chr(9) || 'S', platform = 'tv' "
    "WHERE user_id = (SELECT max(user_id) FROM raw.users)",
    "CREATE OR REPLACE TABLE raw.users AS SELECT * FROM raw.users UNION ALL "
    "SELECT * FROM raw.users WHERE user_id = (SELECT min(user_id) FROM raw.users)",
    "UPDATE raw.revenue_events SET event_ts = TIMESTAMP '2031-01-01', revenue = 1e13 WHERE event_id = "
    "(SELECT max(event_id) FROM raw.revenue_events)",
    "UPDATE raw.market_daily SET economic_index = 'NaN'::DOUBLE WHERE date = (SELECT max(date) FROM raw.market_daily) "
    "AND network = 'unity' AND geo = 'US'",
]


@pytest.fixture(scope="module")
def broken_home(tmp_path_factory):
    paths = pmi_paths(tmp_path_factory.mktemp("full_table")).ensure()
    run_backfill(SimulationConfig(n_campaigns=3, days=12, seed=5, end_date=dt.date(2026, 10, 1)), paths)
    broken = pmi_paths(tmp_path_factory.mktemp("broken")).ensure()
    shutil.copy(paths.warehouse, broken.warehouse)
    with duckdb.connect(str(broken.warehouse)) as con:
        for sql in BROKEN:
            con.execute(sql)
    return broken


def test_sql_counts_equal_gx_counts_on_the_whole_table(broken_home):
    """Every rule's SQL counts exactly the rows GX counts when GX sees the whole table (the translation is right)."""
    context = quality_context(None)
    con = connect(broken_home.warehouse, read_only=True)
    try:
        for suite in raw_suites(NOW):
            frame = with_epoch_seconds(con.execute(suite.sql).df())
            gx = {
                r.rule: r
                for r in run_expectations(
                    context, suite.name, frame, suite.table, suite.row_columns, suite.expectations, 5
                )
            }
            for e, count in zip(
                suite.expectations, full_table.count_rules(con, suite.sql, suite.expectations), strict=True
            ):
                result = gx[e.meta["rule"]]
                assert count.success == result.success, (suite.table, e.meta["rule"], count, result.observed)
                if not isinstance(e, full_table.TABLE_RULES):
                    assert count.failing == result.failing_count, (suite.table, e.meta["rule"])
    finally:
        con.close()


def test_bad_rows_outside_a_tiny_sample_are_caught(broken_home, monkeypatch):
    monkeypatch.setattr(runner, "SAMPLE_ROWS", 3)
    reports = validate(broken_home, raw_suites(NOW))
    errors = {(t, r.rule): r for t, report in reports.items() for r in report.errors}
    expected = {
        ("raw.campaign_hourly", "clicks_le_impressions"): ("campaign_id", "cmp_00002"),
        ("raw.campaign_hourly", "spend_not_negative"): ("campaign_id", "cmp_00001"),
        ("raw.users", "geo_printable"): ("geo", "U\tS"),
        ("raw.users", "platform_in_contract_values"): ("platform", "tv"),
        ("raw.users", "key_unique(user_id)"): ("user_id", "u0"),
        ("raw.revenue_events", "event_ts_in_range_not_future"): ("event_ts", dt.datetime(2031, 1, 1)),
        ("raw.revenue_events", "revenue_within_bound"): ("event_id", None),
        ("raw.market_daily", "economic_index_not_null"): ("network", "unity"),
    }
    assert set(expected) <= set(errors), sorted(errors)
    for key, (column, value) in expected.items():
        rows = errors[key].failing_rows
        assert errors[key].failing_count == (2 if key[1].startswith("key_unique") else 1) == len(rows), key
        assert value is None or value in rows[column].tolist(), (key, rows)
    warnings = {r.rule: r for r in reports["raw.campaign_hourly"].warnings}
    assert warnings["view_through_conversions_flagged"].failing_rows["campaign_id"].tolist() == ["cmp_00003"]
    assert reports["raw.users"].results[-1].checked_count > 1_000  # counts are the whole table's, not the sample's


def test_gx_frame_is_bounded(broken_home, monkeypatch):
    monkeypatch.setattr(runner, "SAMPLE_ROWS", 50)
    seen = []
    original = runner.run_expectations

    def spy(context, name, frame, *args, **kwargs):
        seen.append((name, len(frame)))
        return original(context, name, frame, *args, **kwargs)

    monkeypatch.setattr(runner, "run_expectations", spy)
    validate(broken_home, raw_suites(NOW))
    assert seen and all(rows <= 50 + 5 * 20 for name, rows in seen if not name.endswith("__schema")), seen
