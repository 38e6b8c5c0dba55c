"""How fast the simulator generates users and their revenue events, and a full default backfill.

Run: `.venv/bin/python benchmarks/simulator_bench.py` (or `make bench`). Prints wall-clock seconds.
"""

from __future__ import annotations

import time

import numpy as np

from ml.simulation import SimulationConfig
from ml.simulation.backfill import simulate_backfill
from ml.simulation.portfolio import draw_portfolio
from ml.simulation.users import draw_users_and_events


def bench_users(n_users: int = 1_000_000, n_campaigns: int = 24) -> None:
    truth = draw_portfolio(SimulationConfig(n_campaigns=n_campaigns)).truth
    hours = 180 * 24
    rng = np.random.default_rng(0)
    campaign = np.repeat(np.arange(n_campaigns), hours)
    hour_s = np.tile(np.arange(hours, dtype=np.int64) * 3600, n_campaigns)
    counts = rng.multinomial(n_users, np.full(len(campaign), 1 / len(campaign)))
    started = time.perf_counter()
    users = draw_users_and_events(truth, campaign, hour_s, counts, 180, rng)
    elapsed = time.perf_counter() - started
    print(
        f"users+events: {len(users.user_seq):,} users, {len(users.event_seq):,} revenue events "
        f"in {elapsed:.2f} s ({len(users.user_seq) / elapsed:,.0f} users/s)"
    )


def bench_backfill(n_campaigns: int, days: int) -> None:
    started = time.perf_counter()
    frames = simulate_backfill(SimulationConfig(n_campaigns=n_campaigns, days=days))
    elapsed = time.perf_counter() - started
    counts = frames.row_counts()
    print(
        f"backfill {n_campaigns:,} campaigns x {days} days: {counts['raw.campaign_hourly']:,} hourly rows, "
        f"{counts['raw.users']:,} users, {counts['raw.revenue_events']:,} events in {elapsed:.2f} s"
    )


if __name__ == "__main__":
    bench_users()
    bench_backfill(24, 180)
    bench_backfill(1_000, 30)
    bench_backfill(10_000, 7)
