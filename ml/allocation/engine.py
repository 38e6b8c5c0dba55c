"""Propose, simulate and refine an allocation on fitted curves: the optimiser exploits, Thompson sampling explores.

Every step moves along convex combinations of feasible allocations (the optimiser's solution, a posterior
draw's solution, the current budgets), so the total budget, bounds and change limits hold throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.config import AllocationConfig
from ml.allocation.decision import choose_move
from ml.allocation.gate import gate
from ml.allocation.inputs import AllocationInputs
from ml.optimize import Allocation, PortfolioProblem, optimize_portfolio

EXPLORATION_BISECTION_STEPS = 12  # the step share to within 1/4096
SIMULATION_STREAM, EXPLORATION_COST_STREAM = 1, 2  # seed offsets of the posterior draws each step uses


def total_budget(inputs: AllocationInputs, config: AllocationConfig) -> float:
    """The run's total: the configured one, else the period's (the budgets in force at its start), so a run that
    spent below it does not lower the cap for the period's later runs."""
    return float(config.total_budget or inputs.period_start.sum())


def build_problem(inputs: AllocationInputs, config: AllocationConfig, draw: int | None = None) -> PortfolioProblem:
    """The optimiser's problem for today's costs and curves (point estimate or one posterior draw).

    Its ``current_budget`` is the budget in force at the period's start: the change limit (with its absolute floor
    ``min_change``) is a property of the period, not of one run.
    """
    c = inputs.campaigns
    return PortfolioProblem(
        total_budget=total_budget(inputs, config),
        current_budget=inputs.period_start,
        curves=inputs.nominal_curves(draw),
        value_per_conversion=inputs.value_per_conversion,
        campaign_id=c["campaign_id"].to_numpy(),
        has_agency=c["has_agency"].to_numpy(bool),
        creative_production_cost=c["creative_production_cost"].to_numpy(float),
        min_spend=config.min_budget,
        max_change_pct=config.max_change_pct,
        min_change=config.min_change,
        overhead_pct=config.costs.overhead_pct,
        agency_fee_pct=config.costs.agency_fee_pct,
        amortisation_days=config.costs.creative_amortisation_days,
    )


def daily_profit(problem: PortfolioProblem, spend: np.ndarray) -> np.ndarray:
    """Expected profit per campaign-day at a spend (revenue minus full cost; creative cost only while spending)."""
    revenue = problem.curves.value(spend) * problem.value_per_conversion
    cost = spend * problem.cost_multiplier + np.where(spend > 0, problem.fixed_daily_cost, 0.0)
    return revenue - cost


@dataclass
class Proposal:
    """The exploit solution, the Thompson draw's solution and the blended proposal."""

    exploit: Allocation
    proposed_budget: np.ndarray
    explored_share: float
    thompson_draw: int | None


def propose(inputs: AllocationInputs, config: AllocationConfig) -> Proposal:
    """Optimise on the point curves, then move toward one posterior draw's optimum by at most the exploration cap."""
    problem = build_problem(inputs, config)
    exploit = optimize_portfolio(problem, config.objective)
    if config.exploration_share <= 0 or inputs.curves.n_draws == 0:
        return Proposal(exploit, exploit.daily_budget.copy(), 0.0, None)
    rng = np.random.default_rng(config.seed)
    draw = int(rng.integers(inputs.curves.n_draws))
    sampled = optimize_portfolio(build_problem(inputs, config, draw), config.objective).daily_budget
    step = sampled - exploit.daily_budget
    moved = 0.5 * np.abs(step).sum()
    cap = config.exploration_share * problem.total_budget
    weight = min(1.0 if moved <= cap else cap / moved, affordable_weight(inputs, config, exploit.daily_budget, step))
    proposed = exploit.daily_budget + weight * step
    return Proposal(exploit, proposed, float(weight * moved / max(problem.total_budget, 1e-9)), draw)


def posterior_problems(
    inputs: AllocationInputs, config: AllocationConfig, size: int, stream: int
) -> list[PortfolioProblem]:
    """Problems on ``size`` posterior draws picked by a seeded stream: every budget compared meets the same draws."""
    draws = np.random.default_rng(config.seed + stream).integers(inputs.curves.n_draws, size=size)
    return [build_problem(inputs, config, int(d)) for d in draws]  # loops over draws, never over campaigns


def expected_profit(problems: list[PortfolioProblem], budget: np.ndarray) -> float:
    """Mean portfolio daily profit of ``budget`` over the problems' posterior draws."""
    return float(np.mean([daily_profit(problem, budget).sum() for problem in problems]))


def exploration_cost_problems(inputs: AllocationInputs, config: AllocationConfig) -> list[PortfolioProblem]:
    """The posterior draws that price an exploration step."""
    return posterior_problems(inputs, config, config.exploration_cost_draws, EXPLORATION_COST_STREAM)


def perfect_information_value(problems: list[PortfolioProblem], exploit: np.ndarray, objective: str) -> float:
    """Expected daily profit the exploit split leaves on the table under the posterior (EVPI): the mean, over
    draws, of the draw's own optimum's profit minus the exploit's. What knowing the curves exactly would add."""
    gaps = [
        daily_profit(p, optimize_portfolio(p, objective).daily_budget).sum() - daily_profit(p, exploit).sum()
        for p in problems
    ]
    return max(float(np.mean(gaps)), 0.0)


