"""Where pmi's profit differs from greedy's in the closed loop: pmi with one of its additions switched off at a time.

Run: `.venv/bin/python benchmarks/closed_loop_decomposition.py [--seeds 5] [--first-seed 0] [--drift none]`
Every variant starts from the same fit of the same world (common random numbers); a variant's profit minus pmi's
is what that addition costs (negative: the addition earns its keep). Diagnose on tuning seeds (0-4) only.
Profit is realised (each user's drawn value); the expected profit beside it values the same spend on the true curves
at the mean user value, without the heavy-tailed value noise that dominates one seed's difference.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from ml.backtest import BacktestConfig
from ml.backtest.config import DRIFTS
from ml.backtest.loop import fitted_policies, run_policy
from ml.backtest.policies import PMI_COMPONENTS
from ml.backtest.report import paired_interval
from ml.backtest.world import World


def mean_interval(diff: pd.DataFrame) -> str:
    """Each variant's mean difference with its paired standard error and 95% t-interval over the seeds."""
    if len(diff) < 2:
        return "(one seed: no interval)"
    parts = []
    for name in diff.columns.drop("greedy", errors="ignore"):
        mean, se, low, high = paired_interval(diff[name])
        parts.append(f"{name} {mean:+,.0f} (se {se:,.0f}, 95% {low:+,.0f} .. {high:+,.0f})")
    return "; ".join(parts)


def variants() -> dict[str, tuple[bool, frozenset[str]]]:
    """greedy, pmi, and pmi without each of its additions."""
    out = {"greedy": (False, frozenset()), "pmi": (True, PMI_COMPONENTS)}
    out.update({f"pmi-{c}": (True, PMI_COMPONENTS - {c}) for c in sorted(PMI_COMPONENTS)})
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--campaigns", type=int, default=24)
    parser.add_argument("--drift", choices=DRIFTS, default="audience_saturation")
    parser.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    args = parser.parse_args()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        world = World(BacktestConfig(days=args.days, n_campaigns=args.campaigns, seed=seed, drift=args.drift))
        make = fitted_policies(world)
        total = float(world.static_budgets().sum())
        for name, (full, components) in variants().items():
            if args.only and name not in args.only:
                continue
            started = time.perf_counter()
            daily, broken = run_policy(world, make(name, full, components), total)
            profit = sum(r["revenue"] - r["cost"] for r in daily)
            expected = sum(r["expected_revenue"] - r["cost"] for r in daily)
            rows.append(
                {"seed": seed, "variant": name, "profit": profit, "expected_profit": expected, "violations": broken}
            )
            elapsed = time.perf_counter() - started
            print(f"seed {seed} {name}: profit {profit:,.0f}, {broken} limit violations ({elapsed:.0f} s)", flush=True)
    table = pd.DataFrame(rows).pivot(index="seed", columns="variant", values="profit")
    diff = table.sub(table["greedy"], axis=0)
    print(
        f"\nprofit minus greedy's per seed ({args.drift}, seeds {args.first_seed}-{args.first_seed + args.seeds - 1}):"
    )
    print(diff.round(0).to_string())
    print("mean:", diff.mean().round(0).to_dict())
    print("ahead of greedy in seeds:", (diff > 0).sum().to_dict())
    print("mean, paired se and 95% interval:", mean_interval(diff))
    expected = pd.DataFrame(rows).pivot(index="seed", columns="variant", values="expected_profit")
    expected_diff = expected.sub(expected["greedy"], axis=0)
    print("\nexpected profit (true curves and mean user value at the applied spend) minus greedy's per seed:")
    print(expected_diff.round(0).to_string())
    print("mean:", expected_diff.mean().round(0).to_dict())
    print("ahead of greedy in seeds:", (expected_diff > 0).sum().to_dict())
    print("mean, paired se and 95% interval:", mean_interval(expected_diff))
    print("limit violations (campaign-days):", pd.DataFrame(rows).groupby("variant")["violations"].sum().to_dict())
