"""Priority-ranked opportunities, the allocation's before/after, and each campaign's response curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ml.reporting.dashboard.data import DashboardData
from ml.reporting.dashboard.layout import Section, empty, figure, money, note, pct, ratio, table
from ml.reporting.dashboard.overview import HORIZON_DAYS, baseline

CTR_DROP_FOR_REFRESH = -0.10  # last week's CTR 10% under the 4-week CTR: the audience tires of the creative
HIGH_SATURATION = 0.75
# Response-curve panels drawn at most: a page of 2,000 small charts takes longer to build than the allocation and
# cannot be read; the campaigns the allocation moves most are drawn, and every campaign stays in the tables.
MAX_CURVE_PANELS = 24
ACTION_WORDS = {"scale_up": "Scale", "pause": "Pause", "reduce": "Reduce", "hold": "Hold"}


def saturation_risk(level: pd.Series) -> pd.Series:
    words = np.select([level >= HIGH_SATURATION, level >= 0.5], ["HIGH", "MEDIUM"], "LOW")
    return pd.Series(words, index=level.index) + " (" + (level * 100).round().astype(int).astype(str) + "% saturated)"


def opportunities(data: DashboardData) -> pd.DataFrame:
    """One row per campaign that needs doing something, ranked by the size of its predicted 30-day profit impact."""
    recs = data["recommendations"].merge(baseline(data)[["campaign_id", "profit"]], on="campaign_id")
    trend = data["creative_trend"]
    if len(trend):
        recs = recs.merge(trend, on="campaign_id", how="left")
        ctr_change = recs["ctr_7d"] / recs["ctr_28d"] - 1
    else:
        ctr_change = pd.Series(np.nan, index=recs.index)
    tired = (ctr_change < CTR_DROP_FOR_REFRESH) | (
        (recs["saturation_level"] >= HIGH_SATURATION) & (recs["action"] != "scale_up")
    )
    budget_action = recs["action"].map(ACTION_WORDS).fillna(recs["action"])
    action = np.where(
        ~tired,
        budget_action,
        np.where(budget_action == "Hold", "Refresh creative", budget_action + " + refresh creative"),
    )
    why_tired = np.where(
        ctr_change < CTR_DROP_FOR_REFRESH,
        "; CTR " + ctr_change.map(lambda c: pct(c, True)) + " last week vs 4 weeks",
        "; audience highly saturated",
    )
    reason = np.where(tired, recs["reason"] + why_tired, recs["reason"])
    out = pd.DataFrame(
        {
            "campaign_id": recs["campaign_id"],
            "campaign": recs["campaign_name"],
            "action": action,
            "current": recs["current_budget"],
            "recommended": recs["recommended_budget"],
            "change": recs["change_pct"],
            "impact": HORIZON_DAYS * (recs["expected_profit"] - recs["profit"]),
            "roas": recs["expected_roas"],
            "saturation": saturation_risk(recs["saturation_level"]),
            "reason": reason,
        }
    )
    out = out[out["action"] != "Hold"]
    return out.reindex(out["impact"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)


def opportunities_section(data: DashboardData) -> Section:
    title = "Opportunities (priority ranked)"
    if data["recommendations"].empty or data["scenarios"].empty:
        return Section("opportunities", title, empty(data.no_allocation()))
    ranked = opportunities(data)
    if ranked.empty:
        return Section("opportunities", title, empty("Every campaign holds its budget: no action recommended."))
    shown = pd.DataFrame(
        {
            "#": range(1, len(ranked) + 1),
            "campaign": ranked["campaign"],
            "action": ranked["action"],
            "budget/day": ranked["current"].map(money) + " -> " + ranked["recommended"].map(money),
            "change": ranked["change"].map(lambda v: pct(v, True)),
            f"profit impact ({HORIZON_DAYS} d)": ranked["impact"].map(lambda v: money(v, True)),
            "predicted ROAS": ranked["roas"].map(ratio),
            "saturation risk": ranked["saturation"],
            "reason": ranked["reason"],
        }
    )
    return Section(
        "opportunities",
        title,
        table(shown)
        + note(
            "Impact: predicted profit at the recommended budget minus at today's budget, x30. 'Refresh creative' when "
            "last week's CTR is 10% under the 4-week CTR, or the audience is >= 75% saturated and not being scaled."
        ),
    )


def before_after_section(data: DashboardData) -> Section:
    recs = data["recommendations"]
    if recs.empty:
        return Section("before-after", "Allocation before / after", empty(data.no_allocation()))
    fig = go.Figure(
        [
            go.Bar(name="before (current)", x=recs["campaign_name"], y=recs["current_budget"]),
            go.Bar(name="after (recommended)", x=recs["campaign_name"], y=recs["recommended_budget"]),
        ]
    )
    fig.update_layout(barmode="group", title="Daily budget per campaign", yaxis_title="daily budget")
    moved = (recs["recommended_budget"] - recs["current_budget"]).abs().sum() / 2
    return Section(
        "before-after",
        "Allocation before / after",
        figure(fig, "chart-before-after")
        + note(
            f"Total {money(recs['current_budget'].sum())} -> {money(recs['recommended_budget'].sum())} per day; "
            f"{money(moved)} per day moved between campaigns."
        ),
        ["chart-before-after"],
    )


def campaigns_to_draw(recs: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The ``limit`` recommendations with the largest budget move (ties: the larger budget), in their own order."""
    if len(recs) <= limit:
        return recs
    move = (recs["recommended_budget"] - recs["current_budget"]).abs()
    order = np.lexsort((-recs["current_budget"].to_numpy(float), -move.to_numpy(float)))
    return recs.iloc[np.sort(order[:limit])]


