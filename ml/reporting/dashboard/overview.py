"""Portfolio overview and user metrics: the applied allocation's daily prediction scaled to 30 days, each beside
the baseline of keeping today's budgets (the allocation's own ``baseline`` scenario)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.ltv.portfolio_total import history_days_needed, interval_text
from ml.reporting.dashboard.data import STEP_LABELS, DashboardData
from ml.reporting.dashboard.layout import Section, card, cards, count, empty, money, note, pct, ratio, table

HORIZON_DAYS = 30
HEALTHY_LTV_CAC = 3.0  # the usual rule of thumb: a user should return three times what acquiring them cost


def baseline(data: DashboardData) -> pd.DataFrame:
    """Per campaign, the allocation's prediction at today's budgets (scenario ``baseline``)."""
    scenarios = data["scenarios"]
    if scenarios.empty:
        return scenarios
    return scenarios[scenarios["scenario"] == "baseline"].reset_index(drop=True)


def portfolio_figures(recs: pd.DataFrame, base: pd.DataFrame) -> dict[str, float]:
    """Recommended vs not re-allocating: budget, 30-day revenue, ROI (profit / full cost), ROAS (revenue / media)."""
    cost = recs["expected_revenue"] - recs["expected_profit"]
    return {
        "budget": recs["recommended_budget"].sum(),
        "budget_base": recs["current_budget"].sum(),
        "active": int((recs["recommended_budget"] > 0).sum()),
        "revenue": HORIZON_DAYS * recs["expected_revenue"].sum(),
        "revenue_base": HORIZON_DAYS * base["revenue"].sum(),
        "roi": recs["expected_profit"].sum() / cost.sum(),
        "roi_base": base["profit"].sum() / base["total_cost"].sum(),
        "roas": recs["expected_revenue"].sum() / recs["recommended_budget"].sum(),
        "roas_base": base["revenue"].sum() / base["budget"].sum(),
    }


def health_label(ltv_cac: float) -> str:
    """A plain-word verdict on unit economics."""
    if not np.isfinite(ltv_cac):
        return "unknown"
    if ltv_cac >= HEALTHY_LTV_CAC:
        return "Healthy"
    return "Thin margin" if ltv_cac >= 1.0 else "Losing money"


def user_figures(recs: pd.DataFrame, base: pd.DataFrame, recent: pd.DataFrame) -> dict[str, float]:
    """New users, average LTV, average CAC and LTV/CAC, recommended vs baseline, plus the last 30 days' actuals."""
    users = recs["expected_conversions"].sum()
    base_users = base["users"].sum()
    days = float(recent["days"].iloc[0]) if len(recent) and recent["days"].iloc[0] else np.nan
    out = {
        "users": HORIZON_DAYS * users,
        "users_base": HORIZON_DAYS * base_users,
        "users_last": recent["conversions"].iloc[0] * HORIZON_DAYS / days if np.isfinite(days) else np.nan,
        "ltv": (recs["expected_conversions"] * recs["ltv"]).sum() / users,
        "ltv_base": (base["users"] * base["ltv"]).sum() / base_users,
        "cac": recs["recommended_budget"].sum() / users,
        "cac_base": base["budget"].sum() / base_users,
        "cac_last": recent["spend"].iloc[0] / recent["conversions"].iloc[0] if np.isfinite(days) else np.nan,
    }
    out["ltv_cac"], out["ltv_cac_base"] = out["ltv"] / out["cac"], out["ltv_base"] / out["cac_base"]
    return out


