"""Posterior of one campaign's curve parameters as a mixture of normals, for draws and credible intervals.

Two-parameter families get the Laplace approximation at the MAP. Hill's shape and half-saturation spend
trade off along a curved ridge that a single normal squeezes (intervals came out too narrow), so its
posterior is integrated over a grid of shapes: at each shape the other parameters are Laplace-normal and
the shape's weight is its Laplace marginal likelihood times the prior (an INLA-style nested Laplace).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ml.models.response.estimation import CampaignData, FamilyFit, Prior, fit_family
from ml.response_curves import CurveFamily


@dataclass(frozen=True)
class Posterior:
    """Mixture of normals over theta: ``weights`` (G,), ``means`` (G, p), ``covariances`` (G, p, p)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws of theta, shape (size, p)."""
        component = rng.choice(len(self.weights), size=size, p=self.weights)
        out = np.empty((size, self.means.shape[1]))
        for g in np.unique(component):
            rows = component == g
            out[rows] = rng.multivariate_normal(self.means[g], self.covariances[g], size=int(rows.sum()), method="eigh")
        return out

    def marginal_sd(self, j: int) -> float:
        """Posterior sd of parameter j (law of total variance over the components)."""
        mean = self.weights @ self.means[:, j]
        second = self.weights @ (self.covariances[:, j, j] + self.means[:, j] ** 2)
        return float(np.sqrt(max(second - mean**2, 0.0)))

    def quantile(self, j: int, q: float) -> float:
        """Quantile of parameter j's marginal (exact for the mixture, by root finding on its CDF)."""
        m = self.means[:, j]
        s = np.sqrt(np.maximum(self.covariances[:, j, j], 1e-18))
        if len(m) == 1:
            return float(m[0] + s[0] * stats.norm.ppf(q))
        cdf = lambda x: float(self.weights @ stats.norm.cdf((x - m) / s)) - q  # noqa: E731
        return float(optimize.brentq(cdf, float(np.min(m - 12 * s)), float(np.max(m + 12 * s)), xtol=1e-10))


def laplace_posterior(fit: FamilyFit) -> Posterior:
    """One normal at the MAP with the Laplace covariance."""
    return Posterior(np.ones(1), fit.theta[None, :], fit.covariance[None, :, :])


def hill_grid_posterior(
    data: CampaignData, prior: Prior, dispersion: float, grid: np.ndarray, map_fit: FamilyFit
) -> Posterior:
    """Nested-Laplace posterior over a grid of logit shapes, warm-started outward from the MAP shape."""
    fits: list[FamilyFit | None] = [None] * len(grid)
    centre = int(np.argmin(np.abs(grid - map_fit.theta[2])))
    for path in (range(centre, len(grid)), range(centre, -1, -1)):
        previous = map_fit
        for g in path:
            if fits[g] is None:
                fits[g] = fit_family(
                    CurveFamily.HILL,
                    data,
                    prior,
                    dispersion,
                    fixed_shape=float(grid[g]),
                    log_k_starts=(0.0,),
                    start=previous.theta,
                )
            previous = fits[g]
    log_w = np.array([-f.penalised + 0.5 * np.linalg.slogdet(f.covariance[:2, :2])[1] for f in fits])
    weights = np.exp(log_w - log_w.max())
    return Posterior(weights / weights.sum(), np.stack([f.theta for f in fits]), np.stack([f.covariance for f in fits]))
