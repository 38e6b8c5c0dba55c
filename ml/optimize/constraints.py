"""Per-campaign spend box (floor, ceiling) from locks, min/max, change limits and ROAS/CPA thresholds.

The box is what the KKT solver clips to, and the reason codes record which rule set each side, so every
recommendation can say why it stopped where it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ml.optimize.problem import InfeasibleBudgetError, PortfolioProblem


class Reason(StrEnum):
    """Binding constraint (or driver) of a recommended daily budget."""

    LOCKED = "locked"
    CHANGE_LIMIT_OVER_MIN = "change_limit_over_min"
    CHANGE_LIMIT_OVER_MAX = "change_limit_over_max"
    CHANGE_LIMIT_UP = "change_limit_up"
    CHANGE_LIMIT_DOWN = "change_limit_down"
    MIN_SPEND = "min_spend"
    MAX_SPEND = "max_spend"
    MIN_ROAS = "min_roas"
    MAX_CPA = "max_cpa"
    THRESHOLD_AT_FLOOR = "threshold_at_floor"
    PAUSED_THRESHOLD = "paused_threshold"
    PAUSED_UNPROFITABLE = "paused_unprofitable"
    NO_SPEND = "no_spend"
    BUDGET = "budget"
    PROFIT_OPTIMUM = "profit_optimum"


REASONS: tuple[Reason, ...] = tuple(Reason)
CODE = {reason: np.int8(i) for i, reason in enumerate(REASONS)}

REASON_TEXT: dict[Reason, str] = {
    Reason.LOCKED: "locked: kept at the current budget",
    Reason.CHANGE_LIMIT_OVER_MIN: "min_spend is above what the max change per period allows; the limit wins",
    Reason.CHANGE_LIMIT_OVER_MAX: "max_spend is below what the max change per period allows; the limit wins",
    Reason.CHANGE_LIMIT_UP: "capped by the max change per period above the current budget",
    Reason.CHANGE_LIMIT_DOWN: "held at the max change per period below the current budget",
    Reason.MIN_SPEND: "held at min_spend",
    Reason.MAX_SPEND: "capped at max_spend",
    Reason.MIN_ROAS: "capped where marginal ROAS falls to min_roas",
    Reason.MAX_CPA: "capped where marginal CPA rises to max_cpa",
    Reason.THRESHOLD_AT_FLOOR: "fails min_roas/max_cpa already at its floor; held at the floor",
    Reason.PAUSED_THRESHOLD: "paused: the first dollar already fails min_roas/max_cpa",
    Reason.PAUSED_UNPROFITABLE: "paused: the portfolio earns more without it once its creative cost counts",
    Reason.NO_SPEND: "no spend: the first dollar returns less than the budget's marginal cut-off",
    Reason.BUDGET: "marginal return equals the portfolio's cut-off set by the total budget",
    Reason.PROFIT_OPTIMUM: "at its profit optimum: a further dollar would lose money",
}
_TEXTS = np.array([REASON_TEXT[r] for r in REASONS], dtype=object)
_MEMBERS = np.array(REASONS, dtype=object)


def reason_members(codes: np.ndarray) -> np.ndarray:
    """Reason enum members for an array of codes (vectorised lookup)."""
    return _MEMBERS[codes]


def reason_texts(codes: np.ndarray) -> np.ndarray:
    """Short human explanations for an array of codes (vectorised lookup)."""
    return _TEXTS[codes]


@dataclass(frozen=True, eq=False)
class SpendBox:
    """Allowed daily spend per campaign and the rule behind each side.

    `override` is -1 unless one rule pins the campaign outright (lock, min/max-vs-change conflict, threshold
    failing at the floor, threshold failing at the first dollar).
    """

    floor: np.ndarray
    ceiling: np.ndarray
    floor_code: np.ndarray
    ceiling_code: np.ndarray
    override: np.ndarray

    @property
    def pausable(self) -> np.ndarray:
        """Campaigns the rules allow to spend nothing, so pausing them can save their fixed cost."""
        return (self.floor == 0.0) & (self.ceiling > 0.0)


def spend_box(problem: PortfolioProblem) -> SpendBox:
    """Intersect min/max with the change limit (which wins on conflict), cap at thresholds, apply locks."""
    current, pct = problem.current_budget, problem.max_change_pct
    with np.errstate(invalid="ignore"):
        width = np.where(np.isinf(pct), np.inf, np.maximum(current * pct, problem.min_change))
        change_floor = np.where(np.isinf(width), 0.0, np.maximum(current - width, 0.0))
        change_ceiling = np.where(np.isinf(width), np.inf, current + width)
    floor = np.maximum(problem.min_spend, change_floor)
    ceiling = np.minimum(problem.max_spend, change_ceiling)
    floor_code = np.where(problem.min_spend >= change_floor, CODE[Reason.MIN_SPEND], CODE[Reason.CHANGE_LIMIT_DOWN])
    floor_code = np.where(floor > 0, floor_code, CODE[Reason.NO_SPEND])
    ceiling_code = np.where(problem.max_spend <= change_ceiling, CODE[Reason.MAX_SPEND], CODE[Reason.CHANGE_LIMIT_UP])
    override = np.full(problem.n_campaigns, -1, dtype=np.int8)

    over_min = problem.min_spend > change_ceiling
    over_max = problem.max_spend < change_floor
    floor = np.where(over_min, change_ceiling, np.where(over_max, change_floor, floor))
    ceiling = np.where(over_min | over_max, floor, ceiling)
    override[over_min] = CODE[Reason.CHANGE_LIMIT_OVER_MIN]
    override[over_max] = CODE[Reason.CHANGE_LIMIT_OVER_MAX]

    # Thresholds are marginal: cap spend where value per extra dollar hits min_roas or dollars per extra
    # conversion hit max_cpa, i.e. where marginal conversions per dollar fall to the larger target.
    value = problem.value_per_conversion
    with np.errstate(divide="ignore", invalid="ignore"):
        roas_target = np.where(problem.min_roas > 0, problem.min_roas / value, 0.0)
        cpa_target = 1.0 / problem.max_cpa
    cap = problem.curves.spend_at_marginal(np.maximum(roas_target, cpa_target))
    cap_code = np.where(roas_target >= cpa_target, CODE[Reason.MIN_ROAS], CODE[Reason.MAX_CPA])
    capped = cap < ceiling
    ceiling_code = np.where(capped, cap_code, ceiling_code)
    ceiling = np.where(capped, np.maximum(cap, floor), ceiling)
    free = override < 0
    override[free & (cap < floor)] = CODE[Reason.THRESHOLD_AT_FLOOR]
    override[free & (cap == 0.0) & (floor == 0.0) & capped] = CODE[Reason.PAUSED_THRESHOLD]

    locked = problem.locked
    floor = np.where(locked, current, floor)
    ceiling = np.where(locked, current, ceiling)
    override[locked] = CODE[Reason.LOCKED]
    return SpendBox(floor=floor, ceiling=ceiling, floor_code=floor_code, ceiling_code=ceiling_code, override=override)


def check_feasible(problem: PortfolioProblem, box: SpendBox) -> None:
    """Refuse budgets below the sum of floors, naming the campaigns whose floors weigh most."""
    needed = float(box.floor.sum())
    if needed <= problem.total_budget * (1.0 + 1e-12):
        return
    top = np.argsort(-box.floor, kind="stable")[:3]
    names = ", ".join(
        f"{problem.campaign_name(int(i))} ({box.floor[i]:,.2f}, "
        f"{reason_members(box.override[i] if box.override[i] >= 0 else box.floor_code[i])})"
        for i in top
    )
    raise InfeasibleBudgetError(
        f"total_budget {problem.total_budget:,.2f} is below the {needed:,.2f} that locks, min_spend and the "
        f"max change per period require; largest floors: {names}. Raise the budget, relax max_change_pct or "
        f"unlock campaigns."
    )