def response_curves_section(data: DashboardData) -> Section:
    curves, recs = data["trajectories"], data["recommendations"]
    if curves.empty or recs.empty:
        reason = data.skip_reason("response_curves") or "No response curves stored yet."
        return Section("response-curves", "Response curves", empty(reason))
    n_campaigns = len(recs)
    recs = campaigns_to_draw(recs, MAX_CURVE_PANELS)
    names = recs.set_index("campaign_id")["campaign_name"]
    ids = list(recs["campaign_id"])
    by_campaign = dict(tuple(curves[curves["campaign_id"].isin(ids)].groupby("campaign_id")))
    cols = min(4, len(ids))
    fig = make_subplots(rows=math.ceil(len(ids) / cols), cols=cols, subplot_titles=[names[i] for i in ids])
    for k, (cid, rec) in enumerate(zip(ids, recs.itertuples(), strict=True)):
        row, col = k // cols + 1, k % cols + 1
        curve = by_campaign.get(cid, curves.iloc[:0])
        current = curve[curve["spend_multiple"] == 1.0]
        fig.add_trace(
            go.Scatter(
                x=curve["spend"],
                y=curve["users"],
                mode="lines",
                line={"color": "#4c78a8"},
                name="predicted users",
                legendgroup="curve",
                showlegend=k == 0,
            ),
            row,
            col,
        )
        fig.add_trace(
            go.Scatter(
                x=current["spend"],
                y=current["users"],
                mode="markers",
                name="current spend",
                marker={"color": "#888", "size": 9},
                legendgroup="cur",
                showlegend=k == 0,
            ),
            row,
            col,
        )
        fig.add_trace(
            go.Scatter(
                x=[rec.recommended_budget],
                y=[rec.expected_conversions],
                mode="markers",
                name="recommended spend",
                marker={"color": "#e45756", "size": 11, "symbol": "star"},
                legendgroup="rec",
                showlegend=k == 0,
            ),
            row,
            col,
        )
    fig.update_layout(title="Users per day vs daily spend")
    fig.update_annotations(font_size=11)  # campaign names as subplot titles
    height = 230 * math.ceil(len(ids) / cols) + 80
    return Section(
        "response-curves",
        "Response curves",
        figure(fig, "chart-response-curves", height)
        + note(
            "Each line is the champion response-curve model's users per day over 0.25x-3x today's spend (stored "
            "spend trajectory); grey = today's spend, red star = the recommended spend."
            + (
                f" Showing the {len(ids)} of {n_campaigns:,} campaigns whose budget the allocation moves most."
                if len(ids) < n_campaigns
                else ""
            )
        ),
        ["chart-response-curves"],
    )
