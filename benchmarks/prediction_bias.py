"""Are the fitted policies' predictions at the budgets they apply biased? Each campaign-day against the truth.

Run: `.venv/bin/python benchmarks/prediction_bias.py [--drift none] [--first-seed 100] [--seeds 3] [--policy pmi]`
(tuning seeds only: 0-4, 100-119). The policy runs the closed loop as in `closed_loop_decomposition.py`; for every
fitted campaign-day it applies, the prediction the monitor logs (point curve x the day's demand, re-priced) and
the posterior mean of the same prediction are compared with the simulator's TRUE expected conversions at the
applied budget and at the spend delivered, and with the realised count. The same model's prediction at the
historical (static) split, which no optimiser chose, is the control: a bias there is the fit's, a bias only at the
chosen budgets is the optimiser's selection (winner's curse).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from ml.allocation.decision import conversion_draws
from ml.backtest import BacktestConfig
from ml.backtest.config import DRIFTS
from ml.backtest.fitting import market_covariates
from ml.backtest.loop import fitted_policies, run_policy
from ml.backtest.policies import PMI_COMPONENTS
from ml.backtest.world import World
from ml.response_curves import CurveFamily, ResponseCurves


def true_conversions(world: World, day: int, spend: np.ndarray) -> np.ndarray:
    """Expected conversions of the day's true daily curves at a spend (the simulator's truth)."""
    max_conv, half_sat, shape = world.true_curves(day)
    return ResponseCurves.hill(max_conv, half_sat, shape).value(np.asarray(spend, float))


def predictions(policy, day: int, budgets: np.ndarray) -> dict[str, np.ndarray]:
    """Point and posterior-mean expected conversions of the fitted campaigns at ``budgets`` (as the loop logs)."""
    world, model = policy.world, policy.model
    fitted = model.fitted
    covariates = market_covariates(
        world.campaigns, world.observed_market(day), world.dates[day].dayofweek, policy.elasticity
    )
    price = covariates["price_index"].to_numpy()[fitted]
    demand = model.demand_factor(covariates)
    ids = world.campaigns["campaign_id"].to_numpy()[fitted]
    draws = conversion_draws(model.curves, ids, price, demand, budgets[fitted])
    stats = model.curves.stats
    n_obs = stats["n_obs"].to_numpy(float)[model.curves.index_of(ids)] if "n_obs" in stats else np.nan
    curves = model.curves.curves
    hill = curves.family == CurveFamily.HILL
    prior = model.curves.hyperparameters
    a, b = prior.get("hill_shape_prior_a", np.nan), prior.get("hill_shape_prior_b", np.nan)
    return {
        "shape_prior_mean": a / (a + b),
        "fit_shape": np.where(hill, curves.shape, np.nan),
        "point": model.nominal_curves(price).value(budgets[fitted]) * demand,
        "posterior_mean": draws.mean(axis=1),
        "log_sd": np.log(np.maximum(draws, 1e-12)).std(axis=1),
        "demand": demand,
        "n_obs": n_obs,
    }


def campaign_days(world: World, policy_name: str) -> pd.DataFrame:
    """One row per fitted campaign-day the policy applied: predictions, truth and the realised count."""
    full = policy_name != "greedy"
    policy = fitted_policies(world)(policy_name, full, PMI_COMPONENTS if full else frozenset())
    static = world.static_budgets()
    rows: list[pd.DataFrame] = []
    budgets_of, observe = policy.budgets, policy.observe

    def recording(day: int) -> np.ndarray:
        before = policy.current.copy()
        budgets = budgets_of(day)
        fitted = policy.model.fitted
        at_budget, at_static = predictions(policy, day, budgets), predictions(policy, day, static)
        rows.append(
            pd.DataFrame(
                {
                    "day": day,
                    "campaign": np.flatnonzero(fitted),
                    "before": before[fitted],
                    "budget": budgets[fitted],
                    "static": static[fitted],
                    "predicted": at_budget["point"],
                    "posterior_mean": at_budget["posterior_mean"],
                    "log_sd": at_budget["log_sd"],
                    "true_at_budget": true_conversions(world, day, budgets)[fitted],
                    "demand": at_budget["demand"],
                    "n_obs": at_budget["n_obs"],
                    "fit_shape": at_budget["fit_shape"],
                    "shape_prior_mean": at_budget["shape_prior_mean"],
                    "true_shape": world.truth["hill_shape"].to_numpy(float)[fitted],
                    "static_predicted": at_static["point"],
                    "static_true": true_conversions(world, day, static)[fitted],
                    "weekday": world.dates[day].dayofweek,
                    "age_days": world._ctx.days_since_launch[fitted, day],
                }
            )
        )
        return budgets

    def observing(day: int, budgets: np.ndarray, outcome) -> None:
        row = rows[day]
        at = row["campaign"].to_numpy()
        row["spend"] = outcome.spend[at]
        row["true_at_spend"] = true_conversions(world, day, outcome.spend)[at]
        row["realised"] = outcome.conversions[at].astype(float)
        observe(day, budgets, outcome)

    policy.budgets, policy.observe = recording, observing
    run_policy(world, policy, float(static.sum()))
    return pd.concat(rows, ignore_index=True)


def summary(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Mean log ratios per group: point prediction / truth at the budget (and at the spend), posterior mean / truth,
    the static-split control, and sums predicted / realised."""
    t = table[(table["predicted"] > 0) & (table["true_at_budget"] > 0)]
    logs = t.assign(
        point_vs_true=np.log(t["predicted"] / t["true_at_budget"]),
        point_vs_true_spend=np.log(t["predicted"] / t["true_at_spend"].clip(lower=1e-9)),
        mean_vs_true=np.log(t["posterior_mean"] / t["true_at_budget"]),
        static_point_vs_true=np.log(t["static_predicted"] / t["static_true"].clip(lower=1e-9)),
    )
    grouped = logs.groupby(by, observed=True)
    out = grouped[["point_vs_true", "point_vs_true_spend", "mean_vs_true", "static_point_vs_true"]].mean()
    out["sum_point_over_true"] = grouped["predicted"].sum() / grouped["true_at_budget"].sum()
    out["predicted_over_realised"] = grouped["predicted"].sum() / grouped["realised"].sum()
    out["true_over_realised"] = grouped["true_at_spend"].sum() / grouped["realised"].sum()
    out["campaign_days"] = grouped.size()
    return out.round(3)


