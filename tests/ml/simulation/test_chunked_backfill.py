"""Chunked backfill: the streamed warehouse equals the in-memory tables, reconciles with the simulator's truth, and the
users-per-campaign knob scales volume without changing prices or value."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.settings import pmi_paths
from ml.simulation import SimulationConfig, backfill
from ml.simulation.backfill import days_per_chunk, run_backfill, simulate_backfill
from ml.simulation.portfolio import draw_portfolio

CONFIG = SimulationConfig(n_campaigns=8, days=20, seed=13, end_date=dt.date(2026, 10, 1))


@pytest.fixture(scope="module")
def chunked(tmp_path_factory):
    """The same simulation streamed to DuckDB in 1-2-day chunks and collected in memory."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backfill, "USERS_PER_CHUNK", 1_500)
        assert days_per_chunk(CONFIG, draw_portfolio(CONFIG)) < CONFIG.days / 5
        paths = pmi_paths(tmp_path_factory.mktemp("chunked")).ensure()
        counts = run_backfill(CONFIG, paths)
        frames = simulate_backfill(CONFIG)
    return paths, counts, frames


def _table(paths, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def test_streamed_tables_equal_the_in_memory_ones(chunked):
    paths, counts, frames = chunked
    assert counts == {f"raw.{t}": len(f) for t, f in frames.raw.items()}
    users = _table(paths, "SELECT user_id, campaign_id, install_ts FROM raw.users ORDER BY user_id")
    expected = frames.raw["users"].assign(user_id="u" + frames.raw["users"]["user_seq"].astype(str))
    expected = expected.sort_values("user_id")[["user_id", "campaign_id", "install_ts"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(users, expected, check_dtype=False)
    hourly = _table(paths, "SELECT sum(spend) spend, sum(conversions) conv, sum(revenue) rev FROM raw.campaign_hourly")
    mem = frames.raw["campaign_hourly"]
    assert hourly["conv"][0] == mem["conversions"].sum()
    assert hourly["spend"][0] == pytest.approx(mem["spend"].sum())
    assert hourly["rev"][0] == pytest.approx(mem["revenue"].sum())


def test_chunks_reconcile_with_truth(chunked):
    paths, _, _ = chunked
    per_campaign = _table(
        paths,
        """
        SELECT h.campaign_id, h.conversions, coalesce(u.users, 0) AS users FROM
          (SELECT campaign_id, sum(conversions) conversions FROM raw.campaign_hourly GROUP BY 1) h
          LEFT JOIN (SELECT campaign_id, count(*) users FROM raw.users GROUP BY 1) u USING (campaign_id)""",
    )
    assert (per_campaign["conversions"] == per_campaign["users"]).all()
    value = _table(
        paths,
        """
        WITH ev AS (SELECT user_id, revenue FROM raw.revenue_events
                    UNION ALL SELECT 'u' || user_seq::VARCHAR, revenue FROM sim.pending_revenue_events)
        SELECT t.user_id, t.true_value, coalesce(sum(ev.revenue), 0) AS revenue, count(ev.revenue) AS events
        FROM truth.user_value t LEFT JOIN ev USING (user_id) GROUP BY ALL""",
    )
    assert len(value) == per_campaign["users"].sum()
    # every payer's value is split over their events in whole cents (each at least one cent)
    assert np.allclose(value["revenue"], value["true_value"], atol=0.01 * np.maximum(value["events"], 1) + 1e-9)
    state = _table(paths, "SELECT * FROM sim.state")
    ids = _table(paths, "SELECT count(DISTINCT event_id) n, count(*) m FROM raw.revenue_events")
    pending = _table(paths, "SELECT count(*) n FROM sim.pending_revenue_events")
    assert ids["n"][0] == ids["m"][0] and state["next_event_seq"][0] == ids["n"][0] + pending["n"][0]
    assert state["next_user_seq"][0] == len(value)


def test_chunking_keeps_the_totals(chunked):
    """Other chunk boundaries draw other noise, not another world: conversions agree within Poisson noise."""
    _, _, frames = chunked
    whole = simulate_backfill(CONFIG).raw["campaign_hourly"]  # the default chunking: one chunk here
    chunked_conv, whole_conv = frames.raw["campaign_hourly"]["conversions"].sum(), whole["conversions"].sum()
    assert abs(chunked_conv - whole_conv) < 4 * np.sqrt(2 * whole_conv) + 0.03 * whole_conv
    assert frames.raw["campaign_hourly"]["spend"].sum() == pytest.approx(whole["spend"].sum(), rel=0.01)


@pytest.mark.parametrize(("seed", "target"), [(3, 800), (21, 1_500)])
def test_users_per_campaign_knob(seed, target):
    """Seeds other than those the realised share was measured on; CPA, CPM and value per user stay as they were."""
    base = SimulationConfig(n_campaigns=30, days=40, seed=seed, end_date=dt.date(2026, 10, 1))
    natural = simulate_backfill(base)
    scaled = simulate_backfill(base.model_copy(update={"users_per_campaign": target}))
    users = len(scaled.raw["users"]) / base.n_campaigns
    assert 0.85 * target < users < 1.15 * target
    assert len(scaled.raw["users"]) < 0.5 * len(natural.raw["users"])

    def kpis(frames):
        h = frames.raw["campaign_hourly"].sum(numeric_only=True)
        return h["spend"] / h["conversions"], h["spend"] / h["impressions"] * 1000

    (cpa_n, cpm_n), (cpa_s, cpm_s) = kpis(natural), kpis(scaled)
    assert cpa_s == pytest.approx(cpa_n, rel=0.08) and cpm_s == pytest.approx(cpm_n, rel=0.03)
    truth_n, truth_s = natural.truth["campaign_truth"], scaled.truth["campaign_truth"]
    pd.testing.assert_series_equal(truth_n["expected_value_per_user"], truth_s["expected_value_per_user"])
    ratio = truth_s["base_daily_budget"] / truth_n["base_daily_budget"]
    assert np.allclose(ratio, ratio.iloc[0]) and np.allclose(
        scaled.raw["campaigns"]["creative_production_cost"] / natural.raw["campaigns"]["creative_production_cost"],
        ratio.iloc[0],
        rtol=0.01,
    )


def test_simulate_cli_takes_the_knob(tmp_path):
    from ml.cli.main import main

    home = tmp_path / "home"
    assert (
        main(
            [
                "simulate",
                "--home",
                str(home),
                "--campaigns",
                "10",
                "--days",
                "14",
                "--end-date",
                "2026-10-01",
                "--users-per-campaign",
                "300",
            ]
        )
        == 0
    )
    users = _table(pmi_paths(home), "SELECT count(*) n FROM raw.users")["n"][0]
    assert 0.8 * 3_000 < users < 1.2 * 3_000
    assert main(["simulate", "--home", str(home), "--users-per-campaign", "0"]) == 2
