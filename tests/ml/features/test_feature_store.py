"""Feast over the marts: definitions apply, and point-in-time joins never leak values from the future."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.features.export import export_feature_tables, feature_data_dir
from ml.features.pushdown import service_views
from ml.features.store import (
    apply_definitions,
    ensure_registry,
    feature_store,
    materialize_online,
    online_features,
    registry_reads_here,
    training_frame,
)
from ml.settings import pmi_paths


@pytest.fixture(scope="module")
def store_home(small_warehouse, tmp_path_factory):
    """A copy of the small warehouse with its features exported and applied (so tests may edit the exports)."""
    paths = pmi_paths(tmp_path_factory.mktemp("feast_home")).ensure()
    shutil.copy(small_warehouse.warehouse, paths.warehouse)
    export_feature_tables(paths)
    applied = apply_definitions(paths)
    assert "FeatureService:ltv_model" in applied and "Entity:market" in applied
    return paths


def test_user_features_appear_only_once_known(store_home):
    users = pd.read_parquet(feature_data_dir(store_home) / "user_features.parquet")
    mature = users[users["is_mature_d7"]].sample(200, random_state=1)
    at_day7 = mature[["user_id"]].assign(event_timestamp=mature["install_ts"] + pd.Timedelta(days=7))
    at_day3 = mature[["user_id"]].assign(event_timestamp=mature["install_ts"] + pd.Timedelta(days=3))
    known = training_frame(store_home, at_day7, "ltv_model").set_index("user_id").loc[mature["user_id"]]
    np.testing.assert_allclose(known["revenue_d7"].to_numpy(), mature["revenue_d7"].to_numpy())
    assert (known["network"].to_numpy() == mature["network"].to_numpy()).all()
    early = training_frame(store_home, at_day3, "ltv_model")
    assert early["revenue_d7"].isna().all(), "day-7 features must not be served before day 7"


def test_no_feature_from_after_the_label_time_reaches_training(store_home):
    """Poison every campaign-day row dated after a cut-off; a join at the cut-off must not see any of them."""
    path = feature_data_dir(store_home) / "campaign_day_features.parquet"
    original = pd.read_parquet(path)
    cutoff = original["feature_ts"].sort_values().unique()[len(original["feature_ts"].unique()) // 2]
    poisoned = original.copy()
    future = poisoned["feature_ts"] > cutoff
    poisoned.loc[future, "trailing_7d_spend"] = 1e12
    poisoned.to_parquet(path)
    try:
        campaigns = original["campaign_id"].unique()
        times = pd.date_range(pd.Timestamp(cutoff) - pd.Timedelta(days=5), pd.Timestamp(cutoff), freq="6h")
        entities = pd.DataFrame([(c, t) for c in campaigns for t in times], columns=["campaign_id", "event_timestamp"])
        entities["market_id"] = "facebook:US"
        frame = training_frame(store_home, entities, "kpi_forecast")
        assert frame["trailing_7d_spend"].notna().any()
        assert (frame["trailing_7d_spend"].fillna(0) < 1e12).all()
        # and the value served is the one of the latest day at or before the entity time
        row = frame[(frame["campaign_id"] == campaigns[0])].sort_values("event_timestamp").iloc[-1]
        expected = original[(original["campaign_id"] == campaigns[0]) & (original["feature_ts"] <= cutoff)]
        latest_known = expected.sort_values("feature_ts")["trailing_7d_spend"].iloc[-1]
        assert row["trailing_7d_spend"] == pytest.approx(latest_known, nan_ok=True)
    finally:
        original.to_parquet(path)


def test_online_store_serves_latest_campaign_features(store_home):
    with duckdb.connect(str(store_home.warehouse), read_only=True) as con:
        latest = con.execute("""SELECT campaign_id, trailing_7d_spend::DOUBLE AS trailing_7d_spend
                                FROM marts.fct_campaign_day_features
                                QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY date DESC) = 1""").df()
    materialize_online(store_home, dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    served = online_features(
        store_home, "kpi_forecast", [{"campaign_id": c, "market_id": "facebook:US"} for c in latest["campaign_id"]]
    )
    np.testing.assert_allclose(
        served["trailing_7d_spend"].to_numpy(dtype=float),
        latest["trailing_7d_spend"].to_numpy(dtype=float),
        equal_nan=True,
    )


def test_two_data_directories_in_one_process_each_read_their_own_features(store_home, tmp_path, monkeypatch):
    """Paths are passed, not read from the environment: a second home applied after the first leaves the first's
    registry reading its own exports, and a copied home is re-pointed at its copy."""
    monkeypatch.delenv("PMI_HOME", raising=False)
    other = pmi_paths(tmp_path / "other").ensure()
    shutil.copy(store_home.warehouse, other.warehouse)
    export_feature_tables(other)
    apply_definitions(other)
    assert "PMI_HOME" not in os.environ  # nothing exported as a side effect
    for home in (store_home, other):
        views = service_views(home, "cac_model")
        assert views and all(Path(v.path).parent == home.feast_dir / "data" for v in views)
        assert registry_reads_here(home)
    moved = pmi_paths(tmp_path / "moved")
    shutil.copytree(other.home, moved.home)
    shutil.rmtree(other.home)
    assert not registry_reads_here(moved)  # its registry still names the removed directory's files
    assert ensure_registry(moved) and registry_reads_here(moved)
    assert all(Path(v.path).exists() for v in service_views(moved, "cac_model"))


def _served_latest(home, campaigns: list[str], end: dt.datetime) -> tuple[np.ndarray, np.ndarray]:
    """(served online, latest export row at or before ``end``) of trailing_7d_spend, per campaign."""
    export = pd.read_parquet(feature_data_dir(home) / "campaign_day_features.parquet")
    known = export[pd.to_datetime(export["feature_ts"], utc=True) <= pd.Timestamp(end)]
    latest = known.sort_values("feature_ts").groupby("campaign_id")["trailing_7d_spend"].last()
    served = online_features(home, "kpi_forecast", [{"campaign_id": c, "market_id": "facebook:US"} for c in campaigns])
    return served["trailing_7d_spend"].to_numpy(dtype=float), latest.loc[campaigns].to_numpy(dtype=float)


def test_online_views_materialise_from_their_own_last_end(store_home, tmp_path):
    """Each view starts where Feast's registry says it stopped (less the late-row lookback): a loop stopped for ten
    days catches up on all ten, so a campaign whose last row is older than any fixed window is still served its
    latest value, and a late row within the lookback reaches the online store."""
    home = pmi_paths(tmp_path / "incremental").ensure()
    shutil.copy(store_home.warehouse, home.warehouse)
    export_feature_tables(home)
    apply_definitions(home)
    path = feature_data_dir(home) / "campaign_day_features.parquet"
    export = pd.read_parquet(path)
    days = pd.to_datetime(export["feature_ts"], utc=True)
    first_end = (days.max() - pd.Timedelta(days=20)).to_pydatetime()
    end = (days.max() + pd.Timedelta(hours=6)).to_pydatetime()

    starts = materialize_online(home, first_end)  # never materialised: each view's TTL before the end
    assert all(start == first_end - dt.timedelta(days=2) for start in starts.values())
    # one campaign stops 8 days before the end: its last row falls between the two runs, outside any 3-day window
    stopped = export["campaign_id"].iloc[0]
    export = export[~((export["campaign_id"] == stopped) & (days > days.max() - pd.Timedelta(days=8)))]
    export.to_parquet(path)

    starts = materialize_online(home, end)
    first_day = first_end.replace(hour=0, minute=0, second=0, microsecond=0)
    assert all(start == first_day - dt.timedelta(days=2) for start in starts.values())
    views = {v.name: v for v in feature_store(home).list_feature_views()}
    assert all(views[name].most_recent_end_time == end for name in starts)
    campaigns = sorted(export["campaign_id"].unique())
    served, latest = _served_latest(home, campaigns, end)
    np.testing.assert_allclose(served, latest, equal_nan=True)

    # a late row: yesterday's value changes after the last run; the next hour's run re-reads it
    newest = pd.to_datetime(export["feature_ts"], utc=True) == days.max()
    export.loc[newest, "trailing_7d_spend"] = export.loc[newest, "trailing_7d_spend"] + 1000.0
    export.to_parquet(path)
    starts = materialize_online(home, end + dt.timedelta(hours=1))
    assert all(start == end.replace(hour=0) - dt.timedelta(days=2) for start in starts.values())
    served, latest = _served_latest(home, campaigns, end)
    np.testing.assert_allclose(served, latest, equal_nan=True)
    assert (served[np.asarray(campaigns) != stopped] >= 1000.0).all()
