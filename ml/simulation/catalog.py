"""The marketing world the simulator draws campaigns from: networks, platforms, geos, creatives, targeting.

Each dimension carries multipliers on price (CPM), engagement (CTR), acquisition cost (CPA at half
saturation) and user value, so campaigns differ in ways that models must learn.
"""

from __future__ import annotations

import pandas as pd

NETWORKS = pd.DataFrame(
    {
        "network": ["facebook", "google", "tiktok", "applovin", "unity"],
        "cpm_base": [9.0, 7.5, 6.0, 11.0, 10.0],
        "ctr_base": [0.012, 0.018, 0.010, 0.025, 0.022],
        "cpa_mult": [1.0, 1.1, 0.8, 0.9, 0.95],
        "payer_mult": [1.0, 1.1, 0.7, 1.2, 1.1],
        "value_mult": [1.0, 1.15, 0.75, 0.9, 0.85],
        "ad_event_share": [0.10, 0.10, 0.15, 0.45, 0.45],
        "weight": [0.30, 0.25, 0.20, 0.13, 0.12],
    }
).set_index("network")

PLATFORMS = pd.DataFrame(
    {
        "platform": ["ios", "android", "web"],
        "cpm_mult": [1.3, 0.9, 0.8],
        "payer_mult": [1.3, 0.85, 0.9],
        "value_mult": [1.35, 0.85, 1.0],
    }
).set_index("platform")

# Networks that sell only in-app inventory never run web campaigns.
APP_ONLY_NETWORKS = ("tiktok", "applovin", "unity")

GEOS = pd.DataFrame(
    {
        "geo": ["US", "GB", "DE", "FR", "JP", "KR", "BR", "IN"],
        "cpm_mult": [1.6, 1.3, 1.2, 1.1, 1.4, 1.2, 0.5, 0.25],
        "cpa_mult": [1.5, 1.25, 1.2, 1.1, 1.4, 1.2, 0.55, 0.3],
        "payer_mult": [1.2, 1.1, 1.1, 1.0, 1.3, 1.2, 0.7, 0.5],
        "value_mult": [1.5, 1.2, 1.15, 1.05, 1.6, 1.3, 0.45, 0.25],
        "inventory_mult": [3.0, 1.0, 1.0, 0.9, 1.2, 0.7, 1.5, 2.5],
        "weight": [0.30, 0.10, 0.10, 0.08, 0.10, 0.07, 0.12, 0.13],
    }
).set_index("geo")

CREATIVE_FORMATS = pd.DataFrame(
    {
        "creative_format": ["video", "static", "playable", "carousel"],
        "ctr_mult": [1.2, 0.8, 1.5, 1.0],
        "cpa_mult": [0.95, 1.15, 0.85, 1.05],
        "fatigue_max": [0.30, 0.40, 0.25, 0.35],
        "production_cost": [6000.0, 800.0, 9000.0, 1500.0],
    }
).set_index("creative_format")

TARGETING = pd.DataFrame(
    {
        "targeting": ["broad", "lookalike", "interest", "retargeting"],
        "cpa_mult": [1.0, 0.9, 1.05, 0.7],
        "payer_mult": [0.9, 1.1, 1.0, 1.5],
        "inventory_mult": [2.0, 1.0, 0.8, 0.3],
    }
).set_index("targeting")

# Per-hour share of a day's delivery (UTC), peaking in the evening of the main markets.
HOUR_OF_DAY_SHARE = [
    0.030,
    0.026,
    0.022,
    0.020,
    0.020,
    0.022,
    0.028,
    0.036,
    0.042,
    0.046,
    0.048,
    0.050,
    0.052,
    0.052,
    0.052,
    0.053,
    0.054,
    0.056,
    0.058,
    0.060,
    0.060,
    0.056,
    0.048,
    0.040,
]
# Monday .. Sunday demand multipliers (mean 1).
DAY_OF_WEEK_FACTOR = [0.95, 0.96, 0.97, 0.99, 1.03, 1.06, 1.04]
# (month, day, uplift) of holidays that lift demand and competition.
HOLIDAYS = [
    (1, 1, 0.15),
    (2, 14, 0.10),
    (7, 4, 0.08),
    (11, 27, 0.25),
    (11, 28, 0.35),
    (12, 24, 0.30),
    (12, 25, 0.25),
    (12, 31, 0.15),
]
