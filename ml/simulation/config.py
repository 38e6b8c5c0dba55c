"""Typed configuration of a simulation: portfolio size, history length, and the economics of the world."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, model_validator


def _default_end() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class SimulationConfig(BaseModel):
    """Everything that decides what the simulator writes; the same config and seed give identical tables."""

    seed: int = 7
    n_campaigns: int = Field(24, ge=1, le=200_000)
    days: int = Field(180, ge=1, le=3650, description="Days of hourly history in a backfill.")
    end_date: dt.date = Field(
        default_factory=_default_end, description="Backfill history ends at 00:00 UTC of this date (exclusive)."
    )
    revenue_horizon_days: int = Field(180, ge=1, le=720, description="How long a user keeps generating revenue.")
    daily_budget_median: float = Field(1500.0, gt=0, description="Median daily budget of a campaign, USD.")
    users_per_campaign: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description=(
            "Expected users (installs) per campaign over the history: scales every campaign's budgets, response "
            "curve, inventory and creative cost by one factor (CPA, CPM and user value unchanged), so a large "
            "portfolio can be simulated at a smaller advertiser's volume; None keeps the natural volume "
            "(about 17k users per campaign over 180 days)."
        ),
    )
    cpa_at_half_saturation_median: float = Field(18.0, gt=0, description="Median CPA at half saturation, USD.")
    payer_share_median: float = Field(0.06, gt=0, lt=1)
    payer_value_median: float = Field(100.0, gt=0, description="Median 180-day value of a payer, USD.")
    payer_value_sigma: float = Field(1.1, gt=0, description="Log-sd of payer value (heavy tail).")
    budget_change_every_days: int = Field(10, ge=1, description="Mean days between historical budget changes.")
    launch_spread_days: int = Field(30, ge=0, description="Campaigns launch up to this many days before history.")
    inventory_pressure: float = Field(0.35, ge=0, description="CPM uplift when spend equals the inventory scale.")
    competition_elasticity: float = Field(0.8, ge=0, description="CPM elasticity to the competition index.")
    corrupt_click_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "Share of campaign_hourly rows written with clicks > impressions: a deliberately broken feed that "
            "the data-quality gates must stop (0 = a correct simulation)."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> SimulationConfig:
        if self.end_date > _default_end() + dt.timedelta(days=1):
            raise ValueError(f"end_date {self.end_date} lies in the future")
        return self

    @property
    def start_date(self) -> dt.date:
        return self.end_date - dt.timedelta(days=self.days)

    @property
    def start_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.start_date, dt.time(0), tzinfo=dt.UTC)