def diagnostics(table: pd.DataFrame) -> None:
    """The spread of the error, the winner's-curse test and the error a fitted Hill shape below the truth implies."""
    ok = (table["static_predicted"] > 0) & (table["static_true"] > 0) & (table["predicted"] > 0)
    ok &= table["true_at_budget"] > 0
    error = np.log(table.loc[ok, "predicted"] / table.loc[ok, "true_at_budget"])
    print(f"\ndelivered spend / applied budget: {table['spend'].sum() / table['budget'].sum():.4f}")
    quantiles = error.quantile([0.1, 0.5, 0.9]).round(3).to_dict()
    print(f"\nlog(predicted / true) quantiles {quantiles}; share above log(1.15): {(error > np.log(1.15)).mean():.1%}")
    # Winner's curse would show as the optimiser moving money toward campaigns whose fit over-predicts where their
    # data is (at the static split): a positive correlation between that error and the move.
    fit_error = np.log(table.loc[ok, "static_predicted"] / table.loc[ok, "static_true"])
    moved = np.log(table.loc[ok, "budget"] / table.loc[ok, "static"])
    print(
        f"\ncorrelation of the fit's error at the static split with log(budget / static): {fit_error.corr(moved):.3f}"
    )
    # Below the spend a campaign's data covers, a Hill curve's prediction falls as (spend)^shape: a fitted shape
    # below the true one over-predicts there, by (true - fitted shape) x log(data spend / budget).
    gap = table["true_shape"] - table["fit_shape"]
    print(
        f"\nHill curves: mean fitted shape {table['fit_shape'].mean():.3f}, true {table['true_shape'].mean():.3f}, "
        f"the pooled shape prior's mean {table['shape_prior_mean'].mean():.3f}"
    )
    print(
        "mean (true - fitted shape) x log(static / budget), the extrapolation over-prediction it implies, by vs_static:"
    )
    implied = (gap * np.log(table["static"] / table["budget"])).groupby(table["vs_static"], observed=True).mean()
    print(implied.round(3).to_string())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--drift", choices=DRIFTS, default="none")
    parser.add_argument("--policy", choices=("greedy", "pmi"), default="pmi")
    parser.add_argument("--out", help="also pickle every campaign-day to this file")
    args = parser.parse_args()
    frames = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        world = World(BacktestConfig(days=30, n_campaigns=24, seed=seed, drift=args.drift))
        frames.append(campaign_days(world, args.policy).assign(seed=seed))
    table = pd.concat(frames, ignore_index=True)
    move = np.log(table["budget"] / table["before"].clip(lower=1e-9))
    table["move"] = np.select([move > 0.01, move < -0.01], ["raised", "cut"], "held")
    table["age"] = pd.cut(
        table["age_days"], [-np.inf, 90, 180, 365, np.inf], labels=["<90d", "90-180d", "180-365d", ">1y"]
    )
    table["demand_adj"] = pd.cut(table["demand"], [0, 0.85, 0.95, 1.05, np.inf])
    shift = np.log(table["budget"] / table["static"].clip(lower=1e-9))
    table["vs_static"] = pd.cut(shift, [-np.inf, -0.2, 0.2, np.inf], labels=["below -20%", "within", "above +20%"])
    table["size"] = pd.qcut(table["true_at_budget"], 3, labels=["small", "mid", "large"])
    table["all"] = "all"
    if args.out:
        table.to_pickle(args.out)
    pd.set_option("display.width", 200)
    seeds = f"seeds {args.first_seed}-{args.first_seed + args.seeds - 1}"
    print(f"{args.policy}, {args.drift}, {seeds}: mean log(predicted / true) per fitted campaign-day")
    for by in ("all", "move", "vs_static", "size", "age", "demand_adj", "weekday"):
        print(f"\nby {by}:")
        print(summary(table, by).to_string())
    diagnostics(table)
