"""Apply an allocation through an adapter and keep the audit trail; the same run id is never applied twice.

Budgets in force live in ``raw.budgets`` (which the simulator's live step reads); the CSV and webhook adapters
(``ml/allocation/delivery.py``) also hand the changes to the user's ad-ops. Nothing is sent anywhere else.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ml.allocation.delivery import deliver
from ml.allocation.gate import BudgetRules, gate
from ml.settings import PmiPaths
from ml.warehouse.budgets import budget_in_effect_sql
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
    # columns added since the first audit tables (an older warehouse gains them, its rows get NULL)
    "ALTER TABLE audit.allocation_runs ADD COLUMN IF NOT EXISTS probability_worse_than_current DOUBLE",
    "ALTER TABLE audit.allocation_runs ADD COLUMN IF NOT EXISTS status VARCHAR",
    "ALTER TABLE audit.allocation_runs ADD COLUMN IF NOT EXISTS period_start TIMESTAMP",
    "ALTER TABLE audit.budget_changes ADD COLUMN IF NOT EXISTS bound_by VARCHAR",
    "ALTER TABLE audit.budget_changes ADD COLUMN IF NOT EXISTS period_start_budget DOUBLE",
]
APPLIED = "applied"


def has_simulator(con) -> bool:
    """True when the warehouse is driven by the simulator (its clock table exists)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='sim' AND table_name='state'"
        ).fetchall()[0][0]
    )


def next_effective_ts(con) -> pd.Timestamp:
    """When new budgets take effect: the simulator's next hour, else the hour after the latest delivery."""
    if has_simulator(con):
        return pd.Timestamp(con.execute("SELECT next_hour_ts FROM sim.state").fetchall()[0][0])
    return pd.Timestamp(con.execute("SELECT max(hour_ts) + INTERVAL 1 HOUR FROM raw.campaign_hourly").fetchall()[0][0])


def _audit_exists(con) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='audit' AND table_name='budget_changes'"
        ).fetchall()[0][0]
    )


def budgets_in_force(con, at: pd.Timestamp, campaign_ids) -> pd.Series:
    """Each campaign's budget in force at ``at`` (its latest raw.budgets row effective then or before; NaN if none)."""
    rows = con.execute(
        f"SELECT campaign_id, daily_budget FROM ({budget_in_effect_sql('<=')})", [pd.Timestamp(at).to_pydatetime()]
    ).df()
    return rows.set_index("campaign_id")["daily_budget"].reindex(pd.Index(campaign_ids)).astype(float)


def period_start_budgets(
    con, rules: BudgetRules, effective: pd.Timestamp, campaign_ids, fallback: pd.Series
) -> pd.Series:
    """The budget in force at the start of the period ``effective`` falls in: what the period's limit is measured on.

    That is the latest raw.budgets row before the period; for a campaign without one (first budgets of a user's
    data), what the audit says it had before the period's first change; else ``fallback`` (today's budget).
    """
    start = rules.period_start(effective)
    ids = pd.Index(campaign_ids)
    before = budgets_in_force(con, start - pd.Timedelta(microseconds=1), ids)
    if _audit_exists(con):
        first = (
            con.execute(
                """
            SELECT b.campaign_id, b.budget_before FROM audit.budget_changes b
            LEFT JOIN audit.allocation_runs r USING (run_id)
            WHERE b.effective_ts >= ? AND b.effective_ts < ?
            QUALIFY row_number() OVER (PARTITION BY b.campaign_id ORDER BY b.effective_ts, r.applied_at) = 1""",
                [start.to_pydatetime(), (start + pd.Timedelta(hours=rules.period_hours)).to_pydatetime()],
            )
            .df()
            .set_index("campaign_id")["budget_before"]
            .reindex(ids)
            .astype(float)
        )
        before = before.fillna(first)
    return before.fillna(pd.Series(np.asarray(fallback, float), index=ids)).fillna(0.0)


def record_refusal(
    paths: PmiPaths,
    run_id: str,
    triggered_by: str,
    message: str,
    summary: dict | None = None,
    rules: BudgetRules | None = None,
) -> None:
    """An audit row for a run that applied nothing because it would have broken a rule (and why); ``applied_at`` stays
    NULL, so "the latest applied run" never picks it."""
    summary = summary or {}
    rules = rules or BudgetRules()
    with transaction(paths.warehouse) as con:
        for ddl in AUDIT_DDL:
            con.execute(ddl)
        effective = next_effective_ts(con)
        con.execute(
            """INSERT OR REPLACE INTO audit.allocation_runs BY NAME
                       SELECT ? AS run_id, NULL::TIMESTAMP AS applied_at, ? AS effective_ts, ? AS triggered_by,
                              ? AS expected_gain, ? AS probability_of_loss, ? AS probability_worse_than_current,
                              ? AS refine_steps, ? AS status, ? AS period_start""",
            [
                run_id,
                effective.to_pydatetime(),
                triggered_by,
                summary.get("expected_gain"),
                summary.get("probability_of_loss"),
                summary.get("probability_worse_than_current"),
                summary.get("refine_steps"),
                f"refused: {message}",
                rules.period_start(effective).to_pydatetime(),
            ],
        )


