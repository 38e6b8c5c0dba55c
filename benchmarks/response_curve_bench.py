"""How well the response curves recover the simulator's hidden truth, and what they find in real Facebook ads.

Run: `.venv/bin/python benchmarks/response_curve_bench.py [--seeds 1 2 3 4 5] [--campaigns 24] [--days 180]`.

(a) Simulator: per seed, fit every campaign and compare with ``campaign_truth`` (read here only):
    coverage of the true half-saturation spend by the 90% interval, median relative error of the
    half-saturation spend, and of expected conversions at 0.5x/1x/2x each campaign's mean daily spend.
    Spend is in market-neutral dollars on both sides (the fit deflates by the price index). The truth's
    conversions are ``expected_daily_conversions(truth, s)`` (neutral market) times the campaign's mean
    demand multiplier (``delivery.demand_multiplier``: weekday, season, trend, fatigue, economy, sentiment)
    over the days it was fitted on - the fitted curve describes an average day of its window.
(b) Facebook ads (KAG_conversion_data.csv, one row per ad, no dates): Total_Conversion on Spent per
    campaign x age cell across its ads, pooled by campaign; deviance explained, family chosen, and the
    spend at which each cell is 50% and 80% saturated against the spend its ads actually had.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ml.models.response import ResponseFitConfig, daily_panel, fit_response_curves
from ml.response_curves import CurveFamily
from ml.simulation import SimulationConfig
from ml.simulation.backfill import day_context, simulate_backfill
from ml.simulation.delivery import demand_multiplier
from ml.simulation.market import market_daily
from ml.simulation.portfolio import draw_portfolio, expected_daily_conversions

FACEBOOK_CSV = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "facebook_ads" / "KAG_conversion_data.csv"
)
END_DATE = dt.date(2026, 10, 1)
SPEND_MULTIPLES = (0.5, 1.0, 2.0)


def mean_demand(config: SimulationConfig, panel: pd.DataFrame) -> pd.Series:
    """Each campaign's true demand multiplier averaged over the days in its fitted panel."""
    portfolio = draw_portfolio(config)
    market = market_daily(config.seed, config.start_date, config.end_date)
    ctx = day_context(config, portfolio, market, np.ones((config.n_campaigns, config.days)), np.arange(config.days))
    demand = demand_multiplier(portfolio.truth, ctx)
    day = (panel["date"] - pd.Timestamp(config.start_date)).dt.days.to_numpy()
    row = pd.Index(portfolio.campaigns["campaign_id"]).get_indexer(panel["campaign_id"])
    return pd.Series(demand[row, day]).groupby(panel["campaign_id"].to_numpy()).mean()


def simulator_seed(seed: int, n_campaigns: int, days: int, fit_config: ResponseFitConfig) -> dict[str, float]:
    """Fit one simulated history and score it against the truth."""
    config = SimulationConfig(n_campaigns=n_campaigns, days=days, seed=seed, end_date=END_DATE)
    frames = simulate_backfill(config)
    panel = daily_panel(frames.raw["campaign_hourly"], frames.raw["campaigns"], frames.raw["market_daily"])
    started = time.perf_counter()
    curves = fit_response_curves(panel, frames.raw["campaigns"], fit_config)
    elapsed = time.perf_counter() - started

    truth = frames.truth["campaign_truth"].set_index("campaign_id").loc[curves.campaign_ids]
    true_half = truth["half_saturation_spend"].to_numpy()
    low, high = curves.half_saturation_interval.T
    demand = mean_demand(config, panel).loc[curves.campaign_ids].to_numpy()
    mean_spend = curves.stats["reference_spend"].to_numpy()
    inside = (low <= true_half) & (true_half <= high)
    hill = curves.curves.family == CurveFamily.HILL
    out = {
        "seed": seed,
        "campaigns": len(curves),
        "coverage_90": float(np.mean(inside)),
        "coverage_90_hill_chosen": float(np.mean(inside[hill])) if hill.any() else float("nan"),
        "half_sat_median_rel_err": float(np.median(np.abs(curves.half_saturation_spend / true_half - 1))),
        "interval_median_width_x": float(np.median(high / low)),
        "share_hill": float(np.mean(hill)),
        "fit_seconds_per_campaign": elapsed / len(curves),
    }
    for multiple in SPEND_MULTIPLES:
        spend = multiple * mean_spend
        expected = expected_daily_conversions(truth.reset_index(), spend) * demand
        predicted = curves.expected_conversions(curves.campaign_ids, spend)
        out[f"conv_{multiple:g}x_median_rel_err"] = float(np.median(np.abs(predicted / expected - 1)))
    return out


