"""Alert rules, idempotent storage, and auto-actions only for auto-optimised campaigns."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from ml.monitoring.alerts import AlertThresholds, budget_cuts, raise_alerts, store_new_alerts
from ml.settings import pmi_paths


def pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign_id": ["ok", "cpa_bad", "volume_bad", "both_bad"],
            "date": [dt.date(2026, 10, 1)] * 4,
            "run_id": "r1",
            "expected_cpa": [10.0, 10.0, 10.0, 10.0],
            "actual_cpa": [11.9, 12.5, 10.0, 13.0],
            "expected_conversions": [100.0, 100.0, 100.0, 100.0],
            "actual_conversions": [80.0, 100.0, 70.0, 60.0],
            "expected_same_day_roas": [0.50, 0.50, 0.50, 0.50],
            "actual_same_day_roas": [0.44, 0.50, 0.50, 0.40],
            "auto_optimization_enabled": [True, True, True, False],
        }
    )


def test_each_rule_fires_at_its_threshold():
    alerts = raise_alerts(pairs(), AlertThresholds())
    fired = set(zip(alerts["campaign_id"], alerts["metric"], strict=True))
    assert fired == {
        ("cpa_bad", "cpa"),
        ("both_bad", "cpa"),
        ("volume_bad", "conversions"),
        ("both_bad", "conversions"),
        ("both_bad", "roas"),
    }  # "ok" is 12% below on ROAS: no alert
    cpa = alerts[alerts["metric"] == "cpa"]
    assert (cpa["severity"] == "high").all() and (cpa["action"] == "reduce_budget_15%").all()
    volume = alerts[alerts["metric"] == "conversions"]
    assert (volume["severity"] == "medium").all() and volume["detail"].str.contains("creative fatigue").all()
    roas = alerts[alerts["metric"] == "roas"]
    assert (roas["severity"] == "high").all() and (roas["action"] == "flag_for_review_pause_candidate").all()
    assert roas["deviation"].tolist() == [-0.2]
    stricter = raise_alerts(pairs(), AlertThresholds(roas_below_pct=0.10))
    assert set(stricter.loc[stricter["metric"] == "roas", "campaign_id"]) == {"ok", "both_bad"}
    # configurable: a looser CPA threshold silences the 25% miss but not the 30% one
    looser = raise_alerts(pairs(), AlertThresholds(cpa_above_pct=0.28))
    assert set(looser.loc[looser["metric"] == "cpa", "campaign_id"]) == {"both_bad"}


def test_alerts_are_stored_once_per_campaign_metric_and_day(tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    alerts = raise_alerts(pairs(), AlertThresholds())
    assert len(store_new_alerts(paths, alerts)) == 5
    assert len(store_new_alerts(paths, alerts)) == 0
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM monitoring.alerts").fetchall()[0][0] == 5


def test_budget_cuts_only_for_auto_optimised_campaigns():
    alerts = raise_alerts(pairs(), AlertThresholds())
    budgets = pd.DataFrame({"campaign_id": ["cpa_bad", "both_bad"], "daily_budget": [1000.0, 500.0]})
    cuts = budget_cuts(alerts, budgets, AlertThresholds())
    assert cuts["campaign_id"].tolist() == ["cpa_bad"]  # both_bad is not auto-optimised
    assert cuts["budget_after"].iloc[0] == 850.0


def test_a_cut_is_made_only_where_it_pays_at_the_observed_cpa():
    """cpa_bad buys 1/1.25 of the promised conversions per dollar: its last dollars return marginal ROAS / 1.25.
    Where that is still above the cost of a media dollar the cut would give up profit, so it is not made."""
    alerts = raise_alerts(pairs().assign(auto_optimization_enabled=True), AlertThresholds())
    budgets = pd.DataFrame({"campaign_id": ["cpa_bad", "both_bad"], "daily_budget": [1000.0, 500.0]})
    economics = pd.DataFrame({"campaign_id": ["cpa_bad", "both_bad"], "cost_multiplier": [1.05, 1.05]})
    # cpa_bad at 1.25 x the planned CPA: marginal ROAS 1.5 -> 1.2 after the miss, above 1.05: keep the budget
    held = budget_cuts(alerts, budgets, AlertThresholds(), economics.assign(marginal_roas=[1.5, 1.5]))
    assert held["campaign_id"].tolist() == []  # both_bad (CPA +30%): 1.5 / 1.3 = 1.15, above 1.05 too
    cut = budget_cuts(alerts, budgets, AlertThresholds(), economics.assign(marginal_roas=[1.25, 1.5]))
    assert cut["campaign_id"].tolist() == ["cpa_bad"]  # 1.25 / 1.25 = 1.0 < 1.05: the cut dollars lose money
    unknown = budget_cuts(alerts, budgets, AlertThresholds(), economics.iloc[:0].assign(marginal_roas=[]))
    assert sorted(unknown["campaign_id"]) == ["both_bad", "cpa_bad"]  # no prediction logged: cut, conservatively


def test_a_rule_without_breaches_adds_no_rows():
    """Only the CPA rule fires: the ROAS and volume rules must not add empty rows for every pair."""
    calm = pairs().assign(actual_cpa=[10.0, 13.0, 10.0, 10.0], actual_conversions=100.0, actual_same_day_roas=0.5)
    alerts = raise_alerts(calm, AlertThresholds())
    assert alerts[["campaign_id", "metric"]].values.tolist() == [["cpa_bad", "cpa"]]
    assert alerts["deviation"].notna().all()


def test_cpa_and_volume_alerts_need_a_shortfall_beyond_noise():
    """The same relative misses on a campaign promised 10 conversions are noise; on one promised 400, a signal."""
    small = pairs().assign(expected_conversions=10.0, actual_conversions=[10.0, 8.0, 7.0, 6.0])
    small = small.assign(actual_cpa=[10.0, 12.5, 10.0, 13.0])
    assert raise_alerts(small, AlertThresholds()).query("metric != 'roas'").empty
    assert set(raise_alerts(small, AlertThresholds(min_z=0)).query("metric != 'roas'")["metric"]) == {
        "cpa",
        "conversions",
    }
    big = small.assign(expected_conversions=400.0, actual_conversions=[400.0, 320.0, 280.0, 240.0])
    fired = raise_alerts(big, AlertThresholds()).query("metric != 'roas'")
    assert set(zip(fired["campaign_id"], fired["metric"], strict=True)) == {
        ("cpa_bad", "cpa"),
        ("both_bad", "cpa"),
        ("volume_bad", "conversions"),
        ("both_bad", "conversions"),
    }


def _warehouse_with_budgets(tmp_path):
    from ml.warehouse.raw_schema import create_table_sql

    paths = pmi_paths(tmp_path / "home").ensure()
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        for table in ("campaign_hourly", "budgets"):
            con.execute(create_table_sql(table))
        con.execute("INSERT INTO raw.campaign_hourly VALUES ('cpa_bad', '2026-10-02 05:00', 10, 1000, 10, 1, 0)")
        con.execute("""INSERT INTO raw.budgets VALUES ('cpa_bad', '2026-10-01 00:00', 1000, 'x'),
                       ('other', '2026-10-01 00:00', 400, 'x')""")
    return paths


def _budgets(paths) -> dict[str, float]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return dict(
            con.execute("""SELECT campaign_id, daily_budget::DOUBLE FROM raw.budgets
                                   QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY effective_ts DESC) = 1
                                """).fetchall()
        )


def test_an_alert_cut_not_applied_is_retried_and_a_later_alert_of_the_same_day_is_acted_on(tmp_path, monkeypatch):
    """Alert run ids were keyed by date: a second alert of an already-cut date was 'already applied' and a cut that
    failed was never retried. An alert now stays pending until a run carrying its cut is applied."""
    import ml.allocation.apply as apply_module
    from ml.monitoring.alerts import act_on_pending, pending_actions

    paths = _warehouse_with_budgets(tmp_path)
    first = raise_alerts(pairs(), AlertThresholds())
    store_new_alerts(paths, first[first["campaign_id"] == "cpa_bad"])
    real_apply = apply_module.apply_allocation

    def failing(*args, **kwargs):
        raise RuntimeError("warehouse busy")

    monkeypatch.setattr(apply_module, "apply_allocation", failing)
    try:
        act_on_pending(paths, AlertThresholds())
    except RuntimeError:
        pass
    assert len(pending_actions(paths)) == 1 and _budgets(paths)["cpa_bad"] == 1000.0  # not applied, still pending
    monkeypatch.setattr(apply_module, "apply_allocation", real_apply)
    assert act_on_pending(paths, AlertThresholds()) == 1
    assert _budgets(paths)["cpa_bad"] == 850.0 and pending_actions(paths).empty
    # a second CPA alert for the same day, on another auto-optimised campaign, is acted on too
    later = first[first["campaign_id"] == "cpa_bad"].assign(campaign_id="other")
    store_new_alerts(paths, later)
    assert act_on_pending(paths, AlertThresholds()) == 1
    assert _budgets(paths) == {"cpa_bad": 850.0, "other": 340.0}
    assert act_on_pending(paths, AlertThresholds()) == 0  # and nothing twice
