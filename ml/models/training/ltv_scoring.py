"""LTV per campaign: every user scored with the LTV champion, written to ``predictions.campaign_ltv``, and the
portfolio's total with its back-tested interval to ``predictions.portfolio_ltv`` (``ml/models/ltv/portfolio_total``).

Scoring holds one group of whole campaigns of at most ``LtvDataConfig.score_chunk_users`` users plus one row per
campaign, so its memory does not grow with the portfolio's total users; without user-level data or a champion,
a conversion is valued at the revenue the networks report with it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ml.models.ltv import ltv_by_source
from ml.models.ltv.curves import TimeCurve
from ml.models.ltv.development import fit_development_curve
from ml.models.ltv.portfolio_total import development_backtest, interval_text, portfolio_value
from ml.models.training.ltv import MODEL_NAME
from ml.models.training.ltv_data import LtvDataConfig, campaign_filter, scoring_chunks, training_user_filter
from ml.models.training.ltv_score_cache import keep_only_version, scored_chunk
from ml.settings import PmiPaths
from ml.tracking.registry import champion_version, load_champion
from ml.warehouse.connection import read_sql, table_exists, transaction, warehouse_as_of
from ml.warehouse.staleness import Staleness

# What the development curves read: revenue at each checkpoint and so far (no features, so no Feast join).
CURVE_COLUMNS = "campaign_id, install_ts, as_of_ts, " + ", ".join(
    f"{c}::DOUBLE AS {c}"
    for c in ("revenue_d1", "revenue_d3", "revenue_d7", "revenue_d30", "revenue_d90", "revenue_d180", "revenue_total")
)


# Campaigns with fewer reported conversions than this are valued at the portfolio's revenue per conversion.
MIN_CONVERSIONS_FOR_OWN_VALUE = 30
REPORTED_VALUE = "reported revenue per conversion"


def reported_value_by_campaign(paths: PmiPaths) -> pd.DataFrame:
    """Value of a conversion from the revenue the networks report with it, when there is no user-level value.

    A campaign with few conversions borrows the portfolio's ratio (its own would be noise). The figure is the
    revenue reported so far, not a lifetime value: it is what a user's export supports.
    """
    totals = read_sql(
        paths,
        """SELECT campaign_id, sum(conversions)::DOUBLE AS conversions,
                                       sum(revenue)::DOUBLE AS revenue
                                FROM marts.fct_campaign_daily GROUP BY campaign_id ORDER BY campaign_id""",
    )
    portfolio = totals["revenue"].sum() / max(totals["conversions"].sum(), 1.0)
    own = totals["revenue"] / totals["conversions"].where(totals["conversions"] >= MIN_CONVERSIONS_FOR_OWN_VALUE)
    value = own.fillna(portfolio)
    as_of = warehouse_as_of(paths)
    return pd.DataFrame(
        {
            "campaign_id": totals["campaign_id"],
            "n_users": 0,
            "n_mature": 0,
            "observed_weight": 0.0,
            "ltv_d90_mean": value,
            "blended_ltv_d90": value,
            "settled_ltv_d90": 0.0,
            "ltv_d30_mean": value,
            "ltv_d180_mean": value,
            "confidence": REPORTED_VALUE,
            "model_version": None,
            "as_of_ts": as_of,
        }
    )


def _write_campaign_ltv(paths: PmiPaths, by_campaign: pd.DataFrame, portfolio: pd.DataFrame | None = None) -> None:
    """Both tables in one transaction; without user-level value there is no portfolio total (the table is dropped,
    so no earlier total outlives the data it came from)."""
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS predictions")
        con.register("campaign_ltv_frame", by_campaign)
        con.execute("CREATE OR REPLACE TABLE predictions.campaign_ltv AS SELECT * FROM campaign_ltv_frame")
        if portfolio is None:
            con.execute("DROP TABLE IF EXISTS predictions.portfolio_ltv")
        else:
            con.register("portfolio_ltv_frame", portfolio)
            con.execute("CREATE OR REPLACE TABLE predictions.portfolio_ltv AS SELECT * FROM portfolio_ltv_frame")


def campaign_ltv_from_scores(
    scored: Iterable[tuple[pd.DataFrame, pd.DataFrame]], curve: TimeCurve | None, horizon: int = 90
) -> pd.DataFrame:
    """LTV per campaign from chunks of (users, their predictions), each chunk holding whole campaigns, one chunk in
    memory at a time; ``curve`` develops every chunk's young users (fitted once, so chunking changes nothing)."""
    parts = []
    for frame, predictions in scored:
        by_campaign = ltv_by_source(frame, predictions, source_cols=("campaign_id",), horizon=horizon, curve=curve)
        longer = predictions.assign(campaign_id=frame["campaign_id"].to_numpy()).groupby("campaign_id")
        parts.append(
            by_campaign.merge(longer[["ltv_d30_mean", "ltv_d180_mean"]].mean(), on="campaign_id", how="left").assign(
                as_of_ts=frame["as_of_ts"].max()
            )
        )
    table = pd.concat(parts, ignore_index=True).sort_values("campaign_id", ignore_index=True)
    return table.assign(as_of_ts=table["as_of_ts"].max())


