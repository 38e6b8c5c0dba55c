"""The one gate every budget change passes: allocation runs, exploration, alert actions and manual changes.

The safety net is a property of a *period* (default one day): within a period no campaign's budget moves further
than ``max(max_change_pct x its budget at the period's start, min_change)`` from the budget in force at the
period's start, however many changes (hourly runs, alert cuts, manual edits) the period sees. ``min_change`` is an
absolute floor of that limit (a minimum test budget), so a campaign at budget 0 can be launched or relaunched.
Bounds (``min_budget``, ``max_budget``) hold too; where a bound and the change limit conflict, the limit wins
(as in the optimiser). The portfolio total is a cap: a proposal above it is scaled back toward the period window's
floors. Budgets are stored in cents, so the gate works in integer cents and its guarantees hold to the cent.

Everything is vectorised over leading axes: ``start`` and ``proposed`` may be (..., campaigns) with a total per
leading index, which is how the property test checks thousands of random change sequences at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.optimize.problem import DEFAULT_MAX_CHANGE_PCT

# Which rule set a gated budget (stored in audit.budget_changes.bound_by).
NONE, CHANGE_UP, CHANGE_DOWN, MIN_BUDGET, MAX_BUDGET, TOTAL = (
    "none",
    "period_change_limit_up",
    "period_change_limit_down",
    "min_budget",
    "max_budget",
    "total_budget",
)
BOUND_NAMES = np.array([NONE, CHANGE_UP, CHANGE_DOWN, MIN_BUDGET, MAX_BUDGET, TOTAL], dtype=object)
_CODE = {name: i for i, name in enumerate(BOUND_NAMES)}


@dataclass(frozen=True)
class BudgetRules:
    """The period limit and bounds every budget change is held to."""

    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT
    min_change: float = 10.0
    period_hours: int = 24
    min_budget: float = 0.0
    max_budget: float = np.inf

    def period_start(self, effective_ts: pd.Timestamp) -> pd.Timestamp:
        """Start of the period a change effective at ``effective_ts`` belongs to (periods aligned to the epoch)."""
        return pd.Timestamp(effective_ts).floor(f"{int(self.period_hours)}h")


class GateRefusal(ValueError):
    """No budget split satisfies the period limit, the bounds and the total together."""


def _cents(x: np.ndarray, how: str) -> np.ndarray:
    """Money as integer cents (floats of whole cents; ``how`` = round, floor or ceil, tolerant of float noise)."""
    scaled = np.asarray(x, float) * 100.0
    if how == "floor":
        return np.floor(scaled + 1e-6)
    if how == "ceil":
        return np.ceil(scaled - 1e-6)
    return np.round(scaled)


def window(start: np.ndarray, rules: BudgetRules) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per campaign, the allowed budget range in the period (cents) and the rule behind each end (codes)."""
    start_c = _cents(start, "round")
    with np.errstate(invalid="ignore"):
        width = np.maximum(start_c * rules.max_change_pct, rules.min_change * 100.0)
    width = np.where(np.isnan(width), np.inf, width)  # 0 x inf: an unlimited change
    change_lo = np.maximum(np.ceil(start_c - width - 1e-6), 0.0)
    change_hi = np.floor(start_c + width + 1e-6)
    min_c, max_c = (
        _cents(rules.min_budget, "ceil"),
        (np.inf if np.isinf(rules.max_budget) else _cents(rules.max_budget, "floor")),
    )
    lo = np.maximum(change_lo, min_c)
    hi = np.minimum(change_hi, max_c)
    lo_code = np.where(min_c > change_lo, _CODE[MIN_BUDGET], _CODE[CHANGE_DOWN])
    hi_code = np.where(max_c < change_hi, _CODE[MAX_BUDGET], _CODE[CHANGE_UP])
    # a bound outside the change window: the limit wins (the campaign sits at the window's nearest end)
    lo = np.where(min_c > change_hi, change_hi, lo)
    hi = np.where(max_c < change_lo, change_lo, hi)
    lo = np.minimum(lo, hi)
    return lo, hi, lo_code, hi_code


@dataclass(frozen=True)
class GateResult:
    """Gated budgets (money), the rule that bound each (names), and the refusals (per leading index)."""

    budget: np.ndarray
    bound_by: np.ndarray
    refused: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def gate(start: np.ndarray, proposed: np.ndarray, total: np.ndarray | float, rules: BudgetRules) -> GateResult:
    """Hold ``proposed`` budgets to the period window around ``start`` and to the ``total`` cap.

    Where the window's floors alone exceed the total the change is refused: ``refused`` is True there and the
    budgets returned are the proposal clipped to the window (callers must not apply them).
    """
    start = np.asarray(start, float)
    proposed = np.nan_to_num(np.asarray(proposed, float), nan=0.0, posinf=np.inf, neginf=0.0)
    lo, hi, lo_code, hi_code = window(start, rules)
    want = _cents(np.clip(proposed, 0.0, 1e15), "round")
    budget = np.clip(want, lo, hi)
    code = np.where(want > hi, hi_code, np.where(want < lo, lo_code, _CODE[NONE]))
    total_c = _cents(np.broadcast_to(np.asarray(total, float), budget.shape[:-1]), "floor")
    floors = lo.sum(axis=-1)
    refused = floors > total_c
    excess = np.maximum(budget.sum(axis=-1) - total_c, 0.0)
    over = (excess > 0) & ~refused
    if over.any():
        slack = budget - lo
        room = slack.sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cut = np.ceil(excess[..., None] * slack / np.where(room > 0, room, 1.0)[..., None] - 1e-9)
        cut = np.where(over[..., None], np.minimum(cut, slack), 0.0)
        budget = budget - cut
        code = np.where(cut > 0, _CODE[TOTAL], code)
    return GateResult(
        budget=budget / 100.0,
        bound_by=BOUND_NAMES[code.astype(int)],
        refused=refused,
        lower=lo / 100.0,
        upper=hi / 100.0,
    )


def violations(start: np.ndarray, budget: np.ndarray, total: np.ndarray | float, rules: BudgetRules) -> np.ndarray:
    """Per leading index, how many campaigns break the period window or bounds, plus 1 if the total is broken."""
    lo, hi, _, _ = window(start, rules)
    cents = _cents(budget, "round")
    outside = ((cents < lo) | (cents > hi)).sum(axis=-1)
    total_c = _cents(np.broadcast_to(np.asarray(total, float), cents.shape[:-1]), "floor")
    return outside + (cents.sum(axis=-1) > total_c)
