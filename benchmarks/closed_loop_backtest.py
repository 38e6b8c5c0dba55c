"""Closed-loop backtest: share of the oracle's profit uplift over the static split that pmi captures, vs greedy.

Run: `.venv/bin/python benchmarks/closed_loop_backtest.py [--seeds 5] [--drift audience_saturation]`
(30 simulated days x 24 campaigns per seed, the issue's setting; `pmi backtest` runs the same code).
"""

from __future__ import annotations

import argparse
import time

from ml.backtest import BacktestConfig, run_backtest
from ml.backtest.config import DRIFTS
from ml.backtest.report import format_table, summary_table

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--campaigns", type=int, default=24)
    parser.add_argument("--drift", choices=DRIFTS, default="audience_saturation")
    args = parser.parse_args()
    results = []
    for seed in range(args.seeds):
        started = time.perf_counter()
        results.append(run_backtest(BacktestConfig(days=args.days, n_campaigns=args.campaigns, seed=seed,
                                                    drift=args.drift)))
        r = results[-1]
        drift_retrains = [d for d, flagged in zip(r.retrain_days["pmi"], r.retrained_campaigns["pmi"], strict=True)
                          if set(flagged) & set(r.drifted_campaigns)]
        profit = r.daily.groupby("policy")["profit"].sum()
        gain = profit["pmi"] - profit["greedy"]
        print(f"seed {seed}: {time.perf_counter() - started:.0f} s; pmi - greedy {gain:+,.0f}; drift hit "
              f"{r.drifted_campaigns} from day {r.config.drift_day}; pmi retrains {r.retrain_days['pmi']} "
              f"(flagging the drifted campaign: {drift_retrains}); alerts {r.alerts['pmi']}", flush=True)
    table = summary_table(results).set_index("policy")
    print(format_table(table.reset_index(), len(results)))
    pmi, greedy = table.loc["pmi"], table.loc["greedy"]
    met = pmi["share_of_oracle_uplift"] >= 0.85 and pmi["cumulative_profit"] > greedy["cumulative_profit"]
    print(f"pmi captures {pmi['share_of_oracle_uplift']:.1%} of the oracle's uplift over static "
          f"(greedy {greedy['share_of_oracle_uplift']:.1%}); pmi - greedy = "
          f"{pmi['cumulative_profit'] - greedy['cumulative_profit']:,.0f} per seed; target >= 85% and pmi > greedy: "
          f"{'met' if met else 'NOT met'}")
