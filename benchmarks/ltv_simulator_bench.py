"""LTV model vs simulator truth: mean d90 value per source (campaign; network x platform x geo).

Run: `.venv/bin/python benchmarks/ltv_simulator_bench.py [--sim-seeds 7 1 2 3] [--home DIR]`. Without
``--home`` it simulates the default portfolio (24 campaigns, 180 days to a fixed end date) once per simulation
seed into a temporary directory and builds the dbt marts (~20 s each); with ``--home`` it reads an already built
warehouse. Prints, for sources with 1,000+ users: the share whose mean d90 is within 10% of the true expected
d90 (analytic, checked against a 200k-user Monte Carlo per campaign) for the model alone, the blended estimate
(every user's revenue so far developed along the campaign's value curve, the model for users without evidence:
what the allocator uses), the mature-user mean and hindsight (every user's realised d90, pending events
included: pure sampling noise), and the *ceiling*: the
share an oracle that sees every user's complete value and knows the simulator's priors is expected to reach
(``ml.evaluation.ceiling``), with the probability that it gets every source within 10%. Also the p10-p90
coverage on validation users and the training time; with several seeds a pooled summary ends the output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ml.evaluation.ceiling import ceiling_summary, oracle_within_tolerance
from ml.evaluation.truth import expected_ltv, expected_value_share_by_day, monte_carlo_ltv, realised_value_sql
from ml.models.ltv import ltv_by_source
from ml.models.ltv.portfolio_total import development_backtest, portfolio_value
from ml.models.training.ltv import train_ltv

REPO = Path(__file__).resolve().parents[1]
END_DATE = dt.date(2026, 11, 23)
ESTIMATES = ("predicted", "blended", "baseline", "hindsight")
MIN_USERS = 1_000
HORIZON = 90
SOURCES = {"campaign": ("campaign_id",), "network x platform x geo": ("network", "platform", "geo")}


def build_warehouse(home: Path, sim_seed: int) -> None:
    """Simulate the default portfolio into ``home`` and build the marts with dbt."""
    from ml.settings import pmi_paths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill

    run_backfill(SimulationConfig(end_date=END_DATE, seed=sim_seed), pmi_paths(home))
    project = str(REPO / "dbt_project")
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--quiet",
            "--project-dir",
            project,
            "--profiles-dir",
            project,
            "--target-path",
            str(home / "target"),
            "--select",
            "+fct_user_features",
            "--exclude-resource-type",
            "test",
        ],
        check=True,
        env={**os.environ, "PMI_HOME": str(home)},
    )


def load(home: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """User features joined with each user's realised d90 (hindsight, evaluation only) and the campaign truth."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        features = con.sql("select * from marts.fct_user_features").df()
        realised = con.sql(realised_value_sql(HORIZON)).df()
        truth = con.sql("select * from truth.campaign_truth").df()
    return features.merge(realised, on="user_id", how="left"), truth