def bench_simulator(seeds: list[int], n_campaigns: int, days: int) -> None:
    for label, config in (
        ("quasi-AIC, Hill preferred within 2 (default)", ResponseFitConfig()),
        ("plain lowest quasi-AIC", ResponseFitConfig(hill_preference=0.0)),
    ):
        rows = pd.DataFrame([simulator_seed(s, n_campaigns, days, config) for s in seeds])
        print(f"\n(a) simulator, {n_campaigns} campaigns x {days} days, family choice: {label}")
        print(rows.round(3).to_string(index=False))
        pooled = rows.drop(columns="seed").mul(rows["campaigns"], axis=0).sum() / rows["campaigns"].sum()
        print("campaign-weighted mean:", pooled.drop("campaigns").round(3).to_dict())


def facebook_panel(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ads as observations of (spend, conversions) in campaign x age cells; campaigns are the pooling groups."""
    ads = pd.read_csv(path)
    cell = ads["xyz_campaign_id"].astype(str) + "/" + ads["age"]
    panel = pd.DataFrame({"campaign_id": cell, "spend": ads["Spent"], "conversions": ads["Total_Conversion"]})
    cells = pd.DataFrame({"campaign_id": cell, "fb_campaign": ads["xyz_campaign_id"].astype(str)}).drop_duplicates()
    return panel, cells


def bench_facebook(path: Path) -> None:
    panel, cells = facebook_panel(path)
    zero = panel["spend"] <= 0
    started = time.perf_counter()
    curves = fit_response_curves(panel, cells, ResponseFitConfig(pool_by=("fb_campaign",), n_draws=100))
    elapsed = time.perf_counter() - started
    spent = panel[~zero].groupby("campaign_id")["spend"]
    summary = curves.summary().set_index("campaign_id")
    median_ad = spent.median().loc[curves.campaign_ids].to_numpy()
    table = pd.DataFrame(
        {
            "ads": spent.size(),
            "family": summary["family"],
            "shape": summary["shape"],
            "deviance_explained": summary["deviance_explained"],
            "ad_spend_median": spent.median(),
            "ad_spend_max": spent.max(),
            "spend_at_50pct_sat": curves.spend_at_saturation(curves.campaign_ids, np.full(len(curves), 0.5)),
            "spend_at_80pct_sat": curves.spend_at_saturation(curves.campaign_ids, np.full(len(curves), 0.8)),
            "half_sat_low": summary["half_saturation_low"],
            "half_sat_high": summary["half_saturation_high"],
            "saturation_at_median_ad": curves.saturation(curves.campaign_ids, median_ad),
            "elasticity_at_median_ad": curves.marginal(curves.campaign_ids, median_ad)
            * median_ad
            / curves.expected_conversions(curves.campaign_ids, median_ad),
        }
    )
    fitted = panel[~zero]
    predicted = np.concatenate(
        [curves.expected_conversions([cid] * len(g), g["spend"].to_numpy()) for cid, g in fitted.groupby("campaign_id")]
    )
    y = np.concatenate([g["conversions"].to_numpy(float) for _, g in fitted.groupby("campaign_id")])
    null_mu = np.concatenate([np.full(len(g), g["conversions"].mean()) for _, g in fitted.groupby("campaign_id")])
    pseudo_r2 = 1 - _deviance(y, predicted) / _deviance(y, null_mu)
    print(
        f"\n(b) Facebook ads: {len(panel)} ads, {int(zero.sum())} with zero spend dropped, {len(curves)} "
        f"campaign x age cells, fitted in {elapsed:.2f} s"
    )
    print(table.round(3).to_string())
    print(
        f"deviance explained over all cells (Poisson pseudo-R2 vs each cell's mean): {pseudo_r2:.3f}; "
        f"families: {table['family'].value_counts().to_dict()}"
    )


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(2 * np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--campaigns", type=int, default=24)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--facebook", type=Path, default=FACEBOOK_CSV)
    args = parser.parse_args()
    bench_simulator(args.seeds, args.campaigns, args.days)
    if args.facebook.exists():
        bench_facebook(args.facebook)
    else:
        print(f"\n(b) skipped: {args.facebook} not found")


if __name__ == "__main__":
    main()
