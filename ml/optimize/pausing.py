"""Second pass for fixed costs: pause campaigns whose fixed creative cost makes them lose money.

A fixed cost paid only while a campaign spends makes the problem non-convex, so the KKT pass treats it as a
constant and this pass decides on/off: campaigns losing money at their optimum are paused together (always
an improvement), then single pause/unpause flips that the Lagrangian bound says could pay are verified by
re-solving, until no flip improves the objective or the check budget runs out. It is a local search (from
everything on and from everything paused), not a mixed-integer solve: no single flip improves its answer.
"""

from __future__ import annotations

import numpy as np

from ml.optimize.constraints import SpendBox
from ml.optimize.objective import Utility
from ml.optimize.solver import ContinuousSolution, solve_continuous
from ml.response_curves import ResponseCurves

_IMPROVEMENT_RTOL = 1e-12


def objective_value(curves: ResponseCurves, utility: Utility, spend: np.ndarray) -> float:
    """Total objective, fixed costs counted only for campaigns that spend."""
    return float(utility.value(curves, spend).sum())


def pause_unprofitable(
    curves: ResponseCurves,
    utility: Utility,
    box: SpendBox,
    budget: float,
    base: ContinuousSolution,
    max_checks: int = 64,
    max_rounds: int = 50,
) -> tuple[ContinuousSolution, np.ndarray]:
    """Improve `base` by pausing campaigns (floor 0, fixed cost > 0); returns the solution and paused mask.

    Pausing every campaign that loses money at its optimum is safe: the rest could at worst leave the freed
    budget unspent, and what they had was optimal for the smaller budget. A flip of campaign i can only pay
    if the Lagrangian bound (contribution - lambda * spend, or its best value when switched on) says so;
    those candidates are re-solved one at a time, most promising first, at most `max_checks` in total.
    """
    candidates = box.pausable & (utility.fixed > 0)
    paused = np.zeros(candidates.shape, dtype=bool)
    if not candidates.any():
        return base, paused

    def settle(
        mask: np.ndarray, hint: float, solution: ContinuousSolution | None = None
    ) -> tuple[ContinuousSolution, float, np.ndarray]:
        """Solve with `mask` paused, then keep pausing campaigns that lose money (each step improves)."""
        mask = mask.copy()
        while True:
            if solution is None:
                solution = solve_continuous(
                    curves,
                    utility,
                    box.floor,
                    np.where(mask, 0.0, box.ceiling),
                    budget,
                    multiplier_hint=hint if hint > 0 else None,
                )
            losing = candidates & (solution.spend > 0) & (utility.value(curves, solution.spend) < 0)
            if not losing.any():
                return solution, objective_value(curves, utility, solution.spend), mask
            mask |= losing
            hint, solution = solution.multiplier, None

    def local_search(
        solution: ContinuousSolution, value: float, paused: np.ndarray, checks_left: int
    ) -> tuple[ContinuousSolution, float, np.ndarray, int]:
        """Accept single pause/unpause flips (settled) while one improves, most promising first."""
        for _ in range(max_rounds):
            contribution = utility.value(curves, solution.spend)
            order = _flip_candidates(curves, utility, box, solution, contribution, candidates, paused)
            improved = False
            for i in order[:checks_left]:
                checks_left -= 1
                trial_mask = paused.copy()
                trial_mask[i] = not trial_mask[i]
                trial, trial_value, trial_mask = settle(trial_mask, solution.multiplier)
                if trial_value > value + _IMPROVEMENT_RTOL * max(abs(value), 1.0):
                    paused, solution, value, improved = trial_mask, trial, trial_value, True
                    break
            if not improved:
                break
        return solution, value, paused, checks_left

    # Start 1: everything on, losers paused. Start 2: every candidate paused, the search switches them on.
    solution, value, paused = settle(paused, base.multiplier, base)
    solution, value, paused, checks_left = local_search(solution, value, paused, max_checks)
    if checks_left > 0:
        other, other_value, other_paused = settle(candidates.copy(), solution.multiplier)
        other, other_value, other_paused, _ = local_search(other, other_value, other_paused, checks_left)
        if other_value > value + _IMPROVEMENT_RTOL * max(abs(value), 1.0):
            solution, paused = other, other_paused
    return solution, paused


def _flip_candidates(
    curves: ResponseCurves,
    utility: Utility,
    box: SpendBox,
    solution: ContinuousSolution,
    contribution: np.ndarray,
    candidates: np.ndarray,
    paused: np.ndarray,
) -> np.ndarray:
    """Campaigns whose single pause/unpause could raise the objective, best Lagrangian bound first.

    With the others re-optimised, pausing i gains at most lambda * s_i - U_i(s_i) (the freed budget is worth
    at most lambda per dollar); unpausing j gains at most max_s U_j(s) - lambda * s (budget taken from the
    others costs at least lambda per dollar).
    """
    lam = solution.multiplier
    bound = np.full(contribution.shape, -np.inf)
    running = candidates & ~paused & (solution.spend > 0)
    bound[running] = lam * solution.spend[running] - contribution[running]
    idle = np.flatnonzero(candidates & paused)
    if idle.size:
        sub = curves.take(idle)
        with np.errstate(divide="ignore"):
            target = (lam + utility.spend_cost[idle]) / utility.gain[idle]
        s = np.clip(sub.spend_at_marginal(target), box.floor[idle], box.ceiling[idle])
        on_value = (
            utility.gain[idle] * sub.value(s) - utility.spend_cost[idle] * s - np.where(s > 0, utility.fixed[idle], 0.0)
        )
        bound[idle] = on_value - lam * s
    order = np.argsort(-bound, kind="stable")
    return order[bound[order] > 0]