def source_table(df: pd.DataFrame, pred: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    """Per source: users, predicted mean, truth (user-weighted campaign truth), baseline and hindsight means."""
    mature = df["is_mature_d90"]
    g = df.groupby(list(cols))
    out = pd.DataFrame(
        {
            "n_users": g.size(),
            "predicted": g["pred"].mean(),
            "truth": g["true_d90"].mean(),
            "n_mature": g["is_mature_d90"].sum(),
            "hindsight": g["realised_d90"].mean(),
            "baseline": df[mature].groupby(list(cols))["revenue_d90"].mean(),
        }
    )
    by_source = ltv_by_source(df, pred, cols).set_index(list(cols))
    out["blended"] = by_source["blended_ltv_d90"]
    truth = df.groupby(list(cols)).agg(
        payer_share=("true_payer_share", "mean"), payer_value_log_sd=("true_value_log_sd", "mean")
    )
    out = out.join(oracle_within_tolerance(truth.join(out["n_users"]))[["p_within_pooled", "p_within_own"]])
    for col in ESTIMATES:
        out[f"{col}_rel_err"] = out[col] / out["truth"] - 1
        out[f"{col}_vs_realised"] = out[col] / out["hindsight"] - 1
    return out


def headline(big: pd.DataFrame) -> dict[str, float]:
    """Share within 10% and mean |relative error| per estimate (a source without mature users counts as a miss
    for the baseline), and the oracle ceiling."""
    out = {}
    for col in ESTIMATES:
        err = big[f"{col}_rel_err"].abs()
        out[f"within_{col}"] = float((err <= 0.10).mean())
        out[f"mean_abs_err_{col}"] = float(err.mean())
        out[f"within_realised_{col}"] = float((big[f"{col}_vs_realised"].abs() <= 0.10).mean())
    out.update(ceiling_summary(big))
    return out


def report(name: str, table: pd.DataFrame) -> dict[str, float]:
    """Print the headline figures for one source definition and the per-source table; return the headline."""
    big = table[table["n_users"] >= MIN_USERS]
    h = headline(big)
    print(
        f"\n== {name}: {len(table)} sources, {len(big)} with {MIN_USERS:,}+ users "
        f"({int(big['baseline'].isna().sum())} of them without d90-mature users)"
    )
    print(
        "  within 10% of truth: "
        + " | ".join(f"{c} {h[f'within_{c}']:.0%}" for c in ESTIMATES)
        + f" | ceiling (oracle) {h['expected_share_pooled']:.0%}, P(all within) {h['p_all_pooled']:.2f}"
    )
    print("  mean |relative error|: " + " | ".join(f"{c} {h[f'mean_abs_err_{c}']:.1%}" for c in ESTIMATES))
    print(
        "  within 10% of the same users' realised d90 (hindsight): "
        + " | ".join(f"{c} {h[f'within_realised_{c}']:.0%}" for c in ESTIMATES if c != "hindsight")
    )
    cols = ["n_users", "n_mature", "truth", *ESTIMATES, *(f"{c}_rel_err" for c in ESTIMATES), "p_within_pooled"]
    print(big[cols].round(3).to_string())
    return h


def evaluate_seed(args: argparse.Namespace, sim_seed: int) -> dict[str, dict[str, float]]:
    """Simulate (or read ``--home``), train, predict and report one warehouse; headlines per source definition."""
    with tempfile.TemporaryDirectory(prefix="ltv_bench_") as tmp:
        home = args.home or Path(tmp)
        if args.home is None:
            started = time.perf_counter()
            build_warehouse(home, sim_seed)
            print(f"\n##### simulation seed {sim_seed}: simulated + dbt in {time.perf_counter() - started:.1f} s")
        df, truth = load(home)
    print(
        f"{len(df):,} users, {int(df['is_mature_d90'].sum()):,} mature at d90, "
        f"{int(df['is_mature_d180'].sum()):,} at d180, {truth.shape[0]} campaigns"
    )

    analytic = expected_ltv(truth, HORIZON)
    started = time.perf_counter()
    mc = monte_carlo_ltv(truth, HORIZON, users_per_campaign=200_000, seed=args.seed)
    print(
        f"truth: analytic d90 vs Monte Carlo (200k users/campaign, {time.perf_counter() - started:.1f} s): "
        f"max |diff| {np.abs(mc / analytic - 1).max():.1%}, mean {np.abs(mc / analytic - 1).mean():.1%}"
    )

    started = time.perf_counter()
    trained = train_ltv(df, seed=args.seed)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pred = trained.model.predict_distribution(df)
    predict_seconds = time.perf_counter() - started
    by_campaign = truth.set_index("campaign_id")
    df = df.assign(
        pred=pred["ltv_d90_mean"].to_numpy(),
        true_d90=df["campaign_id"].map(analytic).to_numpy(),
        true_payer_share=df["campaign_id"].map(by_campaign["payer_share"]).to_numpy(),
        true_value_log_sd=df["campaign_id"].map(by_campaign["payer_value_log_sd"]).to_numpy(),
    )

    m = trained.metrics
    print(
        f"training: {train_seconds:.1f} s (fit {m['train_seconds']:.1f} s) on {int(m['n_train']):,} mature users, "
        f"predicting {len(df):,} users: {predict_seconds:.1f} s; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "validation (" + trained.params["valid_start"][:10] + " .. " + trained.params["valid_end"][:10] + ", "
        f"{int(m['n_mature_d90']):,} users): "
        + ", ".join(
            f"{k} {m[k]:.3f}"
            for k in (
                "ltv_d90_mae",
                "ltv_d90_rmse",
                "ltv_d90_relative_bias",
                "ltv_d90_p10_p90_coverage",
                "ltv_d30_p10_p90_coverage",
                "ltv_d90_top10_capture",
                "p_payer_brier",
                "p_payer_calibration_gap",
            )
        )
    )
    print(
        "stacking weights d90: " + ", ".join(f"{n} {m[f'weight_{n}_d90']:.2f}" for n in ("lightgbm", "xgboost", "mlp"))
    )
    print(
        "learners d90 validation MAE / RMSE: "
        + ", ".join(f"{n} {m[f'{n}_d90_mae']:.3f}/{m[f'{n}_d90_rmse']:.2f}" for n in ("lightgbm", "xgboost", "mlp"))
    )
    payers = df["is_mature_d90"].to_numpy() & (df["revenue_d90"].to_numpy() > 0)
    inside = (df["revenue_d90"] >= pred["ltv_d90_p10"]) & (df["revenue_d90"] <= pred["ltv_d90_p90"])
    print(
        f"p10-p90 coverage, all d90-mature users: {inside[df['is_mature_d90']].mean():.3f}; "
        f"d90 payers only: {inside[payers].mean():.3f}"
    )
    if trained.model.curve is not None and trained.model.reference_horizon == HORIZON:
        ids = truth["campaign_id"]
        true_factor = expected_value_share_by_day(truth, 180) / expected_value_share_by_day(truth, HORIZON)
        error = np.abs(trained.model.curve.factor(ids, 180) / true_factor - 1)
        print(
            f"d180 / d90 time-curve factor vs truth over campaigns: mean |error| {error.mean():.1%}, "
            f"worst {error.max():.1%}"
        )
    true180 = df["campaign_id"].map(expected_ltv(truth, 180))
    print(
        f"portfolio mean LTV: d90 predicted {pred['ltv_d90_mean'].mean():.3f} vs true {df['true_d90'].mean():.3f}; "
        f"d180 predicted {pred['ltv_d180_mean'].mean():.3f} vs true {true180.mean():.3f}"
    )
    out = {name: report(name, source_table(df, pred, cols)) for name, cols in SOURCES.items()}
    out["portfolio total"] = portfolio_total(df, pred)
    return out


def portfolio_total(df: pd.DataFrame, pred: pd.DataFrame) -> dict[str, float]:
    """The warehouse's portfolio d90 value (per-campaign blended LTV x users) and its back-tested 90% interval
    against the same users' realised d90 and the true expected value."""
    started = time.perf_counter()
    value = portfolio_value(ltv_by_source(df, pred, ("campaign_id",)), development_backtest(df))
    realised, expected = float(df["realised_d90"].sum()), float(df["true_d90"].sum())
    covers = value.low <= realised <= value.high
    print(
        f"\n== portfolio d90 value of {value.n_users:,} users: {value.total:,.0f} "
        f"(settled {value.settled / value.total:.0%}), 90% interval {value.low:,.0f} .. {value.high:,.0f} "
        f"(development log sd {value.log_sd:.3f} over "
        f"{value.n_origins} back-test origins, {time.perf_counter() - started:.1f} s)\n"
        f"   vs realised {realised:,.0f}: {value.total / realised - 1:+.2%} (interval {value.low / realised - 1:+.1%}"
        f" .. {value.high / realised - 1:+.1%}, {'covers' if covers else 'MISSES'}); vs true expected "
        f"{expected:,.0f}: {value.total / expected - 1:+.2%}"
    )
    return {
        "total_vs_realised": value.total / realised - 1,
        "total_vs_expected": value.total / expected - 1,
        "interval_covers": float(covers),
        "interval_half_width": (value.high - value.low) / 2 / value.total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an already built PMI_HOME (default: simulate a fresh one)")
    parser.add_argument("--seed", type=int, default=0, help="model seed")
    parser.add_argument("--sim-seeds", type=int, nargs="+", default=[7], help="simulation seeds (7: the default)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    seeds = [None] if args.home else args.sim_seeds
    results = {seed: evaluate_seed(args, seed) for seed in seeds}
    if len(results) < 2:
        return
    print(f"\n##### over {len(results)} simulation seeds (mean of per-seed shares; sources with {MIN_USERS:,}+ users)")
    totals = pd.DataFrame([r["portfolio total"] for r in results.values()], index=list(results))
    print(
        "portfolio d90 total vs realised per seed: "
        + ", ".join(f"{seed} {e:+.2%}" for seed, e in totals["total_vs_realised"].items())
        + f"; mean |error| {totals['total_vs_realised'].abs().mean():.2%}; vs true expected mean |error| "
        f"{totals['total_vs_expected'].abs().mean():.2%}; 90% interval covers "
        f"{int(totals['interval_covers'].sum())} of {len(totals)} "
        f"(mean half-width {totals['interval_half_width'].mean():.1%})"
    )
    for name in SOURCES:
        table = pd.DataFrame([r[name] for r in results.values()])
        print(
            f"{name}: within 10% "
            + " | ".join(f"{c} {table[f'within_{c}'].mean():.0%}" for c in ESTIMATES)
            + f" | ceiling {table['expected_share_pooled'].mean():.0%} (P(all within) mean "
            f"{table['p_all_pooled'].mean():.2f}); mean |rel err| "
            + " | ".join(f"{c} {table[f'mean_abs_err_{c}'].mean():.1%}" for c in ESTIMATES)
            + "; within 10% of the users' realised d90 "
            + " | ".join(f"{c} {table[f'within_realised_{c}'].mean():.0%}" for c in ESTIMATES if c != "hindsight")
        )


if __name__ == "__main__":
    main()
