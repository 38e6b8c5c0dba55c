"""The media-mix allocation applied to ``raw.budgets`` through the project's one budget gate.

A channel-level home's channels are the campaigns of ``raw.campaigns`` (`pmi ingest` turns each spend column of the
wide file into one campaign), so a channel's budget is a campaign's row in ``raw.budgets`` and every rule that holds
for campaigns (the period change limit measured on the budget in force at the period's start, the bounds, the total,
the audit, idempotence per run id) holds for channels by going through ``ml.allocation.apply.apply_allocation``.

Units: the media-mix model plans spend per *period of the data* (a week for weekly data), while ``raw.budgets``
holds *daily* budgets. A per-period spend becomes a daily budget by dividing by the data's period length in days
(``MediaData.period_days``), and the gate's period is that same length (``period_hours`` = 24 x period days), so
"at most max_change_pct per period" means the same thing in the plan and in the gate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.apply import apply_allocation, next_effective_ts, period_start_budgets
from ml.allocation.gate import BudgetRules
from ml.settings import PmiPaths
from ml.warehouse.connection import connect, read_sql, table_exists

TRIGGERED_BY = "media_mix"


def channel_rules(max_change_pct: float, period_days: float) -> BudgetRules:
    """The gate's rules for a media-mix allocation: the plan's change limit over one period of the data.

    ``min_change`` is 0: the plan moves each channel at most ``max_change_pct`` of its spend with no absolute floor,
    and the gate holds the same rule (the campaign default of 10 a day could be several times a small channel's
    daily budget, which would let a second run in the period move it far beyond the plan's limit).
    """
    return BudgetRules(max_change_pct=max_change_pct, min_change=0.0, period_hours=max(int(round(period_days * 24)), 1))


def channel_period_start_spend(
    paths: PmiPaths, channels: tuple[str, ...], recent: np.ndarray, period_days: float, max_change_pct: float
) -> np.ndarray:
    """Each channel's spend per period at the start of the gate's period that new budgets would fall in.

    That is what the plan moves from, as the campaign engine measures its change limit on the period-start budgets:
    a second run in the same period then plans from the same budgets as the first (it cannot stack its change on
    the first one's), and the next period plans from what was applied. A channel with no budget yet (a home whose
    allocation was never applied) starts from its ``recent`` spend per period.
    """
    recent = np.asarray(recent, float)
    if not table_exists(paths, "raw.budgets"):
        return recent
    con = connect(paths.warehouse, read_only=True)
    try:
        daily = period_start_budgets(
            con,
            channel_rules(max_change_pct, period_days),
            next_effective_ts(con),
            list(channels),
            pd.Series(recent / period_days),
        )
    finally:
        con.close()
    return daily.to_numpy(float) * period_days


@dataclass(frozen=True)
class AppliedChannels:
    """What the gate did with one media-mix allocation: its status and, per channel, the applied budget."""

    status: str
    applied: pd.DataFrame  # channel, applied_daily_budget, applied (per period), bound_by, period_start_budget


def apply_channel_allocation(
    paths: PmiPaths, run_id: str, plan: pd.DataFrame, period_days: float, max_change_pct: float
) -> AppliedChannels:
    """Send the plan (per-period ``current_budget`` and ``recommended`` per ``channel``) through the gate as daily
    budgets; return what was applied (NaN budgets when refused).

    The run's total is the plan's current total per day to the cent (the plan reallocates, it does not raise or cut
    the total); the gate works in whole cents and treats the total as a cap, so the applied total can sit up to a
    cent per channel below it.
    """
    changes = pd.DataFrame(
        {
            "campaign_id": plan["channel"].astype(str).to_numpy(),
            "budget_before": plan["current_budget"].to_numpy(float) / period_days,
            "budget_after": plan["recommended"].to_numpy(float) / period_days,
            "action": np.where(plan["recommended"] > plan["current_budget"], "scale_up", "reduce"),
            "reason": plan["reason"].astype(str).to_numpy(),
        }
    )
    changes["action"] = changes["action"].where(~np.isclose(plan["recommended"], plan["current_budget"]), "hold")
    rules = channel_rules(max_change_pct, period_days)
    outcome = apply_allocation(
        paths,
        run_id,
        changes,
        {"expected_gain": None},
        TRIGGERED_BY,
        rules=rules,
        total_budget=round(float(changes["budget_before"].sum()), 2),
    )
    audit = read_sql(
        paths,
        "SELECT campaign_id AS channel, budget_after AS applied_daily_budget, bound_by, period_start_budget "
        "FROM audit.budget_changes WHERE run_id = ?",
        [run_id],
    )
    applied = plan[["channel"]].merge(audit, on="channel", how="left")
    applied["applied"] = applied["applied_daily_budget"] * period_days
    status = "applied" if outcome["applied"] else str(outcome.get("reason", "not applied"))
    return AppliedChannels(status, applied)
