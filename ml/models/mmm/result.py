"""A fitted media-mix model: parameters, decomposition, contributions and ROAS with bootstrap intervals, diagnostics.

Everything is reported in the data's own units (outcome per period, spend per period); the steady-state curves
for the allocator are in ``ml/models/mmm/allocation.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.models.mmm.bootstrap import Draws
from ml.models.mmm.config import MmmConfig
from ml.models.mmm.data import MediaData
from ml.models.mmm.design import BaselineDesign
from ml.models.mmm.fit import PointFit, media_matrix, unpack

PARAMETERS = ("decay", "half_saturation_spend", "shape", "max_effect")
WEIBULL_PARAMETERS = ("adstock_shape", "adstock_scale", "half_saturation_spend", "shape", "max_effect")


def parameter_names(config: MmmConfig) -> tuple[str, ...]:
    """Names of the rows of ``MmmResult.natural`` for the configured adstock."""
    return WEIBULL_PARAMETERS if config.adstock == "weibull" else PARAMETERS


def nrmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """RMSE over the outcome's range (Robyn's NRMSE), comparable across data sets of any scale."""
    spread = float(np.ptp(actual)) or 1.0
    return float(np.sqrt(np.mean((actual - predicted) ** 2)) / spread)


def r_squared(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the outcome's variance the model explains."""
    return float(1.0 - np.sum((actual - predicted) ** 2) / np.sum((actual - actual.mean()) ** 2))


@dataclass(frozen=True, eq=False)
class MmmResult:
    """The point fit (MAP), its bootstrap draws and what is needed to apply them to any periods."""

    config: MmmConfig
    data: MediaData
    design: BaselineDesign
    y_scale: float
    spend_scale: np.ndarray
    sigma: float
    point: PointFit
    draws: Draws

    @property
    def channels(self) -> tuple[str, ...]:
        return self.data.channels

    def natural(self, theta: np.ndarray, effect: np.ndarray) -> np.ndarray:
        """(adstock parameters, steady-state half-saturation spend, shape, max effect per period) per channel: (4, C)
        with geometric decay, (5, C) with Weibull shape and scale; names in ``parameter_names``."""
        adstock, k_ss, shape = unpack(theta, self.config)
        return np.vstack([adstock, k_ss * self.spend_scale, shape, effect * self.y_scale])

    def parameter_draws(self) -> np.ndarray:
        """Natural parameters per bootstrap draw, shape (B, 4 or 5, C); (0, 4 or 5, C) without a bootstrap."""
        point = self.natural(self.point.theta, self.point.effect)
        draws = [self.natural(t, e) for t, e in zip(self.draws.theta, self.draws.effect, strict=True)]
        return np.array(draws) if draws else np.empty((0, *point.shape))

    def _bounds(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tail = (1.0 - self.config.interval) / 2.0
        if len(draws) == 0:
            nan = np.full(draws.shape[1:], np.nan)
            return nan, nan
        return np.quantile(draws, tail, axis=0), np.quantile(draws, 1.0 - tail, axis=0)

    def parameters(self) -> pd.DataFrame:
        """One row per channel and parameter: estimate and the bootstrap interval (``config.interval``)."""
        est = self.natural(self.point.theta, self.point.effect)
        lo, hi = self._bounds(self.parameter_draws())
        rows = [
            {"channel": ch, "parameter": name, "estimate": est[i, c], "lower": lo[i, c], "upper": hi[i, c]}
            for c, ch in enumerate(self.channels)
            for i, name in enumerate(parameter_names(self.config))
        ]
        return pd.DataFrame(rows)

    def _media(self, data: MediaData, theta: np.ndarray, effect: np.ndarray) -> np.ndarray:
        return media_matrix(data.spend / self.spend_scale, theta, self.config) * effect * self.y_scale

    def decomposition(self, data: MediaData | None = None) -> pd.DataFrame:
        """Per period: the baseline and each channel's contribution (they sum to the expected outcome)."""
        data = data or self.data
        base = self.design.matrix(data.dates, data.controls) @ self.point.coef * self.y_scale
        media = self._media(data, self.point.theta, self.point.effect)
        frame = pd.DataFrame(media, columns=list(self.channels), index=data.dates)
        frame.insert(0, "baseline", base)
        return frame

    def predict(self, data: MediaData) -> np.ndarray:
        """Expected outcome per period (the spend before ``data``'s first period is not known: adstock restarts)."""
        return self.decomposition(data).sum(axis=1).to_numpy()

    def contributions(self) -> pd.DataFrame:
        """Per channel over the fitted periods: spend, contribution, share of outcome and ROAS with intervals."""
        spend = self.data.spend.sum(axis=0)
        total = self.data.outcome.sum()
        point = self._media(self.data, self.point.theta, self.point.effect).sum(axis=0)
        draws = np.array(
            [self._media(self.data, t, e).sum(axis=0) for t, e in zip(self.draws.theta, self.draws.effect, strict=True)]
        ).reshape(-1, point.size)
        lo, hi = self._bounds(draws)
        return pd.DataFrame(
            {
                "channel": self.channels,
                "spend": spend,
                "contribution": point,
                "contribution_lower": lo,
                "contribution_upper": hi,
                "share": point / total,
                "roas": point / spend,
                "roas_lower": lo / spend,
                "roas_upper": hi / spend,
            }
        )

    def diagnostics(self) -> dict[str, float]:
        """In-sample R², NRMSE and MAPE, and the media's share of the outcome (what MLflow logs)."""
        decomposition = self.decomposition()
        predicted = decomposition.sum(axis=1).to_numpy()
        actual = self.data.outcome
        media_share = float(decomposition.iloc[:, 1:].to_numpy().sum() / actual.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            mape = float(np.nanmean(np.abs(predicted - actual) / np.where(actual > 0, actual, np.nan)))
        return {
            "r2": r_squared(actual, predicted),
            "nrmse": nrmse(actual, predicted),
            "mape": mape,
            "media_share": media_share,
            "noise_sd": self.sigma * self.y_scale,
            "bootstrap_draws": float(len(self.draws)),
        }
