"""Fit a response curve per campaign: quasi-Poisson MAP with pooled priors, family chosen by AIC, Laplace draws.

Steps: (1) unpooled Hill fits alternating with portfolio-wide demand effects (weekday, market indices), and
each campaign's over-dispersion; (2) empirical-Bayes priors: the Hill shape from the portfolio's pooled
likelihood profiles, log(spend_scale / reference spend) with crossed effects of every pooling attribute present
(``pool_by``: network, platform, geo, format ...; ``pooling.crossed_prior``); (3) MAP refits of every family
under those priors, chosen by quasi-AIC (or by held-out weeks, ``family_choice="cv"``, ``selection.py``);
(4) ``n_draws`` Laplace posterior samples per campaign.

Hill is the reference family: its parameters carry the pooled priors and mean the same thing in every
campaign, and within the observed spend range the three families are often indistinguishable (quasi-AIC
gaps below 1) while their half-saturation points differ by a factor of several. An alternative therefore
replaces Hill only when it is better by more than ``hill_preference`` quasi-AIC units (2, the conventional
"substantially better" margin); set it to 0 for a plain lowest-AIC choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from ml.models.insufficient import InsufficientDataError
from ml.models.response.estimation import (
    CampaignData,
    FamilyFit,
    Prior,
    fit_family,
    hac_dispersion,
    log_mean,
    natural_parameters,
    poisson_deviance,
)
from ml.models.response.panel import campaign_factors, campaign_groups, covariate_columns
from ml.models.response.pooling import crossed_prior, demand_coefficients, likelihood_only, pooled_shape_prior
from ml.models.response.posterior import hill_grid_posterior, laplace_posterior
from ml.models.response.result import ResponseCurveSet
from ml.models.response.selection import heldout_scores
from ml.models.response.shape_range import DEFAULT_HILL_SHAPE_MAX, hill_logit, hill_shape_range
from ml.response_curves import FAMILY_NAMES, CurveFamily, ResponseCurves

LEVEL_PRIOR_PRECISION = 1e-4
HILL = CurveFamily.HILL


class ResponseFitConfig(BaseModel):
    """Modelling choices of the response-curve fit."""

    families: tuple[str, ...] = FAMILY_NAMES
    n_draws: int = Field(200, ge=1)
    interval_level: float = Field(0.9, gt=0, lt=1)
    pool_by: tuple[str, ...] = ("network", "platform")
    demand_covariates: bool = True
    demand_rounds: int = Field(2, ge=0, description="Alternations between curves and shared demand effects.")
    dispersion_bandwidth_days: int = Field(14, ge=0, description="Newey-West lag window; 0 for undated rows.")
    weak_prior_sd: float = Field(1.5, gt=0, description="Unpooled prior sd of log(spend_scale / mean spend).")
    hill_shape_prior: float = Field(
        0.8, gt=0, description="Unpooled prior mean of the Hill shape (below hill_shape_max)."
    )
    hill_shape_max: float = Field(
        DEFAULT_HILL_SHAPE_MAX,
        ge=1.0,
        le=5.0,
        description="Largest Hill shape the fit may take; above 1 it can find S-shaped (thresholded) curves.",
    )
    prior_sd_floor: float = Field(0.5, gt=0, description="Floor of the pooled log-k prior sd (EB underestimates it).")
    shape_prior_max_concentration: float = Field(10.0, gt=1, description="Cap on a + b of the Beta shape prior.")
    shape_grid: tuple[float, float] | None = Field(
        None, description="Hill shapes the profiles and the grid posterior span; default (0.2, 0.995 x hill_shape_max)."
    )
    shape_grid_points: int = Field(16, ge=4)
    hill_preference: float = Field(2.0, ge=0, description="Quasi-AIC margin an alternative must beat Hill by.")
    family_choice: str = Field("aic", pattern="^(aic|cv)$", description="In-sample quasi-AIC or held-out weeks.")
    min_rows: int = Field(3, ge=1)
    seed: int = 0


@dataclass(frozen=True)
class _Campaign:
    campaign_id: str
    rows: np.ndarray  # positions in the panel
    data: CampaignData


def _campaign_arrays(panel: pd.DataFrame, min_rows: int) -> list[_Campaign]:
    """Per-campaign arrays of spend relative to the campaign's mean spend (deflated by the price index)."""
    spend = panel["spend"].to_numpy(float) / panel.get("price_index", pd.Series(1.0, index=panel.index)).to_numpy()
    out = []
    for cid, rows in panel.groupby("campaign_id", sort=True).indices.items():
        if len(rows) < min_rows:
            continue
        reference = float(np.mean(spend[rows]))
        out.append(
            _Campaign(
                str(cid),
                rows,
                CampaignData(
                    spend[rows] / reference, panel["conversions"].to_numpy(float)[rows], np.zeros(len(rows)), reference
                ),
            )
        )
    return out


