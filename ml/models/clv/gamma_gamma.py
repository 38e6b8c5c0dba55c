"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999).

Each transaction's value z ~ Gamma(p, nu) (shape p, rate nu) and the customer's nu ~ Gamma(q, gamma). Given x
repeat transactions with mean value zbar, the posterior is nu ~ Gamma(p x + q, gamma + x zbar), which shrinks a
customer's observed average towards the population mean in proportion to how little we have seen of them.

Why: a customer's average spend is noisy when x is small, and the BG/NBD says nothing about money; this is the
standard, independent companion that turns expected purchases into expected value. It is fitted only on repeat
buyers (x > 0, zbar > 0), because the first purchase is often atypical (acquisition offers) and zbar is defined
on repeat purchases.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln
from threadpoolctl import threadpool_limits

_LOG_BOUND = 15.0


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (`gamma` is in money units)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @property
    def population_mean_spend(self) -> float:
        """E[z] for a customer we know nothing about (finite only when q > 1)."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")

    @classmethod
    def point_mass(cls, mean_spend: float) -> GammaGammaParams:
        """A near-degenerate model whose transactions are all worth about `mean_spend`.

        Used when there are too few repeat buyers to fit: huge p and q make both gammas almost constant (a repeat
        buyer's expectation becomes the mean of `mean_spend` and their x observed values), so the rest of the code
        (expectation, Monte Carlo) works unchanged.
        """
        big = 1e7
        mean_spend = max(float(mean_spend), 1e-12)
        return cls(p=big, q=big, gamma=mean_spend * (big - 1.0) / big, log_likelihood=float("nan"), n_customers=0)


def log_likelihood_terms(p: float, q: float, gamma: float, x: np.ndarray, zbar: np.ndarray) -> np.ndarray:
    """Per-customer log density of the observed mean spend zbar given x transactions."""
    x = np.asarray(x, dtype=float)
    zbar = np.asarray(zbar, dtype=float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + px * np.log(x)
        + (px - 1.0) * np.log(zbar)
        - (px + q) * np.log(gamma + x * zbar)
    )


def _neg_ll_and_grad(
    theta: np.ndarray, x: np.ndarray, zbar: np.ndarray, w: np.ndarray, scale: float
) -> tuple[float, np.ndarray]:
    """Weighted negative log-likelihood and analytic gradient in (log p, log q, log gamma/scale)."""
    p, q, g = np.exp(theta)
    gamma = g * scale
    px = p * x
    ll = log_likelihood_terms(p, q, gamma, x, zbar)
    log_total = np.log(gamma + x * zbar)
    psi = digamma(px + q)
    d_p = x * (psi - digamma(px) + np.log(x) + np.log(zbar) - log_total)
    d_q = psi - digamma(q) + np.log(gamma) - log_total
    d_gamma = q / gamma - (px + q) / (gamma + x * zbar)
    grad = np.array([w @ d_p * p, w @ d_q * q, w @ d_gamma * gamma])
    return -float(w @ ll), -grad


def fit_gamma_gamma(
    frequency: np.ndarray, monetary_value: np.ndarray, weights: np.ndarray | None = None, penalizer: float = 0.0
) -> GammaGammaParams:
    """Maximum-likelihood fit on the customers with x > 0 and zbar > 0 (others carry no spend information)."""
    x = np.asarray(frequency, dtype=float)
    zbar = np.asarray(monetary_value, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & (zbar > 0) & np.isfinite(zbar)
    x, zbar, w = x[keep], zbar[keep], w[keep]
    if len(x) < 3:
        raise ValueError(f"Gamma-Gamma needs at least 3 repeat buyers with positive spend, got {len(x)}")
    total = w.sum()
    scale = float(np.average(zbar, weights=w))  # fit gamma relative to the typical spend: better conditioned

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = _neg_ll_and_grad(theta, x, zbar, w, scale)
        value, grad = value / total + penalizer * float(theta @ theta), grad / total + 2.0 * penalizer * theta
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(theta)
        return value, grad

    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 3
    best = None
    # Several starts: the likelihood has a long ridge towards (p -> inf, gamma -> 0) that one start can follow.
    with threadpool_limits(limits=1, user_api="blas"):  # BLAS threads on 4-vectors only add contention
        for theta0 in (np.log([1.0, 2.0, 1.0]), np.log([5.0, 3.0, 2.0]), np.zeros(3)):
            res = minimize(
                objective,
                theta0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000},
            )
            if best is None or res.fun < best.fun:
                best = res
    p, q, g = (float(v) for v in np.exp(best.x))
    gamma = g * scale
    ll = float(w @ log_likelihood_terms(p, q, gamma, x, zbar))
    return GammaGammaParams(p=p, q=q, gamma=gamma, log_likelihood=ll, n_customers=int(round(total)))


def posterior_rate(
    params: GammaGammaParams, frequency: np.ndarray, monetary_value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shape and rate of nu | (x, zbar). Customers with x = 0 keep the prior Gamma(q, gamma)."""
    x = np.asarray(frequency, dtype=float)
    zbar = np.nan_to_num(np.asarray(monetary_value, dtype=float), nan=0.0)
    zbar = np.where(x > 0, zbar, 0.0)
    return params.p * x + params.q, params.gamma + x * zbar


def expected_spend(params: GammaGammaParams, frequency: np.ndarray, monetary_value: np.ndarray) -> np.ndarray:
    """E[value of one future transaction | x, zbar] = p (gamma + x zbar) / (p x + q - 1)."""
    shape, rate = posterior_rate(params, frequency, monetary_value)
    return params.p * rate / (shape - 1.0)


def sample_spend(
    params: GammaGammaParams,
    purchases: np.ndarray,
    frequency: np.ndarray,
    monetary_value: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Total spend of `purchases` (n_customers, draws) future transactions, drawn from the posterior predictive.

    nu is drawn once per (customer, draw) from its posterior, then the sum of k transactions is Gamma(p k, nu);
    k = 0 gives exactly 0.
    """
    shape, rate = posterior_rate(params, frequency, monetary_value)
    nu = rng.gamma(shape[:, None], 1.0 / rate[:, None], size=purchases.shape)
    return rng.gamma(params.p * purchases, 1.0 / nu)
