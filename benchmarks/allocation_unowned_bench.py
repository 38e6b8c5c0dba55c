"""`pmi allocate` on campaign histories whose curves the project does not own, against an oracle that knows them.

Run: `.venv/bin/python benchmarks/allocation_unowned_bench.py --seeds 3 4 [--families ...] [--days ...] [--out FILE]
[--hill-shape-max 3]` (the last fits pmi's curves with Hill shapes up to 3, S-shaped ones included; `pmi allocate`
keeps 1).
Seeds 0-2 are the tuning seeds (used while changing the estimation); report on 3 and up (held out).

Each scenario (response family x history length x portfolio size, ``ml/evaluation/unowned.py``) is written as the
CSV export and constraints file a user would give, read back by `pmi allocate`'s own readers and allocated by its
library path (``ml.allocation.portfolio.allocate``: the fit, the optimiser and the decision rule the command runs), with
today's total budget, the 25% change limit and per-campaign min/max bounds. The truth never reaches it. Scored on
the true curves and values: share of the oracle's profit uplift over today's split,
(profit(pmi) - profit(today)) / (profit(oracle) - profit(today)), where the oracle solves the same constrained
problem exactly on the true curves (``ml/evaluation/oracle.py``); a naive baseline (per-campaign least squares of
conversions on log spend, valued at the export's revenue per conversion) is solved by the same exact solver.
The ``ceiling`` column is what the history allows (``ml/evaluation/information_ceiling.py``): the Bayes decision
of an allocator told the true family, shape, weekday pattern, dispersion, value and the generator's prior, left to
learn only the curve's scale and level from the same days; it bounds what any estimation could capture there.
Every allocation (pmi, naive, ceiling, oracle) is checked against the total, the bounds and the change limit; any
violation is printed and the script exits 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ml.allocation.portfolio import RunOptions, allocate, read_constraints, read_history
from ml.allocation.portfolio.curves import fit_curves, fittable
from ml.evaluation.information_ceiling import ceiling_split
from ml.evaluation.oracle import Bounds, naive_log_fit, solve_exact, violations
from ml.evaluation.unowned import COSTS, FAMILIES, MAX_CHANGE_PCT, Scenario, ScenarioData, draw_scenario
from ml.models.response.shape_range import DEFAULT_HILL_SHAPE_MAX
from ml.response_curves import CurveFamily

HISTORY_DAYS = (21, 60, 180)
SHARES = ["pmi_share", "naive_share", "ceiling_share"]
PORTFOLIO_SIZE = {"hill_s": 30, "exponential": 50, "log": 80, "threshold": 120, "mixed": 200}


def naive_split(data: ScenarioData, bounds: Bounds) -> np.ndarray:
    """The baseline: each campaign's log-spend slope, its export revenue per conversion, the exact solver."""
    export = data.export
    slope, ids = naive_log_fit(
        export["spend"].to_numpy(float), export["conversions"].to_numpy(float), export["campaign_id"].to_numpy()
    )
    totals = export.groupby("campaign_id")[["conversions", "revenue"]].sum().loc[ids]
    pooled = totals["revenue"].sum() / max(totals["conversions"].sum(), 1.0)
    value = np.where(totals["conversions"] > 0, totals["revenue"] / totals["conversions"].clip(lower=1), pooled)
    multiplier = COSTS.cost_multiplier(data.campaigns["has_agency"].to_numpy())

    def profit(spend: np.ndarray) -> np.ndarray:  # a + b log(s): the constant does not move the split
        return (value * slope)[:, None] * np.log(np.maximum(spend, 1e-9)) - spend * multiplier[:, None]

    return solve_exact(profit, bounds)


