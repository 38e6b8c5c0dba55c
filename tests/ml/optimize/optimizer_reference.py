"""Independent reference for the optimiser tests: textbook formulas, per-campaign bounds and SLSQP.

Written without the optimiser's curve or bounds code, so agreement means the fast path is right rather than
consistently wrong.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize

from ml.optimize import ObjectiveWeights, PortfolioProblem, spend_box
from ml.response_curves import ResponseCurves

INF = math.inf


def response(problem: PortfolioProblem, spend: np.ndarray) -> np.ndarray:
    """Conversions per day from the curve families' formulas, written out independently of ml/optimize."""
    c = problem.curves
    x = np.maximum(spend, 0.0) / c.spend_scale
    with np.errstate(invalid="ignore", over="ignore"):
        hill = c.scale * x**c.shape / (1.0 + x**c.shape)
    hill = np.where(np.isinf(x), c.scale, hill)
    return np.select([c.family == 0, c.family == 1], [hill, c.scale * (1.0 - np.exp(-x))], c.scale * np.log(1.0 + x))


def response_slope(problem: PortfolioProblem, spend: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Derivative of `response`, taken at max(spend, floor) (a floor keeps Hill shape < 1 finite at 0)."""
    c = problem.curves
    s = np.maximum(spend, floor)
    x = s / c.spend_scale
    with np.errstate(divide="ignore", invalid="ignore"):
        hill = c.scale * c.shape * x ** (c.shape - 1.0) / (c.spend_scale * (1.0 + x**c.shape) ** 2)
    return np.select(
        [c.family == 0, c.family == 1], [hill, c.scale / c.spend_scale * np.exp(-x)], c.scale / (c.spend_scale + s)
    )


def coefficients(problem: PortfolioProblem, weights: ObjectiveWeights) -> tuple[np.ndarray, np.ndarray]:
    multiplier = 1.0 + problem.overhead_pct + problem.agency_fee_pct * problem.has_agency
    gain = (weights.profit + weights.revenue) * problem.value_per_conversion + weights.conversions
    return gain, weights.profit * multiplier + weights.spend_penalty


def objective(
    problem: PortfolioProblem, weights: ObjectiveWeights, spend: np.ndarray, fixed_costs: bool = True
) -> float:
    """The weighted objective; fixed creative cost (profit part) only for campaigns that spend."""
    gain, spend_cost = coefficients(problem, weights)
    fixed = weights.profit * problem.creative_production_cost / 30.0 * (spend > 0) if fixed_costs else 0.0
    return float(np.sum(gain * response(problem, spend) - spend_cost * spend - fixed))


def _slope(family: int, scale: float, k: float, shape: float, s: float) -> float:
    x = max(s, 1e-300) / k
    if family == 0:
        return scale * shape * x ** (shape - 1.0) / (k * (1.0 + x**shape) ** 2)
    return scale / k * math.exp(-x) if family == 1 else scale / (k + s)


def _threshold_cap(problem: PortfolioProblem, i: int) -> float:
    """Spend where marginal ROAS hits min_roas or marginal CPA hits max_cpa, whichever comes first."""
    value, min_roas, max_cpa = problem.value_per_conversion[i], problem.min_roas[i], problem.max_cpa[i]
    with np.errstate(divide="ignore"):
        target = max(min_roas / value if min_roas > 0 else 0.0, 1.0 / max_cpa)
    if target == 0.0:
        return INF
    if target == INF:
        return 0.0
    c = problem.curves
    params = (int(c.family[i]), float(c.scale[i]), float(c.spend_scale[i]), float(c.shape[i]))

    def gap(s: float) -> float:
        return _slope(*params, s) - target

    if gap(1e-300) <= 0:
        return 0.0
    hi = params[2]
    while gap(hi) > 0:
        hi *= 4.0
    # On log(spend): caps can be tiny, and this gives relative precision at any scale.
    root = brentq(lambda u: gap(math.exp(u)), math.log(1e-300), math.log(hi), xtol=1e-14, maxiter=500)
    return math.exp(root)


def reference_bounds(problem: PortfolioProblem) -> tuple[np.ndarray, np.ndarray]:
    """Per-campaign [lo, hi] from the rules in plain Python: change limit wins, thresholds cap, locks pin."""
    lo, hi = np.zeros(problem.n_campaigns), np.zeros(problem.n_campaigns)
    for i in range(problem.n_campaigns):
        c, p = problem.current_budget[i], problem.max_change_pct[i]
        change_lo, change_hi = (0.0, INF) if p == INF else (max(c * (1 - p), 0.0), c * (1 + p))
        mn, mx = problem.min_spend[i], problem.max_spend[i]
        if problem.locked[i]:
            lo[i] = hi[i] = c
            continue
        if mn > change_hi:
            lo[i] = hi[i] = change_hi
            continue
        if mx < change_lo:
            lo[i] = hi[i] = change_lo
            continue
        lo[i], hi[i] = max(mn, change_lo), min(mx, change_hi)
        hi[i] = max(lo[i], min(hi[i], _threshold_cap(problem, i)))
    return lo, hi


def _project(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, budget: float) -> np.ndarray:
    x = np.clip(x, lo, hi)
    excess = x.sum() - budget
    if excess > 0:
        slack = x - lo
        x = x - excess * slack / max(slack.sum(), 1e-300)
    return np.clip(x, lo, hi)


def slsqp_best(
    problem: PortfolioProblem, weights: ObjectiveWeights, start: np.ndarray, rng: np.random.Generator, n_random: int = 2
) -> float:
    """Best continuous objective (no fixed costs) SLSQP reaches from `start` and a few feasible points."""
    lo, hi = reference_bounds(problem)
    budget = problem.total_budget
    gain, spend_cost = coefficients(problem, weights)
    scale = max(1.0, abs(objective(problem, weights, start, fixed_costs=False)))

    def fun(x: np.ndarray) -> float:
        return -objective(problem, weights, x, fixed_costs=False) / scale

    def jac(x: np.ndarray) -> np.ndarray:
        return -(gain * response_slope(problem, x, floor=1e-9) - spend_cost) / scale

    cap = np.where(np.isfinite(hi), hi, np.maximum(lo, 0) + budget)
    starts = [start, _project(lo + 0.5 * (cap - lo), lo, hi, budget), _project(cap, lo, hi, budget)]
    starts += [_project(lo + rng.random(lo.size) * (cap - lo), lo, hi, budget) for _ in range(n_random)]
    bounds = [(a, None if b == INF else b) for a, b in zip(lo, hi, strict=True)]
    constraint = {
        "type": "ineq",
        "fun": lambda x: (budget - x.sum()) / max(budget, 1.0),
        "jac": lambda x: -np.ones_like(x) / max(budget, 1.0),
    }
    best = -INF
    for x0 in starts:
        result = minimize(
            fun,
            x0,
            jac=jac,
            method="SLSQP",
            bounds=bounds,
            constraints=[constraint],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        best = max(best, objective(problem, weights, _project(result.x, lo, hi, budget), fixed_costs=False))
    return best


def relative_gap(a: float, b: float) -> float:
    return (a - b) / max(abs(a), abs(b), 1.0)


OBJECTIVES = st.sampled_from(
    [
        ObjectiveWeights.of("profit"),
        ObjectiveWeights.of("revenue"),
        ObjectiveWeights.of("conversions"),
        ObjectiveWeights(profit=1.0, conversions=3.0),
        ObjectiveWeights(revenue=1.0, spend_penalty=1.5),
        ObjectiveWeights(conversions=1.0, spend_penalty=1 / 40),
        ObjectiveWeights(profit=0.5, revenue=0.5),
    ]
)


@st.composite
def problems(
    draw: st.DrawFn,
    min_campaigns: int = 2,
    max_campaigns: int = 8,
    fixed_costs: bool = True,
    budget_factor: st.SearchStrategy[float] | None = None,
    loose: st.SearchStrategy[bool] | None = None,
) -> PortfolioProblem:
    """Random feasible portfolios with every rule in play; the budget lies between the floors and beyond.

    Hypothesis draws the size, a seed and how often each rule and special value (0, inf, shape exactly 1)
    appears, so it shrinks towards small portfolios with few rules; numpy draws the numbers from the seed,
    which keeps thousands of examples cheap. `loose` problems have few rules, so most campaigns end up
    interior (where the optimiser and SLSQP can actually disagree).
    """
    n = draw(st.sampled_from(range(min_campaigns, max_campaigns + 1)))  # uniform sizes, shrinks to small
    rng = np.random.default_rng(draw(st.integers(0, 2**63 - 1)))
    is_loose = draw(loose) if loose is not None else False
    special = 0.0 if is_loose else draw(st.sampled_from([0.0, 0.15, 0.4]))
    families = draw(st.sampled_from([(0,), (0, 1, 2), (1,), (2,)]))
    limits, thresholds, locks = (0.0, 0.0, 0.0) if is_loose else (draw(st.sampled_from([0.0, 0.3])) for _ in range(3))

    def loguniform(low: float, high: float) -> np.ndarray:
        return np.exp(rng.uniform(np.log(low), np.log(high), n))

    def sometimes(p: float) -> np.ndarray:
        return rng.random(n) < p

    shape = np.where(sometimes(max(special, 0.2)), 1.0, rng.uniform(0.2, 1.0, n))
    curves = ResponseCurves.build(rng.choice(families, n), loguniform(1.0, 500.0), loguniform(10.0, 5000.0), shape)
    pct_choices = np.array([0.0, 0.25, 0.5, 1.0, INF])
    max_change_pct = np.where(sometimes(0.5), rng.choice(pct_choices, n), rng.uniform(0.0, 2.0, n))
    if is_loose:
        max_change_pct = np.where(sometimes(0.7), INF, rng.uniform(0.5, 3.0, n))
    min_spend = np.where(sometimes(limits), rng.uniform(0.0, 3000.0, n), 0.0)
    value = loguniform(5.0, 500.0) if is_loose else loguniform(0.5, 120.0)  # loose: mostly worth funding
    problem = PortfolioProblem(
        total_budget=0.0,
        current_budget=np.where(sometimes(special), 0.0, loguniform(1.0, 5000.0)),
        curves=curves,
        value_per_conversion=np.where(sometimes(special / 2), 0.0, value),
        campaign_id=np.array([f"c{i}" for i in range(n)]),
        has_agency=sometimes(0.35),
        creative_production_cost=np.where(sometimes(0.6), rng.uniform(0.0, 30000.0, n), 0.0) if fixed_costs else 0.0,
        min_spend=min_spend,
        max_spend=min_spend + np.where(sometimes(limits), rng.uniform(0, 6000, n), INF),
        max_change_pct=max_change_pct,
        min_roas=np.where(sometimes(thresholds), rng.uniform(0.2, 4, n), 0.0),
        max_cpa=np.where(sometimes(thresholds), rng.uniform(2.0, 200.0, n), INF),
        locked=sometimes(locks / 2),
    )
    box = spend_box(problem)
    floors = float(box.floor.sum())
    reach = float(np.minimum(box.ceiling, box.floor + 3.0 * curves.spend_scale).sum())
    factor = draw(budget_factor if budget_factor is not None else st.sampled_from([0.0, 0.2, 0.5, 1.0, 1.5]))
    factor *= rng.uniform(0.8, 1.0)
    return problem.replace(total_budget=floors + factor * max(reach - floors, 0.0) + rng.uniform(0.0, 50.0))
