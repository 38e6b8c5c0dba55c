"""Where the information ceiling's edge over pmi comes from: the ceiling with one of its privileges taken away.

Run: `.venv/bin/python benchmarks/unowned_ceiling_decomposition.py --seeds 0 1 2 --days 21` (tuning seeds; nothing
here is tuned, but the figures guide changes to the estimation, so they are read on the tuning seeds).

For each scenario of `benchmarks/allocation_unowned_bench.py` (spread 0.8, its `--size-scale 0.5` portfolio sizes)
it prints the share of the oracle's uplift of the ceiling (``ml/evaluation/information_ceiling.py``) and of three
weaker versions: valuing conversions at the export's revenue per conversion (what pmi sees) instead of the true
value; a flat prior on log(k / today) over the generator's range; a normal prior at the generator's mean with sd 0.5
(the floor of pmi's pooled prior). Beside them, pmi's own split (`pmi allocate`'s library path, as the bench runs
it) and the Bayes decision on pmi's own posterior: the exact solver on the mean of pmi's posterior draws, valued as
pmi values them, which says whether pmi's decision rule or its posterior loses the rest. The constraints are
checked for every split; a violation exits 1. The ``*_spends`` columns are the share of today's total each split
spends (the total is a ceiling, not a target: the oracle leaves money unspent where every campaign is past its
optimum).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ml.allocation.portfolio import RunOptions, allocate, read_constraints, read_history
from ml.allocation.portfolio.curves import curves_for, posterior_conversions
from ml.evaluation.information_ceiling import ceiling_split
from ml.evaluation.oracle import Bounds, solve_exact, violations
from ml.evaluation.unowned import FAMILIES, MAX_CHANGE_PCT, Scenario, ScenarioData, draw_scenario
from ml.models.response import ResponseCurveSet

PORTFOLIO_SIZE = {"hill_s": 30, "exponential": 30, "log": 40, "threshold": 60, "mixed": 100}  # the bench at 0.5


def observed_value(data: ScenarioData) -> np.ndarray:
    """The export's revenue per conversion per campaign (the pooled value where a campaign has none)."""
    totals = data.export.groupby("campaign_id")[["revenue", "conversions"]].sum().loc[data.campaigns["campaign_id"]]
    pooled = totals["revenue"].sum() / max(totals["conversions"].sum(), 1.0)
    own = totals["revenue"] / totals["conversions"].where(totals["conversions"] > 0)
    return own.fillna(pooled).to_numpy(float)


def pmi_allocation(data: ScenarioData, bounds: Bounds, directory: Path) -> tuple[np.ndarray, ResponseCurveSet]:
    """pmi's split of the scenario's export and the curves it fitted, as `benchmarks/allocation_unowned_bench.py`
    runs it (the export and constraints written as files and read back by `pmi allocate`'s readers)."""
    data.export.to_csv(directory / "history.csv", index=False)
    data.constraints.to_csv(directory / "constraints.csv", index=False)
    history = read_history(directory / "history.csv")
    constraints = read_constraints(directory / "constraints.csv", history)
    options = RunOptions(total_budget=bounds.total_budget, max_change_pct=MAX_CHANGE_PCT, seed=data.scenario.seed)
    run = allocate(history, options, None, constraints, None)
    split = run.table.set_index("campaign_id").loc[data.campaigns["campaign_id"], "recommended_budget"]
    return split.to_numpy(float), run.curves


def posterior_mean_conversions(fitted: ResponseCurveSet, campaign_ids: np.ndarray):
    """Expected conversions at any (campaigns, points) spend grid averaged over pmi's posterior draws."""
    ordered = curves_for(fitted, campaign_ids)

    def conversions(spend: np.ndarray) -> np.ndarray:  # one grid point at a time bounds the memory
        return np.column_stack([posterior_conversions(ordered, column).mean(axis=1) for column in spend.T])

    return conversions


def decompose(data: ScenarioData, directory: Path) -> tuple[dict[str, float], int]:
    """Shares of the oracle's uplift of the ceiling, its weaker versions and pmi, and the number of violations."""
    bounds, seed = data.today_bounds(), data.scenario.seed
    today = data.true_profit(bounds.current).sum()
    oracle = solve_exact(data.true_profit, bounds)
    uplift = data.true_profit(oracle).sum() - today
    pmi, fitted = pmi_allocation(data, bounds, directory)
    valued_as_pmi = dataclasses.replace(data, value_per_conversion=observed_value(data))
    conversions = posterior_mean_conversions(fitted, data.campaigns["campaign_id"].to_numpy())
    splits = {
        "ceiling": ceiling_split(data, bounds, seed),
        "observed_value": ceiling_split(
            dataclasses.replace(data, value_per_conversion=observed_value(data)), bounds, seed
        ),
        "flat_prior": ceiling_split(data, bounds, seed, prior_sd=np.inf),
        "prior_sd_0.5": ceiling_split(data, bounds, seed, prior_sd=0.5),
        "pmi_posterior_bayes": solve_exact(lambda spend: valued_as_pmi.profit(spend, conversions), bounds, units=1500),
        "pmi": pmi,
    }
    broken = sum(len(violations(split, bounds, name)) for name, split in splits.items())
    shares = {name: (data.true_profit(split).sum() - today) / uplift for name, split in splits.items()}
    spent = {f"{name}_spends": splits[name].sum() / bounds.total_budget for name in ("ceiling", "pmi")}
    return {**shares, **spent, "oracle_spends": oracle.sum() / bounds.total_budget}, broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    args = parser.parse_args()
    rows, broken = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for family in args.families:
                scenario = Scenario(family, args.days, PORTFOLIO_SIZE[family], seed, 0.8)
                shares, violated = decompose(draw_scenario(scenario), Path(tmp))
                broken += violated
                rows.append({"family": family, "seed": seed, **shares})
                print(f"seed {seed} {family:>11}: " + "  ".join(f"{k} {v:6.1%}" for k, v in shares.items()), flush=True)
    table = pd.DataFrame(rows)
    print(f"\nmean over seeds {', '.join(map(str, args.seeds))}, {args.days}-day histories:")
    print(table.groupby("family").mean(numeric_only=True).drop(columns="seed").map(lambda v: f"{v:.1%}").to_string())
    print("all: " + "  ".join(f"{k} {v:.1%}" for k, v in table.drop(columns=["family", "seed"]).mean().items()))
    if broken:
        print(f"CONSTRAINT VIOLATIONS: {broken}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
