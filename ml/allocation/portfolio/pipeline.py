"""One `pmi allocate` run: history -> curves -> optimiser problem -> (exploration) -> report.

Campaigns with too little spend history keep their current budget (within their min/max) and the rest of
the total budget is optimised over the campaigns with fitted curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.portfolio.curves import MIN_CAMPAIGN_DAYS, curves_for, fit_curves, fittable
from ml.allocation.portfolio.decide import posterior_share
from ml.allocation.portfolio.exploration import EXPLORATION_SHARE, Exploration, thompson_exploration
from ml.allocation.portfolio.history import CampaignHistory
from ml.allocation.portfolio.inputs import default_current
from ml.allocation.portfolio.problem import RunOptions, build_problem, campaign_settings, held_budgets
from ml.allocation.portfolio.report import build_report
from ml.io.errors import BadInputError
from ml.models.response import ResponseCurveSet
from ml.optimize import Allocation, InfeasibleBudgetError, ProblemValidationError, optimize_portfolio, spend_box

MIN_BUDGET = 0.01


@dataclass(frozen=True)
class AllocationRun:
    """The output table plus what produced it (for tests, logs and the console summary)."""

    table: pd.DataFrame
    settings: pd.DataFrame
    curves: ResponseCurveSet
    allocation: Allocation
    exploration: Exploration | None


def allocate(
    history: CampaignHistory,
    options: RunOptions,
    current: pd.Series | None = None,
    constraints: pd.DataFrame | None = None,
    curves: ResponseCurveSet | None = None,
) -> AllocationRun:
    """Recommend daily budgets for every campaign of the history under the run's options and constraints.

    `curves` lets a caller that already fitted (or registered) curves skip the fit; it must cover every
    campaign with enough history (`fittable`), in nominal daily dollars.
    """
    current = default_current(history) if current is None else current
    is_fit = fittable(history)
    if not is_fit.any():
        raise BadInputError(
            f"{history.path}: column spend: no campaign has {MIN_CAMPAIGN_DAYS} days with spend; "
            f"too few days to fit response curves"
        )
    settings = campaign_settings(history, current, constraints, options, is_fit)
    spend = np.zeros(len(settings))
    spend[~is_fit] = held_budgets(settings[~is_fit])
    budget_for_fitted = options.total_budget - float(spend[~is_fit].sum())
    fit_ids = settings.index[is_fit].to_numpy(dtype=object)
    fitted = fit_curves(history, fit_ids, options.seed) if curves is None else curves_for(curves, fit_ids)
    try:
        problem = build_problem(settings, fitted.curves, max(budget_for_fitted, 0.0), options.overhead_pct)
        floors = float(spend_box(problem).floor.sum())
        if floors > budget_for_fitted * (1.0 + 1e-12) + 1e-9:
            raise BadInputError(
                f"--total-budget: {options.total_budget:,.2f} is below the "
                f"{floors + spend[~is_fit].sum():,.2f} that locks, min_budget and the max change per "
                f"run require; raise it or allow larger changes with --max-change-pct"
            )
        allocation = optimize_portfolio(problem, options.objective)
    except InfeasibleBudgetError as exc:
        raise BadInputError(f"--total-budget: {exc}") from exc
    except ProblemValidationError as exc:
        raise BadInputError(f"{history.path}: cannot build the allocation problem: {exc}") from exc
    box = spend_box(problem)
    proposed = allocation.daily_budget
    if options.posterior_decision:  # move only as far as the posterior's expected profit says (decide.py)
        anchor = np.clip(held_budgets(settings[is_fit]), box.floor, box.ceiling)
        share = posterior_share(settings, fitted, options, anchor, proposed, budget_for_fitted)
        proposed = np.clip(anchor + share * (proposed - anchor), box.floor, box.ceiling)
    fit_spend, exploration = proposed, None
    if options.exploration == "thompson":
        exploration = thompson_exploration(
            problem,
            fit_spend,
            fitted,
            options.objective,
            np.random.default_rng([options.seed, 1]),
            cap=EXPLORATION_SHARE * options.total_budget,
        )
        fit_spend = exploration.spend
    # A budget under a cent is a pause in practice (the solver gets there where Hill slopes start infinite).
    spend[is_fit] = np.where((fit_spend < MIN_BUDGET) & (box.floor == 0.0), 0.0, fit_spend)
    totals = history.totals()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(totals["spend"] > 0, totals["conversions"] / totals["spend"], 0.0)
    table = build_report(
        settings,
        spend,
        options.overhead_pct,
        options.objective,
        fitted,
        allocation.reason_code,
        pd.DataFrame({"conversions_per_dollar": rate}, index=settings.index),
        history.days_with_spend().to_numpy(),
        None if exploration is None else spend[is_fit] - proposed,
    )
    return AllocationRun(table=table, settings=settings, curves=fitted, allocation=allocation, exploration=exploration)
