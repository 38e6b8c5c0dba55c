"""Closed-loop backtest: share of the oracle's profit uplift over the static split that pmi captures, vs greedy.

Run: `.venv/bin/python benchmarks/closed_loop_backtest.py [--seeds 10] [--drift audience_saturation]`
(30 simulated days x 24 campaigns per seed, the default setting; `pmi backtest --seeds 10` runs the same code).
Seeds 0-4 were used while tuning pmi's rules; seeds 5-9 never were: their figures are the headline, printed first.
"""

from __future__ import annotations

import argparse
import time

from ml.backtest import BacktestConfig, run_backtest
from ml.backtest.config import DRIFTS
from ml.backtest.report import format_table, summary_table

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--campaigns", type=int, default=24)
    parser.add_argument("--drift", choices=DRIFTS, default="audience_saturation")
    args = parser.parse_args()
    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        started = time.perf_counter()
        results.append(
            run_backtest(BacktestConfig(days=args.days, n_campaigns=args.campaigns, seed=seed, drift=args.drift))
        )
        r = results[-1]
        drift_retrains = [
            d
            for d, flagged in zip(r.retrain_days["pmi"], r.retrained_campaigns["pmi"], strict=True)
            if set(flagged) & set(r.drifted_campaigns)
        ]
        profit = r.daily.groupby("policy")["profit"].sum()
        gain = profit["pmi"] - profit["greedy"]
        print(
            f"seed {seed}: {time.perf_counter() - started:.0f} s; pmi - greedy {gain:+,.0f}; drift hit "
            f"{r.drifted_campaigns} from day {r.config.drift_day}; pmi retrains {r.retrain_days['pmi']} "
            f"(flagging the drifted campaign: {drift_retrains}); alerts {r.alerts['pmi']}; limit violations "
            f"{r.limit_violations}",
            flush=True,
        )
    summary = summary_table(results)
    print(format_table(summary, len(results)))
    for label, table in summary.groupby("seeds", sort=False):
        table = table.set_index("policy")
        pmi, greedy = table.loc["pmi"], table.loc["greedy"]
        inside = int(table["limit_violations"].sum()) == 0
        met = pmi["cumulative_profit"] >= greedy["cumulative_profit"] and inside
        print(
            f"{label}: pmi captures {pmi['share_of_oracle_uplift']:.1%} of the oracle's uplift over static "
            f"(greedy {greedy['share_of_oracle_uplift']:.1%}); pmi - greedy = "
            f"{pmi['cumulative_profit'] - greedy['cumulative_profit']:+,.0f} per seed; every applied budget inside "
            f"the day's limit: {'yes' if inside else 'NO'}; pmi >= greedy with the limit held: "
            f"{'met' if met else 'NOT met'}"
        )
