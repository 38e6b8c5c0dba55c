"""The LTV trainer: a time split of users, the ensemble fitted on it, and its registration in MLflow.

``train_ltv`` works on any frame of users (the warehouse's, a benchmark's); ``train_ltv_model`` reads that frame
from the warehouse with Feast's ``ltv_model`` service joined at each user's prediction moment (day 7, or the
warehouse's as-of time for younger users), so nothing known later reaches a row; labels and maturity flags come
from the user-value mart.

Validation is the most recent cohort mature at the longest trainable horizon (installs in the ``valid_days``
before ``as_of - horizon``); training uses only older installs. Labels are used only for users mature for the
horizon at ``as_of``, and features never read past day 7, so nothing from the validation period leaks in.

Memory budget: training holds at most ``LtvDataConfig.train_user_budget`` users (a stratified sample, about
2 KB each through the point-in-time join and the learners); the warehouse scan for the sample runs in DuckDB.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import mlflow
import pandas as pd

from ml.features.pushdown import point_in_time_sql, service_views
from ml.models.insufficient import InsufficientDataError
from ml.models.ltv.ensemble import LtvConfig, LtvEnsemble
from ml.models.ltv.features import is_mature
from ml.models.ltv.learners import LearnerParams
from ml.models.trained import rows_known_after
from ml.models.training.ltv_data import LtvDataConfig, training_user_filter
from ml.settings import PmiPaths
from ml.tracking.registry import RegisteredModel, register_if_better, training_run
from ml.warehouse.connection import read_sql

MODEL_NAME = "ltv"
FEATURE_SERVICE = "ltv_model"
# Columns the mart supplies beside Feast's features: identity, timing, labels and maturity flags.
MART_COLUMNS = """user_id, install_ts, install_date, as_of_ts, age_days, has_agency, auto_optimization_enabled,
    is_mature_d1, is_mature_d3, is_mature_d7, revenue_d30, is_mature_d30, revenue_d90, is_mature_d90,
    revenue_d180, is_mature_d180, revenue_total"""
# The mart's revenue labels, read as floats (DuckDB hands their decimals to pandas as objects).
MART_REVENUE = ("revenue_d30", "revenue_d90", "revenue_d180", "revenue_total")

VALIDATION_METRIC = "ltv_d90_rmse"  # preferred; a history too short for mature d90 users uses its split's horizon


def validation_metric(split_horizon: int) -> str:
    """RMSE at d90 when the validation cohort is mature for it, else at the split's (shorter) horizon."""
    return VALIDATION_METRIC if split_horizon >= 90 else f"ltv_d{split_horizon}_rmse"


@dataclass(frozen=True)
class LtvSplit:
    """Training and validation users of one time split and the dates that define it."""

    train: pd.DataFrame
    valid: pd.DataFrame
    as_of: pd.Timestamp
    split_horizon: int
    valid_start: pd.Timestamp
    valid_end: pd.Timestamp
    context: pd.DataFrame  # every user installed before as_of: day-0..7 behaviour of the campaigns


@dataclass
class TrainedLtv:
    """A fitted ensemble with its validation metrics, parameters and the validation users it was scored on."""

    model: LtvEnsemble
    metrics: dict[str, float]
    params: dict[str, object]
    validation_score: float
    valid_df: pd.DataFrame
    as_of: pd.Timestamp
    metric: str = VALIDATION_METRIC

    def score(self, model: LtvEnsemble, unseen_after: pd.Timestamp | None = None) -> float:
        """Validation score (lower is better) of any LTV model on this run's validation users whose label
        was known after ``unseen_after`` (all of them for None), for champion comparisons."""
        horizon = int(self.params["split_horizon"])
        known_at = pd.to_datetime(self.valid_df["install_ts"]) + pd.Timedelta(days=horizon)
        rows = rows_known_after(self.valid_df, known_at, unseen_after)
        return float(model.evaluate(rows, self.as_of)[self.metric]) if len(rows) else float("nan")


