"""LTV model vs simulator truth: mean d90 value per source (campaign; network x platform x geo).

Run: `.venv/bin/python benchmarks/ltv_simulator_bench.py [--home DIR]`. Without ``--home`` it simulates the
default portfolio (24 campaigns, 180 days) into a temporary directory and builds the dbt marts (~20 s); with
``--home`` it reads an already built warehouse. Prints, for sources with 1,000+ users: the share whose predicted
mean d90 is within 10% of the true expected d90 (analytic, checked against a 200k-user Monte Carlo per campaign),
the MAE of the model and of the baseline (mean d90 of the source's mature users) against the truth, the
hindsight floor (every user's realised d90, pending events included: pure sampling noise), the p10-p90
coverage on validation users, and the training time.
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

from ml.models.ltv import ltv_by_source, train_ltv
from ml.models.ltv.truth import expected_ltv, monte_carlo_ltv

REPO = Path(__file__).resolve().parents[1]
MIN_USERS = 1_000
HORIZON = 90
SOURCES = {"campaign": ("campaign_id",), "network x platform x geo": ("network", "platform", "geo")}

REALISED_D90 = f"""
with events as (
    select user_id, event_ts, revenue from raw.revenue_events
    union all select 'u' || user_seq, cast(event_ts as timestamp), revenue from sim.pending_revenue_events
)
select u.user_id,
       coalesce(sum(events.revenue) filter (where events.event_ts < u.install_ts + interval {HORIZON} day), 0)
           as realised_d90
from raw.users u left join events on events.user_id = u.user_id
group by u.user_id
"""


def build_warehouse(home: Path) -> None:
    """Simulate the default portfolio into ``home`` and build the marts with dbt."""
    from ml.settings import pmi_paths
    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill

    run_backfill(SimulationConfig(end_date=dt.date.today()), pmi_paths(home))
    project = str(REPO / "dbt_project")
    subprocess.run([str(Path(sys.executable).parent / "dbt"), "build", "--quiet", "--project-dir", project,
                    "--profiles-dir", project, "--target-path", str(home / "target"), "--select",
                    "+fct_user_features", "--exclude-resource-type", "test"],
                   check=True, env={**os.environ, "PMI_HOME": str(home)})


def load(home: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """User features joined with each user's realised d90 (hindsight, evaluation only) and the campaign truth."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        features = con.sql("select * from marts.fct_user_features").df()
        realised = con.sql(REALISED_D90).df()
        truth = con.sql("select * from truth.campaign_truth").df()
    return features.merge(realised, on="user_id", how="left"), truth


