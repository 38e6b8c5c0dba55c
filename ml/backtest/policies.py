"""The budget policies the backtest compares, all under the same total daily budget.

`static` keeps the historical split, `equal` splits evenly, `oracle` optimises on the simulator's true curves and
values (same safety net as pmi), `greedy` optimises on fitted curves, and `pmi` runs the full allocator: Thompson
exploration, simulate/refine against the posterior, alerts with auto-actions, and drift-triggered retrains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.allocation.config import AllocationConfig
from ml.allocation.decision import predictive_noise
from ml.allocation.engine import propose, refine
from ml.allocation.gate import gate
from ml.allocation.inputs import AllocationInputs
from ml.backtest.config import BacktestConfig
from ml.backtest.fitting import FittedModel, fit_model, market_covariates, panel_rows
from ml.backtest.monitor import Monitor
from ml.backtest.world import DayOutcome, World
from ml.models.response.panel import DEFAULT_COMPETITION_ELASTICITY
from ml.monitoring.drift import DriftThresholds
from ml.optimize import PortfolioProblem, optimize_portfolio
from ml.response_curves import ResponseCurves

# What pmi adds to greedy: Thompson exploration, the simulate/refine risk check, alert auto-cuts, drift retrains.
PMI_COMPONENTS = frozenset({"explore", "refine", "alerts", "retrain"})


class FixedPolicy:
    """A split that never changes: the historical one (`static`) or an even one (`equal`)."""

    def __init__(self, name: str, budgets: np.ndarray) -> None:
        self.name = name
        self._budgets = np.asarray(budgets, float)

    def budgets(self, day: int) -> np.ndarray:
        return self._budgets.copy()

    def observe(self, day: int, budgets: np.ndarray, outcome: DayOutcome) -> None:
        """Fixed splits learn nothing."""


class OraclePolicy:
    """The optimiser on the day's TRUE curves and values: the best any policy under the same rules could do."""

    name = "oracle"

    def __init__(self, world: World, total_budget: float, current: np.ndarray) -> None:
        self.world, self.total, self.current = world, total_budget, np.asarray(current, float)

    def budgets(self, day: int) -> np.ndarray:
        max_conv, half_sat, shape = self.world.true_curves(day)
        c, costs = self.world.campaigns, self.world.costs
        problem = PortfolioProblem(
            total_budget=self.total,
            current_budget=self.current,
            curves=ResponseCurves.hill(max_conv, half_sat, shape),
            value_per_conversion=self.world.truth["expected_value_per_user"].to_numpy(float),
            has_agency=c["has_agency"].to_numpy(bool),
            creative_production_cost=c["creative_production_cost"],
            max_change_pct=self.world.config.max_change_pct,
            min_change=self.world.config.min_change,
            overhead_pct=costs.overhead_pct,
            agency_fee_pct=costs.agency_fee_pct,
            amortisation_days=costs.creative_amortisation_days,
        )
        budget = optimize_portfolio(problem, "profit").daily_budget
        return gate(self.current, budget, self.total, self.world.config.rules()).budget

    def observe(self, day: int, budgets: np.ndarray, outcome: DayOutcome) -> None:
        self.current = np.asarray(budgets, float)