def publish_campaign_ltv(
    paths: PmiPaths, data: LtvDataConfig | None = None, reuse_stored: bool = False
) -> pd.DataFrame:
    """Score every user with the champion and write LTV per campaign to ``predictions.campaign_ltv`` (replaced).

    The development curves are fitted once on the training sample; users are then read and scored in groups of
    whole campaigns, a user whose prediction can no longer move read back from ``predictions.user_ltv_scores``
    (``ltv_score_cache``) instead of predicted again when ``reuse_stored`` (the hourly and daily jobs; any other
    job rebuilt the warehouse from raw, so it predicts every user and stores afresh). Without user-level data or an
    LTV champion, a conversion is valued at the reported revenue per conversion.
    """
    data = data or LtvDataConfig()
    model = load_champion(paths, MODEL_NAME)
    n_users = read_sql(paths, "SELECT count(*) AS n FROM marts.fct_user_features")["n"].iloc[0]
    if model is None or n_users == 0:
        by_campaign = reported_value_by_campaign(paths)
        _write_campaign_ltv(paths, by_campaign)
        return by_campaign
    where, _ = training_user_filter(paths, data)
    sample = read_sql(
        paths,
        f"SELECT {CURVE_COLUMNS} FROM marts.fct_user_features WHERE {where}",
        memory_limit=data.duckdb_memory_limit,
    )
    curve = fit_development_curve(sample, "campaign_id", horizon=90)
    version = champion_version(paths, MODEL_NAME)
    keep_only_version(paths, version, reuse=reuse_stored)
    scored = (
        scored_chunk(paths, model, version, campaign_filter(group), data.duckdb_memory_limit)
        for group in scoring_chunks(paths, data)
    )
    by_campaign = campaign_ltv_from_scores(scored, curve)
    by_campaign["model_version"] = version
    by_campaign = by_campaign[[c for c in by_campaign.columns if c != "as_of_ts"] + ["as_of_ts"]]
    total = portfolio_value(by_campaign, development_backtest(sample))
    _write_campaign_ltv(paths, by_campaign, total.as_frame(by_campaign["as_of_ts"].max(), version))
    return by_campaign


def campaign_ltv_staleness(paths: PmiPaths) -> Staleness | None:
    """Why ``predictions.campaign_ltv`` must be re-scored, or None when it is on the warehouse's current data day.

    A campaign's d90 LTV moves on the scale of days while re-scoring every user takes minutes at scale, so the table
    is kept while it was scored by the current LTV champion and covers every campaign with users. A table stale only
    by the data day (``new_data_day_only``) is the `daily_user_value` job's to score; a retrain or a new campaign
    re-scores at once.
    """
    version = champion_version(paths, MODEL_NAME)
    if version is None:
        return Staleness("no LTV champion")
    if not table_exists(paths, "predictions.campaign_ltv"):
        return Staleness("no predictions.campaign_ltv yet")
    kept = read_sql(
        paths,
        """SELECT any_value(model_version) AS model_version, count(DISTINCT model_version) AS n_versions,
                  max(as_of_ts) AS as_of_ts FROM predictions.campaign_ltv""",
    ).iloc[0]
    if kept["n_versions"] != 1 or str(kept["model_version"]) != version:
        return Staleness(f"scored by LTV version {kept['model_version']}, champion is {version}")
    if pd.isna(kept["as_of_ts"]):
        return Staleness("predictions.campaign_ltv has no as-of")
    missing = read_sql(
        paths,
        """SELECT count(DISTINCT u.campaign_id) AS n FROM marts.fct_user_features u
           ANTI JOIN predictions.campaign_ltv l ON l.campaign_id = u.campaign_id""",
    )["n"].iloc[0]
    if missing:
        return Staleness(f"{missing} campaign(s) with users have no LTV row")
    as_of = warehouse_as_of(paths)
    if pd.Timestamp(kept["as_of_ts"]).date() != pd.Timestamp(as_of).date():
        return Staleness(f"scored as of {kept['as_of_ts']}, the warehouse is as of {as_of}", True)
    return None


def campaign_ltv_is_current(paths: PmiPaths, same_data_day: bool = True) -> str | None:
    """Why ``predictions.campaign_ltv`` must be re-scored, or None when it may be kept; the hourly job passes
    ``same_data_day=False`` and so keeps a table stale only by the data day."""
    staleness = campaign_ltv_staleness(paths)
    if staleness is None or (staleness.new_data_day_only and not same_data_day):
        return None
    return staleness.reason


def portfolio_ltv_summary(paths: PmiPaths) -> str:
    """One line for run metadata: the portfolio's d90 value and its interval, or why there is none."""
    if not table_exists(paths, "predictions.portfolio_ltv"):
        return "none: no user-level value"
    v = read_sql(paths, "SELECT * FROM predictions.portfolio_ltv").iloc[0]
    interval = interval_text(v["total_ltv_d90_p05"], v["total_ltv_d90_p95"])
    if interval is None:
        return f"{v['total_ltv_d90']:,.0f} of {v['n_users']:,} users (no interval: too little settled history)"
    return f"{v['total_ltv_d90']:,.0f} of {v['n_users']:,} users, {interval}"
