"""User LTV at 30, 90 and 180 days as a distribution, from the acquisition source and days 0..7 only.

Per horizon with enough mature users, LightGBM, XGBoost and a neural net predict the *future* value after the
observed window (the revenue already seen is a known floor, added back); their mean predictions are combined
with non-negative weights fitted on validation users. Conformal ratio quantiles on an inner hold-out give
p10 / median / p90 and a LightGBM classifier the probability of paying. Horizons without enough mature users
(d180 with 180 days of history) are the longest trained horizon times a per-source time-curve factor (``curves``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.models.insufficient import InsufficientDataError
from ml.models.ltv import learners as lr
from ml.models.ltv.calibration import SourceCalibration
from ml.models.ltv.curves import TimeCurve
from ml.models.ltv.evaluation import error_metrics, interval_coverage, payer_scores, stacking_weights, top_share
from ml.models.ltv.features import (
    HORIZONS,
    CategoryCodes,
    early_features,
    is_mature,
    label_column,
    source_stats,
    truncate_window,
)
from ml.models.ltv.quantiles import ConformalQuantiles

QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
QUANTILE_NAMES: dict[float, str] = {0.1: "p10", 0.5: "median", 0.9: "p90"}


@dataclass(frozen=True)
class LtvConfig:
    """What the ensemble trains and on how much data."""

    horizons: tuple[int, ...] = HORIZONS
    min_train_mature: int = 1_000
    min_valid_mature: int = 100
    truncated_share: float = 0.3
    early_stop_share: float = 0.15
    learner: lr.LearnerParams = field(default_factory=lr.LearnerParams)


def _as_of(*frames: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> pd.Timestamp:
    """Explicit ``as_of`` or the latest warehouse ``as_of_ts`` of the frames."""
    if as_of is not None:
        return pd.Timestamp(as_of)
    return max(pd.Timestamp(f["as_of_ts"].max()) for f in frames if len(f))


class LtvEnsemble:
    """Stacked LightGBM + XGBoost + MLP LTV model with quantiles, payer probability and time-curve extension."""

    def __init__(self, config: LtvConfig | None = None) -> None:
        self.config = config or LtvConfig()
        self.codes = CategoryCodes()
        self.trained_horizons: list[int] = []
        self.reference_horizon: int = 0
        self.regressors: dict[str, dict[int, object]] = {}
        self.mlp: lr.MlpLtv | None = None
        self.weights: dict[int, np.ndarray] = {}
        self.quantiles: dict[int, ConformalQuantiles] = {}
        self.payer_model: object | None = None
        self.sources: pd.DataFrame | None = None
        self.calibration: dict[int, SourceCalibration] = {}
        self.curve: TimeCurve | None = None
        self.validation_report: dict[str, float] = {}

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        train_df: pd.DataFrame,
        valid_df: pd.DataFrame,
        as_of: pd.Timestamp | str | None = None,
        context_df: pd.DataFrame | None = None,
    ) -> LtvEnsemble:
        """Fit learners on ``train_df``, stacking weights on ``valid_df``; only users mature at a horizon are used.

        ``context_df`` (default: train and valid users) supplies the day-0..7 behaviour of every campaign for the
        source features; its labels are never read.
        """
        cfg, p = self.config, self.config.learner
        as_of = _as_of(train_df, valid_df, as_of=as_of)
        n_train = {h: int(is_mature(train_df, h, as_of).sum()) for h in cfg.horizons}
        n_valid = {h: int(is_mature(valid_df, h, as_of).sum()) for h in cfg.horizons}
        self.trained_horizons = [
            h for h in sorted(cfg.horizons) if n_train[h] >= cfg.min_train_mature and n_valid[h] >= cfg.min_valid_mature
        ]
        if not self.trained_horizons:
            raise InsufficientDataError(f"no horizon has enough mature users: train {n_train}, valid {n_valid}")
        ref = self.reference_horizon = max(self.trained_horizons)

        context = pd.concat([train_df, valid_df]) if context_df is None else context_df
        self.refresh_sources(context, as_of)
        # A total order (ties broken by user id) so the fit does not depend on the order the warehouse returned rows.
        order = ["install_ts", "user_id"] if "user_id" in train_df else ["install_ts"]
        rows = train_df[is_mature(train_df, ref, as_of)].sort_values(order, kind="stable")
        rng = np.random.default_rng(p.seed)
        extra, window = truncate_window(rows, cfg.truncated_share, rng)
        x_raw = pd.concat(
            [
                early_features(rows, as_of=as_of, sources=self.sources),
                early_features(extra, window, as_of=as_of, sources=self.sources),
            ],
            ignore_index=True,
        )
        x = self.codes.fit(x_raw).transform(x_raw)
        labels = pd.concat([rows, extra], ignore_index=True)
        future = self._future_targets(labels, x)
        known = x["revenue_d7"].to_numpy(dtype=float)
        # Inner hold-out (latest installs) for early stopping and the quantile calibration.
        cut = rows["install_ts"].quantile(1.0 - cfg.early_stop_share)
        stop = labels["install_ts"].to_numpy() >= cut.to_datetime64()
        fit_idx, stop_idx = np.flatnonzero(~stop), np.flatnonzero(stop)
        sample, weight = lr.zero_downsample(future[fit_idx].max(axis=1) > 0, p.zero_sample_rate, rng)
        xf, xs = x.iloc[fit_idx[sample]], x.iloc[stop_idx]

        self.regressors = {"lightgbm": {}, "xgboost": {}}
        for i, h in enumerate(self.trained_horizons):
            yf, ys = future[fit_idx[sample], i], future[stop_idx, i]
            self.regressors["lightgbm"][h] = lr.fit_lightgbm(xf, yf, weight, xs, ys, p)
            self.regressors["xgboost"][h] = lr.fit_xgboost(xf, yf, weight, xs, ys, p)
        self.mlp = lr.fit_mlp(x.iloc[fit_idx], future[fit_idx], p)
        unpaid_f, unpaid_s = known[fit_idx[sample]] <= 0, known[stop_idx] <= 0
        self.payer_model = lr.fit_payer_classifier(
            xf[unpaid_f],
            future[fit_idx[sample], -1][unpaid_f] > 0,
            weight[unpaid_f],
            xs[unpaid_s],
            future[stop_idx, -1][unpaid_s] > 0,
            p,
        )
        self.curve = TimeCurve(ref=ref).fit(pd.concat([train_df, valid_df], ignore_index=True), as_of)
        self._fit_stacking(valid_df[is_mature(valid_df, ref, as_of)], as_of)
        self.calibration = {}
        full = np.flatnonzero(x["observed_days"].to_numpy() >= 7)
        campaign = labels["campaign_id"].to_numpy()
        stacked = self._stacked_futures(x.iloc[full])
        for i, h in enumerate(self.trained_horizons):
            self.calibration[h] = SourceCalibration().fit(campaign[full], stacked[h], future[full, i])
        held_out = self._stacked_futures(xs, campaign[stop_idx])
        self.quantiles = {
            h: ConformalQuantiles(QUANTILES).fit(
                held_out[h], future[stop_idx, i], known[stop_idx], xs["observed_days"].to_numpy()
            )
            for i, h in enumerate(self.trained_horizons)
        }
        return self

    def refresh_sources(self, context_df: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> None:
        """Recompute the campaigns' day-0..7 source features from newer users without retraining."""
        self.sources = source_stats(context_df, None if as_of is None else pd.Timestamp(as_of))

    def _features(self, df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
        return self.codes.transform(early_features(df, as_of=as_of, sources=self.sources))

    def _stacked_futures(self, x: pd.DataFrame, campaign: np.ndarray | None = None) -> dict[int, np.ndarray]:
        """Stacked future value per trained horizon, calibrated per source when ``campaign`` is given."""
        futures = self._learner_futures(x)
        out = {}
        for i, h in enumerate(self.trained_horizons):
            out[h] = np.column_stack([futures[n][:, i] for n in lr.LEARNERS]) @ self.weights[h]
            if campaign is not None:
                out[h] = out[h] * self.calibration[h].factor(campaign)
        return out

    def _future_targets(self, labels: pd.DataFrame, x: pd.DataFrame) -> np.ndarray:
        """Revenue after the observed window up to each trained horizon (rows x horizons)."""
        known = x["revenue_d7"].to_numpy(dtype=float)
        return np.column_stack(
            [np.maximum(labels[label_column(h)].to_numpy(dtype=float) - known, 0.0) for h in self.trained_horizons]
        )

    def _learner_futures(self, x: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each learner's predicted future value (rows x trained horizons)."""
        out = {
            name: np.column_stack([np.maximum(models[h].predict(x), 0.0) for h in self.trained_horizons])
            for name, models in self.regressors.items()
        }
        out["mlp"] = self.mlp.predict(x)
        return out

    def _fit_stacking(self, valid: pd.DataFrame, as_of: pd.Timestamp) -> None:
        """Per-horizon non-negative convex weights on validation predictions; record each learner's scores."""
        x = self._features(valid, as_of)
        known = x["revenue_d7"].to_numpy(dtype=float)
        futures = self._learner_futures(x)
        self.validation_report = {"n_valid": float(len(valid))}
        for i, h in enumerate(self.trained_horizons):
            actual = valid[label_column(h)].to_numpy(dtype=float)
            stacked = np.column_stack([futures[name][:, i] for name in lr.LEARNERS])
            self.weights[h] = stacking_weights(stacked, actual - known)
            for j, name in enumerate(lr.LEARNERS):
                self.validation_report[f"weight_{name}_d{h}"] = float(self.weights[h][j])
                for metric, value in error_metrics(known + stacked[:, j], actual).items():
                    self.validation_report[f"{name}_d{h}_{metric}"] = value
            for metric, value in error_metrics(known + stacked @ self.weights[h], actual).items():
                self.validation_report[f"stacked_d{h}_{metric}"] = value

    # ------------------------------------------------------------------ prediction
    def predict_distribution(self, df: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
        """Per user: mean, median, p10, p90 of LTV at every horizon, and the probability of paying by the reference
        horizon. Every value is at least the revenue already seen and never decreases with the horizon."""
        as_of = None if as_of is None else pd.Timestamp(as_of)
        x = self._features(df, as_of)
        known = x["revenue_d7"].to_numpy(dtype=float)
        futures = self._stacked_futures(x, df["campaign_id"].to_numpy())
        stats: dict[str, dict[int, np.ndarray]] = {"mean": {}, "p10": {}, "median": {}, "p90": {}}
        for h in self.trained_horizons:
            stats["mean"][h] = known + futures[h]
            quant = self.quantiles[h].predict(futures[h], known, x["observed_days"].to_numpy())
            for j, a in enumerate(QUANTILES):
                stats[QUANTILE_NAMES[a]][h] = known + quant[:, j]
        ref = self.reference_horizon
        for h in sorted(set(self.config.horizons) - set(self.trained_horizons)):
            factor = self.curve.factor(df["campaign_id"], h)
            for values in stats.values():
                values[h] = np.maximum(known, values[ref] * factor)
        horizons = sorted(self.config.horizons)
        for values in stats.values():  # value to a later horizon includes value to an earlier one
            running = np.maximum.accumulate(np.column_stack([values[h] for h in horizons]), axis=1)
            values.update({h: running[:, k] for k, h in enumerate(horizons)})
        out = {"user_id": df["user_id"].to_numpy()}
        out.update({f"ltv_d{h}_mean": stats["mean"][h] for h in horizons})
        for h in horizons:
            out.update({f"ltv_d{h}_{name}": stats[name][h] for name in ("median", "p10", "p90")})
        p_payer = self.payer_model.predict_proba(x)[:, 1]
        out["p_payer"] = np.where(known > 0, 1.0, np.clip(p_payer, 0.0, 1.0))
        return pd.DataFrame(out, index=df.index)

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Mean LTV at day 90 per user (the MLflow pyfunc output)."""
        return self.predict_distribution(df)[
            f"ltv_d{90 if 90 in self.config.horizons else self.reference_horizon}_mean"
        ].to_numpy()

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, df: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> dict[str, float]:
        """MAE / RMSE / bias, p10-p90 coverage per horizon on users mature for it; payer and ranking scores."""
        as_of = _as_of(df, as_of=as_of)
        pred = self.predict_distribution(df, as_of)
        out: dict[str, float] = {}
        for h in sorted(self.config.horizons):
            mature = is_mature(df, h, as_of)
            out[f"n_mature_d{h}"] = float(mature.sum())
            if not mature.any():
                continue
            actual = df[label_column(h)].to_numpy(dtype=float)[mature]
            for metric, value in error_metrics(pred[f"ltv_d{h}_mean"].to_numpy()[mature], actual).items():
                out[f"ltv_d{h}_{metric}"] = value
            out[f"ltv_d{h}_p10_p90_coverage"] = interval_coverage(
                pred[f"ltv_d{h}_p10"].to_numpy()[mature], pred[f"ltv_d{h}_p90"].to_numpy()[mature], actual
            )
            out[f"ltv_d{h}_top10_capture"] = top_share(actual, 0.1, pred[f"ltv_d{h}_mean"].to_numpy()[mature])
            out[f"ltv_d{h}_top10_share_actual"] = top_share(actual, 0.1)
        ref = self.reference_horizon
        mature = is_mature(df, ref, as_of)
        paid = df[label_column(ref)].to_numpy(dtype=float)[mature] > 0
        out.update({f"p_payer_{k}": v for k, v in payer_scores(pred["p_payer"].to_numpy()[mature], paid).items()})
        return out
