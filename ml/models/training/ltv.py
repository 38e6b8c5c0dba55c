"""Train the user-LTV ensemble on a Feast point-in-time training set, register it, and publish LTV by campaign.

The features come from Feast's ``ltv_model`` service joined at each user's prediction moment (day 7, or the
warehouse's as-of time for younger users), so nothing known later reaches a row; labels and maturity flags come
from the user-value mart.

Memory budget: training holds at most ``LtvDataConfig.train_user_budget`` users (a stratified sample, about
2 KB each through the point-in-time join and the learners); scoring holds one group of whole campaigns of at most
``score_chunk_users`` users plus one row per campaign. Neither grows with the portfolio's total users; the
warehouse scans for the sample and the groups run in DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterable

import mlflow
import pandas as pd

from ml.features.pushdown import point_in_time_sql, service_views
from ml.models.insufficient import InsufficientDataError
from ml.models.ltv import LtvEnsemble, ltv_by_source, train_ltv
from ml.models.ltv.curves import TimeCurve
from ml.models.ltv.development import fit_development_curve
from ml.models.training.ltv_data import LtvDataConfig, campaign_filter, scoring_chunks, training_user_filter
from ml.settings import PmiPaths
from ml.tracking.registry import RegisteredModel, champion_version, load_champion, register_if_better, training_run
from ml.warehouse.connection import read_sql, transaction

MODEL_NAME = "ltv"
FEATURE_SERVICE = "ltv_model"
# Columns the mart supplies beside Feast's features: identity, timing, labels and maturity flags.
MART_COLUMNS = """user_id, install_ts, install_date, as_of_ts, age_days, has_agency, auto_optimization_enabled,
    is_mature_d1, is_mature_d3, is_mature_d7, revenue_d30, is_mature_d30, revenue_d90, is_mature_d90,
    revenue_d180, is_mature_d180, revenue_total"""

# What the development curves read: revenue at each checkpoint and so far (no features, so no Feast join).
CURVE_COLUMNS = "campaign_id, install_ts, as_of_ts, " + ", ".join(
    f"{c}::DOUBLE AS {c}"
    for c in ("revenue_d1", "revenue_d3", "revenue_d7", "revenue_d30", "revenue_d90", "revenue_d180", "revenue_total")
)


def ltv_training_set(paths: PmiPaths, where: str = "TRUE", memory_limit: str | None = None) -> pd.DataFrame:
    """Mart labels of the users ``where`` selects, with the Feast service's features as of each one's prediction
    moment; the point-in-time join runs in DuckDB (``pushdown``), so only the selected users reach pandas."""
    entities = f"""SELECT {MART_COLUMNS}, least(install_ts + INTERVAL 7 DAY, as_of_ts) AS event_timestamp
                   FROM marts.fct_user_features WHERE {where}"""
    sql = point_in_time_sql(service_views(paths, FEATURE_SERVICE), entities) + " ORDER BY user_id"
    frame = read_sql(paths, sql, memory_limit=memory_limit).drop(columns="event_timestamp")
    for col in ("revenue_d30", "revenue_d90", "revenue_d180", "revenue_total"):
        frame[col] = frame[col].astype(float)
    return frame


def train_ltv_model(paths: PmiPaths, seed: int = 0, data: LtvDataConfig | None = None) -> RegisteredModel:
    """Fit the ensemble with a time split on a stratified sample of at most ``train_user_budget`` users and
    register it; the champion is re-scored on the same validation users."""
    data = data or LtvDataConfig()
    if read_sql(paths, "SELECT count(*) AS n FROM marts.fct_user_features")["n"].iloc[0] == 0:
        raise InsufficientDataError(
            "no user-level installs in the warehouse (raw.users is empty): conversions are "
            "valued at the revenue reported with them instead"
        )
    where, share = training_user_filter(paths, data)
    frame = ltv_training_set(paths, where, data.duckdb_memory_limit)
    trained = train_ltv(frame, seed=seed)
    sampling = {"train_user_share": share, "train_users_read": len(frame), "train_user_budget": data.train_user_budget}
    with training_run(paths, MODEL_NAME, dict(trained.params) | {"feature_service": FEATURE_SERVICE} | sampling):
        mlflow.log_metrics({k: float(v) for k, v in trained.metrics.items() if isinstance(v, int | float)})
        return register_if_better(
            paths, MODEL_NAME, trained.model, trained.validation_score, evaluate=trained.score, data_end=trained.as_of
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
    as_of = read_sql(paths, "SELECT max(as_of_ts) AS t FROM intermediate.int_warehouse_as_of")["t"].iloc[0]
    return pd.DataFrame(
        {
            "campaign_id": totals["campaign_id"],
            "n_users": 0,
            "n_mature": 0,
            "observed_weight": 0.0,
            "ltv_d90_mean": value,
            "blended_ltv_d90": value,
            "ltv_d30_mean": value,
            "ltv_d180_mean": value,
            "confidence": REPORTED_VALUE,
            "model_version": None,
            "as_of_ts": as_of,
        }
    )


def _write_campaign_ltv(paths: PmiPaths, by_campaign: pd.DataFrame) -> None:
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS predictions")
        con.register("campaign_ltv_frame", by_campaign)
        con.execute("CREATE OR REPLACE TABLE predictions.campaign_ltv AS SELECT * FROM campaign_ltv_frame")


def campaign_ltv_table(
    chunks: Iterable[pd.DataFrame], model: LtvEnsemble, curve: TimeCurve | None, horizon: int = 90
) -> pd.DataFrame:
    """LTV per campaign from chunks of users that each hold whole campaigns, one chunk in memory at a time.

    ``curve`` develops every chunk's young users (fitted once, so chunking changes nothing).
    """
    parts = []
    for frame in chunks:
        predictions = model.predict_distribution(frame)
        by_campaign = ltv_by_source(frame, predictions, source_cols=("campaign_id",), horizon=horizon, curve=curve)
        longer = predictions.assign(campaign_id=frame["campaign_id"].to_numpy()).groupby("campaign_id")
        parts.append(
            by_campaign.merge(longer[["ltv_d30_mean", "ltv_d180_mean"]].mean(), on="campaign_id", how="left").assign(
                as_of_ts=frame["as_of_ts"].max()
            )
        )
    table = pd.concat(parts, ignore_index=True).sort_values("campaign_id", ignore_index=True)
    return table.assign(as_of_ts=table["as_of_ts"].max())


def publish_campaign_ltv(paths: PmiPaths, data: LtvDataConfig | None = None) -> pd.DataFrame:
    """Score every user with the champion and write LTV per campaign to ``predictions.campaign_ltv`` (replaced).

    The development curves are fitted once on the training sample; users are then read and scored in groups of
    whole campaigns. Without user-level data or an LTV champion, a conversion is valued at the reported revenue
    per conversion.
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
    chunks = (
        ltv_training_set(paths, campaign_filter(group), data.duckdb_memory_limit)
        for group in scoring_chunks(paths, data)
    )
    by_campaign = campaign_ltv_table(chunks, model, curve)
    by_campaign["model_version"] = champion_version(paths, MODEL_NAME)
    by_campaign = by_campaign[[c for c in by_campaign.columns if c != "as_of_ts"] + ["as_of_ts"]]
    _write_campaign_ltv(paths, by_campaign)
    return by_campaign
