"""The penalised (MAP) fit: nonlinear carry-over and shape by L-BFGS-B, everything linear profiled out exactly.

Given decay, half-saturation and shape per channel the model is linear in the baseline coefficients (normal prior)
and the channels' maximum effects (>= 0), so each objective evaluation projects the baseline out of the augmented
least-squares system (data rows / sigma, prior rows, lift-test rows / SE) and solves a small NNLS for the effects.
The optimiser only searches 3 numbers per channel, which keeps a fit to a fraction of a second and makes a
bootstrap of refits affordable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special

from ml.models.mmm.config import MmmConfig
from ml.models.mmm.transforms import adstocked_response

_LOG_K_BOUNDS = (np.log(0.02), np.log(50.0))
_LOGIT_BOUNDS = (-6.0, 6.0)
_LOG_WEIBULL_SHAPE_BOUNDS = (np.log(0.3), np.log(5.0))


@dataclass(frozen=True, eq=False)
class ScaledProblem:
    """The fit's arrays in units where mean outcome and each channel's mean spend are 1."""

    y: np.ndarray  # (T,)
    spend: np.ndarray  # (T, C)
    baseline: np.ndarray  # (T, p), first column the intercept
    lift_channel: np.ndarray
    lift_periods: np.ndarray  # (tests, T)
    lift: np.ndarray
    lift_se: np.ndarray

    @property
    def n_channels(self) -> int:
        return self.spend.shape[1]


@dataclass(frozen=True, eq=False)
class PointFit:
    """One MAP solution in scaled units: nonlinear parameters, effects, baseline coefficients, objective."""

    theta: np.ndarray  # (3C,) geometric: logit decay share, log half-saturation, log shape; (4C,) Weibull
    effect: np.ndarray  # (C,) maximum contribution per period
    coef: np.ndarray  # (p,)
    objective: float
    converged: bool


def adstock_size(config: MmmConfig) -> int:
    """Adstock parameters per channel: 1 (geometric decay) or 2 (Weibull shape and scale)."""
    return 2 if config.adstock == "weibull" else 1


def unpack(theta: np.ndarray, config: MmmConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(adstock parameters (1 or 2, C), steady-state half-saturation in relative spend, Hill shape) per channel."""
    rows = theta.reshape(adstock_size(config) + 2, -1)
    if config.adstock == "weibull":
        adstock = np.exp(rows[:2])
    else:
        adstock = config.decay_max * special.expit(rows[:1])
    return adstock, np.exp(rows[-2]), np.exp(rows[-1])


def media_matrix(spend: np.ndarray, theta: np.ndarray, config: MmmConfig) -> np.ndarray:
    """Saturated adstock (T, C) of relative spend for the nonlinear parameters ``theta``."""
    adstock, k_ss, shape = unpack(theta, config)
    return adstocked_response(spend, config.adstock, adstock, k_ss, shape, config.weibull_max_lag)


def prior_penalty(theta: np.ndarray, config: MmmConfig) -> float:
    """Negative log prior of the nonlinear parameters (Beta on the decay share incl. Jacobian, or log-normals on the
    Weibull shape and scale; log-normals on half-saturation and Hill shape)."""
    rows = theta.reshape(adstock_size(config) + 2, -1)
    log_k, log_n = rows[-2], rows[-1]
    if config.adstock == "weibull":
        adstock = (
            0.5 * (rows[0] / config.weibull_shape_log_sd) ** 2
            + 0.5 * ((rows[1] - np.log(config.weibull_scale_prior)) / config.weibull_scale_log_sd) ** 2
        )
    else:
        u = rows[0]
        adstock = config.decay_a * np.logaddexp(0.0, -u) + config.decay_b * np.logaddexp(0.0, u)
    return float(
        adstock.sum()
        + 0.5 * ((log_k / config.half_saturation_log_sd) ** 2).sum()
        + 0.5 * ((log_n / config.shape_log_sd) ** 2).sum()
    )


