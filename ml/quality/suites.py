"""The expectation suites of pmi: the raw contract tables (the blocking gate) and the main marts."""

from __future__ import annotations

import datetime as dt

import great_expectations.expectations as gxe

from ml.quality.rules import (
    WARNING,
    TableSuite,
    at_most,
    fresh,
    in_set,
    not_negative,
    not_null,
    plausible,
    printable_labels,
    references,
    rule,
    timestamps_in_range,
    unique_key,
    within_bounds,
)
from ml.warehouse.raw_schema import RAW_TABLES

PLATFORMS = ["ios", "android", "web"]
EVENT_TYPES = ["purchase", "ad", "subscription"]
MARKET_INDICES = ("cpm_index", "competition_index", "seasonality_index", "economic_index", "sentiment_index")
FRESHNESS = dt.timedelta(hours=48)
# Usual ranges of delivery ratios (USD CPM, fractions); outside them a row is flagged, not rejected.
CPM_RANGE, CTR_RANGE, CVR_RANGE = (0.1, 200.0), (0.0002, 0.2), (0.0, 0.6)

HOURLY_SQL = """
SELECT h.*, c.campaign_id AS campaign_ref, h.spend / nullif(h.impressions, 0) * 1000 AS cpm,
       h.clicks / nullif(h.impressions, 0) AS ctr, h.conversions / nullif(h.clicks, 0) AS cvr
FROM raw.campaign_hourly h LEFT JOIN raw.campaigns c ON c.campaign_id = h.campaign_id"""
USERS_SQL = """
SELECT u.*, c.campaign_id AS campaign_ref
FROM raw.users u LEFT JOIN raw.campaigns c ON c.campaign_id = u.campaign_id"""
EVENTS_SQL = """
SELECT e.*, u.user_id AS user_ref, u.install_ts
FROM raw.revenue_events e LEFT JOIN raw.users u ON u.user_id = e.user_id"""
BUDGETS_SQL = """
SELECT b.*, c.campaign_id AS campaign_ref
FROM raw.budgets b LEFT JOIN raw.campaigns c ON c.campaign_id = b.campaign_id"""


def _contract(table: str) -> dict[str, str]:
    return RAW_TABLES[table][0]


def _has_rows() -> gxe.Expectation:
    return rule("table_not_empty", gxe.ExpectTableRowCountToBeBetween, min_value=1)


def _delivery_rules(mostly: float) -> list[gxe.Expectation]:
    """Funnel invariants and ratio plausibility shared by hourly rows and campaign days."""
    return [
        *not_negative("spend", "impressions", "clicks", "conversions", "revenue"),
        at_most("clicks", "impressions"),
        at_most("conversions", "impressions"),
        # conversions > clicks is possible with view-through attribution (real exports have it): flagged, not fatal
        at_most("conversions", "clicks", severity=WARNING, name="view_through_conversions_flagged"),
        plausible("cpm", *CPM_RANGE, mostly=mostly),
        plausible("ctr", *CTR_RANGE, mostly=mostly),
        plausible("cvr", *CVR_RANGE, mostly=mostly),
    ]


def _plausibility(table: str) -> list[gxe.Expectation]:
    """The bounds `pmi ingest` enforces too (ml/quality/plausibility.py): numbers within bounds, printable labels."""
    return [*within_bounds(table), *printable_labels(table)]


