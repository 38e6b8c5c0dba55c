"""`dbt build` of the whole project on the tiny hand-made raw warehouse, checked against hand-computed values.

dbt runs in-process through ``dbtRunner`` (one invocation at a time: it is not re-entrant), with its target and
log paths inside the test's temporary directory so parallel runs never share state.
"""

from __future__ import annotations

import datetime as dt
import gc
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from make_tiny_raw import AS_OF, START, build_tiny_raw, c1_day_spend, hourly_rows

from ml.settings import pmi_paths
from orchestration.warehouse.project import invoke_dbt

REPO = Path(__file__).resolve().parents[2]
DBT_DIR = REPO / "dbt_project"
D = Decimal


def run_dbt(home: Path, *args: str, manifest=None):
    """Invoke dbt in-process against ``home``/warehouse.duckdb; return the dbtRunnerResult.

    Passing the ``manifest`` of an earlier ``parse`` skips parsing the project again (a few seconds each time).
    dbt-duckdb keeps its DuckDB instance open in the process after the run; it is closed here so the test can
    open the file itself (read-only) and the next invocation starts clean.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    command, *rest = args
    try:
        return invoke_dbt(
            pmi_paths(home),
            command,
            home / "dbt_target",
            *rest,
            "--log-path",
            str(home / "dbt_logs"),
            manifest=manifest,
        )
    finally:
        DuckDBConnectionManager.close_all_connections()
        gc.collect()


def failures(result) -> list[str]:
    if result.result is None:
        return [repr(result.exception)]
    return [
        f"{r.node.unique_id}: {r.status} {r.message}"
        for r in result.result.results
        if str(r.status) not in ("success", "pass")
    ]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """The parsed project, shared by every invocation of this module."""
    parsed = run_dbt(tmp_path_factory.mktemp("dbt_parse"), "parse")
    assert parsed.success, parsed.exception
    return parsed.result


@pytest.fixture(scope="module")
def built(tmp_path_factory, manifest):
    home = tmp_path_factory.mktemp("dbt_home")
    build_tiny_raw(home / "warehouse.duckdb")
    result = run_dbt(home, "build", manifest=manifest)
    return home, result


@pytest.fixture(scope="module")
def con(built):
    home, result = built
    assert result.success, failures(result)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        yield connection


def one(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()


def test_build_succeeds_with_every_test(built):
    _, result = built
    assert result.success, failures(result)
    assert failures(result) == []
    kinds = {r.node.resource_type for r in result.result.results}
    assert {"model", "test", "seed"} <= {str(k) for k in kinds}


def test_layers_land_in_their_own_schemas(con):
    schemas = dict(
        con.execute(
            "SELECT table_name, table_schema FROM information_schema.tables WHERE table_schema <> 'raw'"
        ).fetchall()
    )
    assert schemas["stg_users"] == "staging"
    assert schemas["int_user_revenue"] == "intermediate"
    for mart in (
        "fct_campaign_hourly",
        "fct_campaign_daily",
        "dim_campaigns",
        "fct_user_value",
        "fct_cohort_curves",
        "fct_market_daily",
        "fct_user_features",
        "fct_campaign_day_features",
        "fct_market_day_features",
    ):
        assert schemas[mart] == "marts", mart


def test_warehouse_as_of_is_last_hour_end(con):
    assert one(con, "SELECT as_of_ts FROM intermediate.int_warehouse_as_of")[0] == AS_OF


def test_marts_reconcile_exactly_with_raw(con):
    raw = one(
        con, "SELECT sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(revenue) FROM raw.campaign_hourly"
    )
    expected_spend = sum(row[2] for row in hourly_rows())
    assert raw[0] == expected_spend
    for mart in ("marts.fct_campaign_hourly", "marts.fct_campaign_daily"):
        assert (
            one(con, f"SELECT sum(spend), sum(impressions), sum(clicks), sum(conversions), sum(revenue) FROM {mart}")
            == raw
        ), mart
    lifetime = one(con, "SELECT sum(lifetime_spend), sum(lifetime_conversions) FROM marts.dim_campaigns")
    assert lifetime == (raw[0], raw[3])
    events = one(con, "SELECT sum(revenue), count(*) FROM raw.revenue_events")
    assert events == (D("38.57"), 8)
    assert one(con, "SELECT sum(revenue_total), sum(n_events), count(*) FROM marts.fct_user_value") == (*events, 6)
    assert one(con, "SELECT sum(cohort_revenue), sum(new_users) FROM marts.fct_campaign_daily") == (events[0], 6)


def test_user_value_by_hand(con):
    cols = (
        "revenue_d0, revenue_d7, revenue_d14, revenue_d30, revenue_d90, revenue_d180, revenue_total, n_events, "
        "is_mature_d0, is_mature_d7, is_mature_d30, is_mature_d90, is_payer, is_purchaser, first_event_ts"
    )
    row = lambda user: one(con, f"SELECT {cols} FROM marts.fct_user_value WHERE user_id = ?", user)  # noqa: E731
    # u1: 4.99 on day 0, 2.00 on day 5, 9.99 at exactly 7 days (day 7: outside d7), 20.00 on day 49; age 59.6 days
    assert row("u1") == (
        D("4.99"),
        D("6.99"),
        D("16.98"),
        D("16.98"),
        D("36.98"),
        D("36.98"),
        D("36.98"),
        4,
        True,
        True,
        True,
        False,
        True,
        True,
        dt.datetime(2024, 1, 1, 11, 15),
    )
    # u2: no events at all -> zeros, still present
    assert row("u2") == (
        D("0"),
        D("0"),
        D("0"),
        D("0"),
        D("0"),
        D("0"),
        D("0"),
        0,
        True,
        True,
        True,
        False,
        False,
        False,
        None,
    )
    # u6: one zero-revenue ad event at the install instant: an event, but not a payer
    assert row("u6")[6:8] == (D("0"), 1) and row("u6")[12] is False
    # u3: installed 30 minutes before as-of: nothing mature, its day-0 ad revenue counted so far
    assert row("u3")[:7] == (D("0.50"),) * 7 and row("u3")[8:12] == (False, False, False, False)
    # u4: 0.99 at 30 min, 0.10 at 35 h (day 1)
    assert row("u4")[:2] == (D("0.99"), D("1.09"))


def test_user_features_early_windows(con):
    row = one(
        con,
        "SELECT revenue_d1, revenue_d3, revenue_d7, events_d7, purchases_d7, hours_to_first_purchase, "
        "revenue_d30, is_mature_d90 FROM marts.fct_user_features WHERE user_id = 'u1'",
    )
    assert row == (D("4.99"), D("4.99"), D("6.99"), 2, 1, 1.0, D("16.98"), False)
    assert one(con, "SELECT hours_to_first_purchase, revenue_d7 FROM marts.fct_user_features WHERE user_id = 'u2'") == (
        None,
        D("0"),
    )


def test_campaign_daily_budget_in_effect(con):
    rows = {
        (c, d.isoformat()): rest
        for c, d, *rest in con.execute(
            "SELECT campaign_id, date, daily_budget, daily_budget_end_of_day, n_budget_changes, new_users, spend "
            "FROM marts.fct_campaign_daily"
        ).fetchall()
    }
    # c1: 150 from 2024-01-10 00:00, 120 from 2024-01-15 14:00 (intraday change)
    assert rows[("c1", "2024-01-15")][:3] == [D("150.00"), D("120.00"), 1]
    assert rows[("c1", "2024-01-16")][:3] == [D("120.00"), D("120.00"), 0]
    # c2's first budget takes effect at 12:00 on 2024-01-03: none in effect at the start of that day
    assert rows[("c2", "2024-01-03")][:3] == [None, D("50.00"), 1]
    # c2 has no delivery on 2024-01-04 but acquired u5 then: an install-only row with zero spend
    assert rows[("c2", "2024-01-04")][3:] == [1, D("0.00")]


def test_cohort_curves_by_hand(con):
    curve = {
        d: rest
        for d, *rest in con.execute(
            "SELECT day_since_install, users_in_cohort, users_reached_age, revenue_reached, "
            "cumulative_revenue_per_user, cumulative_revenue_per_user_chained FROM marts.fct_cohort_curves "
            "WHERE campaign_id = 'c2' AND install_week = DATE '2024-01-01' ORDER BY 1"
        ).fetchall()
    }
    # u4 (age 57.5 days) reached days 0..56, u5 (age 56.6) days 0..55
    assert sorted(curve) == list(range(57))
    assert curve[0][:3] == [2, 2, D("0.99")]
    assert curve[1][3] == pytest.approx(0.545)
    assert curve[56][:3] == [2, 1, D("1.09")]
    assert curve[56][3] == pytest.approx(1.09) and curve[56][4] == pytest.approx(0.545)
    c1 = dict(
        con.execute(
            "SELECT day_since_install, revenue_reached FROM marts.fct_cohort_curves "
            "WHERE campaign_id = 'c1' AND install_week = DATE '2024-01-01'"
        ).fetchall()
    )
    assert (c1[6], c1[7], max(c1)) == (D("6.99"), D("16.98"), 58)
    # u3's cohort has nobody past day 0 yet: no rows
    assert one(con, "SELECT count(*) FROM marts.fct_cohort_curves WHERE install_week = DATE '2024-02-26'")[0] == 0


def test_campaign_day_features_trailing_by_hand(con):
    row = one(
        con,
        "SELECT trailing_7d_spend, trailing_7d_conversions, trailing_7d_active_days, "
        "trailing_7d_mean_daily_spend, trailing_14d_spend, prev_day_spend, spend, days_since_launch, "
        "day_of_week, cpm_index FROM marts.fct_campaign_day_features "
        "WHERE campaign_id = 'c1' AND date = DATE '2024-01-10'",
    )
    window_7d = sum(c1_day_spend(i) for i in range(2, 9))  # 2024-01-03 .. 2024-01-09
    assert window_7d == D("143.50")
    assert row[:3] == (window_7d, 21, 7)
    assert row[3] == pytest.approx(20.5)
    assert row[4] == sum(c1_day_spend(i) for i in range(0, 9))  # only 9 days of history before the 10th
    assert row[5:7] == (c1_day_spend(8), c1_day_spend(9))
    assert row[7:] == (21, 2, pytest.approx(1.09))  # launched 2023-12-20; a Wednesday
    # c2 delivers every other day; 2024-01-04 is an install-only day (no hourly rows, not an active day)
    assert one(
        con,
        "SELECT trailing_7d_spend, trailing_7d_active_days FROM marts.fct_campaign_day_features "
        "WHERE campaign_id = 'c2' AND date = DATE '2024-01-07'",
    ) == (D("40.00"), 2)
    first = one(
        con,
        "SELECT trailing_7d_spend, trailing_7d_cpa, is_holiday FROM marts.fct_campaign_day_features "
        "WHERE campaign_id = 'c1' AND date = DATE '2024-01-01'",
    )
    assert first == (D("0.00"), None, True)


TRAILING_COLUMNS = ", ".join(
    [f"trailing_{n}d_{m}" for n in (7, 14, 28) for m in ("spend", "conversions", "cpa", "roas", "mean_daily_spend")]
    + ["prev_day_spend", "prev_day_budget_utilization", "budget_vs_trailing_7d_mean"]
)


def test_campaign_day_features_use_only_prior_days(built, con, manifest, tmp_path):
    """Changing one day's delivery changes the features of later days only, never that day's or earlier ones."""
    home, _ = built
    features = f"SELECT campaign_id, date, {TRAILING_COLUMNS} FROM marts.fct_campaign_day_features ORDER BY 1, 2"
    before = con.execute(features).fetchall()
    changed_day = START + dt.timedelta(days=19)  # 2024-01-20
    rows = [
        (c, ts, spend * 10 if (c == "c1" and ts.date() == changed_day) else spend, *rest)
        for c, ts, spend, *rest in hourly_rows()
    ]
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(home / "warehouse.duckdb", copy / "warehouse.duckdb")
    build_tiny_raw(copy / "warehouse.duckdb", overrides={"campaign_hourly": rows})
    # --full-refresh: the copy's incremental facts hold the old day, which an incremental run would not revisit
    result = run_dbt(copy, "run", "--full-refresh", "--select", "+fct_campaign_day_features", manifest=manifest)
    assert result.success, failures(result)
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as changed:
        after = changed.execute(features).fetchall()
        assert (
            changed.execute(
                "SELECT spend FROM marts.fct_campaign_day_features WHERE campaign_id = 'c1' AND date = ?", [changed_day]
            ).fetchone()[0]
            == c1_day_spend(19) * 10
        )
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        campaign, date = old[:2]
        if campaign != "c1" or date <= changed_day or date > changed_day + dt.timedelta(days=28):
            assert new == old, (campaign, date)
        else:
            assert new != old, (campaign, date)  # every later day whose 28-day window holds the changed day
