"""How good are the KPI forecaster, the CAC model and the price-of-scale model on the default simulation?

Run: `.venv/bin/python benchmarks/kpi_forecast_bench.py [--home DIR]`. Without ``--home`` it simulates the default
portfolio (24 campaigns x 180 days) into a temporary PMI_HOME and builds the marts with dbt first; with
``--home`` it reads an existing warehouse there. Prints:

* forecaster rolling-origin backtest per KPI x horizon: model p50 MAPE beside seasonal-naive MAPE, WAPE,
  p10-p90 coverage and how many origins / forecasts were scored;
* CAC model holdout MAPE beside the trailing 28-day (and 7-day) CPA baselines;
* pricing model holdout CPM MAPE, fitted market elasticities and its scale curves against the simulator truth.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ml.models.cac import train_cac_model  # noqa: E402
from ml.models.forecast import backtest  # noqa: E402
from ml.models.forecast.examples import HORIZONS  # noqa: E402
from ml.models.forecast.model import MIN_ACTIVE_DAYS  # noqa: E402
from ml.models.pricing import train_pricing_model  # noqa: E402
from ml.models.pricing.evaluation import scale_uplift_vs_truth, summarize_uplift  # noqa: E402
from ml.settings import pmi_paths  # noqa: E402
from ml.simulation import SimulationConfig  # noqa: E402
from ml.simulation.backfill import run_backfill  # noqa: E402

END_DATE = dt.date(2026, 11, 23)


def build_warehouse(home: Path, config: SimulationConfig) -> None:
    """Simulate the portfolio and build the marts (models only; dbt's data tests are skipped for speed)."""
    from orchestration.warehouse.project import invoke_dbt

    paths = pmi_paths(home)
    run_backfill(config, paths)
    # --full-refresh: the home may hold an earlier simulation's incremental facts
    result = invoke_dbt(paths, "build", home / "target", "--full-refresh", "--exclude-resource-type", "test")
    if not result.success:
        raise RuntimeError(f"dbt build failed: {result.exception}")


def load(home: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        return {
            "features": con.sql("select * from marts.fct_campaign_day_features").df(),
            "holidays": con.sql("select * from reference.marketing_holidays").df(),
            "truth": con.sql("select * from truth.campaign_truth").df(),
        }


def bench_forecaster(frames: dict[str, pd.DataFrame], args: argparse.Namespace) -> None:
    started = time.perf_counter()
    metrics, rows = backtest(
        frames["features"],
        frames["holidays"],
        first_origin=args.first_origin,
        every_days=args.every_days,
        seed=args.seed,
    )
    elapsed = time.perf_counter() - started
    print(
        f"\n== KPI forecaster: rolling-origin backtest ({rows['origin_index'].nunique()} origins from day "
        f"{args.first_origin}, every {args.every_days} days; {elapsed:.0f} s) =="
    )
    table = metrics[
        [
            "kpi",
            "horizon_days",
            "mape_model",
            "mape_naive",
            "wape_model",
            "wape_naive",
            "coverage_p10_p90",
            "n_origins",
            "n",
        ]
    ].copy()
    table["beats_naive"] = table["mape_model"] < table["mape_naive"]
    table["coverage_in_70_90"] = table["coverage_p10_p90"].between(0.7, 0.9)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"beats seasonal-naive MAPE everywhere: {bool(table['beats_naive'].all())}; "
        f"p10-p90 coverage within 70-90% everywhere: {bool(table['coverage_in_70_90'].all())}"
    )
    longest = max(HORIZONS)
    if args.days < 2 * longest + MIN_ACTIVE_DAYS:
        print(
            f"note: with {args.days} days of history no {longest}-day window is complete before any origin whose "
            f"own {longest} days fit in the data, so {longest}-day forecasts come from the horizon-pooled model "
            f"trained on shorter windows only (try --days 365)."
        )


def bench_cac(frames: dict[str, pd.DataFrame], seed: int) -> None:
    trained = train_cac_model(frames["features"], seed=seed)
    m = trained.metrics
    print(f"\n== CAC model: holdout = last 30 days ({int(m['n'])} campaign-days, trained on {int(m['n_train'])}) ==")
    print(
        f"CPA MAPE  model {m['mape_model']:.3f} | trailing-28d {m['mape_trailing_28d']:.3f} | "
        f"trailing-7d {m['mape_trailing_7d']:.3f}"
    )
    print(
        f"CPA WAPE  model {m['wape_model']:.3f} | trailing-28d {m['wape_trailing_28d']:.3f} | "
        f"trailing-7d {m['wape_trailing_7d']:.3f}"
    )


def bench_pricing(frames: dict[str, pd.DataFrame], config: SimulationConfig, seed: int) -> None:
    trained = train_pricing_model(frames["features"], seed=seed)
    m = trained.metrics
    print(f"\n== Pricing model: holdout = last 30 days ({int(m['n'])} campaign-days) ==")
    print(
        f"CPM MAPE model {m['mape_cpm']:.4f} | trailing-28d CPM {m['mape_cpm_trailing_28d']:.4f}; "
        f"daily conversions MAPE (own log-log fit) {m['mape_conversions']:.3f}"
    )
    print(
        f"elasticity of CPM to cpm_index {m['elasticity_cpm_index']:.3f} (truth 1.0), to competition_index "
        f"{m['elasticity_competition_index']:.3f} (truth {config.competition_elasticity})"
    )
    table = scale_uplift_vs_truth(trained.model, frames["truth"], config.inventory_pressure)
    summary = summarize_uplift(table)
    print("log change from 0.5x to 2x typical daily spend, predicted vs truth, over campaigns:")
    for kpi in ("cpm", "cpa"):
        pred, true = table[f"{kpi}_uplift_pred"].mean(), table[f"{kpi}_uplift_true"].mean()
        print(
            f"  {kpi.upper()}: direction agreement {summary[f'{kpi}_direction_agreement']:.2f}, correlation "
            f"{summary[f'{kpi}_uplift_corr']:.3f}, mean abs error {summary[f'{kpi}_uplift_mae']:.3f} "
            f"(mean predicted {pred:.3f} vs true {true:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="existing PMI_HOME with a built warehouse (default: simulate)")
    parser.add_argument("--seed", type=int, default=0, help="model seed")
    parser.add_argument("--sim-seed", type=int, default=SimulationConfig().seed, help="simulation seed")
    parser.add_argument("--days", type=int, default=SimulationConfig().days, help="days of simulated history")
    parser.add_argument("--first-origin", type=int, default=56, help="first backtest origin (day index)")
    parser.add_argument("--every-days", type=int, default=7, help="days between backtest origins")
    args = parser.parse_args()
    config = SimulationConfig(end_date=END_DATE, seed=args.sim_seed, days=args.days)
    with tempfile.TemporaryDirectory(prefix="pmi_kpi_bench_") as tmp:
        home = args.home or Path(tmp)
        if args.home is None:
            started = time.perf_counter()
            build_warehouse(home, config)
            print(
                f"simulated {config.n_campaigns} campaigns x {config.days} days and built marts in "
                f"{time.perf_counter() - started:.0f} s"
            )
        frames = load(home)
    bench_cac(frames, args.seed)
    bench_pricing(frames, config, args.seed)
    bench_forecaster(frames, args)


if __name__ == "__main__":
    main()
