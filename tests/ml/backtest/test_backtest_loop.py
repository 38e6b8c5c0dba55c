"""The closed loop on a small world (6 campaigns x 14 days, audience saturation from day 7): budgets, money,
the oracle's edge, the drift -> one retrain rule, alerts, and the written outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.backtest import BacktestConfig, run_backtest
from ml.backtest.config import POLICIES
from ml.backtest.report import daily_series, summary_table, write_outputs

SMALL = {
    "days": 14,
    "n_campaigns": 6,
    "seed": 3,
    "refit_every_days": 100,
    "fit_window_days": 90,
    "drift_factor": 0.25,
}  # a small portfolio runs its campaigns far below saturation: a clear drift


@pytest.fixture(scope="module")
def result():
    return run_backtest(BacktestConfig(**SMALL, drift="audience_saturation"))


def test_every_policy_spends_at_most_the_total_budget_each_day(result):
    daily = result.daily
    assert set(daily["policy"]) == set(POLICIES)
    assert (daily["budget"] <= result.total_budget * (1 + 1e-9) + 1e-6).all()
    assert (daily["spend"] <= daily["budget"] + 1e-6).all()


def test_money_is_conserved(result):
    daily = result.daily
    per_campaign = np.stack(daily["campaign_spend"].to_numpy()).sum(axis=1)
    np.testing.assert_allclose(per_campaign, daily["spend"], rtol=1e-12)
    np.testing.assert_allclose(daily["profit"], daily["revenue"] - daily["cost"])
    assert (daily["cost"] > daily["spend"]).all()  # overhead and creative come on top of media


def test_static_and_equal_keep_their_split(result):
    budgets = result.daily.pivot(index="day", columns="policy", values="budget")
    assert budgets["static"].nunique() == 1
    np.testing.assert_allclose(budgets["equal"], result.total_budget)


def test_oracle_beats_static(result):
    totals = result.daily.groupby("policy")["profit"].sum()
    assert totals["oracle"] > totals["static"]


def test_drift_raises_alerts_and_retrains_only_the_hit_campaign_at_most_once_after_the_break(result):
    """The drift rule weighs a CPA miss against the fit's own predictive noise (ml/monitoring/drift.py): no campaign
    the drift did not hit is retrained, and the hit one at most once, after the break. (In this small world the
    drifted campaign's fit is so over-dispersed, HAC ratio about 27, that its CPA x1.7 stays inside 3 standard
    errors: the alerts act on it, the drift rule does not; tests/ml/monitoring/test_drift.py checks detection.)"""
    config = result.config
    assert len(result.drifted_campaigns) == 1
    drifted = result.drifted_campaigns[0]
    retrained = [c for flagged in result.retrained_campaigns["pmi"] for c in flagged]
    assert set(retrained) <= {drifted} and len(retrained) <= 1, result.retrained_campaigns
    assert all(day > config.drift_day for day in result.retrain_days["pmi"])
    assert result.alerts["pmi"] > 0
    assert result.retrain_days["greedy"] == []  # greedy has no drift logic


def test_outputs_are_written(result, tmp_path):
    paths = write_outputs([result], tmp_path / "out")
    daily = pd.read_csv(paths["daily"])
    assert len(daily) == len(POLICIES) * result.config.days
    assert list(daily.columns) == list(daily_series([result]).columns)
    last = daily[daily["day"] == daily["day"].max()].set_index("policy")
    totals = result.daily.groupby("policy")["profit"].sum()
    np.testing.assert_allclose(last["cumulative_profit"].reindex(totals.index), totals, rtol=1e-6)
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = pd.read_csv(paths["summary"]).set_index("policy")
    assert summary.loc["oracle", "share_of_oracle_uplift"] == pytest.approx(1.0)
    assert summary.loc["static", "share_of_oracle_uplift"] == pytest.approx(0.0)
    assert not list(tmp_path.joinpath("out").glob(".*"))  # no temporary files left behind


def test_a_seed_replays_identically():
    config = BacktestConfig(days=3, n_campaigns=4, seed=5, drift="none", fit_window_days=60)
    first, second = run_backtest(config), run_backtest(config)
    columns = ["policy", "day", "budget", "spend", "conversions", "revenue", "cost"]
    pd.testing.assert_frame_equal(first.daily[columns], second.daily[columns])
    assert summary_table([first])["cumulative_profit"].tolist() == summary_table([second])["cumulative_profit"].tolist()


def test_every_applied_budget_is_inside_the_days_limit_and_alert_cuts_do_not_stack(result):
    """pmi's CPA alerts cut 15% on top of its allocation; the gate holds the sum of both to the day's limit."""
    assert result.alerts["pmi"] > 0
    assert result.limit_violations == {"greedy": 0, "pmi": 0, "oracle": 0}


def test_the_summary_names_its_seed_sets_with_held_out_seeds_first(result):
    import dataclasses

    held_out = dataclasses.replace(
        result, config=result.config.model_copy(update={"seed": 7}), daily=result.daily.assign(seed=7)
    )
    table = summary_table([result, held_out])
    assert table["seeds"].unique().tolist() == ["held-out seeds 7", "tuning seeds 3"]
    assert set(table.columns) >= {"limit_violations", "pmi_minus_greedy_per_seed"}
