"""An exact solver for any per-campaign profit curves under a total budget and spend boxes, and the constraint check.

The project's optimiser is exact for the families it knows (Hill, exponential, log); the benchmark's truth includes
a logistic threshold it does not, and S-shaped curves make the problem non-concave. This solver is exact for any
curves up to its grid: a dynamic programme over the budget left above the floors (a max-plus convolution per
campaign, vectorised over budget states), so the oracle and the naive baseline are solved by the same method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GRID_UNITS = 6000  # budget above the floors, in units: the grid is at most 1/GRID_UNITS of that budget


@dataclass(frozen=True)
class Bounds:
    """The constraints `pmi allocate` takes: total, per-campaign min/max (NaN: none), change limit on current."""

    total_budget: float
    current: np.ndarray
    min_budget: np.ndarray
    max_budget: np.ndarray
    max_change_pct: float

    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """Allowed spend per campaign: the change limit intersected with the bounds (the limit wins on conflict)."""
        low = self.current * max(1.0 - self.max_change_pct, 0.0)
        high = self.current * (1.0 + self.max_change_pct)
        floor = np.clip(np.nan_to_num(self.min_budget, nan=0.0), low, high)
        ceiling = np.clip(np.nan_to_num(self.max_budget, nan=np.inf), floor, high)
        return floor, ceiling


def violations(spend: np.ndarray, bounds: Bounds, who: str, tolerance: float = 1e-6) -> list[str]:
    """Every broken constraint of one allocation, one line each (empty when it keeps them all).

    ``tolerance`` is relative to the budget concerned (a millionth: budgets are written to the cent and kept
    at full precision, so anything past it is a real breach, not rounding).
    """
    spend = np.asarray(spend, float)
    out = []
    if spend.shape != bounds.current.shape or not np.all(np.isfinite(spend)) or np.any(spend < 0):
        return [f"{who}: spend is not one finite, non-negative budget per campaign"]
    if spend.sum() > bounds.total_budget * (1 + tolerance):
        out.append(f"{who}: total {spend.sum():,.4f} exceeds the budget {bounds.total_budget:,.4f}")
    slack = tolerance * np.maximum(bounds.current, 1.0)
    checks = [
        ("below min_budget", spend < np.nan_to_num(bounds.min_budget, nan=-np.inf) - slack),
        ("above max_budget", spend > np.nan_to_num(bounds.max_budget, nan=np.inf) + slack),
        (
            "moved past the change limit",
            np.abs(spend - bounds.current) > bounds.max_change_pct * bounds.current + slack,
        ),
    ]
    for rule, broken in checks:
        for i in np.flatnonzero(broken)[:5]:
            out.append(f"{who}: campaign #{i} {rule}: {spend[i]:,.4f} (current {bounds.current[i]:,.4f})")
    return out


def solve_exact(profit: Callable[[np.ndarray], np.ndarray], bounds: Bounds, units: int = GRID_UNITS) -> np.ndarray:
    """The split maximising the summed ``profit`` (per campaign, of an (campaigns, points) spend grid) inside the
    boxes with total at most the budget: exact on a grid of (budget - floors) / ``units`` dollars."""
    floor, ceiling = bounds.box()
    free = bounds.total_budget - floor.sum()
    if free < -1e-9 * max(bounds.total_budget, 1.0):
        raise ValueError(f"the floors need {floor.sum():,.2f}, above the budget {bounds.total_budget:,.2f}")
    step = max(free, 0.0) / units
    n = len(floor)
    if step == 0.0:
        return floor.copy()
    options = np.minimum(np.ceil((ceiling - floor) / step - 1e-9).astype(int), units)  # the last option: the ceiling
    width = int(options.max()) + 1
    grid = floor[:, None] + step * np.arange(width)[None, :]
    values = profit(np.minimum(grid, ceiling[:, None]))
    values = np.where(np.arange(width)[None, :] <= options[:, None], values, -np.inf)
    best = np.full(units + 1, -np.inf)
    best[0] = 0.0
    choice = np.zeros((n, units + 1), dtype=np.int32)
    for i in range(n):  # campaigns in sequence, each a max-plus convolution vectorised over budget states
        new = best.copy() + values[i, 0]
        pick = np.zeros(units + 1, dtype=np.int32)
        for j in range(1, options[i] + 1):
            candidate = np.full(units + 1, -np.inf)
            candidate[j:] = best[:-j] + values[i, j]
            better = candidate > new
            new = np.where(better, candidate, new)
            pick = np.where(better, j, pick)
        best, choice[i] = new, pick
    state = int(np.argmax(best))
    spend = np.empty(n)
    for i in range(n - 1, -1, -1):
        j = int(choice[i, state])
        spend[i] = min(floor[i] + j * step, ceiling[i])
        state -= j
    return spend


def naive_log_fit(spend: np.ndarray, conversions: np.ndarray, campaign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per campaign, least squares of daily conversions on log(spend): the slope b of ``a + b log(spend)`` and the
    campaign order (sorted ids). The baseline's curve has marginal conversions ``b / spend`` (b floored at 0)."""
    ids, codes = np.unique(campaign, return_inverse=True)
    x = np.log(np.maximum(spend, 1e-9))
    count = np.bincount(codes)
    mean_x, mean_y = np.bincount(codes, x) / count, np.bincount(codes, conversions) / count
    dx = x - mean_x[codes]
    sxx = np.bincount(codes, dx * dx)
    sxy = np.bincount(codes, dx * (conversions - mean_y[codes]))
    slope = np.where(sxx > 1e-12, sxy / np.where(sxx > 1e-12, sxx, 1.0), 0.0)
    return np.maximum(slope, 0.0), ids
