"""Uncertainty by a moving-block residual bootstrap: refit on fitted + resampled blocks of residuals.

Blocks keep the residuals' autocorrelation (weekly sales errors run in streaks), and each lift test is redrawn
from its own standard error, so the intervals carry both the data's and the experiments' uncertainty. Refits
start from the point estimate, which keeps each one to a few L-BFGS-B iterations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ml.models.mmm.config import MmmConfig
from ml.models.mmm.fit import PointFit, ScaledProblem, fit_map


@dataclass(frozen=True, eq=False)
class Draws:
    """Bootstrap refits: nonlinear parameters (B, 3C or 4C), effects (B, C), baseline coefficients (B, p)."""

    theta: np.ndarray
    effect: np.ndarray
    coef: np.ndarray

    def __len__(self) -> int:
        return self.effect.shape[0]


def block_indices(n: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a moving-block resample of length n (circular blocks, so every period is equally likely)."""
    starts = rng.integers(0, n, size=-(-n // block))
    return ((starts[:, None] + np.arange(block)[None, :]) % n).ravel()[:n]


def bootstrap(problem: ScaledProblem, point: PointFit, fitted: np.ndarray, sigma: float, config: MmmConfig) -> Draws:
    """``config.n_bootstrap`` refits; ``fitted`` is the point fit's expected outcome in scaled units."""
    rng = np.random.default_rng(config.seed)
    n = problem.y.size
    block = config.block_length or max(2, int(round(n ** (1.0 / 3.0))))
    residual = problem.y - fitted
    residual = residual - residual.mean()
    thetas, effects, coefs = [], [], []
    for _ in range(config.n_bootstrap):
        y_star = fitted + residual[block_indices(n, block, rng)]
        lift_star = problem.lift + problem.lift_se * rng.standard_normal(problem.lift.size)
        refit = fit_map(replace(problem, y=y_star, lift=lift_star), sigma, config, [point.theta])
        thetas.append(refit.theta)
        effects.append(refit.effect)
        coefs.append(refit.coef)
    c, p = problem.n_channels, problem.baseline.shape[1]
    if not thetas:
        return Draws(np.empty((0, point.theta.size)), np.empty((0, c)), np.empty((0, p)))
    return Draws(np.array(thetas), np.array(effects), np.array(coefs))
