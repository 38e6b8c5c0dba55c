"""Entry point: recommend daily budgets for a portfolio under an objective and its constraints.

Kept thin so the pipeline, the CLI and tests all call one function with one result type.
"""

from __future__ import annotations

import numpy as np

from ml.optimize.constraints import check_feasible, spend_box
from ml.optimize.nonconcave import decide_on_off
from ml.optimize.objective import ObjectiveName, ObjectiveWeights, utility
from ml.optimize.pausing import objective_value, pause_unprofitable
from ml.optimize.problem import PortfolioProblem
from ml.optimize.result import Allocation, build_allocation
from ml.optimize.solver import solve_continuous


def optimize_portfolio(
    problem: PortfolioProblem,
    objective: ObjectiveName | ObjectiveWeights = "profit",
    *,
    pause_unprofitable_campaigns: bool = True,
    max_pause_checks: int = 64,
) -> Allocation:
    """Optimal daily budgets: exact KKT water-filling, then a pausing pass for fixed creative costs.

    Raises `InfeasibleBudgetError` if the floors (locks, min_spend, change limits) exceed the budget.
    `pause_unprofitable_campaigns=False` keeps every campaign with a floor of 0 in the continuous solution
    (fixed costs still counted for campaigns that spend). Pausing only concerns campaigns whose floor is 0
    (with the default 25% change limit a running campaign can only step down 25%). `max_pause_checks` bounds
    the re-solves (each about one KKT pass) spent verifying single pause/unpause flips; 0 keeps only the
    provably-improving batch pause of money-losing campaigns.
    """
    weights = ObjectiveWeights.of(objective)
    box = spend_box(problem)
    check_feasible(problem, box)
    coefficients = utility(problem, weights)
    budget = problem.total_budget
    s_shaped = problem.curves.s_shaped.any()
    # S-shaped curves: the continuous passes run on their concave envelope over the box (see nonconcave.py)
    curves = problem.curves.envelope(box.floor, box.ceiling) if s_shaped else problem.curves
    solution = solve_continuous(curves, coefficients, box.floor, box.ceiling, budget)
    paused = np.zeros(problem.n_campaigns, dtype=bool)
    if pause_unprofitable_campaigns:
        solution, paused = pause_unprofitable(curves, coefficients, box, budget, solution, max_checks=max_pause_checks)
    if s_shaped:
        solution = decide_on_off(
            problem.curves, curves, coefficients, box.floor, np.where(paused, 0.0, box.ceiling), budget, solution
        )
    value = objective_value(problem.curves, coefficients, solution.spend)
    return build_allocation(problem, weights.label, value, box, solution, paused)
