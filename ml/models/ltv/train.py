"""Train the LTV ensemble on a time split, so the lead can log it and compare champions on the same validation data.

Validation is the most recent cohort mature at the longest trainable horizon (installs in the ``valid_days``
before ``as_of - horizon``); training uses only older installs. Labels are used only for users mature for the
horizon at ``as_of``, and features never read past day 7, so nothing from the validation period leaks in.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import pandas as pd

from ml.models.insufficient import InsufficientDataError
from ml.models.ltv.ensemble import LtvConfig, LtvEnsemble
from ml.models.ltv.features import is_mature
from ml.models.ltv.learners import LearnerParams
from ml.models.trained import rows_known_after

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
