"""The dashboard's media-mix sections, shown only for a channel-level home (``predictions.channel_*`` exist).

An advertiser with spend per channel and a total outcome gets no campaign curves or campaign allocation; what the
page can show instead is what the media-mix step stored: each channel's contribution and ROAS with its bootstrap
interval, the fit's diagnostics against a baseline-only model, and the allocation per channel. A campaign-level
home has none of these tables, so its page is unchanged.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ml.reporting.dashboard.layout import Section, card, cards, figure, money, note, pct, table
from ml.settings import PmiPaths
from ml.warehouse.connection import connect

TABLES = ("channel_fit", "channel_contributions", "channel_allocation")
OPTIONAL_TABLES = ("channel_trajectories", "channel_scenarios")  # absent in a home fitted before they existed


def load_channel_frames(paths: PmiPaths) -> dict[str, pd.DataFrame]:
    """The media-mix step's tables (empty dict when the home never ran it)."""
    if not paths.warehouse.exists():
        return {}
    con = connect(paths.warehouse, read_only=True)
    try:
        frames = {name: con.execute(f"SELECT * FROM predictions.{name}").df() for name in TABLES}
    except duckdb.CatalogException:
        con.close()
        return {}
    try:
        for name in OPTIONAL_TABLES:
            try:
                frames[name] = con.execute(f"SELECT * FROM predictions.{name}").df()
            except duckdb.CatalogException:
                continue
        return frames
    finally:
        con.close()


def _intervals(low: pd.Series, high: pd.Series, digits: int = 2) -> list[str]:
    """'low - high' per row; a missing bound (no bootstrap draws) shows as a dash, never as 'nan'."""
    return [
        f"{lo:,.{digits}f} - {hi:,.{digits}f}" if np.isfinite(lo) and np.isfinite(hi) else "-"
        for lo, hi in zip(low, high, strict=True)
    ]


def contributions_section(frames: dict[str, pd.DataFrame]) -> Section:
    """Diagnostics cards, ROAS per channel with its interval (chart) and the contribution table."""
    fit = frames["channel_fit"].iloc[0]
    contrib = frames["channel_contributions"].sort_values("contribution", ascending=False)
    gain = fit["baseline_holdout_nrmse"] - fit["holdout_nrmse"]
    diagnostics = cards(
        [
            card("Fit R²", f"{fit['r2']:.3f}", f"NRMSE {fit['nrmse']:.4f} over {int(fit['periods'])} periods"),
            card(
                "Out-of-sample NRMSE",
                f"{fit['holdout_nrmse']:.4f}",
                f"baseline alone {fit['baseline_holdout_nrmse']:.4f} on the last {int(fit['holdout_periods'])} "
                f"periods ({'better' if gain > 0 else 'not better'} by {abs(gain):.4f})",
            ),
            card("Media share of the outcome", pct(fit["media_share"], digits=1), f"{fit['adstock']} adstock"),
            card("Lift tests used", f"{int(fit['lift_tests'])}", "each one constrains its channel's contribution"),
        ]
    )
    fig = go.Figure(
        go.Bar(
            x=contrib["channel"],
            y=contrib["roas"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (contrib["roas_upper"] - contrib["roas"]).clip(lower=0),
                "arrayminus": (contrib["roas"] - contrib["roas_lower"]).clip(lower=0),
            },
            name="ROAS",
        )
    )
    fig.update_layout(title="ROAS per channel (outcome per unit of spend) with its 90% interval", showlegend=False)
    rows = pd.DataFrame(
        {
            "channel": contrib["channel"],
            "spend": contrib["spend"].map(money),
            "contribution": contrib["contribution"].map(money),
            "90% interval": _intervals(contrib["contribution_lower"], contrib["contribution_upper"], 0),
            "share of outcome": contrib["share"].map(lambda v: pct(v, digits=1)),
            "ROAS": contrib["roas"].map(lambda v: f"{v:,.2f}"),
            "ROAS 90% interval": _intervals(contrib["roas_lower"], contrib["roas_upper"]),
        }
    )
    body = (
        diagnostics
        + figure(fig, "chart-channel-roas")
        + table(rows)
        + note(
            "From the media-mix model (baseline + Hill-saturated adstock per channel, bootstrap intervals). "
            "Intervals that start at 0 say the data cannot tell the channel's effect from none."
        )
    )
    return Section("channels", "Media mix: contribution and ROAS per channel", body, ["chart-channel-roas"])


