"""Are pmi's CPA-alert budget cuts answers to noise or to real misses? Each cut alert against the true curves.

Run: `.venv/bin/python benchmarks/cut_alert_truth.py [--drift none] [--first-seed 100] [--seeds 6]` (tuning seeds only)
pmi runs the closed loop as in `closed_loop_decomposition.py`; every CPA alert that reaches the budget-cut step is
recorded with the miss it observed (actual / predicted CPA - 1) and the true miss: the CPA the simulator's true
curve gives at the spend delivered that day, against the prediction. A noise alarm has a true miss near 0; the gap
between observed and true misses is the selection (winner's curse) of a single-day test.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from ml.backtest import BacktestConfig
from ml.backtest.config import DRIFTS
from ml.backtest.loop import fitted_policies, run_policy
from ml.backtest.monitor import Monitor
from ml.backtest.world import World
from ml.response_curves import ResponseCurves


def cut_alerts(world: World) -> pd.DataFrame:
    """pmi's run on one world, with a row per CPA alert handed to the cut step (observed and true miss)."""
    rows: list[pd.DataFrame] = []
    spend: dict[int, np.ndarray] = {}
    original = Monitor.cut_budgets
    ids = world.campaigns["campaign_id"].to_numpy()
    position = pd.Series(np.arange(len(ids)), index=ids)

    def recording(monitor: Monitor, alerts: pd.DataFrame, budgets: np.ndarray, economics=None) -> np.ndarray:
        cpa = alerts[alerts["metric"] == "cpa"]
        if not cpa.empty:
            day = int(cpa["date"].iloc[0])
            log = monitor.log[day].set_index("campaign_id").loc[cpa["campaign_id"]]
            at = position[cpa["campaign_id"]].to_numpy()
            max_conv, half_sat, shape = world.true_curves(day)
            true = ResponseCurves.hill(max_conv[at], half_sat[at], shape[at]).value(spend[day][at])
            promised = (log["actual_cpa"] * log["actual_conversions"] / log["expected_cpa"]).to_numpy()
            rows.append(
                pd.DataFrame(
                    {
                        "day": day,
                        "campaign_id": cpa["campaign_id"].to_numpy(),
                        "observed_miss": cpa["deviation"].to_numpy(float),
                        "true_miss": promised / true - 1.0,
                        "promised": promised,
                        "drifted": world.drifted[at],
                    }
                )
            )
        return original(monitor, alerts, budgets, economics)

    policy = fitted_policies(world)("pmi", True)
    observe = policy.observe

    def observing(day: int, budgets: np.ndarray, outcome) -> None:
        spend[day] = outcome.spend
        observe(day, budgets, outcome)

    policy.observe = observing
    Monitor.cut_budgets = recording
    try:
        run_policy(world, policy, float(world.static_budgets().sum()))
    finally:
        Monitor.cut_budgets = original
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--drift", choices=DRIFTS, default="none")
    args = parser.parse_args()
    frames = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        world = World(BacktestConfig(days=30, n_campaigns=24, seed=seed, drift=args.drift))
        frames.append(cut_alerts(world).assign(seed=seed))
    table = pd.concat(frames, ignore_index=True)
    campaign_days = args.seeds * 30 * 24
    print(f"{len(table)} CPA alerts reached the cut step in {campaign_days} campaign-days ({args.drift})")
    for drifted, group in table.groupby("drifted"):
        observed, true = np.log1p(group["observed_miss"]), np.log1p(group["true_miss"])
        print(
            f"drifted campaign {drifted}: {len(group)} alerts, mean log CPA miss observed {observed.mean():.2f}, "
            f"true {true.mean():.2f}; true miss median {group['true_miss'].median():.2f}, "
            f"below 5% in {(group['true_miss'] < 0.05).mean():.0%}"
        )
