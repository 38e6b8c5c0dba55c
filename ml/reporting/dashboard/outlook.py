"""The 30-day KPI forecast with its 80% interval, the scenario table, and the simulated profit distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ml.reporting.dashboard.data import DashboardData
from ml.reporting.dashboard.layout import Section, count, empty, figure, money, note, pct, table
from ml.reporting.dashboard.overview import HORIZON_DAYS

FORECAST_KPIS = {"spend": "Spend", "conversions": "New users (conversions)"}
SCENARIO_BANDS = {"Pessimistic": (0.0, 0.2), "Base": (0.2, 0.8), "Optimistic": (0.8, 1.0)}


def portfolio_forecast(forecast: pd.DataFrame) -> pd.DataFrame:
    """Portfolio totals per KPI and horizon up to 30 days: summed campaign p10/p50/p90, starting at 0 today."""
    rows = forecast[forecast["kpi"].isin(list(FORECAST_KPIS)) & (forecast["horizon_days"] <= HORIZON_DAYS)]
    totals = rows.groupby(["kpi", "horizon_days"], as_index=False)[["p10", "p50", "p90"]].sum()
    start = pd.DataFrame({"kpi": list(FORECAST_KPIS), "horizon_days": 0, "p10": 0.0, "p50": 0.0, "p90": 0.0})
    return pd.concat([start, totals], ignore_index=True).sort_values(["kpi", "horizon_days"])


def forecast_section(data: DashboardData) -> Section:
    title = f"{HORIZON_DAYS}-day forecast"
    forecast = data["kpi_forecast"]
    if forecast.empty:
        reason = data.skip_reason("kpi_forecast") or "The KPI forecaster has not published a forecast yet."
        return Section("forecast", title, empty(reason))
    totals, recent = portfolio_forecast(forecast), data["recent_actuals"]
    fig = make_subplots(rows=1, cols=len(FORECAST_KPIS), subplot_titles=list(FORECAST_KPIS.values()))
    for col, kpi in enumerate(FORECAST_KPIS, start=1):
        t = totals[totals["kpi"] == kpi]
        days = t["horizon_days"]
        fig.add_trace(
            go.Scatter(x=days, y=t["p90"], mode="lines", line={"width": 0}, showlegend=False, name="p90"), 1, col
        )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=t["p10"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(76,120,168,0.25)",
                name="80% interval (p10-p90)",
                showlegend=col == 1,
            ),
            1,
            col,
        )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=t["p50"],
                mode="lines+markers",
                name="forecast (p50)",
                line={"color": "#4c78a8"},
                showlegend=col == 1,
            ),
            1,
            col,
        )
        if len(recent) and recent["days"].iloc[0]:
            rate = float(recent[kpi].iloc[0]) / float(recent["days"].iloc[0])
            fig.add_trace(
                go.Scatter(
                    x=days,
                    y=rate * days,
                    mode="lines",
                    name="last 30 days' pace",
                    line={"color": "#999", "dash": "dash"},
                    showlegend=col == 1,
                ),
                1,
                col,
            )
    fig.update_xaxes(title_text="days from today")
    fig.update_layout(title="Cumulative portfolio totals")
    end = totals[totals["horizon_days"] == totals["horizon_days"].max()].set_index("kpi")
    version = forecast["model_version"].iloc[0] if "model_version" in forecast else "?"
    basis = forecast["budget_basis"].iloc[0] if "budget_basis" in forecast else "budgets in force"
    basis = f"the recommended budgets of {basis}" if basis.startswith("allocation") else basis
    return Section(
        "forecast",
        title,
        figure(fig, "chart-forecast")
        + note(
            f"KPI forecaster v{version} from {pd.Timestamp(forecast['origin_date'].iloc[0]):%Y-%m-%d} at {basis}: "
            f"{HORIZON_DAYS}-day spend {money(end.loc['spend', 'p50'])} "
            f"({money(end.loc['spend', 'p10'])}-{money(end.loc['spend', 'p90'])}), new users "
            f"{count(end.loc['conversions', 'p50'])} ({count(end.loc['conversions', 'p10'])}-"
            f"{count(end.loc['conversions', 'p90'])}). Campaign quantiles are summed, which makes the band at least "
            "as wide as the portfolio's own 80% interval."
        ),
        ["chart-forecast"],
    )


def scenario_bands(samples: np.ndarray) -> pd.DataFrame:
    """Pessimistic / base / optimistic as the bottom 20%, middle 60% and top 20% of simulated profit outcomes."""
    ordered = np.sort(samples)
    n = len(ordered)
    rows = []
    for name, (lo, hi) in SCENARIO_BANDS.items():
        band = ordered[int(round(lo * n)) : int(round(hi * n))]
        rows.append({"scenario": name, "probability": len(band) / n, "daily_profit": band.mean()})
    out = pd.DataFrame(rows)
    out["profit_30d"] = HORIZON_DAYS * out["daily_profit"]
    return out


def what_if_table(scenarios: pd.DataFrame) -> pd.DataFrame:
    """The allocation's stress tests summed over campaigns: budget x multiplier with LTV/CPA shocks."""
    sums = scenarios.groupby("scenario", sort=False)[["budget", "users", "revenue", "total_cost", "profit"]].sum()
    return pd.DataFrame(
        {
            "what-if (today's budgets)": sums.index,
            "budget/day": sums["budget"].map(money),
            "users/day": sums["users"].map(money),
            f"revenue ({HORIZON_DAYS} d)": (HORIZON_DAYS * sums["revenue"]).map(money),
            f"profit ({HORIZON_DAYS} d)": (HORIZON_DAYS * sums["profit"]).map(money),
            "ROI": (sums["profit"] / sums["total_cost"]).map(pct),
        }
    )


