"""The LTV step at scale: the training sample is stratified, proportional and seeded; scoring in chunks of whole
campaigns gives exactly what scoring every user at once gives."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.models.ltv import ltv_by_source
from ml.models.ltv.development import fit_development_curve
from ml.models.training.ltv_data import (
    LtvDataConfig,
    campaign_groups,
    sample_share,
    stratified_sample_sql,
    training_user_filter,
)
from ml.models.training.ltv_scoring import campaign_ltv_from_scores
from ml.settings import PmiPaths
from ml.warehouse.connection import read_sql


def _strata(users: pd.DataFrame) -> pd.Series:
    """Users per campaign x install week (DuckDB's date_trunc('week') starts weeks on Monday)."""
    ts = pd.to_datetime(users["install_ts"])
    week = (ts - pd.to_timedelta(ts.dt.dayofweek, unit="D")).dt.normalize()
    return users.groupby([users["campaign_id"], week]).size()


def _sample(home: Path, share: float, seed: int) -> pd.DataFrame:
    return read_sql(
        PmiPaths(home=home),
        f"""SELECT user_id, campaign_id, install_ts FROM marts.fct_user_features
                                             WHERE user_id IN ({stratified_sample_sql(share, seed)})""",
    )


def test_sample_keeps_the_same_share_of_every_campaign_and_week(ltv_home: Path):
    users = read_sql(PmiPaths(home=ltv_home), "SELECT user_id, campaign_id, install_ts FROM marts.fct_user_features")
    sample = _sample(ltv_home, 0.2, seed=5)
    expected = _strata(users).map(lambda n: math.ceil(0.2 * n))
    assert _strata(sample).reindex(expected.index, fill_value=0).equals(expected)
    assert sample["user_id"].is_unique and sample["user_id"].isin(users["user_id"]).all()


def test_sample_is_deterministic_for_a_seed_and_differs_between_seeds(ltv_home: Path):
    first, again = _sample(ltv_home, 0.2, seed=5), _sample(ltv_home, 0.2, seed=5)
    other = _sample(ltv_home, 0.2, seed=6)
    assert set(first["user_id"]) == set(again["user_id"])
    overlap = len(set(first["user_id"]) & set(other["user_id"])) / len(first)
    assert overlap < 0.5  # independent 20% samples share about 20% of their users


def test_below_the_budget_every_user_is_trained_on(ltv_home: Path):
    paths = PmiPaths(home=ltv_home)
    n = int(read_sql(paths, "SELECT count(*) AS n FROM marts.fct_user_features")["n"].iloc[0])
    assert training_user_filter(paths, LtvDataConfig(train_user_budget=n)) == ("TRUE", 1.0)
    where, share = training_user_filter(paths, LtvDataConfig(train_user_budget=n // 4))
    assert share == pytest.approx(0.25, rel=1e-3)
    sampled = read_sql(paths, f"SELECT count(*) AS n FROM marts.fct_user_features WHERE {where}")["n"].iloc[0]
    assert n // 4 <= sampled <= n // 4 + len(_strata(read_sql(paths, "SELECT * FROM marts.fct_user_features")))
    assert sample_share(10, 100) == 1.0
    with pytest.raises(ValueError, match="train_user_budget"):
        sample_share(10, 0)


def test_campaign_groups_hold_whole_campaigns_up_to_the_limit():
    counts = pd.DataFrame({"campaign_id": list("abcde"), "n": [3, 4, 9, 2, 2]})
    assert campaign_groups(counts, 8) == [["a", "b"], ["c"], ["d", "e"]]
    assert campaign_groups(counts, 100) == [list("abcde")]
    with pytest.raises(ValueError, match="score_chunk_users"):
        campaign_groups(counts, 0)


def test_scoring_in_chunks_equals_scoring_everyone_at_once(ltv_frames: dict, trained_ltv):
    users = ltv_frames["features"].sort_values("user_id", ignore_index=True)
    model = trained_ltv.model
    curve = fit_development_curve(users, "campaign_id", horizon=90)
    whole = campaign_ltv_from_scores([(users, model.predict_distribution(users))], curve)
    counts = users.groupby("campaign_id", as_index=False).size().rename(columns={"size": "n"})
    groups = campaign_groups(counts, int(counts["n"].max()))
    assert len(groups) > 1
    chunks = (users[users["campaign_id"].isin(g)] for g in groups)
    chunked = campaign_ltv_from_scores(((chunk, model.predict_distribution(chunk)) for chunk in chunks), curve)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=False, rtol=1e-9)
    # and the same as the unchunked path that fits development curves on the users it is given
    direct = ltv_by_source(users, model.predict_distribution(users), source_cols=("campaign_id",), horizon=90)
    assert np.allclose(whole["blended_ltv_d90"], direct["blended_ltv_d90"], rtol=1e-9)
    assert np.allclose(whole["ltv_d90_mean"], direct["ltv_d90_mean"], rtol=1e-9)
