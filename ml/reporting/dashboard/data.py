"""Everything the executive dashboard shows, read from the warehouse (and MLflow's validation scores) in one go.

Nothing here computes a model: the page only reports what the pipeline's steps stored, so its numbers can be
traced back to a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import connect

# the allocation the page describes: the last one applied that logged its predictions
LATEST_RUN = """(SELECT run_id FROM audit.allocation_runs
                 WHERE run_id IN (SELECT run_id FROM predictions.allocation_predictions)
                 ORDER BY applied_at DESC LIMIT 1)"""

QUERIES: dict[str, str] = {
    "recommendations": f"""
        SELECT p.*, c.campaign_name, c.network, c.platform, c.geo, c.creative_format
        FROM predictions.allocation_predictions p JOIN marts.dim_campaigns c USING (campaign_id)
        WHERE p.run_id = {LATEST_RUN} ORDER BY p.campaign_id""",
    "trajectories": "SELECT * FROM predictions.spend_trajectories ORDER BY campaign_id, spend_multiple",
    "scenarios": "SELECT * FROM predictions.scenarios",
    "profit_samples": "SELECT daily_profit::DOUBLE AS daily_profit FROM predictions.allocation_profit_distribution",
    "kpi_forecast": "SELECT * FROM predictions.kpi_forecast",
    "portfolio_ltv": "SELECT * FROM predictions.portfolio_ltv",
    "alerts": "SELECT * FROM monitoring.alerts ORDER BY date DESC, severity, campaign_id",
    "accuracy": "SELECT * FROM monitoring.model_accuracy ORDER BY evaluated_through, metric",
    "recent_actuals": """
        SELECT sum(spend)::DOUBLE AS spend, sum(conversions)::DOUBLE AS conversions,
               count(DISTINCT date) AS days
        FROM marts.fct_campaign_daily
        WHERE is_complete_day AND date > (SELECT max(date) FROM marts.fct_campaign_daily WHERE is_complete_day)
                                          - INTERVAL 30 DAY""",
    "segment_days": """
        SELECT d.campaign_id, c.platform, c.creative_format, c.geo, sum(d.spend)::DOUBLE AS spend,
               sum(d.conversions)::DOUBLE AS conversions, sum(d.cohort_revenue_d7)::DOUBLE AS revenue_d7,
               sum(d.revenue)::DOUBLE AS reported_revenue, sum(d.new_users)::DOUBLE AS new_users
        FROM marts.fct_campaign_daily d JOIN marts.dim_campaigns c USING (campaign_id)
        WHERE d.is_cohort_mature_d7 GROUP BY ALL""",
    "hours": """
        SELECT hour_of_day, sum(spend)::DOUBLE AS spend, sum(conversions)::DOUBLE AS conversions
        FROM marts.fct_campaign_hourly GROUP BY hour_of_day ORDER BY hour_of_day""",
    "creative_trend": """
        SELECT campaign_id,
               sum(clicks) FILTER (WHERE date > last - 7)::DOUBLE
                 / nullif(sum(impressions) FILTER (WHERE date > last - 7), 0) AS ctr_7d,
               sum(clicks) FILTER (WHERE date > last - 28)::DOUBLE
                 / nullif(sum(impressions) FILTER (WHERE date > last - 28), 0) AS ctr_28d
        FROM marts.fct_campaign_daily,
             (SELECT max(date) AS last FROM marts.fct_campaign_daily WHERE is_complete_day)
        WHERE is_complete_day GROUP BY campaign_id""",
    "as_of": "SELECT max(as_of_ts) AS as_of FROM intermediate.int_warehouse_as_of",
    "skipped_steps": "SELECT step_name, reason FROM monitoring.step_status WHERE status = 'skipped' ORDER BY step_name",
}
# What a skipped step means for the reader, in the words of the section it leaves empty.
STEP_LABELS = {
    "response_curves": "Response curves",
    "ltv": "User LTV model",
    "cac": "CAC model",
    "pricing": "Pricing model",
    "kpi_forecast": "KPI forecaster",
    "allocation": "Allocation",
}


@dataclass
class DashboardData:
    """The frames behind every section; a table the pipeline has not written yet is an empty frame."""

    frames: dict[str, pd.DataFrame]
    validation_scores: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames.get(name, pd.DataFrame())

    def skip_reason(self, step: str) -> str | None:
        """Why ``step`` did not run on this data (None when it ran or never tried)."""
        skipped = self["skipped_steps"]
        if skipped.empty:
            return None
        match = skipped.loc[skipped["step_name"] == step, "reason"]
        return str(match.iloc[0]) if len(match) else None

    def no_allocation(self) -> str:
        """What an allocation section says when there is none: the data's reason, else how to make one."""
        reason = self.skip_reason("allocation")
        return f"No allocation on this data: {reason}." if reason else "No allocation has run yet: run `pmi run`."

    @property
    def run_id(self) -> str | None:
        recs = self["recommendations"]
        return str(recs["run_id"].iloc[0]) if len(recs) else None


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """One query; a missing table (step not run yet) reads as an empty frame so its section says so."""
    try:
        return con.execute(sql).df()
    except duckdb.CatalogException:
        return pd.DataFrame()


def _latest_run_only(frames: dict[str, pd.DataFrame], run_id: str | None) -> None:
    """Keep only the rows of the allocation run the page describes (tables replaced per run carry run_id too)."""
    for name in ("trajectories", "scenarios", "profit_samples"):
        frame = frames.get(name, pd.DataFrame())
        if run_id is not None and "run_id" in frame.columns:
            frames[name] = frame[frame["run_id"] == run_id].reset_index(drop=True)


def validation_scores(paths: PmiPaths) -> pd.DataFrame:
    """Holdout validation score of every registered model version (MLflow under PMI_HOME), oldest first."""
    from ml.tracking.registry import configure, tracking_store_exists

    if not tracking_store_exists(paths):
        return pd.DataFrame()
    import mlflow

    configure(paths)
    runs = mlflow.search_runs(experiment_names=["pmi"], filter_string="tags.`pmi.model` != ''", output_format="pandas")
    if runs.empty or "metrics.validation_score" not in runs.columns:
        return pd.DataFrame()
    return (
        runs.rename(
            columns={
                "tags.pmi.model": "model",
                "metrics.validation_score": "validation_score",
                "tags.pmi.promoted": "promoted",
            }
        )[["model", "start_time", "validation_score", "promoted"]]
        .dropna(subset=["validation_score"])
        .sort_values("start_time")
        .reset_index(drop=True)
    )


def load_dashboard_data(paths: PmiPaths) -> DashboardData:
    """Read every table the dashboard needs with one read-only connection (closed before returning)."""
    con = connect(paths.warehouse, read_only=True)
    try:
        frames = {name: _query(con, sql) for name, sql in QUERIES.items()}
    finally:
        con.close()
    recs = frames["recommendations"]
    _latest_run_only(frames, str(recs["run_id"].iloc[0]) if len(recs) else None)
    return DashboardData(frames=frames, validation_scores=validation_scores(paths))
