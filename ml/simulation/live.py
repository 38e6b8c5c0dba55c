"""Live mode: advance the simulated world one hour using the budgets currently in ``raw.budgets``.

This closes the loop: whatever an allocation applies becomes the spend, and the outcome, of the next hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.settings import PmiPaths
from ml.simulation.config import SimulationConfig
from ml.simulation.delivery import DayContext, simulate_hours
from ml.simulation.frames import hourly_frame, in_hour_revenue, user_frames
from ml.simulation.market import market_daily, market_for_campaigns
from ml.simulation.users import draw_users_and_events
from ml.warehouse.budgets import budget_in_effect_sql
from ml.warehouse.connection import transaction
from ml.warehouse.simulator_store import insert_raw

_BUDGETS_IN_EFFECT = f"""
    SELECT c.campaign_id, coalesce(b.daily_budget, 0)::DOUBLE AS daily_budget
    FROM raw.campaigns c
    LEFT JOIN ({budget_in_effect_sql("<=")}) b USING (campaign_id)
    ORDER BY c.campaign_id
"""


def _load_world(con, hour: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    campaigns = con.execute("SELECT * FROM raw.campaigns ORDER BY campaign_id").df()
    truth = con.execute("SELECT * FROM truth.campaign_truth ORDER BY campaign_id").df()
    if not campaigns["campaign_id"].equals(truth["campaign_id"]):
        raise RuntimeError("raw.campaigns and truth.campaign_truth disagree: re-run the simulator backfill")
    budgets = con.execute(_BUDGETS_IN_EFFECT, [hour.to_pydatetime()]).df()
    return campaigns, truth, budgets["daily_budget"].to_numpy()


def _market_for_day(con, seed: int, day: pd.Timestamp) -> pd.DataFrame:
    """The day's market rows, generated (and written) the first time the live loop reaches that day."""
    rows = con.execute("SELECT * FROM raw.market_daily WHERE date = ?", [day.date()]).df()
    if rows.empty:
        rows = market_daily(seed, day.date(), (day + pd.Timedelta(days=1)).date())
        insert_raw(con, "market_daily", rows)
    return rows


def step_one_hour(paths: PmiPaths) -> dict[str, object]:
    """Simulate the next hour after the warehouse's history and append it, in one transaction."""
    with transaction(paths.warehouse) as con:
        state = con.execute("SELECT * FROM sim.state").df().iloc[0]
        config = SimulationConfig.model_validate_json(state["config_json"])
        hour = pd.Timestamp(state["next_hour_ts"])
        day = hour.normalize()
        campaigns, truth, budgets = _load_world(con, hour)
        market = _market_for_day(con, config.seed, day)
        dates = pd.DatetimeIndex([day])
        launch = pd.to_datetime(campaigns["launched_at"]).to_numpy().astype("datetime64[D]")
        ctx = DayContext(
            daily_budget=budgets[:, None],
            days_since_launch=(dates.to_numpy().astype("datetime64[D]")[None, :] - launch[:, None]).astype(np.int64),
            market=market_for_campaigns(market, campaigns, dates),
            day_of_week=dates.dayofweek.to_numpy(),
            years_since_start=np.array([(day - pd.Timestamp(config.start_date)).days / 365.25]),
        )
        hour_number = int(hour.timestamp() // 3600)
        rng = np.random.default_rng([config.seed, 3, hour_number])
        cells = simulate_hours(config, truth, ctx, np.array([hour.hour]), rng)
        campaign_idx = np.flatnonzero(cells["live"][:, 0, 0])
        hour_s = np.full(len(campaign_idx), int(hour.timestamp()), dtype=np.int64)
        delivery = pd.DataFrame(
            {
                "campaign_idx": campaign_idx,
                "hour_s": hour_s,
                **{k: cells[k][campaign_idx, 0, 0] for k in ("spend", "impressions", "clicks", "conversions")},
            }
        )
        users = draw_users_and_events(
            truth,
            campaign_idx,
            hour_s,
            delivery["conversions"].to_numpy(),
            config.revenue_horizon_days,
            rng,
            int(state["next_user_seq"]),
            int(state["next_event_seq"]),
        )
        ids = campaigns["campaign_id"].to_numpy()
        now_s = int(hour.timestamp()) + 3600
        uf = user_frames(ids, campaigns, truth, users, now_s)
        hourly = hourly_frame(ids, delivery, in_hour_revenue(users))
        due = con.execute(
            "SELECT * FROM sim.pending_revenue_events WHERE event_ts < ?",
            [pd.Timestamp(now_s, unit="s").to_pydatetime()],
        ).df()
        insert_raw(con, "campaign_hourly", hourly)
        insert_raw(con, "users", uf["users"])
        insert_raw(con, "revenue_events", pd.concat([due, uf["revenue_events"]], ignore_index=True))
        con.execute(
            "DELETE FROM sim.pending_revenue_events WHERE event_ts < ?", [pd.Timestamp(now_s, unit="s").to_pydatetime()]
        )
        if not uf["pending_revenue_events"].empty:
            con.register("new_pending", uf["pending_revenue_events"])
            con.execute("INSERT INTO sim.pending_revenue_events SELECT * FROM new_pending")
        if not uf["user_value"].empty:
            con.register("new_truth", uf["user_value"])
            con.execute(
                "INSERT INTO truth.user_value "
                "SELECT 'u' || user_seq::VARCHAR AS user_id, * EXCLUDE (user_seq) FROM new_truth"
            )
        con.execute(
            "UPDATE sim.state SET next_hour_ts = next_hour_ts + INTERVAL 1 HOUR, "
            "next_user_seq = next_user_seq + ?, next_event_seq = next_event_seq + ?",
            [len(users.user_seq), len(users.event_seq)],
        )
    return {
        "hour_ts": hour,
        "spend": float(hourly["spend"].sum()),
        "conversions": int(hourly["conversions"].sum()),
        "users": len(users.user_seq),
        "events_released": len(due) + len(uf["revenue_events"]),
    }
