"""Response curves for `pmi allocate`: fitted on the export's campaign-days, with posterior draws the optimiser
can use (the fitted ``ResponseCurves`` go to the optimiser as they are)."""

from __future__ import annotations

import numpy as np

from ml.allocation.portfolio.history import CampaignHistory
from ml.models.response import ResponseCurveSet, ResponseFitConfig, fit_response_curves
from ml.models.response.panel import WEEKDAY_COVARIATES
from ml.models.response.shape_range import DEFAULT_HILL_SHAPE_MAX
from ml.response_curves import ResponseCurves

MIN_CAMPAIGN_DAYS = 5  # days with spend below which a campaign's curve is too uncertain to move its budget
POSTERIOR_DRAWS = 400
WEEKDAY_MIN_DAYS = 14  # two of each weekday: the effects are shared by the whole portfolio, so a 21-day export has them
POOLING_ATTRIBUTES = ("network", "platform", "geo", "format", "creative_format")  # crossed effects, those present


def fittable(history: CampaignHistory) -> np.ndarray:
    """Campaigns with enough days of spend to fit a curve on."""
    return (history.days_with_spend() >= MIN_CAMPAIGN_DAYS).to_numpy()


def fit_curves(
    history: CampaignHistory, campaign_ids: np.ndarray, seed: int, hill_shape_max: float = DEFAULT_HILL_SHAPE_MAX
) -> ResponseCurveSet:
    """Fit the given campaigns' curves on their days with spend (nominal dollars: the export has no price index).

    ``hill_shape_max`` above 1 lets S-shaped curves in (benchmarks compare it; `pmi allocate` keeps the default).
    """
    daily = history.daily
    panel = daily.loc[
        daily["campaign_id"].isin(campaign_ids) & (daily["spend"] > 0), ["campaign_id", "date", "spend", "conversions"]
    ].reset_index(drop=True)
    panel["price_index"] = 1.0
    if panel["date"].nunique() >= WEEKDAY_MIN_DAYS:
        weekday = panel["date"].dt.dayofweek.to_numpy()
        for day, name in enumerate(WEEKDAY_COVARIATES, start=1):
            panel[name] = (weekday == day).astype(float)
    pool_by = tuple(c for c in POOLING_ATTRIBUTES if c in history.attributes.columns)
    campaigns = history.attributes.reset_index()[["campaign_id", *pool_by]] if pool_by else None
    config = ResponseFitConfig(
        n_draws=POSTERIOR_DRAWS, seed=seed, pool_by=pool_by, min_rows=MIN_CAMPAIGN_DAYS, hill_shape_max=hill_shape_max
    )
    return curves_for(fit_response_curves(panel, campaigns, config), campaign_ids)


def curves_for(fitted: ResponseCurveSet, campaign_ids: np.ndarray) -> ResponseCurveSet:
    """The curves of the given campaigns in that order, with draws the optimiser can use (see below)."""
    order = fitted.index_of(np.asarray(campaign_ids, dtype=object))
    subset = ResponseCurveSet(
        campaign_ids=fitted.campaign_ids[order],
        groups=fitted.groups[order],
        curves=fitted.curves.take(order),
        draws=fitted.draws[order],
        half_saturation_interval=fitted.half_saturation_interval[order],
        stats=fitted.stats.iloc[order].reset_index(drop=True),
        demand_effects=fitted.demand_effects,
        hyperparameters=fitted.hyperparameters,
        interval_level=fitted.interval_level,
    )
    return _with_sane_draws(subset)


MAX_DRAW_RATIO = 1e3  # a draw's level or spend scale this far from the point estimate is a degenerate posterior


def _with_sane_draws(fitted: ResponseCurveSet) -> ResponseCurveSet:
    """Replace draws the optimiser cannot use by the point curve: non-finite or non-positive parameters, level or
    spend scale more than ``MAX_DRAW_RATIO`` from the point estimate, and every draw of
    a campaign without a single conversion, whose Laplace posterior is degenerate (the level is unbounded below,
    so draws span dozens of orders of magnitude: seen 1e-39 to 1e28, an expected gain of -5.3e13)."""
    draws = fitted.draws.copy()
    point = np.column_stack([fitted.curves.scale, fitted.curves.spend_scale, fitted.curves.shape])[:, None, :]
    bad = ~(np.isfinite(draws).all(axis=2) & (draws[..., 0] > 0) & (draws[..., 1] > 0) & (draws[..., 2] > 0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in (0, 1):
            ratio = np.abs(np.log(draws[..., j] / point[..., j]))
            bad |= ~(ratio <= np.log(MAX_DRAW_RATIO))
    if "mean_conversions" in fitted.stats:
        bad |= (fitted.stats["mean_conversions"].to_numpy() == 0)[:, None]
    draws = np.where(bad[..., None], point, draws)
    fitted.draws = draws
    return fitted


def posterior_conversions(fitted: ResponseCurveSet, spend: np.ndarray) -> np.ndarray:
    """Expected daily conversions at each campaign's spend under every posterior draw: (campaigns, draws)."""
    n, d = fitted.draws.shape[:2]
    params = fitted.draws.reshape(n * d, 3)
    curves = ResponseCurves.build(np.repeat(fitted.curves.family, d), params[:, 0], params[:, 1], params[:, 2])
    return curves.value(np.repeat(np.asarray(spend, float), d)).reshape(n, d)