def source_table(df: pd.DataFrame, pred: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    """Per source: users, predicted mean, truth (user-weighted campaign truth), baseline and hindsight means."""
    mature = df["is_mature_d90"]
    g = df.groupby(list(cols))
    out = pd.DataFrame({"n_users": g.size(), "predicted": g["pred"].mean(), "truth": g["true_d90"].mean(),
                        "n_mature": g["is_mature_d90"].sum(), "hindsight": g["realised_d90"].mean(),
                        "baseline": df[mature].groupby(list(cols))["revenue_d90"].mean()})
    out["blended"] = ltv_by_source(df, pred, cols).set_index(list(cols))["blended_ltv_d90"]
    for col in ("predicted", "blended", "baseline", "hindsight"):
        out[f"{col}_rel_err"] = out[col] / out["truth"] - 1
    return out


def report(name: str, table: pd.DataFrame) -> None:
    """Print the headline figures for one source definition and the per-source table."""
    big = table[table["n_users"] >= MIN_USERS]
    with_base = big.dropna(subset=["baseline"])
    within = (big["predicted_rel_err"].abs() <= 0.10).mean()
    print(f"\n== {name}: {len(table)} sources, {len(big)} with {MIN_USERS:,}+ users "
          f"({len(big) - len(with_base)} of them without d90-mature users)")
    print(f"  within 10% of truth: model {within:.0%} | blended "
          f"{(big['blended_rel_err'].abs() <= 0.10).mean():.0%} | baseline "
          f"{(with_base['baseline_rel_err'].abs() <= 0.10).mean():.0%} (of {len(with_base)}) | hindsight "
          f"{(big['hindsight_rel_err'].abs() <= 0.10).mean():.0%}")
    print(f"  MAE vs truth ($/user): model {np.abs(big['predicted'] - big['truth']).mean():.3f} "
          f"(on sources with a baseline: {np.abs(with_base['predicted'] - with_base['truth']).mean():.3f}) | "
          f"blended {np.abs(with_base['blended'] - with_base['truth']).mean():.3f} | "
          f"baseline {np.abs(with_base['baseline'] - with_base['truth']).mean():.3f} | "
          f"hindsight {np.abs(big['hindsight'] - big['truth']).mean():.3f}")
    print(f"  mean |relative error|: model {big['predicted_rel_err'].abs().mean():.1%} | blended "
          f"{big['blended_rel_err'].abs().mean():.1%} | baseline "
          f"{with_base['baseline_rel_err'].abs().mean():.1%} | hindsight {big['hindsight_rel_err'].abs().mean():.1%}")
    cols = ["n_users", "n_mature", "truth", "predicted", "blended", "baseline", "hindsight", "predicted_rel_err",
            "blended_rel_err", "baseline_rel_err", "hindsight_rel_err"]
    print(big[cols].round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an already built PMI_HOME (default: simulate a fresh one)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory(prefix="ltv_bench_") as tmp:
        home = args.home or Path(tmp)
        if args.home is None:
            started = time.perf_counter()
            build_warehouse(home)
            print(f"simulated + dbt in {time.perf_counter() - started:.1f} s")
        df, truth = load(home)
    print(f"{len(df):,} users, {int(df['is_mature_d90'].sum()):,} mature at d90, "
          f"{int(df['is_mature_d180'].sum()):,} at d180, {truth.shape[0]} campaigns")

    analytic = expected_ltv(truth, HORIZON)
    started = time.perf_counter()
    mc = monte_carlo_ltv(truth, HORIZON, users_per_campaign=200_000, seed=args.seed)
    print(f"truth: analytic d90 vs Monte Carlo (200k users/campaign, {time.perf_counter() - started:.1f} s): "
          f"max |diff| {np.abs(mc / analytic - 1).max():.1%}, mean {np.abs(mc / analytic - 1).mean():.1%}")

    started = time.perf_counter()
    trained = train_ltv(df, seed=args.seed)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pred = trained.model.predict_distribution(df)
    predict_seconds = time.perf_counter() - started
    df = df.assign(pred=pred["ltv_d90_mean"].to_numpy(), true_d90=df["campaign_id"].map(analytic).to_numpy())

    m = trained.metrics
    print(f"training: {train_seconds:.1f} s (fit {m['train_seconds']:.1f} s) on {int(m['n_train']):,} mature users, "
          f"predicting {len(df):,} users: {predict_seconds:.1f} s; load average {os.getloadavg()[0]:.1f}")
    print("validation (" + trained.params["valid_start"][:10] + " .. " + trained.params["valid_end"][:10] + ", "
          f"{int(m['n_mature_d90']):,} users): " + ", ".join(
              f"{k} {m[k]:.3f}" for k in ("ltv_d90_mae", "ltv_d90_rmse", "ltv_d90_relative_bias",
                                          "ltv_d90_p10_p90_coverage", "ltv_d30_p10_p90_coverage",
                                          "ltv_d90_top10_capture", "p_payer_brier", "p_payer_calibration_gap")))
    print("stacking weights d90: " + ", ".join(f"{n} {m[f'weight_{n}_d90']:.2f}" for n in ("lightgbm", "xgboost",
                                                                                             "mlp")))
    print("learners d90 validation MAE / RMSE: " + ", ".join(
        f"{n} {m[f'{n}_d90_mae']:.3f}/{m[f'{n}_d90_rmse']:.2f}" for n in ("lightgbm", "xgboost", "mlp")))
    payers = df["is_mature_d90"].to_numpy() & (df["revenue_d90"].to_numpy() > 0)
    inside = (df["revenue_d90"] >= pred["ltv_d90_p10"]) & (df["revenue_d90"] <= pred["ltv_d90_p90"])
    print(f"p10-p90 coverage, all d90-mature users: {inside[df['is_mature_d90']].mean():.3f}; "
          f"d90 payers only: {inside[payers].mean():.3f}")
    true180 = df["campaign_id"].map(expected_ltv(truth, 180))
    print(f"portfolio mean LTV: d90 predicted {pred['ltv_d90_mean'].mean():.3f} vs true {df['true_d90'].mean():.3f}; "
          f"d180 predicted {pred['ltv_d180_mean'].mean():.3f} vs true {true180.mean():.3f}")
    for name, cols in SOURCES.items():
        report(name, source_table(df, pred, cols))


if __name__ == "__main__":
    main()
