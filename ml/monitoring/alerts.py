"""Actual-vs-predicted alerts per campaign-day, with the action each one calls for.

Rules (thresholds configurable): CPA more than 20% above prediction -> high, reduce budget 15% where the cut
pays at the observed CPA (``cut_pays``); ROAS more than 15%
below prediction -> high, flag for review as a pause candidate; conversions more than 25% below prediction -> medium,
suggest targeting expansion (causes listed). The CPA and volume rules also need the conversion shortfall to be
beyond noise (``min_z`` Poisson standard deviations, default 2): without it a small campaign's daily noise breaks
20% most days and its budget is cut for nothing. ROAS is compared like for like: a day's realised ROAS counts only the
revenue its installs made that day, so the predicted side is the run's expected conversions times the campaign's
trailing 28-day same-day revenue per conversion, over the recommended spend (the lifetime ROAS the allocator
optimises is not observable until the cohort matures). Predictions are daily, so an alert is keyed by campaign,
metric and day: hourly re-evaluations of the same day never raise it twice.
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from ml.economics.costs import CostConfig
from ml.monitoring.accuracy import SAME_DAY_DAILY_CTE
from ml.settings import PmiPaths
from ml.warehouse.budgets import budget_in_effect_sql
from ml.warehouse.connection import read_sql, table_exists, transaction

VOLUME_CAUSES = ("audience saturation", "creative fatigue", "rising competition (CPM)", "tracking or attribution loss")


class AlertThresholds(BaseModel):
    """How far actuals may stray from predictions before pmi acts."""

    cpa_above_pct: float = Field(0.20, ge=0)
    cpa_budget_cut_pct: float = Field(0.15, ge=0, le=1)
    roas_below_pct: float = Field(0.15, ge=0, le=1)
    volume_below_pct: float = Field(0.25, ge=0, le=1)
    min_z: float = Field(
        2.0,
        ge=0,
        description=(
            "Poisson standard deviations the conversion shortfall behind a CPA or volume alert must reach, so a small "
            "campaign's noise does not cut its budget (0 = alert on the relative deviation alone)."
        ),
    )


_PAIRS_SQL = f"""
    WITH {SAME_DAY_DAILY_CTE}, p AS (SELECT *, {{day}} AS day FROM predictions.allocation_predictions)
    SELECT p.campaign_id, p.day AS date, p.run_id, p.expected_cpa, p.expected_conversions,
           p.expected_conversions * d.same_day_value_per_conversion / nullif(p.recommended_budget, 0)
               AS expected_same_day_roas,
           d.cpa AS actual_cpa, d.conversions AS actual_conversions,
           d.revenue / nullif(d.spend, 0) AS actual_same_day_roas,
           c.auto_optimization_enabled
    FROM p
    JOIN daily d ON d.campaign_id = p.campaign_id AND d.date = p.day
    JOIN marts.dim_campaigns c ON c.campaign_id = p.campaign_id
    WHERE d.is_complete_day
    QUALIFY row_number() OVER (PARTITION BY p.campaign_id, p.day ORDER BY p.predicted_at DESC) = 1