def raw_suites(now: dt.datetime) -> list[TableSuite]:
    """Suites of the six raw contract tables as of ``now`` (naive UTC).

    launched_at may be missing (ingest makes it optional and no model reads it); where present it is in range.
    """
    return [
        TableSuite(
            "raw.campaigns",
            "SELECT * FROM raw.campaigns",
            ("campaign_id",),
            [
                _has_rows(),
                *unique_key("campaign_id"),
                *not_null("network", "platform", "geo", "has_agency", "auto_optimization_enabled"),
                *not_negative("creative_production_cost"),
                in_set("platform", PLATFORMS),
                *timestamps_in_range(now, "launched_at"),
                *_plausibility("campaigns"),
            ],
            _contract("campaigns"),
            context=("launched_at",),
        ),
        TableSuite(
            "raw.campaign_hourly",
            HOURLY_SQL,
            ("campaign_id", "hour_ts"),
            [
                _has_rows(),
                *unique_key("campaign_id", "hour_ts"),
                *not_null("spend", "impressions", "clicks", "conversions", "revenue"),
                references("campaign_ref", "raw.campaigns"),
                *timestamps_in_range(now, "hour_ts"),
                fresh("hour_ts", now, FRESHNESS),
                *_delivery_rules(mostly=0.99),
                *_plausibility("campaign_hourly"),
            ],
            _contract("campaign_hourly"),
        ),
        TableSuite(
            "raw.users",
            USERS_SQL,
            ("user_id",),
            [
                *unique_key("user_id"),
                *not_null("campaign_id", "install_ts"),
                references("campaign_ref", "raw.campaigns"),
                *timestamps_in_range(now, "install_ts"),
                in_set("platform", PLATFORMS),
                *_plausibility("users"),
            ],
            _contract("users"),
            context=("campaign_id", "install_ts"),
        ),
        TableSuite(
            "raw.revenue_events",
            EVENTS_SQL,
            ("event_id",),
            [
                *unique_key("event_id"),
                *not_null("user_id", "event_ts", "revenue"),
                *not_negative("revenue"),
                references("user_ref", "raw.users"),
                at_most("install_ts", "event_ts", name="event_after_install"),
                *timestamps_in_range(now, "event_ts"),
                in_set("event_type", EVENT_TYPES),
                *_plausibility("revenue_events"),
            ],
            _contract("revenue_events"),
            context=("user_id", "event_ts", "install_ts"),
        ),
        TableSuite(
            "raw.market_daily",
            "SELECT * FROM raw.market_daily",
            ("date", "network", "geo"),
            [
                *unique_key("date", "network", "geo"),
                *not_null(*MARKET_INDICES),
                *[
                    rule(f"{c}_positive", gxe.ExpectColumnValuesToBeBetween, column=c, min_value=0, strict_min=True)
                    for c in MARKET_INDICES
                ],
                *[plausible(c, 0.2, 5.0) for c in MARKET_INDICES],
                *timestamps_in_range(now, "date"),
                *_plausibility("market_daily"),
            ],
            _contract("market_daily"),
        ),
        TableSuite(
            "raw.budgets",
            BUDGETS_SQL,
            ("campaign_id", "effective_ts"),
            [
                *unique_key("campaign_id", "effective_ts"),
                *not_null("daily_budget", "source"),
                *not_negative("daily_budget"),
                references("campaign_ref", "raw.campaigns"),
                # allocations schedule budgets for the next hour, so only the lower bound applies here
                *timestamps_in_range(None, "effective_ts", name="in_range"),
                *_plausibility("budgets"),
            ],
            _contract("budgets"),
        ),
    ]


REVENUE_HORIZONS = (
    "revenue_d0",
    "revenue_d7",
    "revenue_d14",
    "revenue_d30",
    "revenue_d90",
    "revenue_d180",
    "revenue_total",
)


def mart_suites() -> list[TableSuite]:
    """Suites of the marts the models read: campaign days and user value."""
    daily_columns = (
        "campaign_id",
        "date",
        "spend",
        "impressions",
        "clicks",
        "conversions",
        "revenue",
        "cpm",
        "ctr",
        "cvr",
        "new_users",
        "cohort_revenue",
    )
    user_columns = ("user_id", "campaign_id", "install_ts", "age_days", *REVENUE_HORIZONS)
    return [
        TableSuite(
            "marts.fct_campaign_daily",
            "SELECT * FROM marts.fct_campaign_daily",
            ("campaign_id", "date"),
            [
                _has_rows(),
                *unique_key("campaign_id", "date"),
                *not_negative("new_users", "cohort_revenue"),
                *_delivery_rules(mostly=0.99),
            ],
            dict.fromkeys(daily_columns, ""),
        ),
        TableSuite(
            "marts.fct_user_value",
            "SELECT * FROM marts.fct_user_value",
            ("user_id",),
            [
                *unique_key("user_id"),
                *not_null("campaign_id", "install_ts"),
                *not_negative(*REVENUE_HORIZONS),
                rule("age_days_not_negative", gxe.ExpectColumnValuesToBeBetween, column="age_days", min_value=0),
                # cumulative revenue never shrinks with the horizon
                *[at_most(a, b) for a, b in zip(REVENUE_HORIZONS[:-1], REVENUE_HORIZONS[1:], strict=True)],
            ],
            dict.fromkeys(user_columns, ""),
            context=("campaign_id",),
        ),
    ]
