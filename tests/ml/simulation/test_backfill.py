"""Backfill: determinism, the raw contract's invariants, and reconciliation of users with conversions."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.simulation import SimulationConfig
from ml.simulation.backfill import simulate_backfill
from ml.warehouse.raw_schema import RAW_TABLES


@pytest.fixture(scope="module")
def frames(small_config):
    return simulate_backfill(small_config)


def test_same_seed_gives_identical_tables(small_config, frames):
    again = simulate_backfill(small_config)
    for name, frame in frames.raw.items():
        pd.testing.assert_frame_equal(frame, again.raw[name], obj=f"raw.{name}")
    pd.testing.assert_frame_equal(frames.truth["campaign_truth"], again.truth["campaign_truth"])


def test_other_seed_gives_other_tables(small_config, frames):
    other = simulate_backfill(small_config.model_copy(update={"seed": small_config.seed + 1}))
    assert not frames.raw["campaign_hourly"]["spend"].equals(other.raw["campaign_hourly"]["spend"])


def test_tables_follow_the_contract(frames):
    for table, (columns, key) in RAW_TABLES.items():
        frame = frames.raw[table]
        id_columns = {"user_id": "user_seq", "event_id": "event_seq"}
        present = {id_columns.get(c, c) for c in columns}
        assert present <= set(frame.columns), table
        key_cols = [id_columns.get(c, c) for c in key]
        assert not frame.duplicated(key_cols).any(), f"duplicate keys in raw.{table}"


def test_funnel_invariants(frames):
    hourly = frames.raw["campaign_hourly"]
    assert (hourly[["spend", "impressions", "clicks", "conversions", "revenue"]] >= 0).all().all()
    assert (hourly["clicks"] <= hourly["impressions"]).all()
    assert (hourly["conversions"] <= hourly["clicks"]).all()


def test_one_user_per_conversion(frames):
    hourly = frames.raw["campaign_hourly"]
    users = frames.raw["users"]
    per_campaign = users.groupby("campaign_id").size()
    conversions = hourly.groupby("campaign_id")["conversions"].sum()
    pd.testing.assert_series_equal(per_campaign, conversions[conversions > 0], check_names=False)
    assert set(users["campaign_id"]) <= set(frames.raw["campaigns"]["campaign_id"])
    # installs fall inside the hour that converted them
    merged = users.assign(hour_ts=users["install_ts"].dt.floor("h")).merge(
        hourly[hourly["conversions"] > 0], on=["campaign_id", "hour_ts"], how="left", indicator=True
    )
    assert (merged["_merge"] == "both").all()


def test_events_after_install_and_not_in_future(small_config, frames):
    users = frames.raw["users"][["user_seq", "install_ts"]]
    now = pd.Timestamp(small_config.end_date)
    for name, in_past in (("revenue_events", True), ("pending_revenue_events", False)):
        events = (frames.raw if in_past else frames.sim)[name].merge(users, on="user_seq")
        assert (events["event_ts"] >= events["install_ts"]).all()
        assert ((events["event_ts"] < now) == in_past).all()
        horizon = pd.Timedelta(days=small_config.revenue_horizon_days)
        assert (events["event_ts"] < events["install_ts"] + horizon).all()


def test_in_hour_revenue_matches_events(frames):
    users = frames.raw["users"]
    events = frames.raw["revenue_events"].merge(users, on="user_seq")
    in_hour = events[events["event_ts"] < events["install_ts"].dt.floor("h") + pd.Timedelta(hours=1)]
    expected = in_hour.groupby("campaign_id")["revenue"].sum().round(2)
    reported = frames.raw["campaign_hourly"].groupby("campaign_id")["revenue"].sum().round(2)
    pd.testing.assert_series_equal(reported[reported > 0], expected, check_names=False)


def test_budgets_drive_spend(small_config, frames):
    """Daily spend tracks the budget in effect (pacing noise averages out over a day)."""
    hourly = frames.raw["campaign_hourly"].assign(date=lambda f: f["hour_ts"].dt.floor("D"))
    daily = hourly.groupby(["campaign_id", "date"])["spend"].sum().reset_index()
    budgets = frames.raw["budgets"].sort_values("effective_ts")
    merged = pd.merge_asof(
        daily.sort_values("date"), budgets, left_on="date", right_on="effective_ts", by="campaign_id"
    )
    ratio = merged["spend"] / merged["daily_budget"]
    assert ratio.between(0.85, 1.15).mean() > 0.99
    assert abs(ratio.mean() - 1) < 0.01


def test_scales_to_many_campaigns():
    """Thousands of campaigns: every campaign has one row per hour it was live, no more, no less."""
    config = SimulationConfig(n_campaigns=2000, days=2, seed=3)
    frames = simulate_backfill(config)
    launched = pd.to_datetime(frames.raw["campaigns"]["launched_at"])
    launch_day = (launched - pd.Timestamp(config.start_date)).dt.days.clip(lower=0)
    expected_hours = (24 * (config.days - launch_day)).clip(lower=0)
    rows = frames.raw["campaign_hourly"].groupby("campaign_id").size()
    expected = pd.Series(expected_hours.to_numpy(), index=frames.raw["campaigns"]["campaign_id"])
    pd.testing.assert_series_equal(rows, expected[expected > 0], check_names=False, check_dtype=False)
