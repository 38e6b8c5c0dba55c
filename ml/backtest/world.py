"""The simulated world of a backtest: a backfilled history, then one day at a time under whatever budgets a policy sets.

Delivery reuses the simulator's hourly model (pacing, dynamic CPM, Hill response, over-dispersed counts). Every
policy meets the same random numbers on the same day (common random numbers), and each campaign's users take
their values, in order, from one seeded stream per campaign, so policies differ by their budgets, not by luck.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.backtest.config import BacktestConfig
from ml.economics.costs import CostConfig
from ml.optimize import PortfolioProblem, optimize_portfolio
from ml.response_curves import ResponseCurves
from ml.simulation import SimulationConfig
from ml.simulation.backfill import day_context, simulate_backfill
from ml.simulation.delivery import (
    HOUR_SHARE,
    PACING_NOISE_SD,
    DayContext,
    demand_multiplier,
    price_multiplier,
    simulate_hours,
)
from ml.simulation.frames import SimulationFrames
from ml.simulation.market import market_daily
from ml.simulation.portfolio import draw_portfolio

HOURS = np.arange(24)
CENT_ROUNDING_SLACK = 0.005 * len(HOURS)  # hourly spends are rounded to cents


@dataclass(frozen=True)
class DayOutcome:
    """What one day of delivery produced per campaign (arrays in portfolio order)."""

    spend: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray  # the acquired users' full (180-day) value
    cost: np.ndarray  # total cost: media, overhead, agency fee, amortised creative
    value_offset: np.ndarray  # users consumed from each campaign's value stream so far


class World:
    """History, market feed, truth and the drift event of one seed; `deliver` simulates one day for any budgets."""

    def __init__(self, config: BacktestConfig, costs: CostConfig | None = None) -> None:
        self.config = config
        self.costs = costs or CostConfig()
        self.sim = SimulationConfig(
            n_campaigns=config.n_campaigns, days=config.history_days, seed=config.seed, end_date=config.end_of_history
        )
        self.history: SimulationFrames = simulate_backfill(self.sim)
        portfolio = draw_portfolio(self.sim)
        self.campaigns = portfolio.campaigns
        self.truth = portfolio.truth
        last = config.end_of_history + dt.timedelta(days=config.days)
        self.market = market_daily(config.seed, self.sim.start_date, last)
        self.dates = pd.date_range(config.end_of_history, periods=config.days, freq="D")
        offsets = config.history_days + np.arange(config.days)
        self._ctx = day_context(self.sim, portfolio, self.market, np.ones((self.n, config.days)), offsets)
        self.drifted = self._drifted_campaigns()
        self._value_cumsum = self._value_streams()

    @property
    def n(self) -> int:
        return self.config.n_campaigns

    def _drifted_campaigns(self) -> np.ndarray:
        """The campaigns the drift hits: the one a true-curve optimum spends most on (saturation), so the drift
        matters to any policy that allocates well, or that campaign's whole network (CPM shock)."""
        mask = np.zeros(self.n, dtype=bool)
        if self.config.drift == "none":
            return mask
        max_conv, half_sat, shape = self.true_curves(0)
        costs = self.costs
        problem = PortfolioProblem(
            total_budget=float(self.static_budgets().sum()),
            current_budget=self.static_budgets(),
            curves=ResponseCurves.hill(max_conv, half_sat, shape),
            value_per_conversion=self.truth["expected_value_per_user"].to_numpy(float),
            has_agency=self.campaigns["has_agency"].to_numpy(bool),
            creative_production_cost=self.campaigns["creative_production_cost"].to_numpy(float),
            max_change_pct=np.inf,
            overhead_pct=costs.overhead_pct,
            agency_fee_pct=costs.agency_fee_pct,
            amortisation_days=costs.creative_amortisation_days,
        )
        biggest = int(np.argmax(optimize_portfolio(problem, "profit").daily_budget))
        if self.config.drift == "audience_saturation":
            mask[biggest] = True
        else:
            mask = self.campaigns["network"].to_numpy() == self.campaigns["network"].iloc[biggest]
        return mask

    def drift_active(self, day: int) -> bool:
        return self.config.drift != "none" and day >= self.config.drift_day

    def static_budgets(self) -> np.ndarray:
        """The historical split: each campaign's mean daily spend over the last 7 days of history."""
        hourly = self.history.raw["campaign_hourly"]
        recent = hourly[hourly["hour_ts"] >= pd.Timestamp(self.config.end_of_history) - pd.Timedelta(days=7)]
        spend = recent.groupby("campaign_id")["spend"].sum() / 7.0
        return spend.reindex(self.campaigns["campaign_id"], fill_value=0.0).to_numpy(float)

    def true_curves(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The day's true Hill curve per campaign in nominal dollars: (max conversions, half-saturation, shape)."""
        demand = demand_multiplier(self.truth, self._day_ctx(day, np.zeros(self.n)))[:, 0]
        price = self._price(day)
        max_conv, half_sat = self._truth_today(day)
        return max_conv * demand, half_sat * price, self.truth["hill_shape"].to_numpy(float)

    def expected_revenue(self, day: int, spend: np.ndarray) -> np.ndarray:
        """Expected value of the users a day's spend buys on the true daily curves (no draw of who converts or what
        a user is worth): profit without the heavy-tailed user-value noise that dominates one seed's difference."""
        from ml.response_curves import ResponseCurves  # the optimiser's Hill curve, so both read the truth alike

        max_conv, half_sat, shape = self.true_curves(day)
        conversions = ResponseCurves.hill(max_conv, half_sat, shape).value(np.asarray(spend, float))
        return conversions * self.truth["expected_value_per_user"].to_numpy(float)

    def _truth_today(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Max conversions and half-saturation spend, shrunk for the saturating audience after the drift."""
        max_conv = self.truth["max_daily_conversions"].to_numpy(float).copy()
        half_sat = self.truth["half_saturation_spend"].to_numpy(float).copy()
        if self.drift_active(day) and self.config.drift == "audience_saturation":
            max_conv[self.drifted] *= self.config.drift_factor
            half_sat[self.drifted] *= self.config.drift_factor
        return max_conv, half_sat

    def _price(self, day: int) -> np.ndarray:
        return price_multiplier(self.sim, self._day_ctx(day, np.zeros(self.n)))[:, 0]

    def _day_ctx(self, day: int, budgets: np.ndarray) -> DayContext:
        """The simulator's context for one loop day; a CPM shock raises prices the market feed does not show."""
        market = {k: v[:, [day]].copy() for k, v in self._ctx.market.items()}
        if self.drift_active(day) and self.config.drift == "cpm_shock":
            market["cpm_index"][self.drifted] /= self.config.drift_factor
        return DayContext(
            daily_budget=np.asarray(budgets, float)[:, None],
            days_since_launch=self._ctx.days_since_launch[:, [day]],
            market=market,
            day_of_week=self._ctx.day_of_week[[day]],
            years_since_start=self._ctx.years_since_start[[day]],
        )

    def deliver(self, day: int, budgets: np.ndarray, value_offset: np.ndarray) -> DayOutcome:
        """Spend the day's budgets hour by hour; pacing slows down so no campaign spends above its budget."""
        budgets = np.asarray(budgets, float)
        rng_key = [self.config.seed, 31, day]
        pacing = np.random.default_rng(rng_key).lognormal(
            -(PACING_NOISE_SD**2) / 2, PACING_NOISE_SD, size=(self.n, 1, len(HOURS))
        )
        pace = (HOUR_SHARE[None, None, :] * pacing).sum(axis=2)[:, 0]
        paced = np.maximum(budgets - CENT_ROUNDING_SLACK, 0.0) / np.maximum(pace, 1.0)
        truth = self.truth
        if self.drift_active(day) and self.config.drift == "audience_saturation":
            max_conv, half_sat = self._truth_today(day)
            truth = truth.assign(max_daily_conversions=max_conv, half_saturation_spend=half_sat)
        cells = simulate_hours(self.sim, truth, self._day_ctx(day, paced), HOURS, np.random.default_rng(rng_key))
        spend = cells["spend"][:, 0, :].sum(axis=1)
        conversions = cells["conversions"][:, 0, :].sum(axis=1)
        end = value_offset + conversions
        revenue = self._users_value(value_offset, end)
        cost = self.costs.total_cost(
            spend,
            self.campaigns["has_agency"].to_numpy(bool),
            self.campaigns["creative_production_cost"].to_numpy(float),
        )
        return DayOutcome(spend=spend, conversions=conversions, revenue=revenue, cost=cost, value_offset=end)

    def _value_streams(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each campaign's future users' values (payer share x log-normal, as the simulator draws them), stored
        back to back as one cumulative sum, with each campaign's start and length."""
        t = self.truth
        length = np.ceil(3.0 * t["max_daily_conversions"].to_numpy() * self.config.days).astype(np.int64) + 200
        start = np.concatenate([[0], np.cumsum(length)[:-1]])
        owner = np.repeat(np.arange(self.n), length)
        rng = np.random.default_rng([self.config.seed, 32])
        payer = rng.random(len(owner)) < t["payer_share"].to_numpy()[owner]
        value = rng.lognormal(t["payer_value_log_mean"].to_numpy()[owner], t["payer_value_log_sd"].to_numpy()[owner])
        return np.concatenate([[0.0], np.cumsum(np.where(payer, value, 0.0))]), start, length

    def _users_value(self, value_offset: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Total value of users number value_offset..end-1 of each campaign's stream."""
        cumsum, start, length = self._value_cumsum
        if np.any(end > length):
            raise RuntimeError("a campaign converted more users than its value stream holds; raise its length")
        return cumsum[start + end] - cumsum[start + value_offset]

    def observed_market(self, day: int) -> pd.DataFrame:
        """The market feed as published for the day before `day` (what a policy knows when it sets budgets)."""
        date = (self.dates[0] + pd.Timedelta(days=day - 1)).date()
        return self.market[self.market["date"] == date]
