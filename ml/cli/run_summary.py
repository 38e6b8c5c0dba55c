"""What `pmi run` (and `pmi loop`) print when they finish: the portfolio, the recommendations, what was skipped.

Money carries its currency and its period ("180-day spend", "daily budget"), counts are integers, and a campaign
is named as the dashboard names it, so the terminal and the page read the same.
"""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table

from ml.models.status import skipped_steps
from ml.reporting.portfolio_summary import (
    history_days,
    latest_recommendations,
    portfolio_summary,
    portfolio_totals,
    revenue_basis,
)
from ml.settings import PmiPaths

CURRENCY = "USD"
SUMMARY_ROWS = 20  # the largest campaigns by spend; the total covers all of them


def usd(value: float, signed: bool = False) -> str:
    """Money with its currency; a missing value is a dash, never 'nan'."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+,.2f} {CURRENCY}" if signed else f"{value:,.2f} {CURRENCY}"


def count(value: float) -> str:
    return f"{int(round(value)):,}"


def label(row) -> str:
    """One campaign name everywhere: the name, with the id when they differ."""
    name = getattr(row, "campaign_name", None)
    return row.campaign_id if not isinstance(name, str) or name == row.campaign_id else f"{name} ({row.campaign_id})"


def print_summary(console: Console, paths: PmiPaths) -> None:
    """The largest campaigns by spend and the portfolio total, over the whole history."""
    summary = portfolio_summary(paths)
    days = history_days(paths)
    shown = summary.head(SUMMARY_ROWS)
    hidden = len(summary) - len(shown)
    more = f"; the {hidden:,} smaller campaigns are in the total" if hidden else ""
    table = Table(title=f"Portfolio by campaign over {days} days (revenue = {revenue_basis(summary)}{more})")
    for col in ("campaign", "network", "geo", "platform", f"{days}-day spend", "conversions", "revenue", "CPA", "ROAS"):
        table.add_column(col, justify="left" if col in ("campaign", "network", "geo", "platform") else "right")
    for row in shown.itertuples():
        table.add_row(
            label(row),
            row.network,
            row.geo,
            row.platform,
            usd(row.spend),
            count(row.conversions),
            usd(row.revenue),
            usd(row.cpa if pd.notna(row.cpa) else math.nan),
            f"{row.roas:.2f}" if pd.notna(row.roas) else "-",
        )
    totals = portfolio_totals(summary)
    table.add_row(
        f"TOTAL ({len(summary):,} campaigns)",
        "",
        "",
        "",
        usd(totals["spend"]),
        count(totals["conversions"]),
        usd(totals["revenue"]),
        usd(totals["cpa"]),
        f"{totals['roas']:.2f}",
        style="bold",
    )
    console.print(table)


def print_skipped(console: Console, paths: PmiPaths) -> None:
    """One line per model or step this data could not support, with the reason."""
    for row in skipped_steps(paths).itertuples():
        console.print(f"Not run on this data: {row.step_name}: {row.reason}")


def print_recommendations(console: Console, paths: PmiPaths, limit: int = 10) -> None:
    """The applied allocation's largest moves (daily budgets)."""
    try:
        recs = latest_recommendations(paths, limit=None)
    except Exception:  # noqa: BLE001 - no allocation table yet: the skipped lines already say why
        recs = pd.DataFrame()
    if recs.empty:
        console.print("No allocation was applied on this data (see the lines above).")
        return
    title = (
        f"Recommendations of the applied allocation for {len(recs):,} campaigns (daily budgets; the "
        f"{min(limit, len(recs))} largest moves)"
    )
    table = Table(title=title)
    for col in ("campaign", "daily budget", "recommended", "change", "action", "profit/day", "reason"):
        table.add_column(col, justify="left" if col in ("campaign", "action", "reason") else "right")
    for row in recs.head(limit).itertuples():
        table.add_row(
            label(row),
            usd(row.current_budget),
            usd(row.recommended_budget),
            f"{row.change_pct:+.0%}",
            row.action,
            usd(row.expected_profit),
            row.reason,
        )
    console.print(table)
