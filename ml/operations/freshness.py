"""Is the warehouse in step? Marts older than raw (raw changed after the last dbt build), or mixed (a build killed
part-way rebuilt some marts and not others), are told apart from a warehouse in step by comparing what each mart
holds with what raw holds: row counts, money and the newest hour reconcile exactly after a complete build.

The raw tables budgets are left out on purpose: every allocation writes ``raw.budgets`` after dbt ran. The
user-level marts are compared with the raw rows before their own as-of when they were built before the campaign
marts: the hourly job keeps them within a data day (ml/warehouse/user_marts.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from ml.operations.retention import dbt_target_dir
from ml.settings import PmiPaths
from ml.warehouse.connection import connect

RAW_SQL = """SELECT (SELECT count(*) FROM raw.campaign_hourly), (SELECT sum(spend) FROM raw.campaign_hourly),
                    (SELECT max(hour_ts) FROM raw.campaign_hourly), (SELECT count(*) FROM raw.users),
                    (SELECT count(*) FROM raw.revenue_events)"""
# mart -> (SQL yielding the same measures as RAW_SQL, in that order; NULL = not compared)
MART_SQL = {
    "marts.fct_campaign_hourly": "SELECT count(*), sum(spend), max(hour_ts), NULL, NULL FROM marts.fct_campaign_hourly",
    "marts.fct_campaign_daily": "SELECT NULL, sum(spend), NULL, NULL, NULL FROM marts.fct_campaign_daily",
    "marts.fct_user_value": "SELECT NULL, NULL, NULL, count(*), sum(n_events) FROM marts.fct_user_value",
    "marts.fct_user_features": "SELECT NULL, NULL, NULL, count(*), NULL FROM marts.fct_user_features",
}
# The raw measures of the users and events a user-level mart built as of ? held (installs and events before it).
RAW_BEFORE_SQL = """SELECT NULL, NULL, NULL, (SELECT count(*) FROM raw.users WHERE install_ts < $as_of),
                           (SELECT count(*) FROM raw.revenue_events WHERE event_ts < $as_of)"""
USER_MARTS = ("marts.fct_user_value", "marts.fct_user_features")
MEASURES = ("hourly rows", "spend", "newest hour", "users", "revenue events")
IN_STEP, STALE, MIXED, NOT_BUILT = "in step", "older than raw", "mixed", "not built"


@dataclass(frozen=True)
class Freshness:
    """The warehouse's state and, unless in step, one line saying what is wrong and what to do."""

    state: str
    message: str = ""
    behind: tuple[str, ...] = ()


def last_dbt_build(paths: PmiPaths) -> tuple[dt.datetime | None, bool]:
    """When the newest complete `dbt build` finished, and whether a newer one stopped before finishing."""
    folders = sorted((p for p in dbt_target_dir(paths).glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    finished, interrupted = None, False
    for folder in folders:
        results = folder / "run_results.json"
        if results.exists():
            generated = json.loads(results.read_text())["metadata"]["generated_at"]
            finished, interrupted = dt.datetime.fromisoformat(generated.replace("Z", "+00:00")), False
        elif (folder / "manifest.json").exists():  # dbt got past parsing, then stopped (or is still running)
            interrupted = True
    return finished, interrupted


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"


def _raw_for(con, mart: str, raw: tuple) -> tuple:
    """What raw holds for ``mart``: all of it, or for a user-level mart built earlier on the campaign marts' data
    day (kept by the hourly job), the installs and events before that mart's as-of."""
    if mart not in USER_MARTS:
        return raw
    built, now = con.execute(
        f"""SELECT (SELECT max(as_of_ts) FROM {mart}),
                   (SELECT max(hour_ts) + INTERVAL 1 HOUR FROM marts.fct_campaign_hourly)"""
    ).fetchone()
    if built is None or now is None or built >= now or built.date() != now.date():
        return raw  # built with the campaign marts, or on an earlier data day than theirs: all of raw is due
    return con.execute(RAW_BEFORE_SQL, {"as_of": built}).fetchone()


def warehouse_freshness(paths: PmiPaths) -> Freshness:
    """Compare each mart with raw; see the module docstring."""
    con = connect(paths.warehouse, read_only=True)
    try:
        raw = con.execute(RAW_SQL).fetchone()
        marts, expected = {}, {}
        for name, sql in MART_SQL.items():
            try:
                marts[name] = con.execute(sql).fetchone()
                expected[name] = _raw_for(con, name, raw)
            except Exception:  # noqa: BLE001 - a mart that does not exist yet
                return Freshness(NOT_BUILT, f"{name} does not exist yet: run `pmi run`")
    finally:
        con.close()
    behind = tuple(
        name
        for name, values in marts.items()
        if any(v is not None and v != r for v, r in zip(values, expected[name], strict=True))
    )
    if not behind:
        return Freshness(IN_STEP)
    built, interrupted = last_dbt_build(paths)
    if len(behind) < len(marts):
        stopped = "a dbt build stopped part-way" if interrupted else "they were built from different raw data"
        return Freshness(
            MIXED,
            f"{', '.join(behind)} differ from raw while the other marts match it ({stopped}; "
            f"last complete build {_when(built)}): run `pmi run`",
            behind,
        )
    hourly = marts["marts.fct_campaign_hourly"]
    return Freshness(
        STALE,
        f"marts rebuilt at {_when(built)} hold data through {hourly[2]}; raw changed after that "
        f"(data through {raw[2]}, {raw[0] - hourly[0]:,} hourly rows and "
        f"{raw[3] - marts['marts.fct_user_value'][3]:,} users not in the marts): run `pmi run`",
        behind,
    )


def describe(freshness: Freshness) -> str:
    """The line `pmi status` prints."""
    return (
        "Warehouse in step: every mart reconciles with raw"
        if freshness.state == IN_STEP
        else f"Warehouse {freshness.state}: {freshness.message}"
    )
