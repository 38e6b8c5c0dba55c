"""Penalised Poisson likelihood of one campaign's daily conversions under one curve family, and its Laplace fit.

Curves are parameterised so that parameters are nearly uncorrelated and comparable across campaigns:
``theta = (log level at the reference spend, log(spend_scale / reference spend)[, logit(hill shape)])``
(the second is called ``log_k`` below). The level is
pinned by any data; the relative half-saturation and the shape need spend variation and are what the
empirical-Bayes prior pools across similar campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize, special

from ml.models.response.shape_range import DEFAULT_HILL_SHAPE_MAX, hill_shape, hill_shape_max
from ml.response_curves import CurveFamily

HILL, EXPONENTIAL = CurveFamily.HILL, CurveFamily.EXPONENTIAL
N_PARAMS = {HILL: 3, EXPONENTIAL: 2, CurveFamily.LOG: 2}  # theta: level, log relative spend scale[, logit shape]

THETA_BOUNDS = {"log_k": (-8.0, 8.0), "shape": (-7.0, 7.0)}
MAX_STEP = 2.0  # largest Newton move in any parameter (log or logit units)


@dataclass(frozen=True)
class CampaignData:
    """One campaign's fitting arrays: relative spend ``u = spend / reference_spend`` and demand offsets."""

    u: np.ndarray
    conversions: np.ndarray
    offset: np.ndarray
    reference_spend: float


@dataclass(frozen=True)
class Prior:
    """Normal prior on (level, log relative k) and a Beta(shape_a, shape_b) prior on the Hill shape's share of its
    range, ``p = n / hill_shape_max()``.

    A Beta handles what a normal on the logit cannot: real shapes crowd against bounds. On the logit scale it is
    the log-concave density ``p**a * (1 - p)**b`` (Jacobian included). The default centres n on 0.8.
    """

    mean: np.ndarray  # (2,)
    precision: np.ndarray  # (2,)
    shape_a: float = 1.6 / DEFAULT_HILL_SHAPE_MAX
    shape_b: float = 2.0 - 1.6 / DEFAULT_HILL_SHAPE_MAX

    @property
    def shape_mean(self) -> float:
        """Prior mean of p = n / hill_shape_max()."""
        return self.shape_a / (self.shape_a + self.shape_b)

    def shape_penalty(self, eta: float | np.ndarray) -> np.ndarray:
        """Negative log prior density of the logit shape (up to a constant)."""
        return self.shape_a * np.logaddexp(0.0, -eta) + self.shape_b * np.logaddexp(0.0, eta)


@dataclass(frozen=True)
class FamilyFit:
    """MAP estimate of one family for one campaign, with its Laplace covariance and fit statistics."""

    family: CurveFamily
    theta: np.ndarray
    covariance: np.ndarray
    neg_log_lik: float  # Poisson, data only, without the prior
    deviance: float
    effective_params: float
    converged: bool
    penalised: float  # the minimised objective: scaled negative log-likelihood plus prior penalty