def _applied_note(frames: dict[str, pd.DataFrame]) -> str:
    """What happened to the recommendation: applied through the budget gate (and how many channels it held), or not.

    A table written before the media-mix allocation was applied has no ``applied`` column: it was a recommendation.
    """
    plan, fit = frames["channel_allocation"], frames["channel_fit"].iloc[0]
    status = str(fit["allocation_status"]) if "allocation_status" in frames["channel_fit"] else "not applied"
    if status != "applied" or "applied" not in plan:
        return f"Not applied to the budgets in force ({status})."
    held = int((plan["bound_by"].fillna("none") != "none").sum())
    return (
        f"Applied to raw.budgets as daily budgets (spend per period / {fit['period_days']:g} days) through the budget "
        f"gate, which holds every channel within the change limit of its budget at the period's start; the gate held "
        f"{held} of {len(plan)} channels (column 'held by'), audit.budget_changes has the run's rows."
    )


def allocation_section(frames: dict[str, pd.DataFrame]) -> Section:
    """Current, recommended and applied spend per period per channel (chart and table) and the outcome interval."""
    plan = frames["channel_allocation"]
    has_applied = "applied" in plan
    bars = [
        go.Bar(x=plan["channel"], y=plan["current_budget"], name="current"),
        go.Bar(x=plan["channel"], y=plan["recommended"], name="recommended"),
    ]
    if has_applied:
        bars.append(go.Bar(x=plan["channel"], y=plan["applied"], name="applied"))
    fig = go.Figure(bars)
    fig.update_layout(title="Spend per period: current vs recommended vs applied", barmode="group")
    columns = {
        "channel": plan["channel"],
        "current": plan["current_budget"].map(money),
        "recommended": plan["recommended"].map(money),
        "change": plan["change_pct"].map(lambda v: pct(v, signed=True)),
    }
    if has_applied:
        columns["applied"] = [money(v) if np.isfinite(v) else "-" for v in plan["applied"].to_numpy(float)]
        columns["held by"] = plan["bound_by"].fillna("-")
    rows = pd.DataFrame(
        columns
        | {
            "expected outcome": plan["expected_outcome"].map(money),
            "90% interval": _intervals(plan["outcome_lower"], plan["outcome_upper"], 0),
            "reason": plan["reason"],
        }
    )
    total = plan["recommended"].sum()
    limit = frames["channel_fit"].iloc[0]["max_change_pct"]
    body = (
        figure(fig, "chart-channel-allocation")
        + table(rows)
        + note(
            f"The total per period ({money(total)}) is the current one, moved across channels by the exact optimiser "
            f"on each channel's steady-state curve within a {pct(limit)} change limit (current vs recommended). "
            + _applied_note(frames)
        )
    )
    return Section("channel-allocation", "Media mix: allocation per channel", body, ["chart-channel-allocation"])


def trajectories_section(frames: dict[str, pd.DataFrame]) -> Section:
    """Outcome per period against spend per channel (steady-state curves) and the what-if scenarios per channel."""
    paths_frame = frames["channel_trajectories"].sort_values(["channel", "spend"])
    fig = go.Figure(
        [
            go.Scatter(x=group["spend"], y=group["outcome"], mode="lines+markers", name=str(channel))
            for channel, group in paths_frame.groupby("channel")
        ]
    )
    fig.update_layout(
        title="Outcome per period against spend per period (0.25x to 3x the current spend)",
        xaxis_title="spend per period",
        yaxis_title="outcome per period",
    )
    scen = frames["channel_scenarios"]
    rows = pd.DataFrame(
        {
            "channel": scen["channel"],
            "scenario": scen["scenario"],
            "spend": scen["spend"].map(money),
            "outcome": scen["outcome"].map(money),
            "ROAS": scen["roas"].map(lambda v: f"{v:,.2f}" if np.isfinite(v) else "-"),
            "profit": scen["profit"].map(money),
        }
    )
    body = (
        figure(fig, "chart-channel-trajectories")
        + table(rows)
        + note(
            "Each channel's steady-state curve from the media-mix model: the outcome per period if it spent that much "
            "every period. Scenarios as for campaigns (budget multiple, value and cost-per-outcome adjustments); a "
            "channel's cost is its media spend."
        )
    )
    return Section(
        "channel-trajectories",
        "Media mix: spend trajectories and scenarios per channel",
        body,
        ["chart-channel-trajectories"],
    )


def channel_sections(paths: PmiPaths) -> list[Section]:
    """The media-mix sections for a channel-level home (trajectories when the fit wrote them); nothing otherwise."""
    frames = load_channel_frames(paths)
    if not frames or frames["channel_fit"].empty:
        return []
    sections = [contributions_section(frames), allocation_section(frames)]
    if all(name in frames and not frames[name].empty for name in OPTIONAL_TABLES):
        sections.append(trajectories_section(frames))
    return sections
