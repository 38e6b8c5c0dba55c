"""Hourly delivery: budgets become spend, spend becomes impressions through a dynamic CPM, and
impressions become clicks and conversions through CTR/CVR that fall as the audience saturates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.simulation import catalog
from ml.simulation.config import SimulationConfig

HOUR_SHARE = np.asarray(catalog.HOUR_OF_DAY_SHARE) / np.sum(catalog.HOUR_OF_DAY_SHARE)
DOW_FACTOR = np.asarray(catalog.DAY_OF_WEEK_FACTOR)
PACING_NOISE_SD = 0.10
CONVERSION_DISPERSION_SHAPE = 25.0  # gamma shape of hourly CVR noise: negative-binomial-like counts
MAX_CVR = 0.5


@dataclass(frozen=True)
class DayContext:
    """What the world looks like on each simulated day, per campaign: arrays of shape (campaigns, days)."""

    daily_budget: np.ndarray
    days_since_launch: np.ndarray
    market: dict[str, np.ndarray]
    day_of_week: np.ndarray  # (days,) Monday=0
    years_since_start: np.ndarray  # (days,)


def demand_multiplier(truth: pd.DataFrame, ctx: DayContext) -> np.ndarray:
    """Audience demand per campaign-day: weekday, season, trend, creative fatigue, economy and sentiment."""
    age = np.maximum(ctx.days_since_launch, 0)
    refresh = truth["creative_refresh_days"].to_numpy()[:, None]
    fatigue_max = truth["fatigue_max"].to_numpy()[:, None]
    creative_age = np.mod(age, refresh)
    fatigue = 1.0 - fatigue_max * (1.0 - np.exp(-creative_age / (refresh / 3.0)))
    trend = 1.0 + truth["trend_per_year"].to_numpy()[:, None] * ctx.years_since_start[None, :]
    m = ctx.market
    return (
        DOW_FACTOR[ctx.day_of_week][None, :]
        * m["seasonality_index"]
        * np.maximum(trend, 0.2)
        * fatigue
        * np.sqrt(m["economic_index"])
        * np.power(m["sentiment_index"], 0.3)
    )


def price_multiplier(config: SimulationConfig, ctx: DayContext) -> np.ndarray:
    """How much more a dollar costs than in a neutral market (CPM trend and competition)."""
    return ctx.market["cpm_index"] * np.power(ctx.market["competition_index"], config.competition_elasticity)


def simulate_hours(
    config: SimulationConfig, truth: pd.DataFrame, ctx: DayContext, hours: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Simulate the given hours of day (ints 0..23) on every day of ``ctx``; arrays of shape (campaigns, days, hours).

    Expected conversions in an hour equal the hour's share of the true daily Hill response evaluated at the
    day-equivalent, price-deflated spend, times the demand multiplier; counts are drawn so that
    conversions <= clicks <= impressions always hold.
    """
    share = HOUR_SHARE[hours][None, None, :]
    budget = ctx.daily_budget[:, :, None]
    live = (ctx.days_since_launch >= 0)[:, :, None]
    pacing = rng.lognormal(-(PACING_NOISE_SD**2) / 2, PACING_NOISE_SD, size=budget.shape[:2] + (len(hours),))
    spend = np.round(np.where(live, budget * share * pacing, 0.0), 2)

    price = price_multiplier(config, ctx)[:, :, None]
    day_rate = spend / share  # spend per day if the hour's pace held all day
    effective = day_rate / price
    k = truth["half_saturation_spend"].to_numpy()[:, None, None]
    shape = truth["hill_shape"].to_numpy()[:, None, None]
    ratio = np.power(effective / k, shape)
    saturation = ratio / (1.0 + ratio)
    expected_conv = (
        share
        * demand_multiplier(truth, ctx)[:, :, None]
        * truth["max_daily_conversions"].to_numpy()[:, None, None]
        * saturation
    )

    inventory = truth["inventory_daily_spend"].to_numpy()[:, None, None]
    cpm = truth["cpm_base"].to_numpy()[:, None, None] * price * (1.0 + config.inventory_pressure * day_rate / inventory)
    expected_impressions = spend / cpm * 1000.0
    ctr = truth["ctr_base"].to_numpy()[:, None, None] * (1.0 - 0.35 * saturation)
    with np.errstate(divide="ignore", invalid="ignore"):
        cvr = np.where(expected_impressions > 0, expected_conv / (expected_impressions * ctr), 0.0)
    cvr = np.clip(cvr, 0.0, MAX_CVR)

    impressions = rng.poisson(expected_impressions)
    clicks = rng.binomial(impressions, ctr)
    noisy_cvr = np.clip(
        cvr * rng.gamma(CONVERSION_DISPERSION_SHAPE, 1.0 / CONVERSION_DISPERSION_SHAPE, cvr.shape), 0.0, 0.95
    )
    conversions = rng.binomial(clicks, noisy_cvr)
    return {
        "spend": spend,
        "impressions": impressions,
        "clicks": clicks,
        "conversions": conversions,
        "live": np.broadcast_to(live, spend.shape),
    }
