"""Live mode: one hour at a time, driven by raw.budgets, releasing revenue as it happens."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from ml.settings import pmi_paths
from ml.simulation.backfill import run_backfill
from ml.simulation.live import step_one_hour


@pytest.fixture
def backfilled(tmp_path, small_config):
    paths = pmi_paths(tmp_path / "base")
    run_backfill(small_config, paths)
    return paths


def _copy(paths, tmp_path, name):
    target = pmi_paths(tmp_path / name).ensure()
    shutil.copy(paths.warehouse, target.warehouse)
    return target


def _hour_rows(paths, hour):
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(
            "SELECT * FROM raw.campaign_hourly WHERE hour_ts = ? ORDER BY campaign_id", [hour.to_pydatetime()]
        ).df()


def test_live_step_responds_to_a_changed_budget(backfilled, tmp_path, small_config):
    baseline = _copy(backfilled, tmp_path, "baseline")
    doubled = _copy(backfilled, tmp_path, "doubled")
    hour = pd.Timestamp(small_config.end_date)
    with duckdb.connect(str(doubled.warehouse)) as con:
        target, budget = con.execute(
            "SELECT campaign_id, daily_budget FROM raw.budgets ORDER BY effective_ts DESC, campaign_id LIMIT 1"
        ).fetchone()
        con.execute(
            "INSERT INTO raw.budgets VALUES (?, ?, ?, 'test_run')", [target, hour.to_pydatetime(), float(budget) * 3]
        )
    hours = 24
    for _ in range(hours):
        step_one_hour(baseline)
        step_one_hour(doubled)
    for h in range(hours):
        ts = hour + pd.Timedelta(hours=h)
        base, more = _hour_rows(baseline, ts), _hour_rows(doubled, ts)
        assert len(base) == len(more) > 0
        changed = more["campaign_id"] == target
        # same hour, same random stream: spend triples exactly (to the cent) for the changed campaign only
        assert float(more.loc[changed, "spend"].iloc[0]) == pytest.approx(
            3 * float(base.loc[changed, "spend"].iloc[0]), abs=0.02
        )
        pd.testing.assert_series_equal(
            base.loc[~changed, "spend"].reset_index(drop=True), more.loc[~changed, "spend"].reset_index(drop=True)
        )
    with (
        duckdb.connect(str(baseline.warehouse), read_only=True) as b,
        duckdb.connect(str(doubled.warehouse), read_only=True) as d,
    ):
        sql = "SELECT sum(conversions) FROM raw.campaign_hourly WHERE campaign_id = ? AND hour_ts >= ?"
        assert (
            d.execute(sql, [target, hour.to_pydatetime()]).fetchone()[0]
            > b.execute(sql, [target, hour.to_pydatetime()]).fetchone()[0]
        )


def test_live_steps_release_revenue_and_keep_invariants(backfilled, small_config):
    with duckdb.connect(str(backfilled.warehouse), read_only=True) as con:
        pending_before = con.execute("SELECT count(*) FROM sim.pending_revenue_events").fetchone()[0]
        events_before = con.execute("SELECT count(*) FROM raw.revenue_events").fetchone()[0]
    for _ in range(24):
        step = step_one_hour(backfilled)
    assert step["hour_ts"] == pd.Timestamp(small_config.end_date) + pd.Timedelta(hours=23)
    with duckdb.connect(str(backfilled.warehouse), read_only=True) as con:
        now = con.execute("SELECT next_hour_ts FROM sim.state").fetchone()[0]
        assert now == pd.Timestamp(small_config.end_date) + pd.Timedelta(hours=24)
        assert con.execute("SELECT max(event_ts) < ? FROM raw.revenue_events", [now]).fetchone()[0]
        assert con.execute("SELECT min(event_ts) >= ? FROM sim.pending_revenue_events", [now]).fetchone()[0]
        assert con.execute("SELECT count(*) FROM raw.revenue_events").fetchone()[0] > events_before
        users_new = con.execute(
            "SELECT count(*) FROM raw.users WHERE install_ts >= ?",
            [pd.Timestamp(small_config.end_date).to_pydatetime()],
        ).fetchone()[0]
        conversions_new = con.execute(
            "SELECT sum(conversions) FROM raw.campaign_hourly WHERE hour_ts >= ?",
            [pd.Timestamp(small_config.end_date).to_pydatetime()],
        ).fetchone()[0]
        assert users_new == conversions_new
        assert (
            con.execute("SELECT count(*) FROM raw.market_daily WHERE date = ?", [small_config.end_date]).fetchone()[0]
            == 40
        )
        # every event either released or pending, never both, never lost
        released_or_pending = (
            con.execute("SELECT count(*) FROM raw.revenue_events").fetchone()[0]
            + con.execute("SELECT count(*) FROM sim.pending_revenue_events").fetchone()[0]
        )
        assert released_or_pending >= events_before + pending_before
