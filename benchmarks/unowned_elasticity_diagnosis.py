"""Why young campaigns are hard: the elasticity pmi's fit sees at today's spend against the true curve's.

Run: `.venv/bin/python benchmarks/unowned_elasticity_diagnosis.py --family log --days 21 --campaigns 40 --seed 0`.

One scenario of ``benchmarks/allocation_unowned_bench.py`` (spread 0.8) is written as its export, read back and
fitted the way `pmi allocate` fits it (``fit_curves``). The true curves are read only here, to score: the fitted and
the true elasticity (d log conversions / d log spend) at each campaign's budget of the last 7 days, their means,
spreads and correlation, and the fitted Hill shapes. Use tuning seeds (0-2) for diagnosis.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ml.allocation.portfolio import read_history
from ml.allocation.portfolio.curves import fit_curves, fittable
from ml.evaluation.unowned import FAMILIES, Scenario, draw_scenario
from ml.models.response.shape_range import DEFAULT_HILL_SHAPE_MAX

STEP = 1e-4  # relative spend step of the central difference


def log_slope(value, spend: np.ndarray) -> np.ndarray:
    """d log value / d log spend at ``spend`` by a central difference."""
    up, down = value(spend * (1 + STEP)), value(spend * (1 - STEP))
    return (np.log(up) - np.log(down)) / (np.log1p(STEP) - np.log1p(-STEP))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=FAMILIES, default="log")
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--campaigns", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hill-shape-max", type=float, default=DEFAULT_HILL_SHAPE_MAX)
    args = parser.parse_args()
    data = draw_scenario(Scenario(args.family, args.days, args.campaigns, args.seed, 0.8))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.csv"
        data.export.to_csv(path, index=False)
        history = read_history(path)
    budget = data.today_bounds().current  # the last 7 days' mean spend, in the truth's order
    ids = history.campaign_ids[fittable(history)]
    fitted = fit_curves(history, ids, args.seed, args.hill_shape_max)
    in_fit_order = pd.Series(budget, index=data.campaigns["campaign_id"].to_numpy()).reindex(ids).to_numpy()
    fitted_at = log_slope(fitted.curves.value, in_fit_order)
    true_all = pd.Series(log_slope(data.truth.value, budget), index=data.campaigns["campaign_id"].to_numpy())
    true_at = true_all.reindex(ids).to_numpy()
    print(f"{args.family}, {args.days} days, {len(ids)} campaigns, seed {args.seed}:")
    print(
        f"  elasticity at today's budget: fitted mean {fitted_at.mean():.3f} sd {fitted_at.std():.3f}; "
        f"true mean {true_at.mean():.3f} sd {true_at.std():.3f}; "
        f"correlation {np.corrcoef(fitted_at, true_at)[0, 1]:.2f}"
    )
    print(f"  fitted Hill shape: mean {fitted.curves.shape.mean():.3f} sd {fitted.curves.shape.std():.3f}")


if __name__ == "__main__":
    main()
