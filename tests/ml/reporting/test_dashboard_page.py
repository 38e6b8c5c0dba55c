"""The dashboard's numbers come from the warehouse: change a stored value and the page changes; no data, no chart."""

from __future__ import annotations

import re
import shutil

import duckdb
import numpy as np
import pandas as pd

from ml.reporting.dashboard import build_dashboard
from ml.reporting.dashboard.layout import money, ratio
from ml.reporting.dashboard.outlook import scenario_bands
from ml.reporting.dashboard.overview import health_label
from ml.reporting.dashboard.segments import segment_insight
from ml.settings import pmi_paths


def copy_of(paths, tmp_path):
    """A private copy of the pipeline's warehouse (the session fixture stays untouched)."""
    home = pmi_paths(tmp_path / "home").ensure()
    shutil.copy(paths.warehouse, home.warehouse)
    return home


def card_value(page: str, label: str) -> str:
    match = re.search(re.escape(label) + r'</div><div class="pmi-value">([^<]*)</div>', page)
    assert match, label
    return match.group(1)


def test_budget_card_follows_the_warehouse(dashboard_pipeline, tmp_path):
    home = copy_of(dashboard_pipeline[0], tmp_path)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        total = con.execute("""
            SELECT sum(recommended_budget) FROM predictions.allocation_predictions
            WHERE run_id = (SELECT run_id FROM audit.allocation_runs ORDER BY applied_at DESC LIMIT 1)""").fetchall()
    before = build_dashboard(home).path.read_text()
    assert card_value(before, "Daily budget (recommended)") == money(total[0][0])
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("UPDATE predictions.allocation_predictions SET recommended_budget = recommended_budget + 1000")
        con.execute("UPDATE predictions.allocation_profit_distribution SET daily_profit = -1 - abs(daily_profit)")
    after = build_dashboard(home).path.read_text()
    n_campaigns = int(re.search(r"(\d+) active campaigns", after).group(1))
    assert card_value(after, "Daily budget (recommended)") == money(total[0][0] + 1000 * n_campaigns)
    assert card_value(after, "Probability of loss") == "100.0%"
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("UPDATE predictions.allocation_profit_distribution SET daily_profit = -daily_profit")
    assert card_value(build_dashboard(home).path.read_text(), "Probability of loss") == "0.0%"


def test_sections_without_data_say_so_in_words(small_warehouse, tmp_path):
    """A warehouse with marts but no allocation, forecast or monitoring yet: words, never an empty chart."""
    page = build_dashboard(small_warehouse, tmp_path / "index.html")
    text = page.path.read_text()
    assert page.charts == ()
    assert 'class="plotly-graph-div"' not in text
    assert text.count('class="pmi-empty"') >= len(page.sections) - 1
    assert "No allocation has run yet" in text and "has not published a forecast yet" in text


def test_scenario_bands_are_the_tails_and_middle_of_the_simulation():
    samples = np.arange(1000, dtype=float) - 100  # 10% of outcomes are losses
    bands = scenario_bands(samples).set_index("scenario")
    assert bands["probability"].to_dict() == {"Pessimistic": 0.2, "Base": 0.6, "Optimistic": 0.2}
    assert bands.loc["Pessimistic", "daily_profit"] == samples[:200].mean()
    assert np.isclose((bands["probability"] * bands["daily_profit"]).sum(), samples.mean())


def test_health_label_and_segment_sentence():
    assert [health_label(x) for x in (3.2, 1.5, 0.7, np.nan)] == ["Healthy", "Thin margin", "Losing money", "unknown"]
    segments = pd.DataFrame({"roas_d7": [0.6, 0.3], "shift": [0.1, -0.2]}, index=["ios", "android"])
    sentence = segment_insight("Platform", segments)
    assert "ios is 100% more profitable per dollar than android" in sentence
    assert f"D7 ROAS {ratio(0.6)} vs {ratio(0.3)}" in sentence and "ios +10%, android -20%" in sentence


def test_opportunities_rank_by_impact_and_flag_tired_creatives():
    from ml.reporting.dashboard.data import DashboardData
    from ml.reporting.dashboard.opportunities import opportunities

    ids = ["a", "b", "c", "d"]
    recs = pd.DataFrame(
        {
            "campaign_id": ids,
            "campaign_name": ids,
            "current_budget": 100.0,
            "recommended_budget": [150.0, 0.0, 100.0, 100.0],
            "change_pct": [0.5, -1.0, 0.0, 0.0],
            "expected_profit": [30.0, 0.0, 10.0, 10.0],
            "expected_roas": 1.5,
            "saturation_level": [0.2, 0.3, 0.9, 0.4],
            "action": ["scale_up", "pause", "hold", "hold"],
            "reason": "r",
        }
    )
    scenarios = pd.DataFrame({"campaign_id": ids, "scenario": "baseline", "profit": [20.0, -50.0, 10.0, 10.0]})
    trend = pd.DataFrame({"campaign_id": ids, "ctr_7d": [0.010, 0.010, 0.010, 0.008], "ctr_28d": 0.010})
    ranked = opportunities(DashboardData({"recommendations": recs, "scenarios": scenarios, "creative_trend": trend}))
    assert list(ranked["campaign_id"]) == ["b", "a", "c", "d"]  # |impact| 1500, 300, then the two refreshes
    assert list(ranked["action"]) == ["Pause", "Scale", "Refresh creative", "Refresh creative"]
    assert list(ranked["impact"][:2]) == [1500.0, 300.0]
    assert ranked["reason"].iloc[3] == "r; CTR -20% last week vs 4 weeks"
    assert ranked["saturation"].iloc[2] == "HIGH (90% saturated)"


