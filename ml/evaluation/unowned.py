"""Campaign histories from response families and noise the simulator does not use, with their hidden truth.

The simulator draws concave Hill curves with Poisson/gamma-mixed counts; a benchmark built on it grades the
response model on its own assumptions. Here every campaign follows one of four families the fit was not written
for - S-shaped Hill (shape 1.3-2.5), exponential saturation ``1 - exp(-s/k)``, logarithmic growth and a logistic
threshold - with multiplicative weekday effects, negative-binomial daily conversions, gamma-distributed values per
conversion and spend histories that move as real budgets do (step changes, ramps, launches). Curvature has group
structure (network and format effects), as a real portfolio's siblings share saturation behaviour.

Each campaign's profit optimum is placed at a random multiple of its current spend (log-normal, sd ``spread``: 0.35
for a split someone already tuned, 0.8 for one set by rules of thumb), and its
value per conversion is set so that the marginal profit there is zero: some campaigns are over-spent, some
under-spent, and only the curve's elasticity at today's spend tells which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ml.economics.costs import CostConfig
from ml.evaluation.oracle import Bounds

KINDS = ("hill_s", "exponential", "log", "threshold")
FAMILIES = (*KINDS, "mixed")
NETWORKS = ("meta", "google", "tiktok", "snap", "unity")
PLATFORMS = ("ios", "android", "web")
GEOS = ("us", "gb", "de", "fr", "br", "in", "jp", "au")
FORMATS = ("video", "static", "carousel", "playable")
END_DATE = dt.date(2026, 11, 30)
MAX_CHANGE_PCT = 0.25
COSTS = CostConfig()


@dataclass(frozen=True)
class TrueCurves:
    """Expected conversions on an average day at a daily spend; ``shape`` is the Hill shape or the logistic width."""

    kind: np.ndarray
    scale: np.ndarray
    k: np.ndarray
    shape: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def value(self, spend: np.ndarray) -> np.ndarray:
        """Conversions per day, spend of shape (campaigns,) or (campaigns, points)."""
        s = np.maximum(np.asarray(spend, float), 0.0)
        col = (lambda a: a[:, None]) if s.ndim == 2 else (lambda a: a)
        kind, scale, k, shape = col(self.kind), col(self.scale), col(self.k), col(self.shape)
        x = s / k
        with np.errstate(divide="ignore", over="ignore"):
            hill = 1.0 / (1.0 + np.power(np.maximum(x, 1e-300), -shape))
        low = special.expit(-1.0 / shape)
        logistic = (special.expit((x - 1.0) / shape) - low) / (1.0 - low)
        out = np.select(
            [kind == "hill_s", kind == "exponential", kind == "log"], [hill, -np.expm1(-x), np.log1p(x)], logistic
        )
        return scale * np.where(s > 0, out, 0.0)

    def marginal(self, spend: np.ndarray, step: float = 1e-6) -> np.ndarray:
        """Extra conversions per dollar (central difference on log spend; exact enough for placing optima)."""
        s = np.asarray(spend, float)
        return (self.value(s * (1 + step)) - self.value(s * (1 - step))) / (2 * step * s)


@dataclass(frozen=True)
class Scenario:
    """One cell of the benchmark: the response family (or ``mixed``), history length, portfolio size and seed."""

    family: str
    days: int
    n_campaigns: int
    seed: int
    spread: float = 0.35  # sd of log(profit-optimal spend / today's spend): how far today's split is from the best

    @property
    def name(self) -> str:
        return f"{self.family}/{self.days}d/{self.n_campaigns}/spread {self.spread:g}"


@dataclass(frozen=True)
class HiddenHistory:
    """What drew the history besides the curves, which no export shows: the information ceiling's likelihood uses it."""

    current: np.ndarray  # today's daily budget (the last 7 days' mean spend before rounding)
    saturation_group: np.ndarray  # the network + format effect on log(optimum / curve scale k)
    weekday: np.ndarray  # (campaigns, 7) multiplicative weekday effects, mean 1, Monday first
    dispersion: np.ndarray  # negative-binomial size of daily conversions


