"""The three base learners of the LTV ensemble, the quantile models and the payer classifier.

Every regressor predicts *future* value (revenue after the observed window up to the horizon), which is
non-negative, zero for most users and heavy-tailed. All three use a Poisson loss with a log link: unlike a
Tweedie loss with power > 1 it keeps the balance property (predictions sum to the realised total), so the
predictions are unbiased means, not medians, and source totals add up.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ml.models.ltv.features import CATEGORICAL, LOG_SCALED, NUMERIC

LEARNERS: tuple[str, ...] = ("lightgbm", "xgboost", "mlp")


@dataclass(frozen=True)
class LearnerParams:
    """Hyper-parameters shared by the learners (sized for ~400k users in well under a minute on 2 cores)."""

    n_estimators: int = 300
    learning_rate: float = 0.1
    num_leaves: int = 31
    min_child_samples: int = 100
    max_bin: int = 127
    early_stopping_rounds: int = 20
    zero_sample_rate: float = 0.25
    mlp_hidden: tuple[int, ...] = (64, 32)
    mlp_max_rows: int = 30_000
    mlp_max_iter: int = 25
    n_jobs: int = 2
    seed: int = 0


def _lgb_common(p: LearnerParams) -> dict:
    return {
        "n_estimators": p.n_estimators,
        "learning_rate": p.learning_rate,
        "num_leaves": p.num_leaves,
        "min_child_samples": p.min_child_samples,
        "max_bin": p.max_bin,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.9,
        "cat_smooth": 20.0,
        "min_data_per_group": 200,
        "n_jobs": p.n_jobs,
        "random_state": p.seed,
        "verbose": -1,
    }


def _stop(p: LearnerParams) -> list:
    return [lgb.early_stopping(p.early_stopping_rounds, verbose=False)]


def zero_downsample(positive: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows to fit on (every positive, a ``rate`` share of zeros) and weights that keep the zeros' total weight.

    Most users never pay; fitting on a quarter of them, each weighted 4x, keeps the loss unbiased and the
    trees several times faster.
    """
    keep = np.asarray(positive, dtype=bool) | (rng.random(len(positive)) < rate)
    rows = np.flatnonzero(keep)
    return rows, np.where(np.asarray(positive, dtype=bool)[rows], 1.0, 1.0 / rate)


def fit_lightgbm(
    x: pd.DataFrame, y: np.ndarray, weight: np.ndarray, x_stop: pd.DataFrame, y_stop: np.ndarray, p: LearnerParams
) -> lgb.LGBMRegressor:
    """Poisson-loss gradient boosting with native categoricals, stopped early on the inner hold-out."""
    model = lgb.LGBMRegressor(objective="poisson", **_lgb_common(p))
    return model.fit(x, y, sample_weight=weight, eval_X=(x_stop,), eval_y=(y_stop,), callbacks=_stop(p))


def fit_payer_classifier(
    x: pd.DataFrame, y: np.ndarray, weight: np.ndarray, x_stop: pd.DataFrame, y_stop: np.ndarray, p: LearnerParams
) -> lgb.LGBMClassifier:
    """Probability that a user who has not paid yet pays by the reference horizon."""
    model = lgb.LGBMClassifier(objective="binary", **_lgb_common(p))
    return model.fit(x, y, sample_weight=weight, eval_X=(x_stop,), eval_y=(y_stop,), callbacks=_stop(p))


def fit_xgboost(
    x: pd.DataFrame, y: np.ndarray, weight: np.ndarray, x_stop: pd.DataFrame, y_stop: np.ndarray, p: LearnerParams
) -> xgb.XGBRegressor:
    """Poisson-loss XGBoost (histogram trees, native categoricals), stopped early on the inner hold-out."""
    model = xgb.XGBRegressor(
        objective="count:poisson",
        n_estimators=p.n_estimators,
        learning_rate=p.learning_rate,
        max_depth=6,
        min_child_weight=20.0,
        subsample=0.8,
        colsample_bytree=0.9,
        tree_method="hist",
        max_bin=p.max_bin,
        enable_categorical=True,
        max_cat_to_onehot=8,
        n_jobs=p.n_jobs,
        random_state=p.seed,
        early_stopping_rounds=p.early_stopping_rounds,
    )
    return model.fit(x, y, sample_weight=weight, eval_set=[(x_stop, y_stop)], verbose=False)


def _log1p_nonneg(a: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(np.nan_to_num(np.asarray(a, dtype=float), nan=0.0), 0.0))


def _missing_flags(a: np.ndarray) -> np.ndarray:
    return np.isnan(np.asarray(a, dtype=float)).astype(float)


def mlp_preprocessor() -> ColumnTransformer:
    """One-hot sources, log-scale heavy counts and amounts, flag missing first-event times, standardise."""
    linear = [c for c in NUMERIC if c not in LOG_SCALED]
    return ColumnTransformer(
        [
            ("source", OneHotEncoder(handle_unknown="ignore", min_frequency=50), list(CATEGORICAL)),
            (
                "log",
                Pipeline([("log", FunctionTransformer(_log1p_nonneg)), ("scale", StandardScaler())]),
                list(LOG_SCALED),
            ),
            ("missing", FunctionTransformer(_missing_flags), ["hours_to_first_event", "hours_to_first_purchase"]),
            ("linear", Pipeline([("fill", FunctionTransformer(np.nan_to_num)), ("scale", StandardScaler())]), linear),
        ]
    )


@dataclass
class MlpLtv:
    """A Poisson-loss multi-output MLP: one network for every trained horizon's future value."""

    pipeline: Pipeline
    scale: np.ndarray

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """Future value per horizon (rows x horizons)."""
        out = np.asarray(self.pipeline.predict(x), dtype=float).reshape(len(x), -1)
        return np.maximum(out, 0.0) * self.scale


def fit_mlp(x: pd.DataFrame, y: np.ndarray, p: LearnerParams) -> MlpLtv:
    """Fit on a subsample that keeps every user with future value and weights down the zeros it drops."""
    rng = np.random.default_rng(p.seed)
    y = np.asarray(y, dtype=float).reshape(len(x), -1)
    positive = y.max(axis=1) > 0
    n_zero_keep = max(1, min(int((~positive).sum()), p.mlp_max_rows - int(positive.sum())))
    zeros = np.flatnonzero(~positive)
    keep_zero = rng.choice(zeros, size=min(n_zero_keep, len(zeros)), replace=False)
    rows = np.sort(np.concatenate([np.flatnonzero(positive), keep_zero]))
    weight = np.where(positive[rows], 1.0, len(zeros) / max(len(keep_zero), 1))
    scale = np.maximum(y[positive].mean(axis=0), 1e-6) if positive.any() else np.ones(y.shape[1])
    net = MLPRegressor(
        loss="poisson",
        hidden_layer_sizes=p.mlp_hidden,
        alpha=1e-3,
        batch_size=512,
        learning_rate_init=2e-3,
        max_iter=p.mlp_max_iter,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        random_state=p.seed,
    )
    pipeline = Pipeline([("prep", mlp_preprocessor()), ("net", net)])
    target = y[rows] / scale
    pipeline.fit(x.iloc[rows], target if target.shape[1] > 1 else target[:, 0], net__sample_weight=weight)
    return MlpLtv(pipeline=pipeline, scale=scale)