def test_accuracy_and_alerts_show_once_monitoring_has_data():
    from ml.reporting.dashboard.data import DashboardData
    from ml.reporting.dashboard.risk import accuracy_section, open_alerts

    accuracy = pd.DataFrame(
        {
            "evaluated_through": pd.to_datetime(["2026-10-01", "2026-10-01", "2026-10-02"]),
            "metric": ["cpa", "conversions", "cpa"],
            "mape": [0.1, 0.2, 0.3],
        }
    )
    section = accuracy_section(DashboardData({"accuracy": accuracy}))
    assert section.figures == ["chart-accuracy"] and "pmi-empty" not in section.body
    assert "No live accuracy yet" in accuracy_section(DashboardData({})).body
    alerts = pd.DataFrame({"date": pd.to_datetime(["2026-09-01", "2026-09-28", "2026-10-02"])})
    assert list(open_alerts(alerts)["date"].dt.day) == [28, 2]  # the last 7 days of alerts are open


def test_response_curves_draw_the_campaigns_moved_most_and_say_how_many():
    """A 2,000-campaign page stays buildable and readable: the most-moved campaigns are drawn, the note says so."""
    from ml.reporting.dashboard.data import DashboardData
    from ml.reporting.dashboard.opportunities import MAX_CURVE_PANELS, campaigns_to_draw, response_curves_section

    n = MAX_CURVE_PANELS + 16
    ids = [f"c{i:03d}" for i in range(n)]
    moves = np.random.default_rng(0).permutation(n).astype(float)  # distinct moves: a unique top set
    recs = pd.DataFrame(
        {
            "campaign_id": ids,
            "campaign_name": [f"name {i}" for i in ids],
            "current_budget": 100.0,
            "recommended_budget": 100.0 + np.where(np.arange(n) % 2, moves, -moves),
            "expected_conversions": 10.0,
        }
    )
    drawn = campaigns_to_draw(recs, MAX_CURVE_PANELS)
    top = set(recs.loc[np.argsort(-moves)[:MAX_CURVE_PANELS], "campaign_id"])
    assert set(drawn["campaign_id"]) == top
    assert list(drawn.index) == sorted(drawn.index)  # the recommendations' own order is kept
    assert campaigns_to_draw(recs.head(5), MAX_CURVE_PANELS).equals(recs.head(5))

    multiples = np.array([0.25, 0.5, 1.0, 2.0, 3.0])
    curves = pd.DataFrame(
        {
            "campaign_id": np.repeat(ids, len(multiples)),
            "spend_multiple": np.tile(multiples, n),
            "spend": np.tile(100.0 * multiples, n),
            "users": np.tile(10.0 * np.sqrt(multiples), n),
        }
    )
    section = response_curves_section(DashboardData({"recommendations": recs, "trajectories": curves}))
    assert f"Showing the {MAX_CURVE_PANELS} of {n:,} campaigns" in section.body
    assert sum(f"name {cid}" in section.body for cid in ids) == MAX_CURVE_PANELS


def card_detail(page: str, label: str) -> str:
    match = re.search(
        re.escape(label) + r'</div><div class="pmi-value">[^<]*</div><div class="pmi-detail">([^<]*)<', page
    )
    assert match, label
    return match.group(1)


def test_customer_value_card_follows_the_portfolio_total(dashboard_pipeline, tmp_path):
    """120 days of installs: the total without an interval, saying when one comes; a stored interval is shown."""
    home = copy_of(dashboard_pipeline[0], tmp_path)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        n_users, total = con.execute("SELECT n_users, total_ltv_d90 FROM predictions.portfolio_ltv").fetchone()
    label = f"Value of {n_users:,} users acquired (d90)"
    before = build_dashboard(home).path.read_text()
    assert card_value(before, label) == f"{total:,.0f}"
    assert card_detail(before, label).startswith("interval after about")
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("UPDATE predictions.portfolio_ltv SET total_ltv_d90_p05 = 1234, total_ltv_d90_p95 = 98765")
    assert card_detail(build_dashboard(home).path.read_text(), label) == "90% interval 1,234 .. 98,765"
