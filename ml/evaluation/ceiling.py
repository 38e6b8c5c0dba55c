"""How close *any* estimator can get to a source's true expected LTV, given how many users the source has.

A source's mean value per user is the payer share times the mean payer value. Even an oracle that sees every
user's complete value (no censoring, no timing noise), knows the value distribution's shape (log-normal with the
simulator's log-sd) and the catalog prior each campaign is drawn from (its expected payer share and payer value,
with the campaign-specific log-normal scatter around them) still estimates both from a finite sample of payers.
Its posterior-mean estimate therefore misses the truth by sampling error; this module measures, by Monte Carlo,
the probability that it lands within a tolerance. It is the ceiling a benchmark target per source must respect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.simulation.portfolio import CAMPAIGN_PAYER_SHARE_LOG_SD, CAMPAIGN_PAYER_VALUE_LOG_SD


def _posterior_log(
    prior_mean: np.ndarray, prior_sd: float, estimate: np.ndarray, estimate_var: np.ndarray
) -> np.ndarray:
    """Precision-weighted mean of a normal prior and a normal likelihood (log scale); no data -> the prior."""
    prior_precision = 0.0 if not np.isfinite(prior_sd) else 1.0 / prior_sd**2
    data_precision = np.where(np.isfinite(estimate_var) & (estimate_var > 0), 1.0 / estimate_var, 0.0)
    estimate = np.where(data_precision > 0, estimate, 0.0)
    return (prior_mean * prior_precision + estimate * data_precision) / np.maximum(
        prior_precision + data_precision, 1e-300
    )


def oracle_relative_errors(
    n_users: np.ndarray,
    payer_share: np.ndarray,
    value_log_sd: np.ndarray,
    draws: int = 4_000,
    seed: int = 0,
    pooled: bool = True,
) -> np.ndarray:
    """Relative errors (estimate / truth - 1) of the oracle's mean value per user: shape (sources, draws).

    With ``pooled`` the oracle also knows the catalog prior (campaign scatter of ``CAMPAIGN_*_LOG_SD`` around the
    network x platform x geo x targeting expectation); without it, it uses the source's own users only.
    """
    rng = np.random.default_rng(seed)
    n = np.asarray(n_users, dtype=np.int64)[:, None]
    p = np.asarray(payer_share, dtype=float)[:, None]
    sigma = np.asarray(value_log_sd, dtype=float)[:, None]
    shape = (n.shape[0], draws)
    tau_p = CAMPAIGN_PAYER_SHARE_LOG_SD if pooled else np.inf
    tau_v = CAMPAIGN_PAYER_VALUE_LOG_SD if pooled else np.inf
    # The campaign's own deviation from its catalog expectation, as the simulator draws it (the truth is fixed at
    # 0 on the log scale, so the prior mean sits at minus that deviation).
    prior_log_p = -rng.normal(0.0, CAMPAIGN_PAYER_SHARE_LOG_SD, shape) if pooled else np.zeros(shape)
    prior_log_v = -rng.normal(0.0, CAMPAIGN_PAYER_VALUE_LOG_SD, shape) if pooled else np.zeros(shape)

    payers = rng.binomial(np.broadcast_to(n, shape), np.broadcast_to(p, shape))
    share_hat = payers / n
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p_hat = np.log(share_hat / p)
        log_p_var = (1.0 - share_hat) / payers
        log_v_hat = rng.standard_normal(shape) * sigma / np.sqrt(payers)
        log_v_var = sigma**2 / payers
    log_p = _posterior_log(prior_log_p, tau_p, log_p_hat, log_p_var)
    log_v = _posterior_log(prior_log_v, tau_v, log_v_hat, log_v_var)
    estimate = np.exp(log_p + log_v)
    # Without a prior and without payers the own-data estimate is zero: a 100% miss.
    return np.where((payers == 0) & (not pooled), -1.0, estimate - 1.0)


def oracle_within_tolerance(
    sources: pd.DataFrame,
    tolerance: float = 0.10,
    draws: int = 4_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per source (columns n_users, payer_share, payer_value_log_sd): probability the oracle lands within
    ``tolerance`` of the true mean, with the catalog prior (``p_within_pooled``) and on own users only
    (``p_within_own``)."""
    args = (sources["n_users"].to_numpy(), sources["payer_share"].to_numpy(), sources["payer_value_log_sd"].to_numpy())
    out = sources.copy()
    for name, pooled in (("pooled", True), ("own", False)):
        errors = oracle_relative_errors(*args, draws=draws, seed=seed, pooled=pooled)
        out[f"p_within_{name}"] = (np.abs(errors) <= tolerance).mean(axis=1)
    return out


def ceiling_summary(table: pd.DataFrame) -> dict[str, float]:
    """Expected share of sources within tolerance and the probability that all of them are, per oracle."""
    return {
        f"{stat}_{name}": value
        for name in ("pooled", "own")
        for stat, value in (
            ("expected_share", float(table[f"p_within_{name}"].mean())),
            ("p_all", float(table[f"p_within_{name}"].prod())),
        )
    }
