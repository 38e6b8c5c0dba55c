"""Segment insights: which platform, creative format, geo and hour of day earns more per dollar, by how much, and
where the allocation moves budget."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ml.reporting.dashboard.data import DashboardData
from ml.reporting.dashboard.layout import Section, empty, figure, note, pct, ratio

DIMENSIONS = {"platform": "Platform", "creative_format": "Creative format", "geo": "Geo"}
DAYPART_HOURS = 4


def with_roas_revenue(days: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """D7 cohort revenue when the data have users; else the revenue the networks reported (daily exports)."""
    if days["new_users"].sum() > 0:
        return days, "D7 ROAS"
    return days.assign(revenue_d7=days["reported_revenue"]), "reported ROAS"


def segment_table(days: pd.DataFrame, recs: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Per segment: D7 cohort ROAS over matured days, CPA, and the allocation's budget shift."""
    realised = days.groupby(dimension)[["spend", "conversions", "revenue_d7"]].sum()
    moved = recs.groupby(dimension)[["current_budget", "recommended_budget"]].sum()
    out = realised.join(moved, how="left")
    out["roas_d7"] = out["revenue_d7"] / out["spend"]
    out["cpa"] = out["spend"] / out["conversions"]
    out["shift"] = out["recommended_budget"] / out["current_budget"] - 1
    return out.sort_values("roas_d7", ascending=False)


def segment_insight(label: str, segments: pd.DataFrame, measure: str = "D7 ROAS") -> str:
    """One sentence: best vs worst segment and the recommended shift between them."""
    if len(segments) < 2:
        return f"{label}: one segment only ({segments.index[0]}), nothing to compare."
    best, worst = segments.iloc[0], segments.iloc[-1]
    if not worst["roas_d7"] > 0:
        return f"{label}: {worst.name} has no {measure} revenue; {best.name} leads ({ratio(best['roas_d7'])})."
    return (
        f"{label}: {best.name} is {pct(best['roas_d7'] / worst['roas_d7'] - 1)} more profitable per dollar "
        f"than {worst.name} ({measure} {ratio(best['roas_d7'])} vs {ratio(worst['roas_d7'])}). "
        f"Recommended shift: {best.name} {pct(best['shift'], True)}, {worst.name} {pct(worst['shift'], True)} "
        "of daily budget."
    )


def hour_insight(hours: pd.DataFrame) -> str:
    """The cheapest block of consecutive hours against the day's average CPA."""
    if (hours["conversions"] > 0).sum() < DAYPART_HOURS:
        return (
            "Hour of day: the data are reported by day (or too few hours have conversions), so there is no "
            "hourly pattern to read."
        )
    cpa = hours["spend"] / hours["conversions"]
    day_cpa = hours["spend"].sum() / hours["conversions"].sum()
    rolled = hours["spend"].rolling(DAYPART_HOURS).sum() / hours["conversions"].rolling(DAYPART_HOURS).sum()
    end = int(np.nanargmin(rolled.to_numpy()))
    start = int(hours["hour_of_day"].iloc[end - DAYPART_HOURS + 1])
    block = float(rolled.iloc[end])
    return (
        f"Hour of day: {start:02d}:00-{start + DAYPART_HOURS:02d}:00 has CPA {pct(1 - block / day_cpa)} below "
        f"the day's average ({block:,.2f} vs {day_cpa:,.2f}; hourly CPA ranges {cpa.min():,.2f}-"
        f"{cpa.max():,.2f}). Recommended: front-load pacing into these hours; pmi's budgets are daily, so "
        "hourly pacing is left to the network."
    )


def segments_section(data: DashboardData) -> Section:
    title = "Segment insights"
    days, recs, hours = data["segment_days"], data["recommendations"], data["hours"]
    if days.empty or recs.empty or hours.empty:
        return Section("segments", title, empty("Not enough matured history or no allocation yet."))
    days, measure = with_roas_revenue(days)
    tables = {dim: segment_table(days, recs, dim) for dim in DIMENSIONS}
    fig = make_subplots(rows=1, cols=len(DIMENSIONS) + 1, subplot_titles=[*DIMENSIONS.values(), "CPA by hour of day"])
    for col, (dim, seg) in enumerate(tables.items(), start=1):
        fig.add_trace(
            go.Bar(x=seg.index.astype(str), y=seg["roas_d7"], name=f"{measure} by {DIMENSIONS[dim]}", showlegend=False),
            1,
            col,
        )
    fig.add_trace(
        go.Bar(
            x=hours["hour_of_day"],
            y=hours["spend"] / hours["conversions"],
            name="CPA by hour",
            showlegend=False,
            marker_color="#f58518",
        ),
        1,
        len(DIMENSIONS) + 1,
    )
    fig.update_layout(title=f"{measure} per segment (matured days) and CPA per hour of day")
    sentences = [segment_insight(DIMENSIONS[d], t, measure) for d, t in tables.items()] + [hour_insight(hours)]
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return Section(
        "segments",
        title,
        f'<ul class="pmi-insights">{items}</ul>'
        + figure(fig, "chart-segments")
        + note(
            "Profitability per dollar = revenue of the users acquired within their first 7 days per "
            "dollar spent, over days whose cohorts are 7 days old; shifts compare the applied "
            "allocation's recommended and previous daily budgets."
        ),
        ["chart-segments"],
    )
