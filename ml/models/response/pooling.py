"""What campaigns share: empirical-Bayes priors on curve parameters by group, and portfolio-wide demand effects.

A campaign whose spend barely moved cannot tell where it saturates; its siblings on the same network and
platform can. Each curve parameter gets a two-level normal model (portfolio mean, group effect, campaign
effect) whose variances are fitted by marginal likelihood, and each campaign's prior is its group's
leave-one-out posterior - so a campaign never shrinks toward its own noisy estimate. ``crossed_prior`` does the
same with one effect per attribute (network, platform, geo, format), so siblings sharing any attribute inform a
campaign; the response fit uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ml.models.response.shape_range import hill_shape_max

_LOG_SD_BOUNDS = (np.log(0.01), np.log(5.0))


@dataclass(frozen=True)
class PooledPrior:
    """Per-campaign normal prior for one parameter, with the fitted hyper-parameters that produced it."""

    mean: np.ndarray
    sd: np.ndarray
    portfolio_mean: float
    group_sd: float
    campaign_sd: float


def likelihood_only(
    estimate: np.ndarray, variance: np.ndarray, prior_mean: float, prior_precision: float
) -> tuple[np.ndarray, np.ndarray]:
    """Remove a known normal prior from normal posteriors: the data's own estimate and variance (inf if none)."""
    data_precision = 1.0 / variance - prior_precision
    informative = data_precision > 1e-3
    safe = np.where(informative, data_precision, 1.0)
    mean = np.where(informative, (estimate / variance - prior_precision * prior_mean) / safe, prior_mean)
    return mean, np.where(informative, 1.0 / safe, np.inf)


def _neg_marginal_log_lik(
    params: np.ndarray, estimate: np.ndarray, variance: np.ndarray, group_codes: np.ndarray, n_groups: int
) -> float:
    """Two-level normal model, groups integrated out via Sherman-Morrison (vectorised over groups)."""
    mu, group_var, campaign_var = params[0], np.exp(2 * params[1]), np.exp(2 * params[2])
    d = variance + campaign_var
    w = 1.0 / d
    resid = estimate - mu
    sum_w = np.bincount(group_codes, w, n_groups)
    sum_wr = np.bincount(group_codes, w * resid, n_groups)
    quad = np.sum(w * resid**2) - np.sum(group_var * sum_wr**2 / (1.0 + group_var * sum_w))
    log_det = np.sum(np.log(d)) + np.sum(np.log1p(group_var * sum_w))
    return 0.5 * (quad + log_det)


def pooled_prior(
    estimate: np.ndarray,
    variance: np.ndarray,
    groups: np.ndarray,
    sd_floor: float,
    fallback_mean: float,
    fallback_sd: float,
) -> PooledPrior:
    """Empirical-Bayes prior for one parameter from campaigns' likelihood-only estimates and variances.

    Campaigns without information (infinite variance) do not move the hyper-parameters; with fewer than
    three informative campaigns the fallback prior is returned unchanged.
    """
    n = len(estimate)
    finite = np.isfinite(variance)
    if finite.sum() < 3:
        return PooledPrior(np.full(n, fallback_mean), np.full(n, fallback_sd), fallback_mean, 0.0, fallback_sd)
    codes, uniques = _codes(groups)
    est, var, grp = estimate[finite], variance[finite], codes[finite]
    spread = max(float(np.std(est)), sd_floor)
    start = np.array([float(np.median(est)), np.log(spread / 2), np.log(spread)])
    bounds = [(None, None), _LOG_SD_BOUNDS, _LOG_SD_BOUNDS]
    fit = optimize.minimize(
        _neg_marginal_log_lik, start, args=(est, var, grp, len(uniques)), method="L-BFGS-B", bounds=bounds
    )
    mu, group_var, campaign_var = fit.x[0], np.exp(2 * fit.x[1]), np.exp(2 * fit.x[2])

    w = np.where(finite, 1.0 / (np.where(finite, variance, 1.0) + campaign_var), 0.0)
    wx = w * np.where(finite, estimate, 0.0)
    # Leave-one-out: each campaign's group effect is estimated from its siblings only.
    sum_w = np.bincount(codes, w, len(uniques))[codes] - w
    sum_wx = np.bincount(codes, wx, len(uniques))[codes] - wx
    precision = 1.0 / group_var + sum_w
    mean = (mu / group_var + sum_wx) / precision
    sd = np.maximum(np.sqrt(1.0 / precision + campaign_var), sd_floor)
    return PooledPrior(mean, sd, float(mu), float(np.sqrt(group_var)), float(np.sqrt(campaign_var)))


