"""Development of users' revenue so far: exact on hand-computed cases, equal to the mature mean when all are mature,
along each source's own value curve once curves can be fitted, blind to anything after ``as_of``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.ltv.curves import curve
from ml.models.ltv.development import developed_ltv_by_source, developed_user_value, last_checkpoint

NOW = pd.Timestamp("2026-10-01")


def _users(ages: list[float], revenue: dict[int, list[float]], source: str = "s") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign_id": source,
            "install_ts": [NOW - pd.Timedelta(days=a) for a in ages],
            "as_of_ts": NOW,
            **{f"revenue_d{d}": v for d, v in revenue.items()},
            "revenue_total": np.nan,
        }
    )


def test_last_checkpoint_is_the_latest_passed_day():
    ages = np.array([0.5, 1.0, 2.9, 6.99, 7.0, 29.0, 30.0, 89.0, 120.0])
    assert last_checkpoint(ages, 90).tolist() == [-1, 1, 1, 3, 7, 7, 30, 30, 30]
    assert last_checkpoint(ages, 30).tolist() == [-1, 1, 1, 3, 7, 7, 7, 7, 7]


def test_immature_users_are_developed_by_the_sources_mature_factor():
    # Two mature users: 10 at d30 -> 15 at d90 (factor 1.5); 4 at d7 -> 15 at d90 (factor 15 / 4).
    users = _users(
        [100, 100, 40, 10, 0.2],
        {1: [2, 0, 1, 1, 0], 3: [2, 0, 1, 2, 0], 7: [4, 0, 3, 2, 0], 30: [10, 0, 4, 0, 0], 90: [15, 0, 0, 0, 0]},
    )
    per_user = developed_user_value(users, np.full(5, 0.7), ["campaign_id"])
    assert per_user["basis"].tolist() == ["mature", "mature", "developed", "developed", "model"]
    assert np.allclose(per_user["developed"], [15, 0, 4 * 1.5, 2 * 15 / 4, 0.7])
    out = developed_ltv_by_source(users, np.full(5, 0.7), ["campaign_id"]).iloc[0]
    assert np.isclose(out["developed_ltv_d90"], (15 + 6 + 7.5 + 0.7) / 5)
    assert np.isclose(out["model_share"], 0.2)


def test_all_mature_gives_the_mature_mean_and_a_source_without_gets_the_portfolio_factor():
    rng = np.random.default_rng(0)
    value = rng.lognormal(2, 1, 50) * (rng.random(50) < 0.2)
    mature = _users([95] * 50, {d: value * 0.5 for d in (1, 3, 7, 30)} | {90: value})
    young = _users([20] * 10, {d: np.ones(10) for d in (1, 3, 7, 30, 90)}, source="new")
    both = pd.concat([mature, young], ignore_index=True)
    pred = np.r_[np.zeros(50), np.full(10, 3.0)]
    out = developed_ltv_by_source(both, pred, ["campaign_id"])
    assert np.isclose(out.loc["s", "developed_ltv_d90"], value.mean())
    # d7 revenue is half the d90 value in source s: the new source's d7 revenue of 1 develops to 2
    assert np.isclose(out.loc["new", "developed_ltv_d90"], 2.0) and out.loc["new", "model_share"] == 0.0
    alone = developed_ltv_by_source(young, np.full(10, 3.0), ["campaign_id"])
    assert np.isclose(alone.loc["new", "developed_ltv_d90"], 3.0) and alone.loc["new", "model_share"] == 1.0


def test_nothing_after_as_of_reaches_the_estimate():
    """Revenue at checkpoints a user has not reached, and the horizon label of immature users, are ignored."""
    ages = [120, 120, 45, 12, 2, 0.3]
    clean = {
        1: [1, 0, 2, 1, 1, np.nan],
        3: [1, 0, 2, 1, np.nan, np.nan],
        7: [3, 0, 2, 2, np.nan, np.nan],
        30: [6, 0, 5, np.nan, np.nan, np.nan],
        90: [9, 0, np.nan, np.nan, np.nan, np.nan],
    }
    poisoned = {d: [1e6 if np.isnan(v) else v for v in values] for d, values in clean.items()}
    pred = np.full(len(ages), 1.0)
    base = developed_ltv_by_source(_users(ages, clean), pred, ["campaign_id"])
    leak = developed_ltv_by_source(_users(ages, poisoned), pred, ["campaign_id"])
    pd.testing.assert_frame_equal(base, leak)
    assert np.isfinite(base["developed_ltv_d90"]).all()
    # Moving as_of back 100 days makes every user immature (or not yet installed checkpoints): the model fills in.
    early = developed_ltv_by_source(_users(ages, poisoned), pred, ["campaign_id"], as_of=NOW - pd.Timedelta(days=100))
    assert np.isclose(early["developed_ltv_d90"].iloc[0], 1.0)


def _curve_users(source: str, ages: np.ndarray, burst: float, tau: float, value: float = 10.0) -> pd.DataFrame:
    """Payers whose revenue follows ``G(d) = burst + 1 - exp(-d / tau)`` exactly (value reached at day 180)."""
    share = {d: curve(min(d, 180), burst, tau) / curve(180, burst, tau) for d in (1, 3, 7, 30, 90, 180)}
    frame = pd.DataFrame(
        {
            "campaign_id": source,
            "install_ts": NOW - pd.to_timedelta(ages, unit="D"),
            "as_of_ts": NOW,
            "revenue_total": value * curve(np.minimum(ages, 180), burst, tau) / curve(180, burst, tau),
        }
    )
    for d, s in share.items():
        frame[f"revenue_d{d}"] = np.where(ages >= d, value * s, np.nan)
    return frame


def test_each_source_develops_along_its_own_curve_even_before_anyone_reaches_the_horizon():
    rng = np.random.default_rng(1)
    users = pd.concat(
        [
            _curve_users("fast", rng.uniform(0, 179, 3_000), 0.3, 10.0),
            _curve_users("slow", rng.uniform(0, 179, 3_000), 0.3, 60.0),
            _curve_users("young_slow", rng.uniform(0, 80, 3_000), 0.3, 60.0),
        ],
        ignore_index=True,
    )
    per_user = developed_user_value(users, np.zeros(len(users)), ["campaign_id"])
    developed = per_user[per_user["basis"] == "developed"]
    truth = {tau: 10.0 * curve(90, 0.3, tau) / curve(180, 0.3, tau) for tau in (10.0, 60.0)}
    expected = developed["campaign_id"].map({"fast": truth[10.0], "slow": truth[60.0], "young_slow": truth[60.0]})
    assert (per_user.loc[users.index[users["campaign_id"] == "young_slow"], "basis"] != "mature").all()
    assert np.allclose(developed["developed"], expected, rtol=0.05)
    # One portfolio-wide ratio would have over-developed the fast source and under-developed the slow ones.
    assert truth[60.0] / truth[10.0] < 0.9
