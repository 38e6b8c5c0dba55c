"""LTV features read only days 0..7: changing anything later (labels, later events, age) leaves them unchanged."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import read_tables, run_dbt

from ml.models.ltv.features import FEATURES, early_features, observed_window, source_stats

LATER = [
    "revenue_d30",
    "revenue_d90",
    "revenue_d180",
    "revenue_total",
    "is_mature_d30",
    "is_mature_d90",
    "is_mature_d180",
]


def test_features_ignore_labels_and_later_age(ltv_frames, trained_ltv):
    df = ltv_frames["features"]
    rng = np.random.default_rng(0)
    changed = df.copy()
    for col in LATER:
        changed[col] = rng.permutation(changed[col].to_numpy())
    old = df["age_days"].to_numpy() >= 7  # users past day 7: a later as_of must not change what we know of them
    changed.loc[old, "as_of_ts"] = changed.loc[old, "as_of_ts"] + pd.Timedelta(days=40)
    changed.loc[old, "age_days"] = changed.loc[old, "age_days"] + 40
    pd.testing.assert_frame_equal(early_features(df), early_features(changed))
    model = trained_ltv.model
    pd.testing.assert_frame_equal(model.predict_distribution(df), model.predict_distribution(changed))


def test_observed_window_cuts_young_users():
    now = pd.Timestamp("2026-10-01")
    df = pd.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "campaign_id": "c1",
            "network": "n",
            "platform": "ios",
            "geo": "US",
            "creative_format": "video",
            "targeting": "broad",
            "has_agency": False,
            "auto_optimization_enabled": True,
            "install_hour": 1,
            "install_day_of_week": 2,
            "as_of_ts": now,
            "install_ts": now - pd.to_timedelta([0.5, 2.5, 30], unit="D"),
            "revenue_d1": [0.0, 1.0, 1.0],
            "revenue_d3": [0.0, 3.0, 3.0],
            "revenue_d7": [0.0, 3.0, 7.0],
            "events_d1": [0, 1, 1],
            "events_d3": [0, 2, 2],
            "events_d7": [0, 2, 3],
            "hours_to_first_event": [np.nan, 5.0, 5.0],
            "hours_to_first_purchase": [np.nan, 30.0, 30.0],
            "ad_revenue_d7": [0.0, 0.0, 7.0],
            "subscription_revenue_d7": [0.0, 0.0, 0.0],
        }
    )
    assert observed_window(df).tolist() == [0, 1, 7]
    x = early_features(df, sources=source_stats(df))
    assert list(x.columns) == list(FEATURES)
    assert x["revenue_d7"].tolist() == [0.0, 1.0, 7.0]  # only what was seen by the end of the observed window
    assert x["revenue_d3"].tolist() == [0.0, 1.0, 3.0]
    assert np.isnan(x["hours_to_first_purchase"].iloc[1]) and x["hours_to_first_purchase"].iloc[2] == 30.0
    assert np.isnan(x["ad_revenue_share_d7"].iloc[1]) and x["ad_revenue_share_d7"].iloc[2] == 1.0
    # a truncated training copy of the mature user looks like the young one
    assert early_features(df.iloc[[2]], window=np.array([1]))["revenue_d7"].item() == 1.0


@pytest.mark.filterwarnings("ignore")
def test_warehouse_features_unchanged_when_events_after_day_7_change(ltv_home, ltv_frames, tmp_path):
    """End to end through dbt: triple every event from day 7 on and add late ones; early features stay put."""
    home = tmp_path / "changed"
    home.mkdir()
    shutil.copy(ltv_home / "warehouse.duckdb", home / "warehouse.duckdb")
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        late = """from raw.revenue_events e join raw.users u using (user_id)
                  where e.event_ts >= u.install_ts + interval 7 day"""
        n_late = con.execute(f"select count(*) {late}").fetchall()[0][0]
        con.execute(f"update raw.revenue_events set revenue = revenue * 3 where event_id in (select e.event_id {late})")
        con.execute("""insert into raw.revenue_events
                       select 'late_' || u.user_id, u.user_id, u.install_ts + interval 8 day, 50.0, 'purchase'
                       from raw.users u
                       where u.install_ts + interval 8 day < (select max(event_ts) from raw.revenue_events)
                       and hash(u.user_id) % 50 = 0""")
    assert n_late > 0
    run_dbt(home)
    before = ltv_frames["features"].sort_values("user_id").reset_index(drop=True)
    after = read_tables(home)["features"].sort_values("user_id").reset_index(drop=True)
    assert not np.allclose(before["revenue_d90"], after["revenue_d90"])  # the change did reach the labels
    pd.testing.assert_frame_equal(early_features(before), early_features(after))