@dataclass
class FittedPolicy:
    """Allocation on curves fitted to what this policy has observed; `full` switches on everything pmi adds."""

    name: str
    world: World
    total: float
    current: np.ndarray
    panel: pd.DataFrame
    value_per_conversion: np.ndarray
    model: FittedModel
    full: bool
    components: frozenset[str] | None = None  # pmi's additions switched on; default: all of them when `full`
    monitor: Monitor | None = None
    elasticity: float = DEFAULT_COMPETITION_ELASTICITY  # the history panel's estimate (pricing model's CPM fit)
    retrain_days: list[int] = field(default_factory=list)
    retrained_campaigns: list[list[str]] = field(default_factory=list)
    model_since: int = 0
    _data_start: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.world.campaigns)
        self._data_start = np.full(n, np.datetime64("1970-01-01", "ns"))
        if self.components is None:
            self.components = PMI_COMPONENTS if self.full else frozenset()
        if self.components & {"alerts", "retrain"}:
            config = self.world.config
            self.monitor = Monitor(
                self.world.campaigns,
                config.drift_window_days,
                config.drift_min_conversions,
                drift_thresholds=DriftThresholds(mape={"cpa": config.drift_cpa_mape}),
                cooldown_days=config.drift_cooldown_days,
            )

    @property
    def config(self) -> BacktestConfig:
        return self.world.config

    def budgets(self, day: int) -> np.ndarray:
        """Check yesterday, retrain if due, allocate today, apply alert actions, and log today's predictions."""
        alerts = self._check_and_retrain(day) if self.monitor is not None and day > 0 else None
        if day > 0 and day % self.config.refit_every_days == 0 and self.model_since != day:
            self._refit(day)
        covariates = market_covariates(
            self.world.campaigns, self.world.observed_market(day), self.world.dates[day].dayofweek, self.elasticity
        )
        budgets = self._allocate(day, covariates)
        if alerts is not None and not alerts.empty:
            budgets = self.monitor.cut_budgets(alerts, budgets, self._economics(budgets, covariates))
        # every change passes the production gate: the day's limit against its start, the total (cuts never stack)
        budgets = gate(self.current, budgets, self.total, self.config.rules()).budget
        if self.monitor is not None:
            self.monitor.record(day, self.model.version, budgets, *self._predict(budgets, covariates))
        return budgets

    def _check_and_retrain(self, day: int) -> pd.DataFrame:
        """Alerts on yesterday; a retrain (curves refitted on post-break data) when the drift rule fires."""
        alerts = self.monitor.new_alerts(day - 1) if "alerts" in self.components else None
        drifted = self.monitor.drifted_campaigns(day) if "retrain" in self.components else None
        if drifted is not None and drifted.any():
            self.monitor.retrained(day, drifted)
            self._data_start[drifted] = np.datetime64(self.world.dates[day - self.config.drift_window_days], "ns")
            self._refit(day)
            self.retrain_days.append(day)
            self.retrained_campaigns.append(self.world.campaigns["campaign_id"].to_numpy()[drifted].tolist())
        return alerts

    def _refit(self, day: int) -> None:
        """Refit every curve on the trailing window (each campaign from its own data start): a new model version."""
        self.model = fit_model(
            self.panel,
            self.world.campaigns,
            self._data_start,
            self.world.dates[day],
            self.config.fit_window_days,
            self.config.posterior_draws,
            seed=self.config.seed * 1000 + day,
            version=self.model.version + 1,
        )
        self.model_since = day

    def _allocate(self, day: int, covariates: pd.DataFrame) -> np.ndarray:
        """The allocation engine on the fitted campaigns; campaigns without a curve keep their budget."""
        fitted = self.model.fitted
        c = self.world.campaigns
        budgets = self.current.copy()
        inputs = AllocationInputs(
            campaigns=pd.DataFrame(
                {
                    "campaign_id": c["campaign_id"].to_numpy()[fitted],
                    "has_agency": c["has_agency"].to_numpy(bool)[fitted],
                    "creative_production_cost": c["creative_production_cost"].to_numpy(float)[fitted],
                    "current_budget": self.current[fitted],
                    "price_index": covariates["price_index"].to_numpy()[fitted],
                }
            ),
            curves=self.model.curves,
            value_per_conversion=self.value_per_conversion[fitted],
            demand=self.model.demand_factor(covariates),  # the day's demand, as production predicts it
            model_versions={"response_curves": str(self.model.version)},
            as_of=self.world.dates[day],
            target_date=self.world.dates[day],
        )
        config = AllocationConfig(
            total_budget=max(self.total - float(budgets[~fitted].sum()), 1e-9),
            max_change_pct=self.config.max_change_pct,
            min_change=self.config.min_change,
            exploration_share=self.config.exploration_share if "explore" in self.components else 0.0,
            exploration_horizon_days=float(self.config.days - day),  # the world ends: information is used until then
            n_simulations=self.config.n_simulations,
            seed=self.config.seed * 10_007 + day,
            costs=self.world.costs,
        )
        proposal = propose(inputs, config)
        refined = "refine" in self.components
        chosen = refine(inputs, config, proposal.proposed_budget)[0] if refined else proposal.proposed_budget
        budgets[fitted] = np.maximum(chosen, 0.0)
        return budgets

    def _economics(self, budgets: np.ndarray, covariates: pd.DataFrame) -> pd.DataFrame:
        """Marginal ROAS at the budgets and the cost of a media dollar, as production logs them for the alert rule."""
        fitted = self.model.fitted
        c = self.world.campaigns
        curves = self.model.nominal_curves(covariates["price_index"].to_numpy()[fitted])
        marginal = curves.marginal(budgets[fitted]) * self.model.demand_factor(covariates)
        return pd.DataFrame(
            {
                "campaign_id": c["campaign_id"].to_numpy()[fitted],
                "marginal_roas": marginal * self.value_per_conversion[fitted],
                "cost_multiplier": self.world.costs.cost_multiplier(c["has_agency"].to_numpy(bool))[fitted],
            }
        )

    def _predict(self, budgets: np.ndarray, covariates: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """Expected conversions at the budgets (NaN for campaigns without a curve), with the model's own noise of
        that prediction (posterior sd of log conversions, over-dispersion) as production logs it."""
        out, log_sd, dispersion = np.full(len(budgets), np.nan), np.zeros(len(budgets)), np.ones(len(budgets))
        fitted = self.model.fitted
        price = covariates["price_index"].to_numpy()[fitted]
        demand = self.model.demand_factor(covariates)
        out[fitted] = self.model.nominal_curves(price).value(budgets[fitted]) * demand
        ids = self.world.campaigns["campaign_id"].to_numpy()[fitted]
        log_sd[fitted], dispersion[fitted] = predictive_noise(self.model.curves, ids, price, demand, budgets[fitted])
        return out, log_sd, dispersion

    def observe(self, day: int, budgets: np.ndarray, outcome: DayOutcome) -> None:
        """Add the day to the panel the next fit reads, and to the monitor's actuals."""
        market = self.world.market[self.world.market["date"] == self.world.dates[day].date()]
        rows = panel_rows(
            self.world.campaigns, market, self.world.dates[day], outcome.spend, outcome.conversions, self.elasticity
        )
        self.panel = pd.concat([self.panel, rows], ignore_index=True)
        self.current = np.asarray(budgets, float)
        if self.monitor is not None:
            self.monitor.observe(day, outcome.spend, outcome.conversions)