def run_scenario(
    scenario: Scenario, directory: Path, hill_shape_max: float = DEFAULT_HILL_SHAPE_MAX
) -> dict[str, float | str | int]:
    """Allocate one scenario with pmi, the naive baseline and the oracle; score and check all three."""
    data = draw_scenario(scenario)
    history_path, constraints_path = directory / "history.csv", directory / "constraints.csv"
    data.export.to_csv(history_path, index=False)
    data.constraints.to_csv(constraints_path, index=False)
    started = time.perf_counter()
    history = read_history(history_path)
    constraints = read_constraints(constraints_path, history)
    current = history.daily[history.daily["date"] > history.last_date - pd.Timedelta(days=7)]
    current = (current.groupby("campaign_id")["spend"].sum() / 7).reindex(history.campaign_ids).to_numpy()
    total = float(np.round(current.sum(), 2))
    options = RunOptions(total_budget=total, max_change_pct=MAX_CHANGE_PCT, seed=scenario.seed)
    curves = None
    if hill_shape_max != DEFAULT_HILL_SHAPE_MAX:  # the same fit pmi allocate runs, with the wider shape range
        curves = fit_curves(history, history.campaign_ids[fittable(history)], options.seed, hill_shape_max)
    run = allocate(history, options, None, constraints, curves)
    seconds = time.perf_counter() - started
    table = run.table.set_index("campaign_id").loc[data.campaigns["campaign_id"]]
    pmi = table["recommended_budget"].to_numpy(float)
    bounds = Bounds(
        total,
        table["current_budget"].to_numpy(float),
        constraints["min_budget"].to_numpy(float),
        constraints["max_budget"].to_numpy(float),
        MAX_CHANGE_PCT,
    )
    oracle = solve_exact(data.true_profit, bounds)
    naive = naive_split(data, bounds)
    ceiling = ceiling_split(data, bounds, scenario.seed)
    broken = [
        line
        for split, who in ((pmi, "pmi"), (naive, "naive"), (ceiling, "ceiling"), (oracle, "oracle"))
        for line in violations(split, bounds, f"{scenario.name} seed {scenario.seed} {who}")
    ]
    today = data.true_profit(bounds.current).sum()
    uplift = data.true_profit(oracle).sum() - today
    return {
        "family": scenario.family,
        "days": scenario.days,
        "campaigns": scenario.n_campaigns,
        "seed": scenario.seed,
        "spread": scenario.spread,
        "pmi_share": (data.true_profit(pmi).sum() - today) / uplift,
        "naive_share": (data.true_profit(naive).sum() - today) / uplift,
        "ceiling_share": (data.true_profit(ceiling).sum() - today) / uplift,
        "oracle_uplift": uplift,
        "oracle_uplift_pct": uplift / abs(today),
        "hill_curves": float(np.mean(run.curves.curves.family == CurveFamily.HILL)),
        "violations": len(broken),
        "pmi_seconds": seconds,
        "broken": "; ".join(broken),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--days", type=int, nargs="+", default=list(HISTORY_DAYS))
    parser.add_argument("--spreads", type=float, nargs="+", default=[0.35, 0.8], help="sd of log(optimum / today).")
    parser.add_argument("--size-scale", type=float, default=1.0, help="Multiply every portfolio size (min 30).")
    parser.add_argument("--out", type=Path, help="Also write the per-scenario rows as CSV.")
    parser.add_argument(
        "--hill-shape-max", type=float, default=DEFAULT_HILL_SHAPE_MAX, help="Largest Hill shape pmi's fit may take."
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed, spread in ((s, d) for s in args.seeds for d in args.spreads):
            for days in args.days:
                for family in args.families:
                    n = max(30, int(round(PORTFOLIO_SIZE[family] * args.size_scale)))
                    row = run_scenario(Scenario(family, days, n, seed, spread), Path(tmp), args.hill_shape_max)
                    rows.append(row)
                    print(
                        f"seed {seed} spread {spread:g} {family:>11}/{days:>3}d/{n:>3}: "
                        f"pmi {row['pmi_share']:7.1%}  naive "
                        f"{row['naive_share']:7.1%}  ceiling {row['ceiling_share']:7.1%}  "
                        f"oracle uplift {row['oracle_uplift']:9,.0f}/day "
                        f"({row['oracle_uplift_pct']:.1%})  violations {row['violations']}  "
                        f"({row['pmi_seconds']:.0f} s)",
                        flush=True,
                    )
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    summary = table.groupby(["spread", "family", "days", "campaigns"])[SHARES].mean()
    print(f"\nmean share of the oracle's uplift over seeds {', '.join(map(str, args.seeds))}:")
    print(summary.map(lambda v: f"{v:.1%}").to_string())
    by_days = table.groupby(["spread", "days"])[SHARES].mean()
    print("\nby history length:\n" + by_days.map(lambda v: f"{v:.1%}").to_string())
    print(
        f"\nall scenarios: pmi {table['pmi_share'].mean():.1%}, naive {table['naive_share'].mean():.1%}, "
        f"ceiling {table['ceiling_share'].mean():.1%}; "
        f"constraint violations: {int(table['violations'].sum())}"
    )
    if table["violations"].sum():
        print("CONSTRAINT VIOLATIONS:\n" + "\n".join(b for b in table["broken"] if b), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
