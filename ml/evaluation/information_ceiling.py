"""The most any allocator could capture from a history: the Bayes decision with everything but the curve's scale known.

A share of the oracle's uplift says how far an allocation is from the truth, not how far it is from what the history
allows. The ceiling's allocator is handed what no user has: each campaign's true response family and shape, its
weekday pattern, its count dispersion, its true value per conversion and the generator's own prior on where its
curve saturates (``optimum_in_curve_units``, its network and format effect included). Only the curve's scale ``k``
and its level are left to learn, from the same days of spend and conversions the export holds: a grid posterior
over ``log(k / today's budget)`` (prior: a histogram of the generator's draws; likelihood: negative binomial, the
level profiled out), then the split maximising posterior expected profit under the same constraints, solved exactly.
Knowing more than a real allocator can only help it in expectation, so its share bounds what estimation could reach
on these histories (up to the scenario-to-scenario noise of a few seeds, and approximately: the level is profiled
out, not integrated). Memory: campaigns x grid points x days for the likelihood (about 70 MB at 200 x 240 x 180).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, special

from ml.evaluation.oracle import Bounds, solve_exact
from ml.evaluation.unowned import ScenarioData, TrueCurves, optimum_in_curve_units

GRID_POINTS = 240  # log(k / today) grid per campaign
PRIOR_DRAWS = 20_000  # generator draws per campaign behind the prior histogram
CAMPAIGN_CHUNK = 8  # campaigns per block when the posterior curve is evaluated on the solver's spend grid


def log_k_prior_draws(data: ScenarioData, rng: np.random.Generator, draws: int = PRIOR_DRAWS) -> np.ndarray:
    """(campaigns, draws) of log(k / today's budget) from the generator, given each campaign's family, shape and
    network-format effect: k = today x exp(spread x N(0, 1)) / x_opt."""
    truth, n = data.truth, len(data.truth)
    kind, shape = np.repeat(truth.kind, draws), np.repeat(truth.shape, draws)
    group = np.repeat(data.hidden.saturation_group, draws)
    x_opt = optimum_in_curve_units(kind, shape, group, rng).reshape(n, draws)
    return data.scenario.spread * rng.standard_normal((n, draws)) - np.log(x_opt)


def _prior_on_grid(draws: np.ndarray, points: int, prior_sd: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Each campaign's grid over its draws' range (padded) and the log prior on it: the draws' histogram, lightly
    smoothed (``prior_sd`` None), else a normal at the draws' mean with that sd (``inf``: flat over the range)."""
    low, high = draws.min(axis=1) - 0.3, draws.max(axis=1) + 0.3
    grid = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, points)[None, :]
    if prior_sd is not None:
        return grid, -0.5 * ((grid - draws.mean(axis=1, keepdims=True)) / prior_sd) ** 2
    step = (high - low) / (points - 1)
    index = np.clip(np.rint((draws - low[:, None]) / step[:, None]).astype(int), 0, points - 1)
    index += points * np.arange(len(draws))[:, None]  # one block of bins per campaign
    counts = np.bincount(index.ravel(), minlength=points * len(draws)).reshape(len(draws), points).astype(float)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    smooth = ndimage.convolve1d(counts, kernel, axis=1, mode="constant")
    return grid, np.log(smooth + 1e-12 * smooth.max(axis=1, keepdims=True))


def _history_arrays(data: ScenarioData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spend, conversions and the true weekday multiplier per campaign-day, (campaigns, days), in the truth's order."""
    spend = data.daily("spend")
    weekday = data.hidden.weekday[:, spend.columns.dayofweek]
    return spend.to_numpy(float), data.daily("conversions").to_numpy(float), weekday


def _grid_curves(data: ScenarioData, k: np.ndarray) -> TrueCurves:
    """Unit-scale true-family curves, one per (campaign, grid point), flattened campaign-major."""
    points = k.shape[1]
    truth = data.truth
    return TrueCurves(np.repeat(truth.kind, points), np.ones(k.size), k.ravel(), np.repeat(truth.shape, points))


def posterior_on_grid(
    data: ScenarioData, rng: np.random.Generator, prior_sd: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each campaign's grid of k, the profiled level at each k and the posterior weights: (campaigns, points) each.
    ``prior_sd`` replaces the generator's prior by a normal of that width (see ``_prior_on_grid``)."""
    log_k, log_prior = _prior_on_grid(log_k_prior_draws(data, rng), GRID_POINTS, prior_sd)
    k = data.hidden.current[:, None] * np.exp(log_k)
    spend, y, weekday = _history_arrays(data)
    n, days = spend.shape
    unit = _grid_curves(data, k).value(np.repeat(spend, GRID_POINTS, axis=0)).reshape(n, GRID_POINTS, days)
    shape = weekday[:, None, :] * unit
    level = y.sum(axis=1)[:, None] / np.maximum(shape.sum(axis=2), 1e-300)  # the level's (Poisson) estimate at each k
    mu = np.maximum(level[:, :, None] * shape, 1e-300)
    size = data.hidden.dispersion[:, None, None]
    y3 = y[:, None, :]
    log_lik = np.sum(
        special.gammaln(y3 + size)
        - special.gammaln(size)
        + size * np.log(size / (size + mu))
        + y3 * np.log(mu / (size + mu)),
        axis=2,
    )
    log_post = log_prior + log_lik
    weights = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    return k, level, weights / weights.sum(axis=1, keepdims=True)


def ceiling_split(data: ScenarioData, bounds: Bounds, seed: int = 0, prior_sd: float | None = None) -> np.ndarray:
    """The split maximising posterior expected profit under ``bounds`` (total, boxes, change limit), valued at
    ``data.value_per_conversion`` (the truth's, unless a caller swaps in an estimate)."""
    k, level, weights = posterior_on_grid(data, np.random.default_rng(seed), prior_sd)

    def expected_conversions(spend: np.ndarray) -> np.ndarray:  # (campaigns, points), as solve_exact asks
        out = np.empty(spend.shape)
        for start in range(0, len(spend), CAMPAIGN_CHUNK):
            block = slice(start, start + CAMPAIGN_CHUNK)
            rows, points = spend[block].shape
            curves = TrueCurves(
                np.repeat(data.truth.kind[block], GRID_POINTS),
                (level[block] * weights[block]).ravel(),
                k[block].ravel(),
                np.repeat(data.truth.shape[block], GRID_POINTS),
            )
            values = curves.value(np.repeat(spend[block], GRID_POINTS, axis=0)).reshape(rows, GRID_POINTS, points)
            out[block] = values.sum(axis=1)
        return out

    return solve_exact(lambda spend: data.profit(spend, expected_conversions), bounds)