def _weak_prior(config: ResponseFitConfig) -> Prior:
    """Unpooled prior: spend_scale near the campaign's typical spend, shape around ``hill_shape_prior`` (Beta,
    a + b = 2)."""
    m = config.hill_shape_prior / config.hill_shape_max  # the Beta is on the shape's share of its range
    return Prior(np.zeros(2), np.array([LEVEL_PRIOR_PRECISION, config.weak_prior_sd**-2]), 2.0 * m, 2.0 * (1.0 - m))


def _with_offset(data: CampaignData, offset: np.ndarray) -> CampaignData:
    return CampaignData(data.u, data.conversions, offset, data.reference_spend)


def _centered_design(panel: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Covariates centred within campaign, so each curve describes an average day of its own window."""
    if not columns:
        return np.zeros((len(panel), 0))
    values = panel[columns].astype(float)
    return (values - values.groupby(panel["campaign_id"]).transform("mean")).to_numpy()


def _quasi_aic(fit: FamilyFit, dispersion: float) -> float:
    """AIC on the dispersion-scaled likelihood with prior-shrunk (effective) parameter counts."""
    return 2.0 * fit.neg_log_lik / dispersion + 2.0 * fit.effective_params


def _demand_rounds(
    cells: list[_Campaign], design: np.ndarray, conversions: np.ndarray, weak: Prior, anchor: CurveFamily, rounds: int
) -> tuple[list[_Campaign], np.ndarray, list[FamilyFit]]:
    """Alternate unpooled anchor-family curves and shared demand effects; return offsets, effects and fits."""
    beta = np.zeros(design.shape[1])
    for round_ in range(rounds + 1):
        cells = [_Campaign(c.campaign_id, c.rows, _with_offset(c.data, design[c.rows] @ beta)) for c in cells]
        fits = [fit_family(anchor, c.data, weak, log_k_starts=(0.0,)) for c in cells]
        if round_ == rounds or design.shape[1] == 0:
            return cells, beta, fits
        rows = np.concatenate([c.rows for c in cells])
        curve_log_mu = np.concatenate(
            [
                log_mean(anchor, _with_offset(c.data, np.zeros(len(c.rows))), f.theta)[0]
                for c, f in zip(cells, fits, strict=True)
            ]
        )
        beta = demand_coefficients(design[rows], conversions[rows], curve_log_mu)
    raise AssertionError("unreachable")


def _shape_grid(config: ResponseFitConfig) -> np.ndarray:
    """Logit Hill shapes at which likelihood profiles and the nested-Laplace posterior are evaluated."""
    bounds = config.shape_grid or (0.2, 0.995 * config.hill_shape_max)
    return np.linspace(*hill_logit(bounds), config.shape_grid_points)


def _shape_prior(
    cells: list[_Campaign], weak: Prior, dispersion: np.ndarray, config: ResponseFitConfig
) -> tuple[float, float]:
    """Portfolio Beta prior on the Hill shape from per-campaign Laplace-marginal likelihood profiles."""
    grid = _shape_grid(config)
    profile = np.empty((len(cells), len(grid)))
    for i, cell in enumerate(cells):
        fit = None
        for g, eta in enumerate(grid):  # warm-started along the grid: the optimum moves smoothly with the shape
            fit = fit_family(
                HILL,
                cell.data,
                weak,
                dispersion[i],
                fixed_shape=float(eta),
                log_k_starts=(0.0, -1.0, 1.0) if fit is None else (0.0,),
                start=None if fit is None else fit.theta,
            )
            _, log_det = np.linalg.slogdet(fit.covariance[:2, :2])
            profile[i, g] = -fit.penalised + float(weak.shape_penalty(eta)) + 0.5 * log_det  # likelihood only
    return pooled_shape_prior(grid, profile, config.shape_prior_max_concentration)


def _log_k_priors(
    cells: list[_Campaign],
    factors: np.ndarray,
    weak: Prior,
    shape_prior: tuple[float, float],
    dispersion: np.ndarray,
    families: tuple[CurveFamily, ...],
    config: ResponseFitConfig,
    hyper: dict[str, float],
) -> dict[CurveFamily, list[Prior]]:
    """Per family, each campaign's prior: pooled log relative half-saturation, portfolio Hill shape."""
    priors: dict[CurveFamily, list[Prior]] = {}
    for family in families:
        unpooled_prior = Prior(weak.mean, weak.precision, *shape_prior)
        fits = [fit_family(family, c.data, unpooled_prior, phi) for c, phi in zip(cells, dispersion, strict=True)]
        est = np.array([f.theta[1] for f in fits])
        var = np.array([f.covariance[1, 1] for f in fits])
        lik_mean, lik_var = likelihood_only(est, var, weak.mean[1], weak.precision[1])
        pooled = crossed_prior(lik_mean, lik_var, factors, config.prior_sd_floor, weak.mean[1], config.weak_prior_sd)
        hyper.update(
            {
                f"{family}_log_k_portfolio_mean": pooled.portfolio_mean,
                f"{family}_log_k_group_sd": pooled.group_sd,
                f"{family}_log_k_campaign_sd": pooled.campaign_sd,
            }
        )
        priors[family] = [
            Prior(np.array([0.0, m]), np.array([LEVEL_PRIOR_PRECISION, sd**-2.0]), *shape_prior)
            for m, sd in zip(pooled.mean, pooled.sd, strict=True)
        ]
    return priors


def fit_response_curves(
    panel: pd.DataFrame, campaigns: pd.DataFrame | None = None, config: ResponseFitConfig | None = None
) -> ResponseCurveSet:
    """Fit every campaign of a daily panel (see :func:`ml.models.response.panel.daily_panel`).

    ``panel`` needs ``campaign_id``, ``spend`` and ``conversions``; ``price_index`` deflates spend and
    covariate columns become shared demand effects. ``campaigns`` supplies the pooling attributes. Hill shapes
    stay below ``config.hill_shape_max`` throughout the fit.
    """
    config = config or ResponseFitConfig()
    with hill_shape_range(config.hill_shape_max):
        return _fit_in_shape_range(panel, campaigns, config)


def _fit_in_shape_range(
    panel: pd.DataFrame, campaigns: pd.DataFrame | None, config: ResponseFitConfig
) -> ResponseCurveSet:
    """The fit itself, with the Hill shape range already applied."""
    elasticity = panel.attrs.get("competition_elasticity")  # what the panel's spend was deflated with
    panel = panel[panel["spend"] > 0]  # no spend, no information about the curve (and zero expected conversions)
    panel = panel.sort_values([c for c in ("campaign_id", "date") if c in panel.columns]).reset_index(drop=True)
    bandwidth = config.dispersion_bandwidth_days if "date" in panel.columns else 0
    cells = _campaign_arrays(panel, config.min_rows)
    if not cells:
        raise InsufficientDataError(
            f"no campaign has {config.min_rows} complete days with spend; a response curve needs them"
        )
    ids = np.array([c.campaign_id for c in cells], dtype=object)
    groups = campaign_groups(ids, campaigns, config.pool_by)
    cov_cols = covariate_columns(panel) if config.demand_covariates else []
    weak = _weak_prior(config)
    families = tuple(f for f in CurveFamily if str(f) in config.families)

    cells, beta, anchor_fits = _demand_rounds(
        cells, _centered_design(panel, cov_cols), panel["conversions"].to_numpy(float), weak, HILL, config.demand_rounds
    )
    dispersion = np.array(
        [hac_dispersion(HILL, c.data, f.theta, bandwidth) for c, f in zip(cells, anchor_fits, strict=True)]
    )
    shape_prior = _shape_prior(cells, weak, dispersion, config) if HILL in families else (weak.shape_a, weak.shape_b)
    hyper = {"hill_shape_prior_a": shape_prior[0], "hill_shape_prior_b": shape_prior[1]}
    if elasticity is not None:
        hyper["competition_elasticity"] = float(elasticity)
    priors = _log_k_priors(
        cells, campaign_factors(ids, campaigns, config.pool_by), weak, shape_prior, dispersion, families, config, hyper
    )

    rng = np.random.default_rng(config.seed)
    grid = _shape_grid(config)
    chosen, draws, intervals, rows_out = [], [], [], []
    for i, cell in enumerate(cells):
        fits = {f: fit_family(f, cell.data, priors[f][i], dispersion[i]) for f in families}
        aic = {f: _quasi_aic(fits[f], dispersion[i]) for f in families}
        score = aic  # quasi-AIC, or twice the held-out quasi-log-likelihood loss (the same units)
        if config.family_choice == "cv" and len(families) > 1:
            held = heldout_scores(cell.data, fits, {f: priors[f][i] for f in families}, dispersion[i])
            score = {f: 2.0 * held[f] for f in families}
        best = fits[min(families, key=lambda f: score[f] - config.hill_preference * (f == HILL))]
        chosen.append(best)
        posterior = (
            hill_grid_posterior(cell.data, priors[HILL][i], dispersion[i], grid, best)
            if best.family == HILL
            else laplace_posterior(best)
        )
        draws.append(
            np.column_stack(
                natural_parameters(best.family, posterior.sample(rng, config.n_draws), cell.data.reference_spend)
            )
        )
        tail = (1.0 - config.interval_level) / 2.0
        spend_scale_bounds = cell.data.reference_spend * np.exp(
            [posterior.quantile(1, tail), posterior.quantile(1, 1 - tail)]
        )
        intervals.append(ResponseCurves.build(best.family, np.ones(2), spend_scale_bounds).half_saturation_spend)
        rows_out.append(_stats_row(cell, best, aic, dispersion[i], priors[best.family][i], posterior.marginal_sd(1)))

    point = [natural_parameters(f.family, f.theta, c.data.reference_spend) for f, c in zip(chosen, cells, strict=True)]
    curves = ResponseCurves.build([f.family for f in chosen], *(np.array([p[j][0] for p in point]) for j in range(3)))
    return ResponseCurveSet(
        campaign_ids=ids,
        groups=groups,
        curves=curves,
        draws=np.stack(draws),
        half_saturation_interval=np.array(intervals),
        stats=pd.DataFrame(rows_out),
        demand_effects=dict(zip(cov_cols, map(float, beta), strict=True)),
        hyperparameters={k: float(v) for k, v in hyper.items()},
        interval_level=config.interval_level,
    )


def _stats_row(
    cell: _Campaign, best: FamilyFit, aic: dict[CurveFamily, float], dispersion: float, prior: Prior, log_k_sd: float
) -> dict[str, float | int | str | bool]:
    """Fit statistics of one campaign; deviance explained is against a constant daily mean."""
    data = cell.data
    y = data.conversions
    null = poisson_deviance(y, np.full(len(y), max(y.mean(), 1e-9)))
    row: dict[str, float | int | str | bool] = {
        "n_obs": len(y),
        "reference_spend": data.reference_spend,
        "spend_cv": float(np.std(data.u)),
        "mean_conversions": float(y.mean()),
        "dispersion": dispersion,
        "deviance_explained": 1.0 - best.deviance / null if null > 1e-6 else float("nan"),
        "effective_params": best.effective_params,
        "log_k_prior_mean": float(prior.mean[1]),
        "log_k_prior_sd": float(prior.precision[1] ** -0.5),
        "log_k_posterior_sd": log_k_sd,
        "converged": best.converged,
    }
    row.update({f"aic_{f}": aic.get(f, np.nan) for f in CurveFamily})
    return row