def _action(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.select(
        [(after <= 0) & (before > 0), after > before, after < before], ["pause", "scale_up", "reduce"], "hold"
    )


def apply_allocation(
    paths: PmiPaths,
    run_id: str,
    changes: pd.DataFrame,
    summary: dict,
    triggered_by: str,
    csv_export: Path | None = None,
    webhook_url: str | None = None,
    rules: BudgetRules | None = None,
    total_budget: float | None = None,
) -> dict:
    """Pass budget changes through the gate, write them to raw.budgets and the audit tables in one transaction.

    Idempotent per run id. ``changes`` has campaign_id, budget_before, budget_after, action, reason (one row per
    campaign; ``budget_before`` is only the fallback for a campaign with no budget in the warehouse yet). Every
    change, whatever its source, is held to ``rules`` (the period limit against the budget in force at the period's
    start, and the bounds) and its campaigns' sum to ``total_budget`` (default: their sum in force now, so no
    source raises the total without saying so); ``bound_by`` records which rule set each budget. Every campaign's
    budget is written where it differs from the one in force, holds included, so the budget in force is always
    what the audit says. Refused (nothing applied, an audit row saying why) if no split meets every rule.
    """
    rules = rules or BudgetRules()
    with transaction(paths.warehouse) as con:
        for ddl in AUDIT_DDL:
            con.execute(ddl)
        # a run refused before may be tried again (its audit row is replaced); an applied one never is
        con.execute("DELETE FROM audit.allocation_runs WHERE run_id = ? AND status LIKE 'refused%'", [run_id])
        if con.execute("SELECT count(*) FROM audit.allocation_runs WHERE run_id = ?", [run_id]).fetchall()[0][0]:
            return {"run_id": run_id, "applied": False, "changed_campaigns": 0, "reason": "already applied"}
        effective = next_effective_ts(con)
        ids = changes["campaign_id"].to_numpy()
        fallback = changes["budget_before"].to_numpy(float)
        in_force = budgets_in_force(con, effective, ids)
        before = in_force.fillna(pd.Series(fallback, index=in_force.index)).to_numpy(float)
        start = period_start_budgets(con, rules, effective, ids, pd.Series(fallback)).to_numpy(float)
        total = float(before.sum()) if total_budget is None else float(total_budget)
        proposed = changes["budget_after"].to_numpy(float)
        gated = gate(start, proposed, total, rules)
        period = rules.period_start(effective)
        if gated.refused:
            message = (
                f"the period's limits need {gated.lower.sum():,.2f} (budgets at the start of the period "
                f"{period} moved at most max({rules.max_change_pct:.0%}, {rules.min_change:,.2f}) each), "
                f"above the total {total:,.2f}"
            )
            con.execute(
                """INSERT INTO audit.allocation_runs BY NAME
                           SELECT ? AS run_id, NULL::TIMESTAMP AS applied_at, ? AS effective_ts, ? AS triggered_by,
                                  ? AS total_before, ? AS status, ? AS period_start""",
                [
                    run_id,
                    effective.to_pydatetime(),
                    triggered_by,
                    float(before.sum()),
                    f"refused: {message}",
                    period.to_pydatetime(),
                ],
            )
            return {"run_id": run_id, "applied": False, "changed_campaigns": 0, "reason": f"refused: {message}"}
        after = gated.budget
        moved = gated.bound_by != "none"
        action = np.where(moved, _action(before, after), changes["action"].to_numpy(object))
        reason = np.where(
            moved,
            changes["reason"].astype(str).to_numpy(object) + "; held to the " + gated.bound_by.astype(str) + " rule",
            changes["reason"].to_numpy(object),
        )
        rows = pd.DataFrame(
            {
                "run_id": run_id,
                "campaign_id": ids,
                "effective_ts": effective,
                "budget_before": before,
                "budget_after": after,
                "action": action,
                "reason": reason,
                "triggered_by": triggered_by,
                "bound_by": gated.bound_by.astype(str),
                "period_start_budget": start,
            }
        )
        # holds too: whatever differs from the budget in force (or has none yet) is written
        stale = in_force.isna().to_numpy() | (np.abs(after - in_force.fillna(0.0).to_numpy()) >= 0.005)
        con.register("new_budgets", rows[stale])
        con.execute("""INSERT INTO raw.budgets
                       SELECT campaign_id, effective_ts, CAST(budget_after AS DECIMAL(18,2)), run_id
                       FROM new_budgets
                       ON CONFLICT (campaign_id, effective_ts) DO UPDATE SET daily_budget = excluded.daily_budget,
                                                                              source = excluded.source""")
        changed = rows[np.abs(after - before) >= 0.005]
        con.register("all_changes", rows)
        con.execute("INSERT INTO audit.budget_changes BY NAME SELECT * FROM all_changes")
        in_force_adapter = "simulator" if has_simulator(con) else "warehouse"
        adapters = (
            [in_force_adapter] + (["csv"] if csv_export is not None else []) + (["webhook"] if webhook_url else [])
        )
        con.execute(
            """INSERT INTO audit.allocation_runs BY NAME
                       SELECT ? AS run_id, now()::TIMESTAMP AS applied_at, ? AS effective_ts, ? AS triggered_by,
                              ? AS total_before, ? AS total_after, ? AS expected_gain, ? AS probability_of_loss,
                              ? AS refine_steps, ? AS adapter, ? AS probability_worse_than_current, ? AS status,
                              ? AS period_start""",
            [
                run_id,
                effective.to_pydatetime(),
                triggered_by,
                float(before.sum()),
                float(after.sum()),
                summary.get("expected_gain"),
                summary.get("probability_of_loss"),
                summary.get("refine_steps"),
                "+".join(adapters),
                summary.get("probability_worse_than_current"),
                APPLIED,
                period.to_pydatetime(),
            ],
        )
    delivered = deliver(paths, run_id, changed, csv_export, webhook_url)
    return {
        "run_id": run_id,
        "applied": True,
        "changed_campaigns": len(changed),
        "effective_ts": str(effective),
        "bound": int(moved.sum()),
        **{f"delivery_{adapter}": status for adapter, status in delivered.items()},
    }