def log_shape(family: CurveFamily, u: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log of the un-normalised curve at relative spend ``u`` and its gradient w.r.t. ``theta[1:]``."""
    psi = np.clip(theta[1], *THETA_BOUNDS["log_k"])
    if family == HILL:
        p = special.expit(np.clip(theta[2], *THETA_BOUNDS["shape"]))
        shape_max = hill_shape_max()
        n = shape_max * p
        log_x = np.log(u) - psi
        log_r = n * log_x
        damp = special.expit(-log_r)  # 1 / (1 + r)
        value = -np.logaddexp(0.0, -log_r)
        return value, np.stack([-n * damp, log_x * damp * shape_max * p * (1.0 - p)], axis=-1)
    x = u * np.exp(-psi)
    if family == EXPONENTIAL:
        value = np.log(-np.expm1(-x))
        grad = -x * np.exp(-x) / -np.expm1(-x)
    else:
        value = np.log(np.log1p(x))
        grad = -(x / (1.0 + x)) / np.log1p(x)
    return value, grad[:, None]


def log_mean(family: CurveFamily, data: CampaignData, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log expected conversions per day and its Jacobian w.r.t. theta (days x params)."""
    at_u, grad_u = log_shape(family, data.u, theta)
    at_ref, grad_ref = log_shape(family, np.ones(1), theta)
    log_mu = data.offset + theta[0] + at_u - at_ref[0]
    jac = np.column_stack([np.ones_like(log_mu), grad_u - grad_ref[0]])
    return log_mu, jac


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance (twice the log-likelihood gap to the saturated model)."""
    return float(2.0 * np.sum(special.xlogy(y, y / mu) - (y - mu)))


def _penalised(
    theta: np.ndarray, family: CurveFamily, data: CampaignData, prior: Prior, dispersion: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Quasi-Poisson negative log-likelihood plus prior penalty, its gradient and Fisher-scoring Hessian."""
    log_mu, jac = log_mean(family, data, theta)
    mu = np.exp(log_mu)
    y = data.conversions
    gap = theta[:2] - prior.mean
    value = np.sum(mu - y * log_mu) / dispersion + 0.5 * np.sum(prior.precision * gap**2)
    grad = jac.T @ (mu - y) / dispersion
    hess = jac.T @ (mu[:, None] * jac) / dispersion
    grad[:2] += prior.precision * gap
    hess[[0, 1], [0, 1]] += prior.precision
    if len(theta) == 3:
        n = special.expit(theta[2])
        value += float(prior.shape_penalty(theta[2]))
        grad[2] += (prior.shape_a + prior.shape_b) * n - prior.shape_a
        hess[2, 2] += (prior.shape_a + prior.shape_b) * n * (1.0 - n)
    return float(value), grad, hess


def prior_hessian(prior: Prior, theta: np.ndarray) -> np.ndarray:
    """Curvature of the negative log prior at theta."""
    diag = np.array([*prior.precision, 0.0][: len(theta)])
    if len(theta) == 3:
        n = special.expit(theta[2])
        diag[2] = (prior.shape_a + prior.shape_b) * n * (1.0 - n)
    return np.diag(diag)


def fisher_information(family: CurveFamily, data: CampaignData, theta: np.ndarray) -> np.ndarray:
    """Expected Poisson information of the data about theta (before dispersion scaling)."""
    log_mu, jac = log_mean(family, data, theta)
    return jac.T @ (np.exp(log_mu)[:, None] * jac)


def start_values(family: CurveFamily, data: CampaignData, prior: Prior) -> np.ndarray:
    """Level from the mean daily conversions; curve shape from the prior."""
    level = np.log(np.mean(data.conversions * np.exp(-data.offset)) + 0.5)
    return np.array([level, prior.mean[1], special.logit(prior.shape_mean)])[: N_PARAMS[family]]


def _fisher_scoring(
    family: CurveFamily,
    data: CampaignData,
    prior: Prior,
    dispersion: float,
    start: np.ndarray,
    free: int,
    max_iter: int = 60,
) -> optimize.OptimizeResult:
    """Damped Newton with the Fisher information (IRLS-like): a few cheap numpy steps for well-posed fits."""
    theta = start.copy()
    value, grad, hess = _penalised(theta, family, data, prior, dispersion)
    converged = False
    for _ in range(max_iter):
        step = np.linalg.solve(hess[:free, :free], grad[:free])
        step *= min(1.0, MAX_STEP / max(np.max(np.abs(step)), 1e-300))
        decrement = float(grad[:free] @ step)
        if decrement < 1e-9:
            converged = True
            break
        t = 1.0
        while t > 1e-4:
            candidate = theta.copy()
            candidate[:free] -= t * step
            new_value, new_grad, new_hess = _penalised(candidate, family, data, prior, dispersion)
            if np.isfinite(new_value) and new_value <= value - 1e-4 * t * decrement:
                break
            t /= 2.0
        else:
            break
        theta, value, grad, hess = candidate, new_value, new_grad, new_hess
    return optimize.OptimizeResult(x=theta[:free], fun=value, success=converged)


def _minimise(
    family: CurveFamily, data: CampaignData, prior: Prior, dispersion: float, start: np.ndarray, free: int
) -> optimize.OptimizeResult:
    """Fisher scoring first; scipy's trust-region Newton finishes the job when scoring stalls."""
    result = _fisher_scoring(family, data, prior, dispersion, start, free)
    if result.success:
        return result
    template = np.concatenate([result.x, start[free:]])
    cache: dict[bytes, tuple[float, np.ndarray, np.ndarray]] = {}

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        key = x.tobytes()
        if key not in cache:
            value, grad, hess = _penalised(np.concatenate([x, template[free:]]), family, data, prior, dispersion)
            cache.clear()
            cache[key] = (value, grad[:free], hess[:free, :free])
        return cache[key]

    return optimize.minimize(
        lambda x: evaluate(x)[0],
        template[:free],
        jac=lambda x: evaluate(x)[1],
        hess=lambda x: evaluate(x)[2],
        method="trust-exact",
        options={"gtol": 1e-6},
    )


def fit_family(
    family: CurveFamily,
    data: CampaignData,
    prior: Prior,
    dispersion: float = 1.0,
    fixed_shape: float | None = None,
    log_k_starts: tuple[float, ...] = (0.0, -1.0, 1.0),
    start: np.ndarray | None = None,
) -> FamilyFit:
    """MAP fit of the quasi-Poisson likelihood (divided by ``dispersion``) plus prior, from a few log-k starts.

    ``fixed_shape`` pins the Hill logit-shape (profile likelihood); ``start`` overrides the default start
    (log-k starts are offsets from it). The Laplace covariance is the inverse of the dispersion-scaled
    Fisher information plus prior precision over the free parameters.
    """
    p = N_PARAMS[family]
    free = 2 if (fixed_shape is not None and p == 3) else p
    origin = start_values(family, data, prior) if start is None else np.asarray(start, dtype=float)[:p].copy()
    best = None
    for shift in log_k_starts:
        start = origin.copy()
        start[1] = np.clip(start[1] + shift, *THETA_BOUNDS["log_k"])
        if free < p:
            start[2] = fixed_shape
        result = _minimise(family, data, prior, dispersion, start, free)
        if best is None or result.fun < best[0].fun - 1e-9:
            best = (result, start)
    result, start = best
    theta = np.concatenate([result.x, start[free:]])
    info = fisher_information(family, data, theta) / dispersion
    covariance = np.zeros((p, p))
    covariance[:free, :free] = _inverse(info[:free, :free] + prior_hessian(prior, theta)[:free, :free])
    mu = np.exp(log_mean(family, data, theta)[0])
    y = data.conversions
    return FamilyFit(
        family=family,
        theta=theta,
        covariance=covariance,
        neg_log_lik=float(np.sum(mu - special.xlogy(y, mu) + special.gammaln(y + 1.0))),
        deviance=poisson_deviance(y, mu),
        effective_params=float(np.trace(covariance[:free, :free] @ info[:free, :free])),
        converged=bool(result.success),
        penalised=float(result.fun),
    )


def _inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive (semi-)definite matrix, regularised if it is singular."""
    try:
        return np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(matrix + 1e-9 * np.eye(len(matrix)))


def hac_dispersion(
    family: CurveFamily, data: CampaignData, theta: np.ndarray, bandwidth: int, floor_precision: float = 1e-2
) -> float:
    """Variance inflation of the Poisson likelihood from over-dispersion and day-to-day autocorrelation.

    The largest ratio, over directions in (level, log k), of a Bartlett-kernel (Newey-West) sandwich "meat"
    to the Poisson information: unmodelled demand swings (creative fatigue, trends) are over-dispersed and
    persist for days, so independent Poisson days would make intervals far too narrow, and the worst
    direction is used because the half-saturation direction is the one that matters and the noisiest.
    """
    log_mu, jac = log_mean(family, data, theta)
    mu = np.exp(log_mu)
    jac = jac[:, :2]
    scores = (data.conversions - mu)[:, None] * jac
    meat = scores.T @ scores
    for lag in range(1, min(bandwidth, len(scores) - 1) + 1):
        weight = 1.0 - lag / (bandwidth + 1.0)
        cross = scores[lag:].T @ scores[:-lag]
        meat += weight * (cross + cross.T)
    info = jac.T @ (mu[:, None] * jac) + floor_precision * np.eye(2)
    ratio = float(linalg.eigh(meat, info, eigvals_only=True).max())
    return max(ratio, 1.0)


def natural_parameters(
    family: CurveFamily, theta: np.ndarray, reference_spend: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scale, spend_scale, shape)`` of ``ml.response_curves`` from theta rows (..., params), in the data's spend
    units."""
    theta = np.atleast_2d(theta)
    level, psi = theta[:, 0], theta[:, 1]
    x_ref = np.exp(-psi)  # reference spend relative to spend_scale
    if family == HILL:
        n = hill_shape(theta[:, 2])
        scale = np.exp(level) * (1.0 + np.exp(n * psi))
    else:
        n = np.ones_like(psi)
        scale = np.exp(level) / (-np.expm1(-x_ref) if family == EXPONENTIAL else np.log1p(x_ref))
    return scale, np.asarray(reference_spend) * np.exp(psi), n
