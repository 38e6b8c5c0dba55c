"""What must hold after every hourly cycle of a loop left running: checks the soak test and benchmark share.

- the marts reconcile with raw (spend, conversions and revenue to the cent; users; the newest hour);
- every user acquired up to the LTV's as-of is in their campaign's LTV (no row without a campaign, per-campaign
  user counts = raw), and every campaign with users has a row: the hourly job keeps the LTV that the
  `daily_user_value` job scored after the first cycle of a data day (ml/models/training/ltv_scoring.py,
  campaign_ltv_is_current), so later users wait a day;
- disk: the data directory's size by part, so a benchmark can show it stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ml.operations.freshness import IN_STEP, warehouse_freshness
from ml.operations.retention import disk_usage
from ml.settings import PmiPaths
from ml.warehouse.connection import connect

RECONCILE_SQL = """
    SELECT '{mart}' AS mart, r.spend - m.spend, r.conversions - m.conversions, r.revenue - m.revenue
    FROM (SELECT sum(spend) AS spend, sum(conversions) AS conversions, sum(revenue) AS revenue
          FROM raw.campaign_hourly) r,
         (SELECT sum(spend) AS spend, sum(conversions) AS conversions, sum(revenue) AS revenue FROM {mart}) m
"""
LTV_USERS_SQL = """
    WITH scored AS (SELECT max(as_of_ts) AS as_of_ts FROM predictions.campaign_ltv),
    -- Strictly before: the as-of ends the newest hour, and a user installed on it belongs to the next hour.
    u AS (SELECT campaign_id, count(*) AS n FROM raw.users WHERE install_ts < (SELECT as_of_ts FROM scored)
          GROUP BY ALL)
    SELECT count(*) FILTER (WHERE l.campaign_id IS NULL) AS null_campaign_rows,
           coalesce(sum(l.n_users) FILTER (WHERE l.campaign_id IS NULL), 0) AS users_without_campaign,
           count(*) FILTER (WHERE l.campaign_id IS NOT NULL AND l.n_users IS DISTINCT FROM coalesce(u.n, 0))
               AS campaigns_miscounted,
           coalesce(sum(l.n_users), 0) AS ltv_users, coalesce(sum(u.n), 0) AS users_scored,
           (SELECT count(*) FROM raw.users) AS users,
           (SELECT count(DISTINCT campaign_id) FROM raw.users
            WHERE campaign_id NOT IN (SELECT campaign_id FROM predictions.campaign_ltv WHERE campaign_id IS NOT NULL))
               AS campaigns_without_row
    FROM predictions.campaign_ltv l FULL JOIN u USING (campaign_id)
"""
DISK_PARTS = ("warehouse.duckdb", "dagster", "dbt_target", "mlflow", "feast", "gx_data_docs", "dashboard", "logs")


@dataclass
class CycleCheck:
    """One cycle's outcome; ``problems`` is empty when everything holds."""

    null_campaign_rows: int
    ltv_users: int
    users_scored: int  # acquired up to the LTV's as-of
    users: int
    disk_bytes: int
    disk_parts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_cycle(paths: PmiPaths) -> CycleCheck:
    """Run every check on the data directory as it is now."""
    problems = []
    freshness = warehouse_freshness(paths)
    if freshness.state != IN_STEP:
        problems.append(f"warehouse {freshness.state}: {freshness.message}")
    con = connect(paths.warehouse, read_only=True)
    try:
        for mart in ("marts.fct_campaign_hourly", "marts.fct_campaign_daily"):
            name, *gaps = con.execute(RECONCILE_SQL.format(mart=mart)).fetchone()
            if any(gap != 0 for gap in gaps):
                problems.append(f"{name} differs from raw (spend, conversions, revenue): {gaps}")
        null_rows, without, miscounted, ltv_users, scored, users, unscored = con.execute(LTV_USERS_SQL).fetchone()
    finally:
        con.close()
    if null_rows:
        problems.append(f"predictions.campaign_ltv: {null_rows} row(s) without a campaign ({without} users)")
    if miscounted or ltv_users != scored:
        problems.append(f"LTV counts {ltv_users:,} users of {scored:,} acquired by its as-of ({miscounted} differ)")
    if unscored:
        problems.append(f"predictions.campaign_ltv: {unscored} campaign(s) with users have no row")
    parts = {
        part: disk_usage(paths.home / part)
        if (paths.home / part).is_dir()
        else (paths.home / part).stat().st_size
        if (paths.home / part).exists()
        else 0
        for part in DISK_PARTS
    }
    return CycleCheck(null_rows, int(ltv_users), int(scored), int(users), disk_usage(paths.home), parts, problems)
