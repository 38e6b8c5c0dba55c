"""The daily budget in effect per campaign: one definition for the simulator, the allocator and the alerts."""

from __future__ import annotations

_CUTOFFS = {"": "", "<": "WHERE effective_ts < ?", "<=": "WHERE effective_ts <= ?"}


def budget_in_effect_sql(cutoff: str = "") -> str:
    """SQL selecting (campaign_id, daily_budget, effective_ts, source) of each campaign's latest raw.budgets row.

    ``cutoff`` "<" or "<=" adds a bound parameter on effective_ts, so a past hour sees the budget it ran under.
    """
    return f"""SELECT campaign_id, daily_budget::DOUBLE AS daily_budget, effective_ts, source
               FROM raw.budgets {_CUTOFFS[cutoff]}
               QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY effective_ts DESC) = 1"""