def scenarios_section(data: DashboardData) -> Section:
    samples = data["profit_samples"]
    if samples.empty:
        return Section("scenarios", "Scenarios", empty(data.no_allocation()))
    bands = scenario_bands(samples["daily_profit"].to_numpy())
    expected = float((bands["probability"] * bands["profit_30d"]).sum())
    shown = pd.DataFrame(
        {
            "scenario": bands["scenario"],
            "probability": bands["probability"].map(pct),
            "profit/day": bands["daily_profit"].map(money),
            f"profit ({HORIZON_DAYS} d)": bands["profit_30d"].map(money),
        }
    )
    body = table(shown) + note(
        f"Expected value (probability-weighted): {money(expected)} profit over "
        f"{HORIZON_DAYS} days. Scenarios are the bottom 20% / middle 60% / top 20% of the "
        f"allocation's {len(samples):,} Monte-Carlo profit outcomes (posterior curve draws)."
    )
    if not data["scenarios"].empty:
        body += table(what_if_table(data["scenarios"]))
    return Section("scenarios", "Scenarios", body)


def profit_distribution_section(data: DashboardData) -> Section:
    title = "Simulated profit distribution"
    samples = data["profit_samples"]
    if samples.empty:
        return Section("profit-distribution", title, empty(data.no_allocation()))
    profit = samples["daily_profit"].to_numpy()
    fig = go.Figure(go.Histogram(x=profit, nbinsx=40, name="simulated daily profit", marker_color="#4c78a8"))
    fig.add_vline(x=0, line_color="#e45756", line_dash="dash")
    fig.update_layout(
        title="Daily profit of the recommended allocation", xaxis_title="profit per day", yaxis_title="simulations"
    )
    return Section(
        "profit-distribution",
        title,
        figure(fig, "chart-profit-distribution")
        + note(
            f"Probability of loss: {pct(float((profit < 0).mean()), digits=1)}; expected {money(profit.mean())}/day; "
            f"5th percentile {money(float(np.quantile(profit, 0.05)))}/day ({len(profit):,} simulations)."
        ),
        ["chart-profit-distribution"],
    )
