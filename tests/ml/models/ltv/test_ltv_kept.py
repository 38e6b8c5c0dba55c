"""When ``predictions.campaign_ltv`` may be kept: scored by the champion, every campaign with users has a row, and
(except for the hourly job, which leaves a new data day to `daily_user_value`) on today's data. Each staleness test
changes a copy of the published data directory."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import run_dbt
from mlflow import MlflowClient

from ml.features.export import export_feature_tables
from ml.features.store import apply_definitions
from ml.models.training.ltv import MODEL_NAME, train_ltv_model
from ml.models.training.ltv_score_cache import FINAL_AFTER_DAYS, SCORE_CACHE, keep_only_version
from ml.models.training.ltv_scoring import campaign_ltv_is_current, publish_campaign_ltv
from ml.operations.daily_refresh import daily_user_value_due
from ml.settings import PmiPaths, pmi_paths
from ml.tracking.registry import CHAMPION, champion_version, configure
from ml.warehouse.connection import read_sql, table_exists


@pytest.fixture(scope="module")
def published(ltv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small warehouse with feature exports, an LTV champion and its published campaign LTV."""
    home = tmp_path_factory.mktemp("ltv_kept") / "home"
    home.mkdir()
    shutil.copy(ltv_home / "warehouse.duckdb", home / "warehouse.duckdb")
    run_dbt(home, "+fct_user_features +fct_campaign_day_features +fct_market_day_features +fct_campaign_daily")
    paths = pmi_paths(home).ensure()
    export_feature_tables(paths)
    apply_definitions(paths)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert train_ltv_model(paths, seed=1).promoted
        publish_campaign_ltv(paths)
    return home


@pytest.fixture
def copy(published: Path, tmp_path: Path) -> PmiPaths:
    """A throw-away copy of the published data directory (the MLflow registry included)."""
    shutil.copytree(published, tmp_path / "home")
    return pmi_paths(tmp_path / "home")


def execute(paths: PmiPaths, sql: str) -> None:
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(sql)


def test_published_table_is_current(published: Path):
    assert campaign_ltv_is_current(pmi_paths(published)) is None


def test_later_hour_of_the_same_day_keeps_it(copy: PmiPaths):
    execute(copy, "UPDATE predictions.campaign_ltv SET as_of_ts = date_trunc('day', as_of_ts)")
    assert campaign_ltv_is_current(copy) is None


def test_new_data_day_rescores_in_the_daily_job_not_the_hourly_one(copy: PmiPaths):
    assert daily_user_value_due(copy) is None
    # Scored the day before the warehouse's as-of (a view over raw, so the table's as-of moves instead).
    execute(copy, "UPDATE predictions.campaign_ltv SET as_of_ts = as_of_ts - INTERVAL 1 DAY")
    assert "as of" in campaign_ltv_is_current(copy)
    assert campaign_ltv_is_current(copy, same_data_day=False) is None
    assert daily_user_value_due(copy).startswith("LTV scored as of")


def test_new_champion_version_rescores(copy: PmiPaths):
    configure(copy)
    client = MlflowClient()
    first = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    second = client.create_model_version(MODEL_NAME, first.source, first.run_id)
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, second.version)
    assert f"champion is {second.version}" in campaign_ltv_is_current(copy)
    assert f"champion is {second.version}" in campaign_ltv_is_current(copy, same_data_day=False)
    assert daily_user_value_due(copy) is None  # the hourly job re-scores it at once


def test_campaign_with_users_but_no_row_rescores(copy: PmiPaths):
    execute(
        copy,
        """DELETE FROM predictions.campaign_ltv
           WHERE campaign_id = (SELECT max(campaign_id) FROM marts.fct_user_features)""",
    )
    assert campaign_ltv_is_current(copy) == "1 campaign(s) with users have no LTV row"


def test_missing_table_rescores(copy: PmiPaths):
    execute(copy, "DROP TABLE predictions.campaign_ltv")
    assert campaign_ltv_is_current(copy) == "no predictions.campaign_ltv yet"


def campaign_table(paths: PmiPaths) -> pd.DataFrame:
    return read_sql(paths, "SELECT * FROM predictions.campaign_ltv ORDER BY campaign_id")


