"""S-shaped (thresholded) response curves: solve on the concave envelope, then decide on/off exactly.

A Hill curve with shape > 1 is convex below its inflection point: the first dollars buy little until a threshold is
crossed. The KKT water-filling needs concave curves, so it runs first on each S-shaped curve's concave envelope over
the campaign's spend box (the chord from the floor to the tangent point, then the curve): an upper bound on the real
problem. Then each S-shaped campaign is decided: off (at its floor), on (at or past its inflection point, where the
curve is concave, so the rest is an exact concave solve), or below its threshold with what the budget leaves (a
corner the budget forces; searched in one dimension). A few campaigns are decided jointly (every combination), more
by verified single changes from the envelope's solution - the on/off decision the pausing pass makes for fixed
costs, here for thresholds. Every candidate is scored on the real curves.
"""

from __future__ import annotations

import itertools

import numpy as np

from ml.optimize.objective import Utility
from ml.optimize.solver import ContinuousSolution, solve_continuous
from ml.response_curves import ResponseCurves, inflection_spend

MAX_ENUMERATED = 4  # S-shaped campaigns decided jointly (every combination); more by single flips from the start
MAX_FLIP_CHECKS = 64
BELOW_GRID, BELOW_REFINE = 13, 14  # the search for a campaign held below its threshold by the budget
OFF, ON, BELOW = 0, 1, 2  # at its floor / at or past the inflection point / below it, on what the budget leaves
_INSIDE_RTOL = 1e-9


def inside_chord(envelope: ResponseCurves, spend: np.ndarray) -> np.ndarray:
    """Campaigns whose spend lies strictly inside their envelope's linear piece (where the curve is below it)."""
    if envelope.seg_lo is None:
        return np.zeros(spend.shape, dtype=bool)
    lo, hi = envelope.seg_lo, envelope.seg_hi
    with np.errstate(invalid="ignore"):
        width = hi - lo
        return (spend > lo + _INSIDE_RTOL * width) & (spend < hi - _INSIDE_RTOL * width)


def decide_on_off(
    curves: ResponseCurves,
    envelope: ResponseCurves,
    utility: Utility,
    floor: np.ndarray,
    ceiling: np.ndarray,
    budget: float,
    solution: ContinuousSolution,
) -> ContinuousSolution:
    """Decide each S-shaped campaign with a chord in its box: off (at its floor), on (at or past its inflection
    point, where its curve is concave, so the rest is an exact concave solve), or below the inflection point with
    what the budget leaves (searched in one dimension). Jointly for a few campaigns (every combination), by verified
    single changes from the envelope solution for more; scored on the real ``curves``."""
    chords = np.flatnonzero(~np.isnan(envelope.seg_lo)) if envelope.seg_lo is not None else np.array([], int)
    if chords.size == 0 or not inside_chord(envelope, solution.spend).any() and chords.size > MAX_ENUMERATED:
        return solution
    seg_lo, seg_hi = envelope.seg_lo[chords], envelope.seg_hi[chords]
    infl = inflection_spend(curves.spend_scale[chords], curves.shape[chords])

    def solve_fixed(lo: np.ndarray, hi: np.ndarray) -> tuple[float, ContinuousSolution | None]:
        if lo.sum() > budget * (1.0 + 1e-12):
            return -np.inf, None
        exact = curves.envelope(lo, hi)  # no chord left: every decided curve is concave on its new box
        trial = solve_continuous(exact, utility, lo, hi, budget, multiplier_hint=solution.multiplier or None)
        return float(utility.value(curves, trial.spend).sum()), trial

    def solve(state: np.ndarray) -> tuple[float, ContinuousSolution | None]:
        if (state == BELOW).sum() > 1:
            return -np.inf, None  # two campaigns below their thresholds compete for one leftover: not a corner
        lo, hi = floor.copy(), ceiling.copy()
        off, on = chords[state == OFF], chords[state == ON]
        lo[off] = hi[off] = floor[off]
        # past the inflection point the curve is concave, so "on" is an exact concave problem
        lo[on] = np.minimum(np.maximum(floor[on], infl[state == ON]), ceiling[on])
        below = np.flatnonzero(state == BELOW)
        if below.size == 0:
            return solve_fixed(lo, hi)
        j = int(below[0])
        i = chords[j]
        cap = min(float(infl[j]), float(seg_hi[j]), budget - (lo.sum() - lo[i]))
        if cap <= floor[i]:
            return -np.inf, None

        def at(x: float) -> tuple[float, ContinuousSolution | None]:
            lo_x, hi_x = lo.copy(), hi.copy()
            lo_x[i] = hi_x[i] = x
            return solve_fixed(lo_x, hi_x)

        # the convex part: a grid, then golden-section refinement around the best grid point
        grid = np.linspace(floor[i], cap, BELOW_GRID)
        scored = [at(float(x)) for x in grid]
        m = int(np.argmax([v for v, _ in scored]))
        a, b = grid[max(m - 1, 0)], grid[min(m + 1, len(grid) - 1)]
        best_here = scored[m]
        ratio = (np.sqrt(5.0) - 1.0) / 2.0
        for _ in range(BELOW_REFINE):
            c, d = b - ratio * (b - a), a + ratio * (b - a)
            fc, fd = at(float(c)), at(float(d))
            for candidate in (fc, fd):
                if candidate[0] > best_here[0]:
                    best_here = candidate
            a, b = (a, d) if fc[0] >= fd[0] else (c, b)
        return best_here

    best, best_value = solution, float(utility.value(curves, solution.spend).sum())
    if chords.size <= MAX_ENUMERATED:
        for combo in itertools.product((OFF, ON, BELOW), repeat=chords.size):
            value, trial = solve(np.array(combo))
            if trial is not None and value > best_value + 1e-12 * max(abs(best_value), 1.0):
                best, best_value = trial, value
        return best
    # many S-shaped campaigns: start where the envelope put them, then accept single changes that improve
    spend = solution.spend[chords]
    state = np.where(spend >= seg_hi * (1 - _INSIDE_RTOL), ON, OFF)
    inside = (spend > seg_lo) & (spend < seg_hi * (1 - _INSIDE_RTOL))
    for j in np.flatnonzero(inside):
        options = []
        for option in (OFF, ON, BELOW):
            state[j] = option
            options.append((solve(state)[0], option))
        state[j] = max(options)[1]
    value, trial = solve(state)
    if trial is not None and value > best_value:
        best, best_value = trial, value
    checks = 0
    improved = True
    while improved and checks < MAX_FLIP_CHECKS:
        improved = False
        for j in range(chords.size):
            for option in (OFF, ON, BELOW):
                if option == state[j] or checks >= MAX_FLIP_CHECKS:
                    continue
                checks += 1
                candidate = state.copy()
                candidate[j] = option
                value, trial = solve(candidate)
                if trial is not None and value > best_value + 1e-12 * max(abs(best_value), 1.0):
                    best, best_value, state, improved = trial, value, candidate, True
    return best
