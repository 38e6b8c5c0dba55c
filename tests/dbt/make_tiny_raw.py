"""A tiny, hand-made raw warehouse for developing and testing the dbt project.

Run as a script to (re)create ``$PMI_HOME/warehouse.duckdb`` (or the directory given as the first argument):

    python tests/dbt/make_tiny_raw.py /tmp/dbtdev

The data is small enough to check every mart value by hand. The warehouse "as of" time is 2024-03-01 00:00
(the last hourly row, 2024-02-29 23:00, plus one hour).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ml.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES, create_table_sql  # noqa: E402

T = dt.datetime
D = Decimal
START = dt.date(2024, 1, 1)
C1_DAYS = 60  # 2024-01-01 .. 2024-02-29
AS_OF = T(2024, 3, 1)

CAMPAIGNS = [
    # campaign_id, name, network, platform, geo, creative_format, targeting, has_agency,
    # creative_production_cost, auto_optimization_enabled, launched_at
    ("c1", "fb_ios_us_video", "facebook", "ios", "US", "video", "broad", False, D("1000.00"), True, T(2023, 12, 20)),
    (
        "c2",
        "gg_android_de_static",
        "google",
        "android",
        "DE",
        "static",
        "interest",
        True,
        D("500.00"),
        False,
        T(2024, 1, 3, 12),
    ),
    (
        "c3",
        "unity_android_jp_playable",
        "unity",
        "android",
        "JP",
        "playable",
        "lookalike",
        False,
        D("0.00"),
        False,
        T(2024, 2, 1),
    ),  # never delivered: no hours, no users, no budgets
]


def c1_hour10_spend(day_offset: int) -> Decimal:
    return D("10.00") + day_offset


def c1_day_spend(day_offset: int) -> Decimal:
    """c1 delivers at 10:00 and 23:00 every day: (10.00 + offset) + 5.50."""
    return c1_hour10_spend(day_offset) + D("5.50")


def hourly_rows() -> list[tuple]:
    rows = []
    for i in range(C1_DAYS):
        day = T.combine(START + dt.timedelta(days=i), dt.time())
        rows.append(("c1", day + dt.timedelta(hours=10), c1_hour10_spend(i), 1000 + 10 * i, 50, 2, D("1.25")))
        rows.append(("c1", day + dt.timedelta(hours=23), D("5.50"), 500, 20, 1, D("0.00")))
    # c2 every other day from 2024-01-03 to 2024-01-31 at noon, then one all-zero hour on 2024-02-10
    for i in range(2, 31, 2):
        day = T.combine(START + dt.timedelta(days=i), dt.time())
        rows.append(("c2", day + dt.timedelta(hours=12), D("20.00"), 2000, 100, 5, D("3.50")))
    rows.append(("c2", T(2024, 2, 10, 9), D("0.00"), 0, 0, 0, D("0.00")))
    return rows


USERS = [
    # user_id, campaign_id, install_ts, platform, geo
    ("u1", "c1", T(2024, 1, 1, 10, 15), "ios", "US"),  # events over 50 days
    ("u2", "c1", T(2024, 1, 1, 23, 30), "ios", "US"),  # no events
    ("u6", "c1", T(2024, 1, 2, 0, 0), "ios", "US"),  # one zero-revenue event at the install instant
    ("u3", "c1", T(2024, 2, 29, 23, 30), "ios", "US"),  # installed 30 min before as-of: nothing mature
    ("u4", "c2", T(2024, 1, 3, 13, 0), "android", "DE"),
    ("u5", "c2", T(2024, 1, 4, 9, 0), "android", "DE"),  # no events; c2 has no delivery that day
]

EVENTS = [
    # event_id, user_id, event_ts, revenue, event_type
    ("e1", "u1", T(2024, 1, 1, 11, 15), D("4.99"), "purchase"),  # day 0
    ("e2", "u1", T(2024, 1, 7, 10, 14, 59), D("2.00"), "ad"),  # day 5 (1 s before day 6)
    ("e3", "u1", T(2024, 1, 8, 10, 15), D("9.99"), "subscription"),  # exactly 7 days: day 7, not in d7
    ("e4", "u1", T(2024, 2, 20, 8, 0), D("20.00"), "purchase"),  # day 49
    ("e5", "u6", T(2024, 1, 2, 0, 0), D("0.00"), "ad"),  # day 0, zero revenue
    ("e6", "u4", T(2024, 1, 3, 13, 30), D("0.99"), "purchase"),  # day 0
    ("e7", "u4", T(2024, 1, 5, 0, 0), D("0.10"), "ad"),  # 35 h: day 1
    ("e9", "u3", T(2024, 2, 29, 23, 45), D("0.50"), "ad"),  # day 0
]

BUDGETS = [
    # campaign_id, effective_ts, daily_budget, source
    ("c1", T(2024, 1, 1), D("100.00"), "history"),
    ("c1", T(2024, 1, 10), D("150.00"), "history"),
    ("c1", T(2024, 1, 15, 14), D("120.00"), "alloc-0001"),  # intraday change
    ("c2", T(2024, 1, 3, 12), D("50.00"), "history"),  # first budget mid-day: none in effect at 2024-01-03 00:00
    ("c2", T(2024, 1, 20), D("60.00"), "history"),
]

MARKET_PAIRS = {("facebook", "US"): C1_DAYS, ("google", "DE"): C1_DAYS, ("unity", "JP"): 10}


def market_rows() -> list[tuple]:
    rows = []
    for (network, geo), n_days in MARKET_PAIRS.items():
        for i in range(n_days):
            cpm = 1.0 + 0.01 * i if network == "facebook" else 0.9
            rows.append((START + dt.timedelta(days=i), network, geo, cpm, 1.0, 1.0 + 0.001 * i, 1.0, 1.0))
    return rows


def tables() -> dict[str, list[tuple]]:
    return {
        "campaigns": CAMPAIGNS,
        "campaign_hourly": hourly_rows(),
        "users": USERS,
        "revenue_events": EVENTS,
        "market_daily": market_rows(),
        "budgets": BUDGETS,
    }


def build_tiny_raw(warehouse: str | os.PathLike[str], overrides: dict[str, list[tuple]] | None = None) -> Path:
    """(Re)create the raw schema in ``warehouse`` with the tiny data set (``overrides`` replace whole tables)."""
    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**tables(), **(overrides or {})}
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        for table, rows in data.items():
            con.execute(f"DROP TABLE IF EXISTS {RAW_SCHEMA}.{table}")
            con.execute(create_table_sql(table))
            if rows:
                placeholders = ", ".join("?" for _ in RAW_TABLES[table][0])
                con.executemany(f"INSERT INTO {RAW_SCHEMA}.{table} VALUES ({placeholders})", rows)
    return path


def main(argv: list[str]) -> None:
    home = Path(argv[1] if len(argv) > 1 else os.environ.get("PMI_HOME", "/tmp/dbtdev")).resolve()
    print(build_tiny_raw(home / "warehouse.duckdb"))


if __name__ == "__main__":
    main(sys.argv)