def portfolio_section(data: DashboardData) -> Section:
    recs, base = data["recommendations"], baseline(data)
    if recs.empty or base.empty:
        return Section("portfolio", "Portfolio overview", empty(data.no_allocation()))
    f = portfolio_figures(recs, base)
    body = cards(
        [
            card(
                "Daily budget (recommended)",
                money(f["budget"]),
                f"{f['active']} active campaigns; {money(f['budget'] - f['budget_base'], True)} vs current",
            ),
            card(
                f"Predicted revenue ({HORIZON_DAYS} days)",
                money(f["revenue"]),
                f"{money(f['revenue'] - f['revenue_base'], True)} vs not re-allocating",
            ),
            card(
                f"Predicted ROI ({HORIZON_DAYS} days)",
                pct(f["roi"]),
                f"{100 * (f['roi'] - f['roi_base']):+.0f} pts vs baseline ({pct(f['roi_base'])})",
            ),
            card(
                f"Predicted ROAS ({HORIZON_DAYS} days)",
                ratio(f["roas"]),
                f"{ratio(f['roas'] - f['roas_base'], True)} vs baseline ({ratio(f['roas_base'])})",
            ),
        ]
    )
    return Section(
        "portfolio",
        "Portfolio overview",
        body
        + note(
            f"Allocation run {data.run_id}: its predicted day at the recommended budgets x {HORIZON_DAYS}, against the "
            "same models' prediction at today's budgets (baseline = not re-allocating). Revenue = predicted "
            "value of the users bought; ROI = profit over media, agency and creative cost."
        ),
    )


def customer_value_card(portfolio_ltv: pd.DataFrame) -> list[str]:
    """The d90 value of every user acquired so far with its back-tested interval (none before the LTV step ran)."""
    if portfolio_ltv.empty:
        return []
    v = portfolio_ltv.iloc[0]
    detail = interval_text(v["total_ltv_d90_p05"], v["total_ltv_d90_p95"])
    if detail is None:
        detail = f"interval after about {history_days_needed()} days of installs"
    return [card(f"Value of {count(v['n_users'])} users acquired (d90)", f"{v['total_ltv_d90']:,.0f}", detail)]


def users_section(data: DashboardData) -> Section:
    recs, base = data["recommendations"], baseline(data)
    if recs.empty or base.empty:
        return Section("users", "User metrics", empty(data.no_allocation()))
    f = user_figures(recs, base, data["recent_actuals"])
    body = cards(
        [
            card(
                f"New users ({HORIZON_DAYS} days)",
                count(f["users"]),
                f"{pct(f['users'] / f['users_last'] - 1, True)} vs last {HORIZON_DAYS} days ({count(f['users_last'])})",
            ),
            card("Average LTV", f"{f['ltv']:,.2f}", f"{f['ltv'] - f['ltv_base']:+,.2f} vs baseline"),
            card(
                "Average CAC",
                f"{f['cac']:,.2f}",
                f"{f['cac'] - f['cac_base']:+,.2f} vs baseline; last {HORIZON_DAYS} days {f['cac_last']:,.2f}",
            ),
            card(
                "LTV / CAC", ratio(f["ltv_cac"]), f"{health_label(f['ltv_cac'])} (baseline {ratio(f['ltv_cac_base'])})"
            ),
            *customer_value_card(data["portfolio_ltv"]),
        ]
    )
    return Section(
        "users",
        "User metrics",
        body
        + note(
            "LTV is the allocation's value per user (what each campaign's users have paid so far, developed to day 90; "
            "the champion LTV model for users too new to tell); "
            f"'Healthy' means LTV/CAC >= {HEALTHY_LTV_CAC:g}, 'Thin margin' >= 1, else 'Losing money'. "
            "The value of the users acquired sums every user's d90 value, paid or developed, its interval measured by "
            "developing earlier cohorts with only what was known then."
        ),
    )


def coverage_section(data: DashboardData) -> Section:
    """Which models and steps this data could not support, and why (a user's export often lacks user value)."""
    title = "Data coverage"
    skipped = data["skipped_steps"]
    if skipped.empty:
        return Section("coverage", title, note("Every model and the allocation ran on this data."))
    rows = pd.DataFrame(
        {
            "step": skipped["step_name"].map(STEP_LABELS).fillna(skipped["step_name"]),
            "why it did not run": skipped["reason"],
        }
    )
    return Section(
        "coverage",
        title,
        table(rows)
        + note(
            "The rest of the page uses the models this data supports: e.g. without user-level revenue a conversion is "
            "valued at the revenue the networks reported with it."
        ),
    )
