"""Exact KKT water-filling for the concave budget problem: one scalar root-find on the budget multiplier.

Maximising sum_i U_i(s_i) with U_i concave, s_i in [floor_i, ceiling_i] and sum s_i <= B has the optimum
s_i(lambda) = clip(inverse_marginal_i((lambda + spend_cost_i) / gain_i), floor_i, ceiling_i), where
lambda >= 0 is the budget's multiplier: 0 if the unconstrained optimum fits the budget, otherwise the root of
sum_i s_i(lambda) = B. Total spend is monotone in lambda, so a bracketed search on log(lambda) finds the root
exactly, and every evaluation is a vectorised closed form (or a few Newton steps) per curve family.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ml.optimize.objective import Utility
from ml.response_curves import ResponseCurves

_BUDGET_RTOL = 1e-13  # stop once total spend matches the budget this closely (relative)
_LOG_LAMBDA_TOL = 1e-14  # ... or once the bracket on log(lambda) is this narrow
_MAX_EVALUATIONS = 200
_LOG_LAMBDA_SPAN = 700.0  # lambda stays within exp(+-700): beyond that spends under/overflow anyway


@dataclass(frozen=True, eq=False)
class ContinuousSolution:
    """Optimal spends of the continuous problem (fixed costs treated as constants) and its multiplier."""

    spend: np.ndarray
    multiplier: float
    budget_binding: bool
    evaluations: int


@dataclass(eq=False)
class _Point:
    """One evaluated multiplier: log(lambda), total spend and the raw (unclipped) per-campaign spends."""

    log_lambda: float
    total: float
    raw: np.ndarray
    spend: np.ndarray


def solve_continuous(
    curves: ResponseCurves,
    utility: Utility,
    floor: np.ndarray,
    ceiling: np.ndarray,
    budget: float,
    multiplier_hint: float | None = None,
) -> ContinuousSolution:
    """Optimal spends within [floor, ceiling] and a total of at most `budget` (floors must fit the budget).

    `multiplier_hint` (e.g. lambda of a nearby problem) only speeds up bracketing.
    """
    spend = floor.astype(float, copy=True)
    movable = (ceiling > floor) & (utility.gain > 0)
    pinned_total = float(spend[~movable].sum())
    free = np.flatnonzero(movable)
    free = free[curves.take(free).family_order()]  # contiguous per family, so per-family work runs on slices
    sub_curves = curves.take(free)
    gain, spend_cost = utility.gain[free], utility.spend_cost[free]
    lo, hi = floor[free], ceiling[free]
    room = budget - pinned_total
    evaluations = 0

    def demand(log_lambda: float, upper: np.ndarray | None = None) -> _Point:
        nonlocal evaluations
        evaluations += 1
        lam = 0.0 if log_lambda == -np.inf else float(np.exp(log_lambda))
        raw = sub_curves.spend_at_marginal((lam + spend_cost) / gain, upper)
        s = np.clip(raw, lo, hi)
        return _Point(log_lambda, float(s.sum()), raw, s)

    unconstrained = demand(-np.inf)
    if unconstrained.total <= room:
        spend[free] = unconstrained.spend
        return ContinuousSolution(spend, 0.0, False, evaluations)
    if float(lo.sum()) >= room * (1.0 - 1e-15):
        spend[free] = lo
        at_floor = gain * sub_curves.marginal(lo) - spend_cost
        return ContinuousSolution(spend, float(at_floor.max(initial=0.0)), True, evaluations)

    hinted = multiplier_hint is not None and np.isfinite(multiplier_hint) and multiplier_hint > 0
    guess = np.log(multiplier_hint) if hinted else _initial_log_lambda(sub_curves, gain, spend_cost, lo, hi, room)
    above, below = _bracket(demand, room, float(guess), first_step=0.01 if hinted else 0.25)
    above, below = _refine(demand, room, above, below)
    # Interpolate between the two bracket ends (both within bounds, both optimal to ~1e-14 in lambda) so
    # the total lands on the budget exactly.
    weight = 0.0
    if np.isfinite(above.total) and above.total > below.total:
        weight = min(max((room - below.total) / (above.total - below.total), 0.0), 1.0)
    s = below.spend + weight * (above.spend - below.spend) if weight > 0 else below.spend.copy()
    spend[free] = np.clip(_settle_total(s, lo, hi, room), lo, hi)
    log_lambda = below.log_lambda + weight * (above.log_lambda - below.log_lambda)
    return ContinuousSolution(spend, float(np.exp(log_lambda)), True, evaluations)


def _settle_total(s: np.ndarray, lo: np.ndarray, hi: np.ndarray, room: float) -> np.ndarray:
    """Make spends add up to the budget: remove rounding excess above floors, or (only if lambda underflowed,
    i.e. every marginal return is ~0) spread the shortfall over the headroom, which changes no objective."""
    gap = room - float(s.sum())
    if gap < 0:
        slack = s - lo
        return s + gap * slack / slack.sum()
    if gap > 1e-12 * room:
        headroom = hi - s
        unbounded = np.isinf(headroom)
        share = unbounded / unbounded.sum() if unbounded.any() else headroom / headroom.sum()
        return s + gap * share
    return s


def _initial_log_lambda(
    curves: ResponseCurves, gain: np.ndarray, spend_cost: np.ndarray, lo: np.ndarray, hi: np.ndarray, room: float
) -> float:
    """A first guess for log(lambda): the median marginal objective at an even split of the budget."""
    even = np.clip(np.full(lo.shape, room / max(lo.size, 1)), lo, hi)
    marginal = gain * curves.marginal(even) - spend_cost
    marginal = marginal[np.isfinite(marginal) & (marginal > 0)]
    return float(np.log(np.median(marginal))) if marginal.size else 0.0


def _bracket(demand: Callable[..., _Point], room: float, guess: float, first_step: float) -> tuple[_Point, _Point]:
    """Points with total above and at-or-below the budget, by growing steps on log(lambda) from the guess."""
    first = demand(guess)
    step = first_step
    if first.total > room:
        above = first
        while True:
            u = min(above.log_lambda + step, _LOG_LAMBDA_SPAN)
            point = demand(u, above.raw)  # a larger lambda never needs more spend: warm start from above
            if point.total <= room:
                return above, point
            if u >= _LOG_LAMBDA_SPAN:  # floors all but exhaust the budget: settle the rest by adjustment
                return point, point
            above, step = point, step * 4.0
    below = first
    while True:
        u = max(below.log_lambda - step, -_LOG_LAMBDA_SPAN)
        point = demand(u)
        if point.total > room:
            return point, below
        if u <= -_LOG_LAMBDA_SPAN:  # every marginal return is ~0 (saturated): any split of the rest is fine
            return point, point
        below, step = point, step * 4.0


def _refine(demand: Callable[..., _Point], room: float, above: _Point, below: _Point) -> tuple[_Point, _Point]:
    """Illinois false position on log(lambda) with bisection whenever the bracket fails to halve."""
    f_above, f_below = above.total - room, below.total - room
    side = 0
    reference_width, since_check = below.log_lambda - above.log_lambda, 0
    for _ in range(_MAX_EVALUATIONS):
        span = below.log_lambda - above.log_lambda
        if span <= _LOG_LAMBDA_TOL * max(1.0, abs(below.log_lambda)):
            break
        bisect = not (np.isfinite(f_above) and f_above != f_below)
        if since_check == 3:  # three steps that did not halve the bracket: force a bisection
            bisect, reference_width, since_check = bisect or span > 0.5 * reference_width, span, 0
        if bisect:
            u = 0.5 * (above.log_lambda + below.log_lambda)
        else:
            u = below.log_lambda - f_below * span / (f_below - f_above)
            u = min(max(u, above.log_lambda + 1e-3 * span), below.log_lambda - 1e-3 * span)
        since_check += 1
        point = demand(u, above.raw)
        if point.total > room:
            above, f_above = point, point.total - room
            if side == -1:
                f_below *= 0.5
            side = -1
        else:
            below, f_below = point, point.total - room
            if side == 1:
                f_above *= 0.5
            side = 1
        if abs(point.total - room) <= _BUDGET_RTOL * room:
            break
    return above, below
