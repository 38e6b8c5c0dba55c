"""Budget optimiser speed and quality: pmi's KKT water-filling against SciPy SLSQP on identical problems.

Run: `.venv/bin/python benchmarks/optimizer_bench.py` (add `--quick` for a short run). Prints, side by side,
wall time and objective (daily profit) of both at 10, 100 and 1,000 campaigns, then pmi alone up to
1,000,000 campaigns with a KKT check. SLSQP gets the analytic gradient, the same spend box, unit-scaled
variables and the current budgets as start; maxiter and a wall-clock limit bound its run, and the table
says where it stopped.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.optimize import minimize

from ml.optimize import PortfolioProblem, Reason, optimize_portfolio, spend_box
from ml.response_curves import ResponseCurves


def random_problem(n: int, seed: int) -> PortfolioProblem:
    """A realistic portfolio: mostly Hill curves, 25% change limits, thresholds, locks, binding budget."""
    rng = np.random.default_rng(seed)
    family = rng.choice([0, 1, 2], n, p=[0.7, 0.2, 0.1])
    half_saturation = rng.lognormal(np.log(500.0), 0.8, n)
    cpa_at_half = rng.lognormal(np.log(15.0), 0.4, n)
    shape = np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.5, 1.0, n))
    curves = ResponseCurves.build(family, 2.0 * half_saturation / cpa_at_half, half_saturation, shape)
    current = half_saturation * rng.uniform(0.3, 2.0, n)
    return PortfolioProblem(
        total_budget=float(0.95 * current.sum()),
        current_budget=current,
        curves=curves,
        value_per_conversion=rng.lognormal(np.log(60.0), 0.5, n),
        has_agency=rng.random(n) < 0.35,
        creative_production_cost=rng.uniform(0.0, 20_000.0, n),
        max_change_pct=np.where(rng.random(n) < 0.8, 0.25, 0.5),
        min_roas=np.where(rng.random(n) < 0.1, 1.3, 0.0),
        locked=rng.random(n) < 0.02,
    )


def profit(problem: PortfolioProblem, spend: np.ndarray) -> tuple[float, np.ndarray]:
    """Daily profit and its gradient, from the formulas (fixed creative cost paid while spending)."""
    c = problem.curves
    x = spend / c.spend_scale
    safe = np.maximum(x, 1e-12)
    ratio = safe**c.shape
    hill = c.scale * ratio / (1 + ratio)
    hill_slope = c.scale * c.shape * ratio / (safe * c.spend_scale * (1 + ratio) ** 2)
    expo = -c.scale * np.expm1(-x)
    conv = np.select([c.family == 0, c.family == 1], [hill, expo], c.scale * np.log1p(x))
    slope = np.select(
        [c.family == 0, c.family == 1],
        [hill_slope, (c.scale - expo) / c.spend_scale],
        c.scale / (c.spend_scale + spend),
    )
    value = problem.value_per_conversion
    fixed = np.where(spend > 0, problem.fixed_daily_cost, 0.0)
    total = value * conv - problem.cost_multiplier * spend - fixed
    return float(total.sum()), value * slope - problem.cost_multiplier


def run_slsqp(problem: PortfolioProblem, maxiter: int, time_limit: float) -> tuple[np.ndarray, float, str]:
    """SLSQP on spend / current budget (unit-scaled: unscaled it crawls), started from the current budgets."""
    box = spend_box(problem)
    lo, hi, budget = box.floor, box.ceiling, problem.total_budget
    unit = np.maximum(problem.current_budget, 1.0)
    x0 = np.clip(problem.current_budget, lo, hi)
    x0 = lo + (x0 - lo) * min(1.0, (budget - lo.sum()) / max((x0 - lo).sum(), 1e-12))
    scale = max(abs(profit(problem, x0)[0]), 1.0)
    started = time.perf_counter()

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = profit(problem, z * unit)
        return -value / scale, -grad * unit / scale

    def stop_after_limit(intermediate_result: object) -> None:
        if time.perf_counter() - started > time_limit:
            raise StopIteration

    result = minimize(
        fun,
        x0 / unit,
        jac=True,
        method="SLSQP",
        callback=stop_after_limit,
        bounds=list(zip(lo / unit, np.where(np.isfinite(hi), hi / unit, None), strict=True)),
        constraints=[
            {"type": "ineq", "fun": lambda z: (budget - (z * unit).sum()) / budget, "jac": lambda z: -unit / budget}
        ],
        options={"maxiter": maxiter, "ftol": 1e-12},
    )
    elapsed = time.perf_counter() - started
    x = np.clip(result.x * unit, lo, hi)  # SLSQP may end slightly outside box or budget: project, then score
    excess = x.sum() - budget
    if excess > 0:
        x -= excess * (x - lo) / (x - lo).sum()
    status = "converged" if result.success else f"stopped: {result.message}"
    status += f" (nit={result.nit})"
    return x, elapsed, status


def best_time(fn, repeats: int) -> tuple[object, float]:
    best, out = np.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return out, best


def compare(sizes: list[int], seed: int, maxiter: int, time_limit: float) -> None:
    print(
        f"{'campaigns':>9} | {'pmi s':>9} | {'SLSQP s':>9} | {'speed-up':>9} | {'pmi profit/day':>16} | "
        f"{'SLSQP profit/day':>16} | {'rel gap':>9} | SLSQP"
    )
    for n in sizes:
        problem = random_problem(n, seed + n)
        allocation, pmi_s = best_time(lambda p=problem: optimize_portfolio(p), 5 if n <= 1000 else 1)
        x, slsqp_s, status = run_slsqp(problem, maxiter, time_limit)
        ours, theirs = profit(problem, allocation.daily_budget)[0], profit(problem, x)[0]
        gap = (ours - theirs) / abs(ours)
        print(
            f"{n:>9,} | {pmi_s:>9.4f} | {slsqp_s:>9.3f} | {slsqp_s / pmi_s:>8.0f}x | {ours:>16,.4f} | "
            f"{theirs:>16,.4f} | {gap:>+9.1e} | {status}",
            flush=True,
        )


def scale(sizes: list[int], seed: int) -> None:
    print(
        f"{'campaigns':>9} | {'build s':>8} | {'pmi s':>8} | {'evals':>5} | {'budget binds':>12} | "
        f"{'spend/budget':>12} | {'KKT spread':>10} | profit/day"
    )
    for n in sizes:
        started = time.perf_counter()
        problem = random_problem(n, seed + n)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        allocation = optimize_portfolio(problem)
        pmi_s = time.perf_counter() - started
        # Interior campaigns must share one marginal profit (lambda): report the largest relative deviation.
        interior = allocation.reason_code == Reason.BUDGET
        marginal = allocation.marginal_roas[interior] - problem.cost_multiplier[interior]
        spread = np.abs(marginal / allocation.budget_multiplier - 1).max(initial=0.0)
        spent = allocation.total_spend / problem.total_budget
        print(
            f"{n:>9,} | {build_s:>8.3f} | {pmi_s:>8.3f} | {allocation.solver_evaluations:>5} | "
            f"{allocation.budget_binding!s:>12} | {spent:>12.10f} | {spread:>10.1e} | "
            f"{allocation.total_profit:,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 vs SLSQP; pmi alone up to 100,000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slsqp-maxiter", type=int, default=300)
    parser.add_argument("--slsqp-time-limit", type=float, default=300.0, help="seconds per SLSQP run")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other jobs slow both sides)\n")
    compared = [10, 100] if args.quick else [10, 100, 1_000]
    compare(compared, args.seed, args.slsqp_maxiter, args.slsqp_time_limit)
    print()
    scale([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000], args.seed)
