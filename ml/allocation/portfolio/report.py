"""The `pmi allocate` output: expected outcome, posterior profit band, action and a one-sentence reason per campaign.

Outcomes are recomputed from the final budgets (after any exploration) with the same cost rules the optimiser
used, so every number in a row describes the budget in that row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.allocation.portfolio.curves import MIN_CAMPAIGN_DAYS, posterior_conversions
from ml.allocation.portfolio.problem import daily_cost
from ml.models.response import ResponseCurveSet
from ml.optimize import Reason

# Budgets are written at full precision, so totals and change limits still hold in the file.
EXACT_COLUMNS = ("current_budget", "recommended_budget")
OUTPUT_COLUMNS = (
    "campaign_id",
    "current_budget",
    "recommended_budget",
    "change_pct",
    "expected_conversions",
    "expected_revenue",
    "expected_profit",
    "expected_roas",
    "marginal_roas",
    "profit_p10",
    "profit_p90",
    "saturation_level",
    "action",
    "reason",
)
MARGINAL_FLOOR_SPEND = 0.01  # marginal ROAS of a paused campaign is read at its first cent (Hill slopes start at inf)

REASON_SENTENCE: dict[Reason, str] = {
    Reason.LOCKED: "locked in the constraints, so it keeps its current budget",
    Reason.CHANGE_LIMIT_OVER_MIN: "min_budget is further away than the max change per run allows; the change "
    "limit wins",
    Reason.CHANGE_LIMIT_OVER_MAX: "max_budget is further away than the max change per run allows; the change "
    "limit wins",
    Reason.CHANGE_LIMIT_UP: "capped by the max change per run; a further dollar would still {gain}",
    Reason.CHANGE_LIMIT_DOWN: "cut as far as the max change per run allows; it would go lower without the limit",
    Reason.MIN_SPEND: "held at min_budget",
    Reason.MAX_SPEND: "capped at max_budget",
    Reason.MIN_ROAS: "stopped where its marginal ROAS falls to min_roas",
    Reason.MAX_CPA: "stopped where its marginal CPA rises to max_cpa",
    Reason.THRESHOLD_AT_FLOOR: "misses min_roas/max_cpa even at its lowest allowed budget, so it stays there",
    Reason.PAUSED_THRESHOLD: "even its first dollar misses min_roas/max_cpa",
    Reason.PAUSED_UNPROFITABLE: "it loses money once its amortised creative cost is counted",
    Reason.NO_SPEND: "its first dollar returns less than the portfolio's cut-off",
    Reason.BUDGET: "its marginal return equals the portfolio's cut-off set by the total budget",
    Reason.PROFIT_OPTIMUM: "at its profit optimum: a further dollar would lose money",
}
GAIN = {"profit": "pay", "revenue": "add revenue", "conversions": "add conversions"}


def actions(current: np.ndarray, recommended: np.ndarray) -> np.ndarray:
    """scale_up / reduce / pause / hold, with changes under half a percent (or a cent) counted as holds."""
    tolerance = np.maximum(0.005 * current, 0.01)
    return np.select(
        [(recommended == 0.0) & (current > 0.0), recommended > current + tolerance, recommended < current - tolerance],
        ["pause", "scale_up", "reduce"],
        default="hold",
    )


def _lead(action: np.ndarray, change: np.ndarray) -> np.ndarray:
    """The first words of a reason: what happens and by how much."""
    pct = pd.Series(np.abs(np.nan_to_num(change, nan=0.0)) * 100).round(0).astype(int).astype(str).to_numpy()
    started = np.isnan(change) & (action == "scale_up")
    return np.select(
        [action == "pause", started, action == "scale_up", action == "reduce"],
        ["Pause", "Start from zero", "Scale up " + pct + "%", "Reduce " + pct + "%"],
        default="Hold",
    )


def build_report(
    settings: pd.DataFrame,
    spend: np.ndarray,
    overhead_pct: float,
    objective: str,
    fitted: ResponseCurveSet,
    reason_codes: np.ndarray,
    history_rates: pd.DataFrame,
    days_with_spend: np.ndarray,
    exploration_shift: np.ndarray | None = None,
) -> pd.DataFrame:
    """One output row per campaign of `settings` (fitted campaigns first use curves; the rest historical rates).

    `reason_codes` (optimiser `Reason`s) and `exploration_shift` cover the fitted campaigns in order;
    `history_rates` holds conversions per dollar for the campaigns held without a curve.
    """
    n = len(settings)
    is_fit = settings["fitted"].to_numpy()
    value = settings["value_per_conversion"].to_numpy(float)
    current = settings["current_budget"].to_numpy(float)
    conversions = spend * history_rates["conversions_per_dollar"].to_numpy(float)
    marginal_roas, p10, p90, saturation = (np.full(n, np.nan) for _ in range(4))
    cost = daily_cost(settings, spend, overhead_pct)
    fit_spend = spend[is_fit]
    conversions[is_fit] = fitted.curves.value(fit_spend)
    with np.errstate(invalid="ignore"):
        marginal_roas[is_fit] = value[is_fit] * fitted.curves.marginal(np.maximum(fit_spend, MARGINAL_FLOOR_SPEND))
    profit_draws = value[is_fit, None] * posterior_conversions(fitted, fit_spend) - cost[is_fit, None]
    p10[is_fit], p90[is_fit] = np.quantile(profit_draws, [0.1, 0.9], axis=1)
    saturation[is_fit] = fitted.curves.saturation(fit_spend)
    revenue = value * conversions
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(current > 0, spend / current - 1.0, np.where(spend > 0, np.nan, 0.0))
        roas = np.where(spend > 0, revenue / spend, np.nan)
    action = actions(current, spend)
    reason = _reasons(settings, action, change, reason_codes, days_with_spend, spend, exploration_shift)
    reason = np.array([r.replace("{gain}", GAIN[objective]) for r in reason], dtype=object)
    return pd.DataFrame(
        {
            "campaign_id": settings.index.to_numpy(dtype=object),
            "current_budget": current,
            "recommended_budget": spend,
            "change_pct": change,
            "expected_conversions": conversions,
            "expected_revenue": revenue,
            "expected_profit": revenue - cost,
            "expected_roas": roas,
            "marginal_roas": marginal_roas,
            "profit_p10": p10,
            "profit_p90": p90,
            "saturation_level": saturation,
            "action": action,
            "reason": reason,
        }
    )[list(OUTPUT_COLUMNS)]


def _reasons(
    settings: pd.DataFrame,
    action: np.ndarray,
    change: np.ndarray,
    reason_codes: np.ndarray,
    days_with_spend: np.ndarray,
    spend: np.ndarray,
    shift: np.ndarray | None,
) -> np.ndarray:
    """Lead words, the binding rule, and notes on pooled values and exploration, as one sentence per row."""
    is_fit = settings["fitted"].to_numpy()
    current = settings["current_budget"].to_numpy(float)
    main = np.empty(len(settings), dtype=object)
    main[is_fit] = [REASON_SENTENCE[code] for code in reason_codes]
    frozen_at_zero = is_fit & (current == 0) & (spend == 0) & np.isfinite(settings["max_change_pct"].to_numpy())
    main[frozen_at_zero] = (
        "no spend in the last 7 days, and a change limit relative to zero keeps it there "
        "(give it a current budget or max_change_pct inf to start it)"
    )
    held = ~is_fit
    main[held] = [
        f"only {d} day(s) with spend, fewer than the {MIN_CAMPAIGN_DAYS} a response curve needs, so it "
        f"keeps its current budget"
        for d in days_with_spend[held]
    ]
    moved_to_bounds = held & (np.abs(spend - current) > 0.005)
    main[moved_to_bounds] = [
        f"only {d} day(s) with spend, too few for a response curve; moved only to respect "
        f"min/max_budget within the change limit"
        for d in days_with_spend[moved_to_bounds]
    ]
    if shift is not None:
        explored = np.zeros(len(settings))
        explored[is_fit] = shift
        noticeable = np.flatnonzero(np.abs(explored) >= np.maximum(0.005 * current, 0.01))
        main[noticeable] = [
            f"Thompson exploration moved it {explored[i]:+,.2f}/day from the proposed "
            f"{spend[i] - explored[i]:,.2f}, where it was {main[i]}"
            for i in noticeable
        ]
    text = pd.Series(_lead(action, change)) + ": " + pd.Series(main)
    pooled = settings["value_pooled"].to_numpy()
    text[pooled] += "; no conversions of its own, so it is valued at the portfolio's revenue per conversion"
    return (text + ".").to_numpy(dtype=object)