def assert_same_scores(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal campaign tables (to float summation order), each counting every user once."""
    assert left["n_users"].sum() == right["n_users"].sum()
    numeric = [c for c in left.columns if pd.api.types.is_float_dtype(left[c])]
    assert list(left["campaign_id"]) == list(right["campaign_id"])
    np.testing.assert_allclose(left[numeric].to_numpy(float), right[numeric].to_numpy(float), rtol=1e-9, atol=1e-12)


def test_final_user_predictions_are_stored_and_read_back_unchanged(copy: PmiPaths):
    """Publishing stored the predictions of users observed at least FINAL_AFTER_DAYS (and only those); the next
    scoring reads them back (doubling them moves the table) and equals scoring every user afresh."""
    stored = read_sql(
        copy,
        f"""SELECT c.model_version, u.as_of_ts - u.install_ts AS observed FROM {SCORE_CACHE} c
            JOIN marts.fct_user_features u USING (user_id)""",
    )
    final = read_sql(
        copy,
        f"""SELECT count(*) AS n FROM marts.fct_user_features
            WHERE as_of_ts - install_ts >= INTERVAL {FINAL_AFTER_DAYS} DAY""",
    )["n"].iloc[0]
    assert len(stored) == final > 0
    assert set(stored["model_version"]) == {champion_version(copy, MODEL_NAME)}
    published = campaign_table(copy)
    users = read_sql(copy, "SELECT count(*) AS n FROM marts.fct_user_features")["n"].iloc[0]
    assert published["n_users"].sum() == users
    publish_campaign_ltv(copy, reuse_stored=True)
    assert_same_scores(campaign_table(copy), published)
    execute(copy, f"UPDATE {SCORE_CACHE} SET ltv_d90_mean = 2 * ltv_d90_mean")
    publish_campaign_ltv(copy, reuse_stored=True)
    assert (campaign_table(copy)["ltv_d90_mean"] > published["ltv_d90_mean"] * 1.2).all()
    publish_campaign_ltv(copy)  # a job that rebuilt the warehouse from raw: every user predicted afresh
    assert_same_scores(campaign_table(copy), published)
    assert len(read_sql(copy, f"SELECT user_id FROM {SCORE_CACHE}")) == final  # and stored again


def test_a_changed_campaign_flag_or_champion_predicts_afresh(copy: PmiPaths):
    campaign = read_sql(copy, "SELECT min(campaign_id) AS c FROM marts.fct_user_features")["c"].iloc[0]
    execute(copy, f"UPDATE marts.fct_user_features SET has_agency = NOT has_agency WHERE campaign_id = '{campaign}'")
    publish_campaign_ltv(copy, reuse_stored=True)  # its stored rows no longer match: its users are predicted again
    kept_for_others = campaign_table(copy)
    execute(copy, f"DROP TABLE {SCORE_CACHE}")
    publish_campaign_ltv(copy, reuse_stored=True)
    assert_same_scores(kept_for_others, campaign_table(copy))
    keep_only_version(copy, "a newer champion")
    assert not table_exists(copy, SCORE_CACHE)


def test_portfolio_total_reconciles_with_the_campaign_table_and_the_users(published: Path, capsys):
    """``predictions.portfolio_ltv`` is written with ``campaign_ltv``: its total is the campaigns' users x LTV, its
    settled part what users past day 90 paid; 120 days of installs are too few for the back-test, so the interval
    stays open and `pmi status` says why."""
    from ml.cli.main import main
    from ml.models.ltv.portfolio_total import history_days_needed
    from ml.models.training.ltv_scoring import portfolio_ltv_summary

    paths = pmi_paths(published)
    total = read_sql(paths, "SELECT * FROM predictions.portfolio_ltv").iloc[0]
    campaigns = campaign_table(paths)
    mature_paid = read_sql(
        paths, "SELECT sum(revenue_d90)::DOUBLE AS v FROM marts.fct_user_features WHERE is_mature_d90"
    )["v"].iloc[0]
    assert total["n_users"] == campaigns["n_users"].sum()
    assert total["total_ltv_d90"] == pytest.approx((campaigns["n_users"] * campaigns["blended_ltv_d90"]).sum())
    assert total["settled_ltv_d90"] == pytest.approx(mature_paid, rel=1e-9)
    assert total["model_version"] == campaigns["model_version"].iloc[0]
    assert total["n_backtest_origins"] == 0 and np.isnan(total["total_ltv_d90_p05"])
    assert portfolio_ltv_summary(paths).startswith(f"{total['total_ltv_d90']:,.0f} of {total['n_users']:,} users (no")
    capsys.readouterr()
    assert main(["status", "--home", str(published)]) == 0
    out = capsys.readouterr().out
    assert f"users acquired so far (d90): {total['total_ltv_d90']:,.0f}" in out
    assert f"the back-test needs about {history_days_needed()} days of installs" in out