def crossed_prior(
    estimate: np.ndarray,
    variance: np.ndarray,
    factors: np.ndarray,
    sd_floor: float,
    fallback_mean: float,
    fallback_sd: float,
) -> PooledPrior:
    """Empirical-Bayes prior with crossed attribute effects (network, platform, geo, format ...), leave-one-out.

    ``factors`` holds one integer code column per attribute. Each campaign's parameter is a portfolio mean plus
    one effect per attribute level (each attribute with its own variance) plus its own deviation, so a 21-day
    campaign borrows from every sibling sharing any attribute, not only those sharing all of them (one group per
    combination leaves most groups with one campaign). Variances by marginal likelihood; the algebra goes
    through Woodbury on the levels, so it costs campaigns x levels^2, not campaigns^3. A campaign's prior is the
    model's prediction of its parameter from the others' estimates.
    """
    n = len(estimate)
    finite = np.isfinite(variance)
    if finite.sum() < 3:
        return PooledPrior(np.full(n, fallback_mean), np.full(n, fallback_sd), fallback_mean, 0.0, fallback_sd)
    blocks = [np.eye(int(col.max()) + 1)[col] for col in np.atleast_2d(factors.T) if np.unique(col).size > 1]
    z = np.hstack(blocks) if blocks else np.zeros((n, 0))
    owner = np.concatenate([np.full(b.shape[1], j) for j, b in enumerate(blocks)]) if blocks else np.zeros(0, int)
    y, v, zi = estimate[finite], variance[finite], z[finite]

    def solve(log_sd: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
        tau2, level_var = np.exp(2 * log_sd[0]), np.exp(2 * log_sd[1:])[owner]
        d_inv = 1.0 / (v + tau2)
        a = zi * d_inv[:, None]
        inner = np.diag(1.0 / level_var) + zi.T @ a if len(owner) else np.zeros((0, 0))
        inner_inv = np.linalg.inv(inner) if len(owner) else inner

        def p_times(x: np.ndarray) -> np.ndarray:  # Sigma^-1 x by Woodbury
            return d_inv[:, None] * x - a @ (inner_inv @ (a.T @ x))

        ones_y = p_times(np.column_stack([np.ones_like(y), y]))
        mu = float(ones_y[:, 1].sum() / ones_y[:, 0].sum())
        r = y - mu
        log_det = (
            -np.sum(np.log(d_inv)) + np.sum(np.log(level_var)) + np.linalg.slogdet(inner)[1]
            if len(owner)
            else -np.sum(np.log(d_inv))
        )
        return 0.5 * (float(r @ p_times(r[:, None])[:, 0]) + log_det), mu, r, a, inner_inv

    start = np.full(len(blocks) + 1, np.log(max(float(np.std(y)), sd_floor) / 2))
    fit = optimize.minimize(lambda x: solve(x)[0], start, method="L-BFGS-B", bounds=[_LOG_SD_BOUNDS] * len(start))
    _, mu, r, a, inner_inv = solve(fit.x)
    tau2, level_var = np.exp(2 * fit.x[0]), np.exp(2 * fit.x[1:])[owner]
    d_inv = 1.0 / (v + tau2)
    pr = d_inv * r - a @ (inner_inv @ (a.T @ r))
    p_diag = d_inv - np.einsum("ij,jk,ik->i", a, inner_inv, a)
    mean, var = np.full(n, mu), np.full(n, tau2 + float(np.sum(np.exp(2 * fit.x[1:]))))
    mean[finite], var[finite] = y - pr / p_diag, 1.0 / p_diag - v
    if (~finite).any() and len(owner):  # no data of their own: predicted from every informative campaign
        zu = z[~finite] * level_var  # Cov(theta_u, y) = zu @ zi.T
        zpz = zi.T @ (d_inv[:, None] * zi) - (zi.T @ a) @ inner_inv @ (a.T @ zi)
        mean[~finite] = mu + zu @ (zi.T @ pr)
        var[~finite] = tau2 + (zu * z[~finite]).sum(axis=1) - np.einsum("ij,jk,ik->i", zu, zpz, zu)
    sd = np.maximum(np.sqrt(np.maximum(var, 0.0)), sd_floor)
    return PooledPrior(mean, sd, mu, float(np.sqrt(np.sum(np.exp(2 * fit.x[1:])))), float(np.sqrt(tau2)))


def _codes(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, codes = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    return codes, uniques


def demand_coefficients(
    design: np.ndarray, conversions: np.ndarray, curve_log_mean: np.ndarray, ridge: float = 1.0, iterations: int = 25
) -> np.ndarray:
    """Portfolio-wide log-linear demand effects (weekday, market indices) given every campaign's curve.

    Poisson regression with the curves as offsets, by Newton-Raphson with a small ridge; weekday and
    market swings are shared by all campaigns, so pooling them spares each curve several parameters.
    """
    beta = np.zeros(design.shape[1])
    penalty = ridge * np.eye(design.shape[1])
    for _ in range(iterations):
        mu = np.exp(curve_log_mean + design @ beta)
        grad = design.T @ (conversions - mu) - ridge * beta
        hess = design.T @ (mu[:, None] * design) + penalty
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def pooled_shape_prior(grid: np.ndarray, log_marginal: np.ndarray, max_concentration: float) -> tuple[float, float]:
    """Portfolio Beta(a, b) prior on the Hill shape from each campaign's marginal likelihood over a logit grid.

    The shape is barely identified by one campaign (it trades off against the half-saturation spend), so
    campaigns' whole likelihood profiles - not their unstable point estimates - are combined: (a, b)
    maximise the product over campaigns of the likelihood integrated against the prior (grid quadrature).
    ``a + b`` is capped because this marginal likelihood, like any empirical Bayes, understates spread.
    """
    fine = np.linspace(grid[0], grid[-1], 400)
    step = fine[1] - fine[0]
    curves = np.stack([np.interp(fine, grid, row) for row in log_marginal])
    weights = np.exp(curves - curves.max(axis=1, keepdims=True))
    log_n, log_1mn = -np.logaddexp(0.0, -fine), -np.logaddexp(0.0, fine)

    def neg_log_lik(params: np.ndarray) -> float:
        mean, concentration = special.expit(params[0]), np.exp(params[1])
        a, b = mean * concentration, (1.0 - mean) * concentration
        density = np.exp(a * log_n + b * log_1mn - special.betaln(a, b)) * step  # Beta on n, seen on the logit
        return -float(np.sum(np.log(weights @ density + 1e-300)))

    bounds = [(special.logit(0.05), special.logit(0.995)), (0.0, float(np.log(max_concentration)))]
    starts = [
        np.array([special.logit(m / hill_shape_max()), np.log(c)])
        for m in (0.6, 0.8, 0.9)
        for c in (2.0, max_concentration)
    ]  # shapes below 1 first: most campaigns are concave
    best = min(
        (optimize.minimize(neg_log_lik, x0, method="L-BFGS-B", bounds=bounds) for x0 in starts), key=lambda r: r.fun
    )
    mean, concentration = special.expit(best.x[0]), np.exp(best.x[1])
    return float(mean * concentration), float((1.0 - mean) * concentration)
