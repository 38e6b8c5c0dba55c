"""The backtest's outputs: a summary table per policy, the daily series as CSV, and cumulative profit as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ml.backtest.config import LIMITED_POLICIES, POLICIES, TUNING_SEEDS
from ml.backtest.loop import BacktestResult
from ml.io.atomic import atomic_target, write_table_atomically

COLORS = {policy: f"C{i}" for i, policy in enumerate(POLICIES)}
DAILY_COLUMNS = (
    "seed",
    "policy",
    "day",
    "date",
    "budget",
    "spend",
    "conversions",
    "revenue",
    "cost",
    "profit",
    "cumulative_profit",
)


def daily_series(results: list[BacktestResult]) -> pd.DataFrame:
    """Every seed's daily rows with the cumulative profit per seed and policy."""
    daily = pd.concat([r.daily for r in results], ignore_index=True).drop(columns="campaign_spend")
    daily["cumulative_profit"] = daily.groupby(["seed", "policy"])["profit"].cumsum()
    return daily[list(DAILY_COLUMNS)]


def _span(seeds: list[int]) -> str:
    seeds = sorted(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1:
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def seed_sets(results: list[BacktestResult]) -> list[tuple[str, list[BacktestResult]]]:
    """The results split into held-out seeds (never used while tuning: the headline) and tuning seeds."""
    held = [r for r in results if r.config.seed not in TUNING_SEEDS]
    tuning = [r for r in results if r.config.seed in TUNING_SEEDS]
    sets = []
    if held:
        sets.append((f"held-out seeds {_span([r.config.seed for r in held])}", held))
    if tuning:
        sets.append((f"tuning seeds {_span([r.config.seed for r in tuning])}", tuning))
    return sets


def paired_interval(difference: pd.Series | np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of per-seed paired differences, its standard error and the t-interval at ``level``: how far the
    seed-to-seed spread lets a mean over this many seeds be read. One seed gives no interval (NaN)."""
    values = np.asarray(difference, float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan, np.nan
    se = float(values.std(ddof=1) / np.sqrt(len(values)))
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1)) * se
    return mean, se, mean - half, mean + half


def _summary(results: list[BacktestResult], label: str) -> pd.DataFrame:
    totals = pd.concat([r.daily for r in results]).groupby(["policy", "seed"])["profit"].sum().unstack("seed")
    mean = totals.mean(axis=1)
    static, oracle = mean["static"], mean["oracle"]
    per_seed = (totals - totals.loc["static"]) / (totals.loc["oracle"] - totals.loc["static"])
    pmi_vs_greedy = totals.loc["pmi"] - totals.loc["greedy"]
    gap, gap_se, gap_low, gap_high = paired_interval(pmi_vs_greedy)  # pmi - greedy per seed, mean and interval
    rows = []
    for policy in POLICIES:
        retrains = [d for r in results for d in r.retrain_days.get(policy, [])]
        rows.append(
            {
                "seeds": label,
                "policy": policy,
                "cumulative_profit": mean[policy],
                "uplift_over_static": mean[policy] - static,
                "share_of_oracle_uplift": (mean[policy] - static) / (oracle - static) if oracle != static else np.nan,
                "min_share_over_seeds": float(per_seed.loc[policy].min()),
                "retrains": len(retrains) if policy in results[0].retrain_days else np.nan,
                "retrain_days": ";".join("/".join(map(str, r.retrain_days.get(policy, []))) or "-" for r in results)
                if policy in results[0].retrain_days
                else "",
                "alerts": sum(r.alerts.get(policy, 0) for r in results) / len(results) if policy == "pmi" else np.nan,
                "limit_violations": (
                    sum(r.limit_violations.get(policy, 0) for r in results) if policy in LIMITED_POLICIES else np.nan
                ),
                "pmi_minus_greedy_per_seed": gap if policy == "pmi" else np.nan,
                "pmi_minus_greedy_se": gap_se if policy == "pmi" else np.nan,
                "pmi_minus_greedy_low95": gap_low if policy == "pmi" else np.nan,
                "pmi_minus_greedy_high95": gap_high if policy == "pmi" else np.nan,
                "pmi_ahead_of_greedy_seeds": int((pmi_vs_greedy > 0).sum()) if policy == "pmi" else np.nan,
                "n_seeds": len(results),
            }
        )
    return pd.DataFrame(rows)


def summary_table(results: list[BacktestResult]) -> pd.DataFrame:
    """Per seed set (held-out seeds first: the headline; then the seeds used while tuning) and policy, averaged over
    its seeds: profit, uplift over static, share of the oracle's uplift, retrains, alerts, limit violations.

    The share is (policy - static) / (oracle - static) on the seed-averaged profits, the same scoring as the
    one-shot allocation benchmark, so one lucky or unlucky seed cannot dominate through a small denominator.
    """
    return pd.concat([_summary(group, label) for label, group in seed_sets(results)], ignore_index=True)


def format_table(table: pd.DataFrame, n_seeds: int) -> str:
    """The summary as aligned text for the console, one block per seed set (the first is the headline)."""
    lines = []
    for i, (label, block) in enumerate(table.groupby("seeds", sort=False)):
        lines += [
            f"{label}{' (headline: never used while tuning)' if i == 0 and label.startswith('held') else ''}",
            f"{'policy':<8} {'cum. profit':>14} {'uplift vs static':>17} {'share of oracle':>16} "
            f"{'min/seed':>9} {'retrains':>9}  retrain days (per seed)   alerts/seed  limit violations",
            "-" * 136,
        ]
        for row in block.itertuples():
            retrains = "" if np.isnan(row.retrains) else f"{int(row.retrains):>9}"
            alerts = "" if np.isnan(row.alerts) else f"{row.alerts:,.0f}"
            broken = "" if np.isnan(row.limit_violations) else f"{int(row.limit_violations)}"
            lines.append(
                f"{row.policy:<8} {row.cumulative_profit:>14,.0f} {row.uplift_over_static:>17,.0f} "
                f"{row.share_of_oracle_uplift:>16.1%} {row.min_share_over_seeds:>9.1%} {retrains:>9}  "
                f"{row.retrain_days:<25} {alerts:>11}  {broken}"
            )
        pmi = block.set_index("policy").loc["pmi"]
        interval = (
            ""
            if np.isnan(pmi["pmi_minus_greedy_se"])
            else f" (paired se {pmi['pmi_minus_greedy_se']:,.0f}, 95% {pmi['pmi_minus_greedy_low95']:+,.0f} .. "
            f"{pmi['pmi_minus_greedy_high95']:+,.0f})"
        )
        lines.append(
            f"pmi - greedy: {pmi['pmi_minus_greedy_per_seed']:+,.0f} profit per seed{interval}, pmi ahead in "
            f"{int(pmi['pmi_ahead_of_greedy_seeds'])} of {int(pmi['n_seeds'])} seeds"
        )
        lines.append("")
    lines.append(
        f"(mean over the seeds of each set, {n_seeds} seed(s) in all; profit = users' full value - total "
        f"cost, summed over the run)"
    )
    return "\n".join(lines)


def write_plot(daily: pd.DataFrame, out: Path, title: str, drift_day: int | None) -> None:
    """Cumulative profit per policy (mean over seeds) and, for the learning policies, the gap to the oracle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = daily.groupby(["policy", "day"])["cumulative_profit"].mean().unstack("policy")
    days = curve.index + 1
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    for policy in POLICIES:
        top.plot(days, curve[policy], label=policy, color=COLORS[policy], linewidth=2 if policy == "pmi" else 1.2)
    for policy in ("greedy", "pmi"):
        bottom.plot(
            days,
            curve[policy] - curve["oracle"],
            label=policy,
            color=COLORS[policy],
            linewidth=2 if policy == "pmi" else 1.2,
        )
    for axis in (top, bottom):
        if drift_day is not None:
            axis.axvline(drift_day + 1, color="grey", linestyle="--", linewidth=1, label="drift")
        axis.grid(alpha=0.3)
        axis.legend()
    top.set_ylabel("cumulative profit")
    bottom.set_ylabel("cumulative profit - oracle")
    bottom.set_xlabel("simulated day")
    top.set_title(title)
    try:
        with atomic_target(out) as partial:
            fig.savefig(partial, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)


def write_outputs(results: list[BacktestResult], out_dir: Path) -> dict[str, Path]:
    """daily.csv, summary.csv and cumulative_profit.png in `out_dir` (each written atomically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    daily = daily_series(results)
    config = results[0].config
    paths = {
        "daily": out_dir / "daily.csv",
        "summary": out_dir / "summary.csv",
        "plot": out_dir / "cumulative_profit.png",
    }
    write_table_atomically(daily, paths["daily"])
    write_table_atomically(summary_table(results), paths["summary"])
    write_plot(
        daily,
        paths["plot"],
        f"{config.n_campaigns} campaigns x {config.days} days, {len(results)} seed(s), drift: {config.drift}",
        None if config.drift == "none" else config.drift_day,
    )
    return paths
