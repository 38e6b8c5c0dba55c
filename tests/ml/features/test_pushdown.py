"""The DuckDB point-in-time join returns what Feast's own join returns, value for value, ttl and misses included."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.features.export import export_feature_tables
from ml.features.pushdown import point_in_time_sql, service_views
from ml.features.store import apply_definitions, training_frame
from ml.settings import pmi_paths


@pytest.fixture(scope="module")
def feast_home(small_warehouse, tmp_path_factory):
    """A copy of the small warehouse with its feature exports and an applied Feast registry."""
    paths = pmi_paths(tmp_path_factory.mktemp("pushdown")).ensure()
    shutil.copy(small_warehouse.warehouse, paths.warehouse)
    export_feature_tables(paths)
    apply_definitions(paths)
    return paths


def _both(paths, entities: pd.DataFrame, service: str, keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    utc = entities.assign(event_timestamp=entities["event_timestamp"].dt.tz_localize("UTC"))
    feast = training_frame(paths, utc, service)
    views = service_views(paths, service)
    with duckdb.connect() as con:
        con.register("entity_rows", entities)
        ours = con.sql(point_in_time_sql(views, "SELECT * FROM entity_rows")).df()
    order = [*keys, "event_timestamp"]
    feast = feast.assign(event_timestamp=feast["event_timestamp"].dt.tz_convert(None))
    return (ours.sort_values(order, ignore_index=True), feast[ours.columns].sort_values(order, ignore_index=True))


def _assert_same(ours: pd.DataFrame, feast: pd.DataFrame) -> None:
    for col in ours.columns:
        a, b = ours[col], feast[col]
        if pd.api.types.is_numeric_dtype(b) or pd.api.types.is_bool_dtype(b):
            assert np.allclose(a.astype(float), b.astype(float), equal_nan=True), col
        else:
            assert (a.isna() == b.isna()).all() and (a[a.notna()] == b[b.notna()]).all(), col


def test_user_features_match_feast_before_at_and_long_after_the_feature_time(feast_home):
    with duckdb.connect(str(feast_home.warehouse), read_only=True) as con:
        users = con.sql("""SELECT user_id, least(install_ts + INTERVAL 7 DAY, as_of_ts) AS t
                           FROM marts.fct_user_features USING SAMPLE 300 ROWS (reservoir, 1)""").df()
    shifts = [pd.Timedelta(0), pd.Timedelta(hours=-1), pd.Timedelta(days=401)]  # at, before (miss), past the ttl
    entities = pd.concat(
        [pd.DataFrame({"user_id": users["user_id"], "event_timestamp": users["t"] + s}) for s in shifts],
        ignore_index=True,
    )
    ours, feast = _both(feast_home, entities, "ltv_model", ["user_id"])
    _assert_same(ours, feast)
    assert ours["revenue_d7"].notna().sum() == len(users)  # only the rows joined at their feature time hit


def test_campaign_and_market_views_match_feast_on_every_campaign_day(feast_home):
    with duckdb.connect(str(feast_home.warehouse), read_only=True) as con:
        days = con.sql("""SELECT campaign_id, network || ':' || geo AS market_id, date::TIMESTAMP AS event_timestamp
                          FROM marts.fct_campaign_day_features""").df()
    ours, feast = _both(feast_home, days, "cac_model", ["campaign_id", "market_id"])
    _assert_same(ours, feast)
    assert ours["cpm_index"].notna().mean() > 0.9


def test_ltv_training_set_gives_every_selected_user_their_own_features(feast_home):
    from ml.models.training.ltv import ltv_training_set

    frame = ltv_training_set(feast_home, "campaign_id IN (SELECT min(campaign_id) FROM marts.fct_user_features)")
    with duckdb.connect(str(feast_home.warehouse), read_only=True) as con:
        mart = con.sql("""SELECT user_id, campaign_id, revenue_d7::DOUBLE AS revenue_d7, events_d3
                          FROM marts.fct_user_features
                          WHERE campaign_id = (SELECT min(campaign_id) FROM marts.fct_user_features)
                          ORDER BY user_id""").df()
    assert frame["user_id"].tolist() == mart["user_id"].tolist()
    assert (frame["campaign_id"] == mart["campaign_id"]).all()
    assert np.allclose(frame["revenue_d7"], mart["revenue_d7"]) and (frame["events_d3"] == mart["events_d3"]).all()
