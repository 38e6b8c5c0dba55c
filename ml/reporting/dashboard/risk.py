"""Risk indicators, open alerts, and model accuracy over time (live predictions vs actuals, and holdout scores)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ml.reporting.dashboard.data import DashboardData
from ml.reporting.dashboard.layout import Section, card, cards, empty, figure, money, note, pct, table
from ml.reporting.dashboard.opportunities import HIGH_SATURATION

OPEN_ALERT_DAYS = 7  # an alert counts as open while its day is within the last week of data


def open_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return alerts
    dates = pd.to_datetime(alerts["date"])
    return alerts[dates > dates.max() - pd.Timedelta(days=OPEN_ALERT_DAYS)]


def risk_section(data: DashboardData) -> Section:
    title = "Risk indicators and open alerts"
    recs, samples = data["recommendations"], data["profit_samples"]
    if recs.empty or samples.empty:
        return Section("risk", title, empty(data.no_allocation()))
    profit, budget = samples["daily_profit"].to_numpy(), recs["recommended_budget"]
    saturated = budget[recs["saturation_level"] >= HIGH_SATURATION].sum() / budget.sum()
    unprofitable = int((recs["expected_roas"] < 1).sum())
    alerts = open_alerts(data["alerts"])
    body = cards(
        [
            card("Probability of loss", pct(float((profit < 0).mean()), digits=1), "share of simulated days below 0"),
            card("Profit at risk (p5)", money(float(np.quantile(profit, 0.05))), "5th percentile of daily profit"),
            card("Budget in saturated campaigns", pct(saturated), f">= {HIGH_SATURATION:.0%} of the response ceiling"),
            card("Largest campaign share", pct(budget.max() / budget.sum()), "concentration of the daily budget"),
            card("Campaigns with predicted ROAS < 1", str(unprofitable), f"of {len(recs)}"),
            card("Open alerts", str(len(alerts)), f"raised for the last {OPEN_ALERT_DAYS} days of data"),
        ]
    )
    if alerts.empty:
        body += empty(
            "No open alerts: actual CPA and volume are within the thresholds of what was predicted"
            if not data["alerts"].empty or not data["accuracy"].empty
            else "No open alerts: no predicted day has complete actuals to check yet."
        )
    else:
        body += table(
            pd.DataFrame(
                {
                    "date": pd.to_datetime(alerts["date"]).dt.strftime("%Y-%m-%d"),
                    "campaign": alerts["campaign_id"],
                    "metric": alerts["metric"],
                    "severity": alerts["severity"],
                    "predicted": alerts["predicted"].round(2),
                    "actual": alerts["actual"].round(2),
                    "deviation": alerts["deviation"].map(lambda v: pct(v, True)),
                    "action": alerts["action"],
                }
            )
        )
    return Section("risk", title, body)


def accuracy_chart(accuracy: pd.DataFrame) -> go.Figure:
    by_time = accuracy.groupby(["evaluated_through", "metric"], as_index=False)["mape"].mean()
    fig = go.Figure(
        [
            go.Scatter(x=g["evaluated_through"], y=g["mape"], mode="lines+markers", name=metric)
            for metric, g in by_time.groupby("metric")
        ]
    )
    fig.update_layout(title="MAPE of allocation predictions vs actual days", yaxis_tickformat=".0%")
    return fig


def validation_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Per model: training runs, first and latest holdout score, whether the latest run became champion."""
    grouped = scores.groupby("model")
    return pd.DataFrame(
        {
            "model": list(grouped.groups),
            "training runs": grouped.size().to_numpy(),
            "first holdout score": grouped["validation_score"].first().round(4).to_numpy(),
            "latest holdout score": grouped["validation_score"].last().round(4).to_numpy(),
            "latest promoted": grouped["promoted"].last().to_numpy(),
        }
    )


def accuracy_section(data: DashboardData) -> Section:
    title = "Model accuracy over time"
    accuracy, scores = data["accuracy"], data.validation_scores
    figures: list[str] = []
    if accuracy.empty or accuracy["mape"].notna().sum() == 0:
        body = empty(
            "No live accuracy yet: no allocation's predicted day has complete actuals. The next "
            "hourly allocation runs that pass a day boundary will fill this chart."
        )
    else:
        body = figure(accuracy_chart(accuracy.dropna(subset=["mape"])), "chart-accuracy")
        figures.append("chart-accuracy")
    if not scores.empty:
        body += table(validation_table(scores)) + note(
            "Holdout validation score of each training run (MLflow; lower is better: response curves WAPE, CAC / "
            "KPI forecaster MAPE, pricing CPM MAPE, LTV d90 RMSE)."
        )
    return Section("accuracy", title, body, figures)
