"""The portfolio's customer value at many campaigns: the back-test's time and memory, the total and its interval.

Run: `.venv/bin/python benchmarks/portfolio_ltv_scale_bench.py [--campaigns 2000 --users-per-campaign 250]
[--home DIR]`. Simulates the portfolio (180 days to a fixed end date) into ``--home`` (a temporary directory by
default; an existing home is read as it is), builds the user marts with dbt, then times ``development_backtest`` on
the LTV training sample (``training_user_filter``: at most 500k users, whatever the portfolio's size) and reports
the portfolio's d90 total (the users' revenue so far developed along the campaigns' value curves; a user under a day
old takes its campaign's settled mean, as no LTV model is trained here) against the users' realised d90 (the simulator's
pending events included: evaluation only) and its 90% interval.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from ml.evaluation.developed_value import campaign_value_without_model
from ml.evaluation.truth import realised_value_sql
from ml.models.ltv.portfolio_total import development_backtest, portfolio_value
from ml.models.training.ltv_data import LtvDataConfig, training_user_filter
from ml.models.training.ltv_scoring import CURVE_COLUMNS
from ml.settings import PmiPaths, pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill

REPO = Path(__file__).resolve().parents[1]
END_DATE = "2026-11-23"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(home: Path, args: argparse.Namespace) -> PmiPaths:
    """Simulate and build the user marts, unless ``home`` already holds a warehouse."""
    paths = pmi_paths(home).ensure()
    if not paths.warehouse.exists():
        sys.path.insert(0, str(REPO / "tests" / "ml" / "models" / "ltv"))
        from conftest import run_dbt  # the user marts only, in-process

        config = SimulationConfig(
            n_campaigns=args.campaigns,
            days=180,
            seed=args.seed,
            end_date=pd.Timestamp(END_DATE).date(),
            users_per_campaign=args.users_per_campaign,
        )
        started = time.perf_counter()
        run_backfill(config, paths)
        run_dbt(home)
        print(f"simulated and built the user marts in {time.perf_counter() - started:.0f} s")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument("--users-per-campaign", type=int, default=250)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, help="a data directory to build into or read (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portfolio_ltv_") as tmp:
        paths = build(args.home or Path(tmp), args)
        where, share = training_user_filter(paths, LtvDataConfig())
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            sample = con.sql(f"SELECT {CURVE_COLUMNS} FROM marts.fct_user_features WHERE {where}").df()
            users = con.sql(f"SELECT {CURVE_COLUMNS} FROM marts.fct_user_features").df()
            realised = float(con.execute(f"SELECT sum(realised_d90) FROM ({realised_value_sql(90)})").fetchall()[0][0])
    loaded = peak_mb()
    started = time.perf_counter()
    backtest = development_backtest(sample)
    seconds = time.perf_counter() - started
    print(
        f"{users['campaign_id'].nunique():,} campaigns, {len(users):,} users; back-test on the {len(sample):,}-user "
        f"sample (share {share:.3f}): {seconds:.1f} s, {len(backtest.log_errors)} origins, log errors "
        f"{', '.join(f'{e:+.3f}' for e in backtest.log_errors)}; peak RSS {peak_mb():.0f} MB ({loaded:.0f} MB after "
        "loading the users)"
    )
    value = portfolio_value(campaign_value_without_model(users), backtest)
    print(
        f"portfolio d90 value {value.total:,.0f} (settled {value.settled / value.total:.0%}) vs realised "
        f"{realised:,.0f}: {value.total / realised - 1:+.2%}; 90% interval {value.low / realised - 1:+.1%} .. "
        f"{value.high / realised - 1:+.1%} ({'covers' if value.low <= realised <= value.high else 'MISSES'})"
    )


if __name__ == "__main__":
    main()
