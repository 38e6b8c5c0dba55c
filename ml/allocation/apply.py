"""Apply an allocation through an adapter and keep the audit trail; the same run id is never applied twice.

Budgets in force live in ``raw.budgets`` (which the simulator's live step reads); the CSV and webhook adapters
(``ml/allocation/delivery.py``) also hand the changes to the user's ad-ops. Nothing is sent anywhere else.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ml.allocation.delivery import deliver
from ml.settings import PmiPaths
from ml.warehouse.connection import transaction

AUDIT_DDL = [
    "CREATE SCHEMA IF NOT EXISTS audit",
    """CREATE TABLE IF NOT EXISTS audit.allocation_runs (
        run_id VARCHAR PRIMARY KEY, applied_at TIMESTAMP, effective_ts TIMESTAMP, triggered_by VARCHAR,
        total_before DOUBLE, total_after DOUBLE, expected_gain DOUBLE, probability_of_loss DOUBLE,
        refine_steps INTEGER, adapter VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit.budget_changes (
        run_id VARCHAR, campaign_id VARCHAR, effective_ts TIMESTAMP, budget_before DOUBLE, budget_after DOUBLE,
        action VARCHAR, reason VARCHAR, triggered_by VARCHAR, PRIMARY KEY (run_id, campaign_id))""",
]


def has_simulator(con) -> bool:
    """True when the warehouse is driven by the simulator (its clock table exists)."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema='sim' "
                            "AND table_name='state'").fetchall()[0][0])


def next_effective_ts(con) -> pd.Timestamp:
    """When new budgets take effect: the simulator's next hour, else the hour after the latest delivery."""
    if has_simulator(con):
        return pd.Timestamp(con.execute("SELECT next_hour_ts FROM sim.state").fetchall()[0][0])
    return pd.Timestamp(con.execute("SELECT max(hour_ts) + INTERVAL 1 HOUR FROM raw.campaign_hourly").fetchall()[0][0])


def apply_allocation(paths: PmiPaths, run_id: str, changes: pd.DataFrame, summary: dict,
                     triggered_by: str, csv_export: Path | None = None, webhook_url: str | None = None) -> dict:
    """Write changed budgets to raw.budgets and the audit tables in one transaction (idempotent per run id).

    ``changes`` has campaign_id, budget_before, budget_after, action, reason (one row per campaign).
    """
    with transaction(paths.warehouse) as con:
        for ddl in AUDIT_DDL:
            con.execute(ddl)
        if con.execute("SELECT count(*) FROM audit.allocation_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]:
            return {"run_id": run_id, "applied": False, "changed_campaigns": 0, "reason": "already applied"}
        effective = next_effective_ts(con)
        in_force = "simulator" if has_simulator(con) else "warehouse"
        adapters = [in_force] + (["csv"] if csv_export is not None else []) + (["webhook"] if webhook_url else [])
        rows = changes.assign(run_id=run_id, effective_ts=effective, triggered_by=triggered_by,
                              budget_after=changes["budget_after"].round(2))
        changed = rows[(rows["budget_after"] - rows["budget_before"]).abs() >= 0.01]
        con.register("changed_budgets", changed)
        con.execute("""INSERT INTO raw.budgets
                       SELECT campaign_id, effective_ts, CAST(budget_after AS DECIMAL(18,2)), run_id
                       FROM changed_budgets
                       ON CONFLICT (campaign_id, effective_ts) DO UPDATE SET daily_budget = excluded.daily_budget,
                                                                              source = excluded.source""")
        con.register("all_changes", rows)
        con.execute("""INSERT INTO audit.budget_changes
                       SELECT run_id, campaign_id, effective_ts, budget_before, budget_after, action, reason,
                              triggered_by FROM all_changes""")
        con.execute("INSERT INTO audit.allocation_runs VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, effective.to_pydatetime(), triggered_by, float(rows["budget_before"].sum()),
                     float(rows["budget_after"].sum()), summary.get("expected_gain"),
                     summary.get("probability_of_loss"), summary.get("refine_steps"),
                     "+".join(adapters)])
    delivered = deliver(paths, run_id, changed, csv_export, webhook_url)
    return {"run_id": run_id, "applied": True, "changed_campaigns": len(changed), "effective_ts": str(effective),
            **{f"delivery_{adapter}": status for adapter, status in delivered.items()}}
