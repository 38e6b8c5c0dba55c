"""Least-squares fits behind the price-of-scale model: pooled across campaigns with per-campaign effects shrunk
towards the portfolio, so campaigns with little spend variation still get a sensible curve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import least_squares
from scipy.sparse.linalg import lsqr

PRICE_INDICES = ("cpm_index", "competition_index")
DEMAND_INDICES = ("seasonality_index", "economic_index", "sentiment_index")
MIN_ACTIVE_HOURS = 20


@dataclass(frozen=True)
class CpmFit:
    """log CPM = intercept_c + sum_k beta_k log(index_k) + log(1 + pressure_c * spend / typical_spend_c)."""

    intercept: pd.Series  # by campaign_id
    pressure: pd.Series  # by campaign_id, > 0: CPM uplift per unit of typical daily spend bought
    index_elasticity: dict[str, float]
    pooled_intercept: float
    pooled_pressure: float


@dataclass(frozen=True)
class ConversionFit:
    """log(conversions + 0.5) = a_c + b_c log(spend) + sum_k g_k log(index_k): a constant-elasticity response."""

    intercept: pd.Series
    elasticity: pd.Series  # by campaign_id, clipped to [0.05, 1]
    index_elasticity: dict[str, float]
    pooled_intercept: float
    pooled_elasticity: float


def pricing_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Campaign-days with a (nearly) full day of delivery, spend and impressions, and a market feed."""
    keep = (
        (frame["n_active_hours"] >= MIN_ACTIVE_HOURS)
        & (frame["spend"] > 0)
        & (frame["impressions"] > 0)
        & frame[list(PRICE_INDICES + DEMAND_INDICES)].notna().all(axis=1)
    )
    return frame[keep].reset_index(drop=True)


def typical_spend(rows: pd.DataFrame) -> pd.Series:
    """Median daily spend per campaign: the unit in which each campaign's scale is measured."""
    return rows.groupby("campaign_id")["spend"].median()


def fit_cpm(rows: pd.DataFrame, typical: pd.Series, pressure_prior_sd: float = 1.0) -> CpmFit:
    """Nonlinear least squares (sparse Jacobian) of log CPM with each campaign's log pressure shrunk towards the
    pooled one: a Gaussian prior of sd ``pressure_prior_sd``, weighed against the residual variance of a first,
    fully pooled fit."""
    ids = typical.index.to_numpy()
    c = pd.Index(ids).get_indexer(rows["campaign_id"])
    n, m = len(rows), len(ids)
    u = rows["spend"].to_numpy(float) / typical.to_numpy()[c]
    logs = np.column_stack([np.log(rows[k].to_numpy(float)) for k in PRICE_INDICES])
    y = np.log(1000.0 * rows["spend"].to_numpy(float) / rows["impressions"].to_numpy(float))
    k = len(PRICE_INDICES)
    penalty = 1e3  # first pass: pressures pinned to the pooled one

    def unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        return p[:m], p[m : 2 * m], p[2 * m], p[2 * m + 1 :]

    def residuals(p: np.ndarray) -> np.ndarray:
        alpha, eta, kappa0, beta = unpack(p)
        fitted = alpha[c] + logs @ beta + np.log1p(np.exp(kappa0 + eta[c]) * u)
        return np.concatenate([fitted - y, penalty * eta])

    rows_idx = np.arange(n)

    def jacobian(p: np.ndarray) -> sparse.csr_matrix:
        _, eta, kappa0, _ = unpack(p)
        z = np.exp(kappa0 + eta[c]) * u
        d = z / (1.0 + z)
        top = sparse.hstack(
            [
                sparse.csr_matrix((np.ones(n), (rows_idx, c)), shape=(n, m)),
                sparse.csr_matrix((d, (rows_idx, c)), shape=(n, m)),
                sparse.csr_matrix(d[:, None]),
                sparse.csr_matrix(logs),
            ]
        )
        bottom = sparse.hstack([sparse.csr_matrix((m, m)), penalty * sparse.identity(m), sparse.csr_matrix((m, 1 + k))])
        return sparse.vstack([top, bottom]).tocsr()

    start_alpha = pd.Series(y).groupby(c).mean().reindex(range(m)).fillna(float(np.mean(y))).to_numpy()
    p0 = np.concatenate([start_alpha, np.zeros(m), [np.log(0.1)], np.ones(k)])
    pooled = least_squares(residuals, p0, jac=jacobian, method="trf", x_scale="jac")
    noise_var = float(np.mean(pooled.fun[:n] ** 2))
    penalty = np.sqrt(max(noise_var, 1e-8)) / pressure_prior_sd
    solved = least_squares(residuals, pooled.x, jac=jacobian, method="trf", x_scale="jac")
    alpha, eta, kappa0, beta = unpack(solved.x)
    return CpmFit(
        intercept=pd.Series(alpha, index=ids),
        pressure=pd.Series(np.exp(kappa0 + eta), index=ids),
        index_elasticity=dict(zip(PRICE_INDICES, beta.tolist(), strict=True)),
        pooled_intercept=float(np.mean(alpha)),
        pooled_pressure=float(np.exp(kappa0)),
    )


def fit_conversions(rows: pd.DataFrame, shrinkage: float = 20.0) -> ConversionFit:
    """Ridge least squares of log conversions on log spend with campaign intercepts and campaign slopes shrunk
    towards the pooled slope (one linear solve)."""
    ids = np.sort(rows["campaign_id"].unique())
    c = pd.Index(ids).get_indexer(rows["campaign_id"])
    n, m = len(rows), len(ids)
    x = np.log(rows["spend"].to_numpy(float))
    x_centered = x - pd.Series(x).groupby(c).transform("mean").to_numpy()
    indices = PRICE_INDICES + DEMAND_INDICES
    logs = np.column_stack([np.log(rows[k].to_numpy(float)) for k in indices])
    y = np.log(rows["conversions"].to_numpy(float) + 0.5)
    dummies = sparse.csr_matrix((np.ones(n), (np.arange(n), c)), shape=(n, m))
    slopes = sparse.csr_matrix((x_centered, (np.arange(n), c)), shape=(n, m))
    design = sparse.hstack([dummies, slopes, sparse.csr_matrix(x_centered[:, None]), sparse.csr_matrix(logs)])
    ridge = sparse.hstack(
        [sparse.csr_matrix((m, m)), np.sqrt(shrinkage) * sparse.identity(m), sparse.csr_matrix((m, 1 + len(indices)))]
    )
    full = sparse.vstack([design, ridge]).tocsr()
    coef = lsqr(full, np.concatenate([y, np.zeros(m)]), atol=1e-12, btol=1e-12, iter_lim=20_000)[0]
    pooled = float(coef[2 * m])
    elasticity = np.clip(pooled + coef[m : 2 * m], 0.05, 1.0)
    mean_x = pd.Series(x).groupby(c).mean().reindex(range(m)).to_numpy()
    intercept = coef[:m] - elasticity * mean_x  # re-express on uncentred log spend
    return ConversionFit(
        intercept=pd.Series(intercept, index=ids),
        elasticity=pd.Series(elasticity, index=ids),
        index_elasticity=dict(zip(indices, coef[2 * m + 1 :].tolist(), strict=True)),
        pooled_intercept=float(np.mean(intercept)),
        pooled_elasticity=float(np.clip(pooled, 0.05, 1)),
    )
