"""Applying an allocation: budgets and audit in one transaction, never twice per run id, CSV export adapter."""

from __future__ import annotations

import duckdb
import pandas as pd

from ml.allocation.apply import apply_allocation
from ml.settings import pmi_paths
from ml.warehouse.raw_schema import create_table_sql


def warehouse(tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CREATE SCHEMA raw")
        for table in ("campaign_hourly", "budgets"):
            con.execute(create_table_sql(table))
        con.execute("INSERT INTO raw.campaign_hourly VALUES ('a', '2026-10-01 05:00', 10, 1000, 10, 1, 0)")
    return paths


CHANGES = pd.DataFrame(
    {
        "campaign_id": ["a", "b"],
        "budget_before": [100.0, 200.0],
        "budget_after": [120.0, 200.0],
        "action": ["scale_up", "hold"],
        "reason": ["more", "same"],
    }
)


def test_apply_writes_changed_budgets_audit_and_csv_once(tmp_path):
    paths = warehouse(tmp_path)
    export = paths.home / "exports" / "changes.csv"
    first = apply_allocation(
        paths, "run_1", CHANGES, {"expected_gain": 5.0}, "test", csv_export=export, total_budget=320.0
    )
    assert first["applied"] and first["changed_campaigns"] == 1
    again = apply_allocation(paths, "run_1", CHANGES.assign(budget_after=[999.0, 999.0]), {}, "test")
    assert not again["applied"]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        budgets = con.execute(
            "SELECT campaign_id, effective_ts, daily_budget::DOUBLE, source FROM raw.budgets ORDER BY campaign_id"
        ).fetchall()
        # the hold is written too (b had no budget in the warehouse): the budget in force is what the audit says
        six = pd.Timestamp("2026-10-01 06:00").to_pydatetime()
        assert budgets == [("a", six, 120.0, "run_1"), ("b", six, 200.0, "run_1")]
        assert con.execute("SELECT count(*) FROM audit.budget_changes").fetchall()[0][0] == 2
        assert con.execute("SELECT triggered_by FROM audit.allocation_runs").fetchall() == [("test",)]
    exported = pd.read_csv(export)
    assert exported["campaign_id"].tolist() == ["a"] and exported["budget_after"].tolist() == [120.0]


def _next_hour(paths, hour: str) -> None:
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("INSERT INTO raw.campaign_hourly VALUES ('a', ?, 10, 1000, 10, 1, 0)", [pd.Timestamp(hour)])


def _in_force(paths) -> dict[str, float]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return dict(
            con.execute("""SELECT campaign_id, daily_budget::DOUBLE FROM raw.budgets
                                   QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY effective_ts DESC) = 1
                                """).fetchall()
        )


def _audited(paths, run_id: str) -> dict[str, tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT campaign_id, budget_after, bound_by FROM audit.budget_changes WHERE run_id = ?", [run_id]
        ).fetchall()
    return {c: (after, bound) for c, after, bound in rows}


def test_hourly_runs_alert_cuts_and_holds_keep_the_period_limit_and_the_audit_true(tmp_path):
    """A day of hourly runs each asking +25%/-25% on what is in force, an alert cut on top, a hold: every budget in
    force stays within 25% of the day's start, and equals what the audit says after every change."""
    from ml.allocation.gate import BudgetRules

    paths = warehouse(tmp_path)
    rules = BudgetRules(min_change=0.0)
    apply_allocation(
        paths,
        "start",
        pd.DataFrame(
            {
                "campaign_id": ["a", "b"],
                "budget_before": [100.0, 200.0],
                "budget_after": [100.0, 200.0],
                "action": "hold",
                "reason": "-",
            }
        ),
        {},
        "test",
        rules=rules,
    )  # effective 2026-10-01 06:00: the day's start budgets are 100 / 200
    _next_hour(paths, "2026-10-02 00:00")  # the next run is effective at 01:00 on 10-02: a new period
    for hour in range(1, 22):  # runs effective 01:00 .. 21:00
        current = _in_force(paths)
        changes = pd.DataFrame(
            {
                "campaign_id": ["a", "b"],
                "budget_before": [current["a"], current["b"]],
                "budget_after": [current["a"] * 1.25, current["b"] * 0.75],
                "action": ["scale_up", "reduce"],
                "reason": "run",
            }
        )
        apply_allocation(paths, f"run_{hour}", changes, {}, "test", rules=rules, total_budget=400.0)
        assert {c: v[0] for c, v in _audited(paths, f"run_{hour}").items()} == _in_force(paths)
        _next_hour(paths, f"2026-10-02 {hour:02d}:00")
    assert _in_force(paths) == {"a": 125.0, "b": 150.0}
    assert _audited(paths, "run_21") == {
        "a": (125.0, "period_change_limit_up"),
        "b": (150.0, "period_change_limit_down"),
    }
    # the CPA alert's 15% cut cannot stack on the allocation's 25% cut (effective 22:00, the same day)
    cut = pd.DataFrame(
        {
            "campaign_id": ["b"],
            "budget_before": [150.0],
            "budget_after": [127.5],
            "action": "reduce",
            "reason": "CPA alert",
        }
    )
    assert apply_allocation(paths, "alerts_1", cut, {}, "alert:cpa_above_prediction", rules=rules)["applied"]
    assert _audited(paths, "alerts_1") == {"b": (150.0, "period_change_limit_down")}
    # a hold within the period (back to the day's start) is written: the budget in force is what the audit says
    _next_hour(paths, "2026-10-02 22:00")
    hold = pd.DataFrame(
        {
            "campaign_id": ["a", "b"],
            "budget_before": [100.0, 200.0],
            "budget_after": [100.0, 200.0],
            "action": "hold",
            "reason": "hold",
        }
    )
    apply_allocation(paths, "hold", hold, {}, "test", rules=rules, total_budget=300.0)
    assert _in_force(paths) == {"a": 100.0, "b": 200.0}


def test_a_paused_campaign_can_be_relaunched_and_an_infeasible_total_is_refused_with_an_audit_row(tmp_path):
    from ml.allocation.gate import BudgetRules

    paths = warehouse(tmp_path)
    rules = BudgetRules(min_change=20.0)
    launch = pd.DataFrame(
        {
            "campaign_id": ["a", "b"],
            "budget_before": [0.0, 200.0],
            "budget_after": [80.0, 120.0],
            "action": ["scale_up", "reduce"],
            "reason": "launch",
        }
    )
    apply_allocation(paths, "launch", launch, {}, "test", rules=rules, total_budget=200.0)
    assert _in_force(paths) == {"a": 20.0, "b": 150.0}  # 0 + the minimum test budget; 200 - 25%
    squeeze = launch.assign(budget_after=[0.0, 10.0])
    outcome = apply_allocation(paths, "squeeze", squeeze, {}, "test", rules=rules, total_budget=50.0)
    assert not outcome["applied"] and outcome["reason"].startswith("refused")
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        status = con.execute("SELECT status FROM audit.allocation_runs WHERE run_id = 'squeeze'").fetchall()[0][0]
    assert status.startswith("refused: the period's limits need 150.00")
    assert _in_force(paths) == {"a": 20.0, "b": 150.0}
    # the same run id may be tried again once the total allows it (an applied run id never is)
    assert apply_allocation(paths, "squeeze", squeeze, {}, "test", rules=rules, total_budget=200.0)["applied"]
    assert _in_force(paths) == {"a": 0.0, "b": 150.0}  # paused again; b held at its floor