def time_split(
    features_df: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
    valid_days: int = 14,
    horizons: tuple[int, ...] = (30, 90, 180),
    min_valid_mature: int = 100,
) -> LtvSplit:
    """Validate on the latest ``valid_days`` of installs mature at the longest horizon that has enough of them."""
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(features_df["as_of_ts"].max())
    df = features_df[pd.to_datetime(features_df["install_ts"]) < as_of]
    install = pd.to_datetime(df["install_ts"])
    for horizon in sorted(horizons, reverse=True):
        valid_end = as_of - pd.Timedelta(days=horizon)
        valid_start = valid_end - pd.Timedelta(days=valid_days)
        in_valid = ((install >= valid_start) & (install < valid_end)).to_numpy()
        n_train = int((install < valid_start).sum())
        if in_valid.sum() >= min_valid_mature and n_train > 0:
            return LtvSplit(
                train=df[(install < valid_start).to_numpy()],
                valid=df[in_valid],
                as_of=as_of,
                split_horizon=horizon,
                valid_start=valid_start,
                valid_end=valid_end,
                context=df,
            )
    raise InsufficientDataError(
        f"too few users installed before {as_of} for a {valid_days}-day validation "
        f"cohort ({min_valid_mature} mature users needed): the LTV model needs "
        "user-level installs and revenue"
    )


def train_ltv(
    features_df: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
    seed: int = 0,
    valid_days: int = 14,
    config: LtvConfig | None = None,
) -> TrainedLtv:
    """Split by install time, fit the ensemble and score it on the validation cohort (``ltv_d90_rmse`` when mature)."""
    base = config or LtvConfig()
    config = LtvConfig(**{**asdict(base), "learner": LearnerParams(**{**asdict(base.learner), "seed": seed})})
    split = time_split(features_df, as_of, valid_days, config.horizons, config.min_valid_mature)
    started = time.perf_counter()
    model = LtvEnsemble(config).fit(split.train, split.valid, split.as_of, context_df=split.context)
    train_seconds = time.perf_counter() - started
    metrics = {
        **model.evaluate(split.valid, split.as_of),
        **model.validation_report,
        "train_seconds": train_seconds,
        "n_train": float(is_mature(split.train, model.reference_horizon, split.as_of).sum()),
    }
    params = {
        "seed": seed,
        "valid_days": valid_days,
        "as_of": str(split.as_of),
        "valid_start": str(split.valid_start),
        "valid_end": str(split.valid_end),
        "split_horizon": split.split_horizon,
        "trained_horizons": model.trained_horizons,
        "reference_horizon": model.reference_horizon,
        **{k: v for k, v in asdict(config).items() if k != "learner"},
        **{f"learner_{k}": v for k, v in asdict(config.learner).items()},
    }
    metric = validation_metric(split.split_horizon)
    return TrainedLtv(
        model=model,
        metrics=metrics,
        params=params,
        validation_score=float(metrics[metric]),
        valid_df=split.valid,
        as_of=split.as_of,
        metric=metric,
    )


def ltv_training_set(paths: PmiPaths, where: str = "TRUE", memory_limit: str | None = None) -> pd.DataFrame:
    """Mart labels of the users ``where`` selects, with the Feast service's features as of each one's prediction
    moment; the point-in-time join runs in DuckDB (``pushdown``), so only the selected users reach pandas."""
    entities = f"""SELECT {MART_COLUMNS}, least(install_ts + INTERVAL 7 DAY, as_of_ts) AS event_timestamp
                   FROM marts.fct_user_features WHERE {where}"""
    sql = point_in_time_sql(service_views(paths, FEATURE_SERVICE), entities) + " ORDER BY user_id"
    frame = read_sql(paths, sql, memory_limit=memory_limit).drop(columns="event_timestamp")
    frame[list(MART_REVENUE)] = frame[list(MART_REVENUE)].astype(float)
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