"""
# A prediction is for the day its budgets take effect (``target_date``, demand-adjusted for that day); rows logged
# before that column existed are keyed by the day they were made.
_PREDICTED_DAY = {True: "coalesce(target_date::DATE, predicted_at::DATE)", False: "predicted_at::DATE"}


def predicted_day_sql(logged_columns: set[str]) -> str:
    """SQL of the day a logged prediction is for (shared with the drift rule's pairs)."""
    return _PREDICTED_DAY["target_date" in logged_columns]


ACTION_UNTRACKED = "before_retry_tracking"


def _rule(pairs: pd.DataFrame, breached: pd.Series, deviation: pd.Series, **fields: object) -> pd.DataFrame:
    """The breaching rows of one rule, with its deviation (only those rows: an empty rule must stay empty)."""
    rows = pairs[breached.fillna(False).to_numpy()]
    return rows.assign(deviation=deviation[rows.index], **fields)


def shortfall_z(expected: pd.Series, actual: pd.Series) -> pd.Series:
    """How many Poisson standard deviations ``actual`` conversions fall short of ``expected``."""
    return (expected - actual) / np.sqrt(expected.where(expected > 0))


def raise_alerts(pairs: pd.DataFrame, thresholds: AlertThresholds) -> pd.DataFrame:
    """Alerts for prediction/actual pairs: campaign_id, date, metric, severity, values, deviation, action."""
    cpa_dev = pairs["actual_cpa"] / pairs["expected_cpa"] - 1.0
    volume_dev = pairs["actual_conversions"] / pairs["expected_conversions"] - 1.0
    roas_dev = pairs["actual_same_day_roas"] / pairs["expected_same_day_roas"] - 1.0
    # Conversions the prediction promised for the money actually spent (spend = actual CPA x conversions).
    promised = pairs["actual_cpa"] * pairs["actual_conversions"] / pairs["expected_cpa"]
    cpa_z = shortfall_z(promised, pairs["actual_conversions"])
    volume_z = shortfall_z(pairs["expected_conversions"], pairs["actual_conversions"])
    cpa = _rule(
        pairs,
        (cpa_dev > thresholds.cpa_above_pct) & (cpa_z >= thresholds.min_z),
        cpa_dev,
        metric="cpa",
        severity="high",
        predicted=lambda f: f["expected_cpa"],
        actual=lambda f: f["actual_cpa"],
        action=f"reduce_budget_{thresholds.cpa_budget_cut_pct:.0%}",
        detail="CPA above prediction: spend buys fewer users than planned",
    )
    roas = _rule(
        pairs,
        roas_dev < -thresholds.roas_below_pct,
        roas_dev,
        metric="roas",
        severity="high",
        predicted=lambda f: f["expected_same_day_roas"],
        actual=lambda f: f["actual_same_day_roas"],
        action="flag_for_review_pause_candidate",
        detail="same-day ROAS below prediction: review the campaign; it is a pause candidate",
    )
    volume = _rule(
        pairs,
        (volume_dev < -thresholds.volume_below_pct) & (volume_z >= thresholds.min_z),
        volume_dev,
        metric="conversions",
        severity="medium",
        predicted=lambda f: f["expected_conversions"],
        actual=lambda f: f["actual_conversions"],
        action="suggest_targeting_expansion",
        detail="volume below prediction; possible causes: " + ", ".join(VOLUME_CAUSES),
    )
    columns = [
        "campaign_id",
        "date",
        "run_id",
        "metric",
        "severity",
        "predicted",
        "actual",
        "deviation",
        "action",
        "detail",
        "auto_optimization_enabled",
    ]
    alerts = pd.concat([cpa[columns], roas[columns], volume[columns]], ignore_index=True)
    alerts["deviation"] = alerts["deviation"].astype(float).round(4)
    return alerts


def store_new_alerts(paths: PmiPaths, alerts: pd.DataFrame) -> pd.DataFrame:
    """Insert alerts not stored before (key: campaign, metric, date) and return only the new ones."""
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
        con.execute("""CREATE TABLE IF NOT EXISTS monitoring.alerts (
            campaign_id VARCHAR, date DATE, run_id VARCHAR, metric VARCHAR, severity VARCHAR, predicted DOUBLE,
            actual DOUBLE, deviation DOUBLE, action VARCHAR, detail VARCHAR, auto_optimization_enabled BOOLEAN,
            raised_at TIMESTAMP, PRIMARY KEY (campaign_id, metric, date))""")
        columns = {row[0] for row in con.execute("DESCRIBE monitoring.alerts").fetchall()}
        if "action_run_id" not in columns:  # the run that carried out the alert's auto-action (NULL: pending)
            con.execute("ALTER TABLE monitoring.alerts ADD COLUMN action_run_id VARCHAR")
            con.execute("UPDATE monitoring.alerts SET action_run_id = ?", [ACTION_UNTRACKED])
        seen = con.execute("SELECT campaign_id, metric, date FROM monitoring.alerts").df()
        seen["date"] = pd.to_datetime(seen["date"])
        alerts = alerts.assign(date=pd.to_datetime(alerts["date"]))
        fresh = alerts.merge(seen.assign(_seen=True), on=["campaign_id", "metric", "date"], how="left")
        fresh = (
            fresh[fresh["_seen"].isna()]
            .drop(columns="_seen")
            .assign(raised_at=pd.Timestamp.now(tz="UTC").tz_localize(None))
        )
        if not fresh.empty:
            con.register("fresh_alerts", fresh)
            con.execute("INSERT INTO monitoring.alerts BY NAME SELECT * FROM fresh_alerts")
    return fresh.reset_index(drop=True)


def cut_pays(cuts: pd.DataFrame, economics: pd.DataFrame | None) -> pd.Series:
    """Whether an alert's cut earns more than it saves, per alert row (``campaign_id``, ``deviation``).

    The CPA miss says the campaign buys ``1 / (1 + deviation)`` of the conversions the model promised per dollar.
    Scaling the model's marginal ROAS at the budget (``marginal_roas``: value of the last dollar's conversions) by
    that shortfall, the dollars cut return less than they cost (``cost_multiplier``: media plus overhead and agency
    fee per dollar) exactly when the corrected marginal ROAS is below it; then cutting pays. A campaign the
    allocator keeps far below its optimum (a binding total or the period limit) has marginal ROAS well above its
    cost, and a 20% miss there is no reason to give up profitable volume. Without economics (no prediction logged
    for the campaign) the cut is kept: the conservative action when nothing says otherwise.
    """
    if economics is None or economics.empty:
        return pd.Series(True, index=cuts.index)
    merged = cuts[["campaign_id", "deviation"]].merge(economics, on="campaign_id", how="left")
    corrected = merged["marginal_roas"] / (1.0 + merged["deviation"].astype(float))
    pays = (corrected < merged["cost_multiplier"]) | corrected.isna()
    return pd.Series(pays.to_numpy(bool), index=cuts.index)


def budget_cuts(
    alerts: pd.DataFrame,
    budgets: pd.DataFrame,
    thresholds: AlertThresholds,
    economics: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Auto-actions: a budget cut for each high-severity CPA alert of an auto-optimised campaign (one per campaign)
    where cutting pays (:func:`cut_pays`, given ``economics``: campaign_id, marginal_roas, cost_multiplier).

    The cut is what the rule asks for; the gate every change passes (``ml/allocation/gate.py``) holds it to the
    period's change limit, so it never stacks on the allocator's own move beyond that limit.
    """
    cuts = alerts[(alerts["metric"] == "cpa") & alerts["auto_optimization_enabled"].astype(bool)]
    cuts = cuts.sort_values("date").drop_duplicates("campaign_id", keep="last")
    cuts = cuts[cut_pays(cuts, economics).to_numpy(bool)]
    merged = cuts.merge(budgets, on="campaign_id")
    return pd.DataFrame(
        {
            "campaign_id": merged["campaign_id"],
            "budget_before": merged["daily_budget"],
            "budget_after": np.round(merged["daily_budget"] * (1 - thresholds.cpa_budget_cut_pct), 2),
            "action": "reduce",
            "reason": [
                f"CPA {d:+.0%} against prediction: budget cut {thresholds.cpa_budget_cut_pct:.0%} (the cut dollars "
                "return less than they cost at the observed CPA)"
                for d in merged["deviation"]
            ],
        }
    )


_ECONOMICS_SQL = """
    SELECT p.campaign_id, p.marginal_roas::DOUBLE AS marginal_roas, c.has_agency
    FROM predictions.allocation_predictions p JOIN marts.dim_campaigns c USING (campaign_id)
    QUALIFY row_number() OVER (PARTITION BY p.campaign_id ORDER BY p.predicted_at DESC) = 1
"""


def latest_economics(paths: PmiPaths, costs: CostConfig | None = None) -> pd.DataFrame | None:
    """Per campaign: the latest run's marginal ROAS at its budget and the cost of a media dollar (for
    :func:`cut_pays`); None where no allocation has logged predictions."""
    if not table_exists(paths, "predictions.allocation_predictions"):
        return None
    logged = set(read_sql(paths, "DESCRIBE predictions.allocation_predictions")["column_name"])
    if "marginal_roas" not in logged:
        return None
    frame = read_sql(paths, _ECONOMICS_SQL)
    multiplier = (costs or CostConfig()).cost_multiplier(frame["has_agency"].fillna(False).to_numpy(bool))
    return frame[["campaign_id", "marginal_roas"]].assign(cost_multiplier=multiplier)


def pending_actions(paths: PmiPaths) -> pd.DataFrame:
    """Stored CPA alerts of auto-optimised campaigns whose budget cut no applied run has carried out yet."""
    if not table_exists(paths, "monitoring.alerts"):
        return pd.DataFrame()
    return read_sql(
        paths,
        """SELECT * FROM monitoring.alerts
                              WHERE metric = 'cpa' AND auto_optimization_enabled AND action_run_id IS NULL
                              ORDER BY date, campaign_id""",
    )


def act_on_pending(paths: PmiPaths, thresholds: AlertThresholds, rules=None) -> int:
    """Apply the pending alert cuts through the gate (one run per set of alerts); returns campaigns changed.

    An alert stays pending until a run carrying its cut is applied, so a cut that failed (or an alert raised for a
    day already acted on) is retried by the next check instead of being reported "already applied".
    """
    from ml.allocation.apply import apply_allocation

    pending = pending_actions(paths)
    if pending.empty:
        return 0
    cuts = budget_cuts(pending, read_sql(paths, budget_in_effect_sql()), thresholds, latest_economics(paths))
    keys = sorted(f"{c}|{pd.Timestamp(d):%Y%m%d}" for c, d in zip(pending["campaign_id"], pending["date"], strict=True))
    run_id = "alerts_" + hashlib.sha1("\n".join(keys).encode()).hexdigest()[:16]
    applied = {"applied": False, "changed_campaigns": 0}
    if not cuts.empty:
        applied = apply_allocation(
            paths, run_id, cuts, {"expected_gain": None}, triggered_by="alert:cpa_above_prediction", rules=rules
        )
    if applied["applied"] or applied.get("reason") == "already applied" or cuts.empty:
        with transaction(paths.warehouse) as con:
            con.register("acted", pending[["campaign_id", "metric", "date"]])
            con.execute(
                """UPDATE monitoring.alerts a SET action_run_id = ? FROM acted
                           WHERE a.campaign_id = acted.campaign_id AND a.metric = acted.metric
                             AND a.date = acted.date""",
                [run_id],
            )
    return int(applied.get("changed_campaigns", 0))


def check_and_act(paths: PmiPaths, thresholds: AlertThresholds | None = None, rules=None) -> dict:
    """Raise new alerts and apply pending auto-actions through the allocation apply path and its gate."""
    thresholds = thresholds or AlertThresholds()
    if not table_exists(paths, "predictions.allocation_predictions"):
        return {"new_alerts": 0, "auto_actions": 0}  # nothing was predicted, so nothing to compare
    logged = set(read_sql(paths, "DESCRIBE predictions.allocation_predictions")["column_name"])
    pairs = read_sql(paths, _PAIRS_SQL.format(day=predicted_day_sql(logged)))
    new = store_new_alerts(paths, raise_alerts(pairs, thresholds)) if len(pairs) else pd.DataFrame()
    return {"new_alerts": len(new), "auto_actions": act_on_pending(paths, thresholds, rules)}


def open_alerts(paths: PmiPaths, days: int = 7) -> pd.DataFrame:
    """Alerts of the last ``days`` days of evaluated data, most severe and largest deviation first."""
    query = f"""SELECT * FROM monitoring.alerts
                WHERE date > (SELECT max(date) FROM monitoring.alerts) - INTERVAL {int(days)} DAY
                ORDER BY severity = 'high' DESC, abs(deviation) DESC"""
    try:
        return read_sql(paths, query)
    except duckdb.CatalogException:  # no alert table yet: nothing was ever raised
        return pd.DataFrame(
            columns=[
                "campaign_id",
                "date",
                "metric",
                "severity",
                "predicted",
                "actual",
                "deviation",
                "action",
                "detail",
            ]
        )
