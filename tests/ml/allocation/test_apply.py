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


CHANGES = pd.DataFrame({"campaign_id": ["a", "b"], "budget_before": [100.0, 200.0], "budget_after": [120.0, 200.0],
                        "action": ["scale_up", "hold"], "reason": ["more", "same"]})


def test_apply_writes_changed_budgets_audit_and_csv_once(tmp_path):
    paths = warehouse(tmp_path)
    export = paths.home / "exports" / "changes.csv"
    first = apply_allocation(paths, "run_1", CHANGES, {"expected_gain": 5.0}, "test", csv_export=export)
    assert first["applied"] and first["changed_campaigns"] == 1
    again = apply_allocation(paths, "run_1", CHANGES.assign(budget_after=[999.0, 999.0]), {}, "test")
    assert not again["applied"]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        budgets = con.execute("SELECT campaign_id, effective_ts, daily_budget::DOUBLE, source "
                              "FROM raw.budgets").fetchall()
        assert budgets == [("a", pd.Timestamp("2026-10-01 06:00").to_pydatetime(), 120.0, "run_1")]
        assert con.execute("SELECT count(*) FROM audit.budget_changes").fetchall()[0][0] == 2
        assert con.execute("SELECT triggered_by FROM audit.allocation_runs").fetchall() == [("test",)]
    exported = pd.read_csv(export)
    assert exported["campaign_id"].tolist() == ["a"] and exported["budget_after"].tolist() == [120.0]