@dataclass(frozen=True)
class ScenarioData:
    """What a user would hand `pmi allocate` (export, constraints) and what only the oracle may see (truth)."""

    scenario: Scenario
    export: pd.DataFrame  # date, campaign_id, spend, impressions, clicks, conversions, revenue, attributes
    constraints: pd.DataFrame  # campaign_id, min_budget, max_budget (NaN: none)
    truth: TrueCurves  # campaigns in sorted id order
    value_per_conversion: np.ndarray  # true expected value of a conversion, same order
    campaigns: pd.DataFrame  # campaign_id, has_agency, creative_production_cost, network, ...; same order
    hidden: HiddenHistory

    def daily(self, column: str) -> pd.DataFrame:
        """One export column as campaigns (the truth's order) x dates (parsed, ascending)."""
        table = self.export.pivot(index="campaign_id", columns="date", values=column).loc[self.campaigns["campaign_id"]]
        table.columns = pd.to_datetime(table.columns)
        return table

    def today_bounds(self) -> Bounds:
        """The constrained problem as a user states it: today's budgets (the last 7 days' mean spend of the export),
        their total rounded to the cent, the constraint file's bounds and the 25% change limit."""
        current = self.daily("spend").to_numpy(float)[:, -7:].mean(axis=1)
        return Bounds(
            float(np.round(current.sum(), 2)),
            current,
            self.constraints["min_budget"].to_numpy(float),
            self.constraints["max_budget"].to_numpy(float),
            MAX_CHANGE_PCT,
        )

    def true_profit(self, spend: np.ndarray) -> np.ndarray:
        """True expected daily profit per campaign (and per point for 2-D spend) with the costs pmi counts."""
        return self.profit(spend, self.truth.value)

    def profit(self, spend: np.ndarray, conversions: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Daily profit per campaign at the true values and costs, with expected conversions from ``conversions``
        (the truth's, or a belief's): what a split earns if the conversions are as given."""
        s = np.asarray(spend, float)
        col = (lambda a: a[:, None]) if s.ndim == 2 else (lambda a: a)
        multiplier = COSTS.cost_multiplier(self.campaigns["has_agency"].to_numpy())
        creative = self.campaigns["creative_production_cost"].to_numpy(float) / COSTS.creative_amortisation_days
        revenue = col(self.value_per_conversion) * conversions(s)
        return revenue - s * col(multiplier) - np.where(s > 0, col(creative), 0.0)


def optimum_in_curve_units(
    kind: np.ndarray, shape: np.ndarray, saturation_group: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Where (in x = spend / k) each campaign's profit optimum sits: always on the concave part of its curve,
    further in or out by its network and format (``saturation_group``) and a little noise of its own. The generator
    and the information ceiling's prior both draw from here."""
    u = rng.uniform(size=len(kind))
    base = np.select(
        [kind == "hill_s", kind == "exponential", kind == "log"],
        [1.0 + 2.0 * u, 0.3 + 2.2 * u, 0.5 + 3.5 * u],
        1.0 + shape * (2.0 + 2.0 * u),
    )
    x_opt = base * np.exp(np.clip(saturation_group + rng.normal(0, 0.1, len(kind)), -0.5, 0.5))
    return np.maximum(x_opt, np.where(kind == "threshold", 1.0 + 1.2 * shape, np.where(kind == "hill_s", 1.0, 0.2)))


def _spend_paths(current: np.ndarray, days: int, rng: np.random.Generator) -> np.ndarray:
    """Daily spend per campaign ending near ``current``: step changes, ramps or a launch ramp, with pacing noise."""
    n = len(current)
    t = np.arange(days)[None, :] / max(days - 1, 1)
    pattern = rng.integers(3, size=n)[:, None]
    start = np.exp(rng.uniform(-0.7, 0.7, size=(n, 1)))
    ramp_end = rng.uniform(0.5, 1.0, size=(n, 1))
    ramp = np.exp(np.log(start) * np.clip(1.0 - t / ramp_end, 0.0, 1.0))
    breaks = np.sort(rng.uniform(0.1, 0.9, size=(n, 3)), axis=1)
    levels = np.exp(rng.uniform(-0.6, 0.6, size=(n, 3)))
    steps = np.ones((n, days))
    for j in range(3):  # three step changes at most; the last level is today's
        steps = np.where(t < breaks[:, [j]], steps * levels[:, [j]], steps)
    steps = np.where(rng.uniform(size=(n, 1)) < 0.3, np.ones((n, days)), steps)  # some budgets never moved
    path = np.select([pattern == 0, pattern == 1], [ramp, steps], 1.0 / ramp)
    noisy = path * np.exp(rng.normal(0.0, 0.12, size=(n, days)))
    return current[:, None] * noisy / noisy[:, -7:].mean(axis=1, keepdims=True)


def draw_scenario(scenario: Scenario) -> ScenarioData:
    """Draw one portfolio, its true curves and values, and the daily export of its history."""
    rng = np.random.default_rng([scenario.seed, FAMILIES.index(scenario.family), scenario.days, scenario.n_campaigns])
    n, days = scenario.n_campaigns, scenario.days
    ids = np.array([f"c{i:03d}" for i in range(n)], dtype=object)
    network, fmt = rng.integers(len(NETWORKS), size=n), rng.integers(len(FORMATS), size=n)
    kind = rng.choice(KINDS, size=n) if scenario.family == "mixed" else np.full(n, scenario.family)
    shape = np.where(
        kind == "hill_s", rng.uniform(1.3, 2.5, n), np.where(kind == "threshold", rng.uniform(0.15, 0.35, n), 1.0)
    )
    # group structure: how far into its curve a campaign's optimum sits depends on network and format
    group = rng.normal(0, 0.3, len(NETWORKS))[network] + rng.normal(0, 0.2, len(FORMATS))[fmt]
    x_opt = optimum_in_curve_units(kind, shape, group, rng)
    current = np.exp(rng.normal(np.log(250.0), 0.8, n))  # today's daily budget
    optimum = current * np.exp(scenario.spread * rng.standard_normal(n))
    k = optimum / x_opt
    unit = TrueCurves(kind, np.ones(n), k, shape)
    scale = np.exp(rng.normal(np.log(12.0), 0.7, n)) / unit.value(current)  # 12 conversions a day is typical
    truth = TrueCurves(kind, scale, k, shape)
    has_agency = rng.uniform(size=n) < 0.3
    creative = np.round(rng.uniform(0, 3000, n) * (rng.uniform(size=n) < 0.5), 2)
    value = COSTS.cost_multiplier(has_agency) / truth.marginal(optimum)  # the profit optimum is at `optimum`

    spend = np.round(_spend_paths(current, days, rng), 2)
    weekday_portfolio = np.exp(rng.normal(0.0, 0.12, 7))
    weekday = weekday_portfolio[None, :] * np.exp(rng.normal(0.0, 0.05, (n, 7)))
    weekday /= weekday.mean(axis=1, keepdims=True)
    dates = pd.date_range(end=pd.Timestamp(END_DATE), periods=days, freq="D")
    mean = weekday[:, dates.dayofweek] * truth.value(spend)
    dispersion = rng.uniform(3.0, 30.0, n)[:, None]
    conversions = rng.negative_binomial(dispersion, dispersion / (dispersion + mean))
    value_cv = 1.2  # one conversion's value: gamma with this coefficient of variation around the campaign's mean
    revenue = np.where(
        conversions > 0, rng.gamma(np.maximum(conversions, 1) / value_cv**2) * value[:, None] * value_cv**2, 0.0
    )
    cpm = np.exp(rng.normal(np.log(8.0), 0.4, n))[:, None]
    impressions = rng.poisson(spend / cpm * 1000.0)
    clicks = np.minimum(
        np.maximum(rng.binomial(impressions, rng.uniform(0.005, 0.03, (n, 1))), conversions), impressions
    )

    campaigns = pd.DataFrame(
        {
            "campaign_id": ids,
            "network": np.array(NETWORKS)[network],
            "platform": rng.choice(PLATFORMS, n),
            "geo": rng.choice(GEOS, n),
            "format": np.array(FORMATS)[fmt],
            "has_agency": has_agency,
            "creative_production_cost": creative,
        }
    )
    export = pd.DataFrame(
        {
            "date": np.tile(dates.strftime("%Y-%m-%d"), n),
            "campaign_id": np.repeat(ids, days),
            "spend": spend.ravel(),
            "impressions": impressions.ravel(),
            "clicks": clicks.ravel(),
            "conversions": conversions.ravel(),
            "revenue": np.round(revenue.ravel(), 2),
        }
    ).merge(campaigns, on="campaign_id")
    hidden = HiddenHistory(current, group, weekday, dispersion[:, 0])
    return ScenarioData(scenario, export, _constraints(ids, spend, rng), truth, value, campaigns, hidden)


def _constraints(ids: np.ndarray, spend: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Per-campaign bounds a user would set around today's budget (30% get a floor, 30% a ceiling)."""
    current = spend[:, -7:].mean(axis=1)
    n = len(ids)
    floor = np.where(rng.uniform(size=n) < 0.3, np.floor(current * rng.uniform(0.8, 0.95, n) * 100) / 100, np.nan)
    ceiling = np.where(rng.uniform(size=n) < 0.3, np.ceil(current * rng.uniform(1.05, 1.2, n) * 100) / 100, np.nan)
    return pd.DataFrame({"campaign_id": ids, "min_budget": floor, "max_budget": ceiling})
