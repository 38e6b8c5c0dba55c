"""The portfolio's d90 value: settled users add exactly, the total meets what the users go on to pay, the back-test's
interval covers it, and the back-test developing at an earlier origin reads nothing from after that origin."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import run_dbt

from ml.evaluation.developed_value import campaign_value_without_model
from ml.evaluation.truth import realised_value_sql
from ml.models.ltv.portfolio_total import (
    DevelopmentBacktest,
    developed_at,
    development_backtest,
    portfolio_value,
)
from ml.models.training.ltv_scoring import CURVE_COLUMNS

# 200 days: the back-test needs origins at least 90 days before the as-of whose history already held d90 users.
LONG = {"n_campaigns": 4, "days": 200, "seed": 11, "end_date": dt.date(2026, 10, 1)}


@pytest.fixture(scope="module")
def long_users(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    from ml.settings import PmiPaths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill

    home: Path = tmp_path_factory.mktemp("ltv_long")
    run_backfill(SimulationConfig(**LONG), PmiPaths(home=home).ensure())
    run_dbt(home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        users = con.sql(f"select user_id, {CURVE_COLUMNS} from marts.fct_user_features").df()
        realised = con.sql(realised_value_sql(90)).df()
    return users.merge(realised, on="user_id", how="left", validate="one_to_one")


def test_settled_part_is_the_mature_users_revenue_exactly(long_users):
    value = portfolio_value(campaign_value_without_model(long_users), development_backtest(long_users))
    mature = (long_users["as_of_ts"] - long_users["install_ts"]) >= pd.Timedelta(days=90)
    assert value.n_users == len(long_users)
    assert value.settled == pytest.approx(long_users.loc[mature, "revenue_d90"].sum(), rel=1e-9)
    assert 0 < value.settled < value.total


def test_total_meets_what_the_users_go_on_to_pay_and_the_interval_covers_it(long_users):
    backtest = development_backtest(long_users)
    value = portfolio_value(campaign_value_without_model(long_users), backtest)
    realised = long_users["realised_d90"].sum()
    assert len(backtest.log_errors) >= 3 and np.isfinite(value.log_sd)
    assert value.total == pytest.approx(realised, rel=0.05)
    assert value.low <= realised <= value.high
    assert value.low < value.total < value.high and value.low > value.settled
    as_of = long_users["as_of_ts"].max()
    assert all(origin <= as_of - pd.Timedelta(days=90) for origin in backtest.origins)


def test_developing_at_an_origin_reads_nothing_from_after_it(long_users):
    """Revenue a user had not yet shown at the origin (later checkpoints, the total so far) is scrambled: the values
    developed at the origin do not move, while the realised d90 they are compared with does."""
    origin = long_users["as_of_ts"].max() - pd.Timedelta(days=100)
    before = developed_at(long_users, origin)
    age = ((origin - long_users["install_ts"]) / pd.Timedelta(days=1)).to_numpy()
    scrambled = long_users.copy()
    rng = np.random.default_rng(0)
    for day in (1, 3, 7, 30, 90, 180):
        column = f"revenue_d{day}"
        unseen = age < day
        scrambled.loc[unseen, column] = scrambled.loc[unseen, column] * rng.uniform(0, 5, unseen.sum())
    scrambled["revenue_total"] = scrambled["revenue_total"] * rng.uniform(0, 5, len(scrambled))
    after = developed_at(scrambled, origin)
    assert before["developed"].notna().mean() > 0.9
    pd.testing.assert_series_equal(before["developed"], after["developed"])
    assert not np.allclose(before["realised"], after["realised"])


def test_interval_widens_with_the_back_test_error_and_stays_open_without_one():
    by_campaign = pd.DataFrame({"n_users": [100, 300], "blended_ltv_d90": [10.0, 4.0], "settled_ltv_d90": [6.0, 1.0]})
    origins = tuple(pd.Timestamp("2026-01-01") + pd.Timedelta(days=7 * i) for i in range(4))
    narrow = portfolio_value(by_campaign, DevelopmentBacktest(origins, (0.01, -0.02, 0.015, 0.0)))
    wide = portfolio_value(by_campaign, DevelopmentBacktest(origins, (0.1, -0.2, 0.15, 0.0)))
    assert narrow.total == wide.total == 100 * 10 + 300 * 4
    assert narrow.settled == 100 * 6 + 300 * 1
    assert wide.low < narrow.low < narrow.total < narrow.high < wide.high
    assert wide.low > wide.settled  # the settled part is never in doubt
    unknown = portfolio_value(by_campaign, DevelopmentBacktest(origins[:2], (0.01, 0.02)))
    assert np.isnan(unknown.low) and np.isnan(unknown.high) and unknown.total == narrow.total
