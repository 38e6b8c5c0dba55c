"""Does capping the KPI forecaster's training rows keep its accuracy while its cost stops growing?

Run: `.venv/bin/python benchmarks/kpi_forecast_scale_bench.py [--campaigns 400] [--home DIR]`. Simulates a
portfolio of ``--campaigns`` x ``--days`` (few users per campaign: the forecaster reads campaign-days only) and
builds the marts, then trains the forecaster twice on the same features, side by side: with the default
``max_training_examples`` cap and uncapped. Prints seconds, peak traced Python memory of the training, training
examples, and the holdout p50 MAPE / p10-p90 coverage per KPI x horizon of each, with the ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.kpi_forecast_bench import END_DATE, build_warehouse, load  # noqa: E402
from ml.models.forecast import train_kpi_forecaster  # noqa: E402
from ml.models.forecast.model import DEFAULT_PARAMS  # noqa: E402
from ml.simulation import SimulationConfig  # noqa: E402

UNCAPPED = 10**12


def train_once(frames: dict[str, pd.DataFrame], cap: int, seed: int) -> tuple[dict[str, float], float, float]:
    """Metrics, seconds and peak traced MB of one train (holdout fit + deployment refit)."""
    tracemalloc.start()
    started = time.perf_counter()
    trained = train_kpi_forecaster(
        frames["features"], frames["holidays"], seed=seed, params={**DEFAULT_PARAMS, "max_training_examples": cap}
    )
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return trained.metrics, seconds, peak / 1e6


def metric_table(capped: dict[str, float], uncapped: dict[str, float]) -> pd.DataFrame:
    """Holdout MAPE and coverage per KPI x horizon for both fits, side by side."""
    keys = sorted(k for k in capped if k.startswith("valid_") and k.endswith("_mape_model"))
    rows = []
    for key in keys:
        cell = key.removeprefix("valid_").removesuffix("_mape_model")
        cover = f"valid_{cell}_coverage_p10_p90"
        rows.append(
            {
                "kpi_horizon": cell,
                "mape_capped": capped[key],
                "mape_uncapped": uncapped[key],
                "mape_ratio": capped[key] / uncapped[key],
                "coverage_capped": capped[cover],
                "coverage_uncapped": uncapped[cover],
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=400)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--users-per-campaign", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", type=Path, help="an existing warehouse to read instead of simulating one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmi-kpi-scale-") as tmp:
        home = args.home or Path(tmp)
        if args.home is None:
            config = SimulationConfig(
                n_campaigns=args.campaigns,
                days=args.days,
                users_per_campaign=args.users_per_campaign,
                end_date=END_DATE,
                seed=args.seed,
            )
            started = time.perf_counter()
            build_warehouse(home, config)
            print(f"warehouse: {args.campaigns} campaigns x {args.days} days in {time.perf_counter() - started:.0f} s")
        frames = load(home)
        cap = int(DEFAULT_PARAMS["max_training_examples"])
        capped, capped_s, capped_mb = train_once(frames, cap, args.seed)
        uncapped, uncapped_s, uncapped_mb = train_once(frames, UNCAPPED, args.seed)
    print(
        f"\n== KPI forecaster on {len(frames['features']):,} campaign-days, "
        f"{int(capped['n_train_examples']):,} examples ==\n"
        f"capped at {cap:,} rows per booster: {capped_s:.1f} s, peak traced {capped_mb:.0f} MB\n"
        f"uncapped:                          {uncapped_s:.1f} s, peak traced {uncapped_mb:.0f} MB\n"
        f"time ratio capped/uncapped {capped_s / uncapped_s:.2f}, memory ratio {capped_mb / uncapped_mb:.2f}"
    )
    table = metric_table(capped, uncapped)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean holdout MAPE ratio capped/uncapped: {table['mape_ratio'].mean():.3f}")


if __name__ == "__main__":
    main()