class ProfiledObjective:
    """Penalised negative log posterior as a function of the nonlinear parameters only."""

    def __init__(self, problem: ScaledProblem, sigma: float, config: MmmConfig) -> None:
        self.problem, self.sigma, self.config = problem, sigma, config
        t, p = problem.baseline.shape
        n_lift = problem.lift.size
        ridge = np.eye(p)[1:] / config.baseline_prior_scale  # the intercept is not penalised
        c = problem.n_channels
        self.a_base = np.vstack([problem.baseline / sigma, ridge, np.zeros((c + n_lift, p))])
        self.q, self.r = linalg.qr(self.a_base, mode="economic")
        self.target = np.concatenate([problem.y / sigma, np.zeros(p - 1 + c), problem.lift / problem.lift_se])
        self.target_res = self._residualise(self.target)

    def _residualise(self, v: np.ndarray) -> np.ndarray:
        return v - self.q @ (self.q.T @ v)

    def media_columns(self, theta: np.ndarray) -> np.ndarray:
        """Augmented media design: saturated adstock per data row, prior rows, sums over each lift test's periods."""
        sat = media_matrix(self.problem.spend, theta, self.config)
        p = self.problem.baseline.shape[1]
        lift_rows = np.zeros((self.problem.lift.size, sat.shape[1]))
        if lift_rows.size:
            sums = self.problem.lift_periods.astype(float) @ sat
            idx = np.arange(lift_rows.shape[0])
            lift_rows[idx, self.problem.lift_channel] = sums[idx, self.problem.lift_channel]
            lift_rows /= self.problem.lift_se[:, None]
        effect_prior = np.eye(sat.shape[1]) / self.config.effect_prior_scale  # half-normal prior on effects
        return np.vstack([sat / self.sigma, np.zeros((p - 1, sat.shape[1])), effect_prior, lift_rows])

    def solve_linear(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Effects (NNLS on the baseline-free residual system), baseline coefficients and the data+prior term."""
        m = self.media_columns(theta)
        effect, rnorm = optimize.nnls(self._residualise(m), self.target_res, maxiter=50 * m.shape[1])
        coef = linalg.solve_triangular(self.r, self.q.T @ (self.target - m @ effect))
        return effect, coef, 0.5 * rnorm**2

    def __call__(self, theta: np.ndarray) -> float:
        return self.solve_linear(theta)[2] + prior_penalty(theta, self.config)


def prior_centre(n_channels: int, config: MmmConfig) -> np.ndarray:
    """Start of the search: the adstock prior's centre, half-saturation at mean spend, shape 1."""
    if config.adstock == "weibull":
        adstock = [np.zeros(n_channels), np.full(n_channels, np.log(config.weibull_scale_prior))]
    else:
        adstock = [np.full(n_channels, special.logit(config.decay_a / (config.decay_a + config.decay_b)))]
    return np.concatenate([*adstock, np.zeros(2 * n_channels)])


def _bounds(n_channels: int, config: MmmConfig) -> list[tuple[float, float]]:
    shape = (np.log(config.shape_min), np.log(config.shape_max))
    if config.adstock == "weibull":
        scale = (np.log(0.2), np.log(config.weibull_max_lag / 2.0))
        adstock = [_LOG_WEIBULL_SHAPE_BOUNDS] * n_channels + [scale] * n_channels
    else:
        adstock = [_LOGIT_BOUNDS] * n_channels
    return adstock + [_LOG_K_BOUNDS] * n_channels + [shape] * n_channels


def fit_map(problem: ScaledProblem, sigma: float, config: MmmConfig, starts: list[np.ndarray]) -> PointFit:
    """Best L-BFGS-B solution over the given starting points."""
    objective = ProfiledObjective(problem, sigma, config)
    bounds = _bounds(problem.n_channels, config)
    best = None
    for start in starts:
        res = optimize.minimize(
            objective, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": config.max_iterations, "eps": 1e-6}
        )
        if best is None or res.fun < best.fun:
            best = res
    effect, coef, _ = objective.solve_linear(best.x)
    return PointFit(best.x, effect, coef, float(best.fun), bool(best.success))


def default_starts(n_channels: int, config: MmmConfig) -> list[np.ndarray]:
    """The prior centre plus a short- and a long-memory start, since carry-over is often multi-modal."""
    centre = prior_centre(n_channels, config)
    starts = [centre]
    for share, scale in ((0.1, 0.5), (0.7, 4.0)):
        s = centre.copy()
        if config.adstock == "weibull":
            s[n_channels : 2 * n_channels] = np.log(min(scale, config.weibull_max_lag / 2.0))
        else:
            s[:n_channels] = special.logit(share)
        starts.append(s)
    return starts


def fitted_values(problem: ScaledProblem, fit: PointFit, config: MmmConfig) -> tuple[np.ndarray, np.ndarray]:
    """Baseline (T,) and media contributions (T, C) in scaled units."""
    return problem.baseline @ fit.coef, media_matrix(problem.spend, fit.theta, config) * fit.effect


def fit_baseline(problem: ScaledProblem, config: MmmConfig) -> tuple[np.ndarray, float]:
    """Baseline-only model (no media): ridge coefficients and residual SD, the SD iterated twice so the prior weighs
    against the data's own noise; also the media fit's first noise guess."""
    t, p = problem.baseline.shape
    sigma = float(problem.y.std()) or 1.0
    for _ in range(3):
        a = np.vstack([problem.baseline / sigma, np.eye(p)[1:] / config.baseline_prior_scale])
        b = np.concatenate([problem.y / sigma, np.zeros(p - 1)])
        coef = linalg.lstsq(a, b)[0]
        sigma = max(float(np.sqrt(np.mean((problem.y - problem.baseline @ coef) ** 2))), 1e-9)
    return coef, sigma