def information_value(
    inputs: AllocationInputs,
    config: AllocationConfig,
    problems: list[PortfolioProblem],
    exploit: np.ndarray,
    step: np.ndarray,
) -> float:
    """What one day of exploration can be worth over the remaining horizon, at most: the EVPI shrinks with the
    posterior's variance, and one more day of data among a curve's ``n_obs`` days shrinks that by about
    ``1 / (n_obs + 1)``; the step's campaigns (weighted by the money it moves) set ``n_obs``; the lower EVPI holds
    for ``exploration_horizon_days``. A curve fitted on 120 days yields ~1/121 of the EVPI per day of horizon; one
    refitted on 4 days after a drift ~1/5, so exploration pays there and not on a settled portfolio. A fit that
    does not report ``n_obs`` counts as one without data (the whole EVPI per day: the caps alone then bind).
    """
    stats = inputs.curves.stats
    idx = inputs.curves.index_of(inputs.campaigns["campaign_id"].to_numpy())
    n_obs = stats["n_obs"].to_numpy(float)[idx] if "n_obs" in stats else np.zeros(len(idx))
    moved = np.abs(step)
    learned = float((moved / (np.nan_to_num(n_obs, nan=0.0) + 1.0)).sum() / max(moved.sum(), 1e-12))
    evpi = perfect_information_value(problems, exploit, config.objective)
    return evpi * learned * config.exploration_horizon_days


def affordable_weight(
    inputs: AllocationInputs, config: AllocationConfig, exploit: np.ndarray, step: np.ndarray
) -> float:
    """The largest share of the Thompson step whose expected profit cost stays within the exploration budget.

    The cost is priced under the posterior (mean over draws) and the share found by bisection. The budget is the
    smaller of a share of expected profit (``exploration_cost_share``) and what the step's information can be worth
    over the remaining horizon (:func:`information_value`, over ``exploration_horizon_days``): a settled
    portfolio (long data, narrow posterior) explores little or not at all; a new or drifted campaign (a few days of
    data, draws that disagree) as far as the budget-share cap allows.
    """
    if config.exploration_cost_share is None or not np.any(step):
        return 1.0
    problems = exploration_cost_problems(inputs, config)
    base = expected_profit(problems, exploit)
    allowed = min(config.exploration_cost_share * abs(base), information_value(inputs, config, problems, exploit, step))
    if base - expected_profit(problems, exploit + step) <= allowed:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(EXPLORATION_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if base - expected_profit(problems, exploit + mid * step) <= allowed else (low, mid)
    return low


def simulate(
    inputs: AllocationInputs,
    config: AllocationConfig,
    budget: np.ndarray,
    problems: list[PortfolioProblem] | None = None,
) -> dict[str, float | np.ndarray]:
    """Monte-Carlo the daily profit of ``budget`` and of today's budgets over the curves' posterior draws."""
    if problems is None:
        problems = posterior_problems(inputs, config, config.n_simulations, SIMULATION_STREAM)
    current = inputs.current
    proposed_profit = np.array([daily_profit(problem, budget).sum() for problem in problems])
    current_profit = np.array([daily_profit(problem, current).sum() for problem in problems])
    gain = proposed_profit - current_profit
    return {
        "expected_profit": float(proposed_profit.mean()),
        "profit_p5": float(np.quantile(proposed_profit, 0.05)),
        "profit_p95": float(np.quantile(proposed_profit, 0.95)),
        "probability_of_loss": float((proposed_profit < 0).mean()),
        "expected_gain": float(gain.mean()),
        "gain_p5": float(np.quantile(gain, 0.05)),
        "probability_worse_than_current": float((gain < 0).mean()),
        "profit_samples": proposed_profit,
    }


def safe_budget(inputs: AllocationInputs, config: AllocationConfig) -> np.ndarray | None:
    """Today's budgets held to the period's limits and the run's total: the feasible end refine pulls back toward.

    With a total below today's, today's budgets themselves break the total, so pulling back toward them would
    overspend; the gate scales them back into the feasible set instead. None when no split is feasible.
    """
    held = gate(inputs.period_start, inputs.current, total_budget(inputs, config), config.rules())
    return None if held.refused else held.budget


def refine(inputs: AllocationInputs, config: AllocationConfig, proposed: np.ndarray) -> tuple[np.ndarray, dict, int]:
    """Move from today's budgets (held to the period's limits and the total) toward the proposal as far as the
    posterior's expected profit says (``ml.allocation.decision``); both ends are feasible, so every step is.

    Returns the budget, its simulation against today's split, and how many of the rule's ``decision_grid`` steps
    it stopped short of the proposal (0: the proposal is kept).
    """
    anchor = safe_budget(inputs, config)
    if anchor is None:
        anchor = proposed
    weight, _ = choose_move(inputs, config, anchor, proposed)
    # held to the cent by the gate: a share of a move that ends on a limit may fall a fraction of a cent outside it
    budget = gate(
        inputs.period_start, anchor + weight * (proposed - anchor), total_budget(inputs, config), config.rules()
    ).budget
    outcome = simulate(inputs, config, budget)
    outcome["move_share"] = weight
    return budget, outcome, int(round((1.0 - weight) * config.decision_grid))


def profit_quantiles(inputs: AllocationInputs, config: AllocationConfig, budget: np.ndarray) -> pd.DataFrame:
    """Per-campaign p10/p90 of daily profit over posterior draws, at the given budgets."""
    n = min(inputs.curves.n_draws, 200)
    samples = np.stack([daily_profit(build_problem(inputs, config, d), budget) for d in range(n)])
    return pd.DataFrame(
        {"profit_p10": np.quantile(samples, 0.1, axis=0), "profit_p90": np.quantile(samples, 0.9, axis=0)}
    )
