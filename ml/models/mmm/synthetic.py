"""Synthetic channel-level data from known adstock, saturation and baseline: the truth recovery is measured against.

Spend is flighted (bursts, pauses, changes of level) as real media plans are; without that variation no model
can separate carry-over from saturation, and the benchmark would measure the priors instead of the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.models.mmm.data import MediaData
from ml.models.mmm.transforms import adstocked_response, media_response


@dataclass(frozen=True)
class SyntheticTruth:
    """True parameters per channel (natural units) and the true media contribution per period."""

    decay: np.ndarray
    half_saturation_spend: np.ndarray
    shape: np.ndarray
    max_effect: np.ndarray
    contribution: np.ndarray  # (T, C)

    def as_array(self) -> np.ndarray:
        """(4, C) in the order of ``ml.models.mmm.result.PARAMETERS``."""
        return np.stack([self.decay, self.half_saturation_spend, self.shape, self.max_effect])


def flighted_spend(rng: np.random.Generator, periods: int, mean: float) -> np.ndarray:
    """Spend with level changes every few periods, some dark periods and noise around the plan."""
    changes = rng.integers(3, 9, size=periods)
    level = np.repeat(rng.lognormal(0.0, 0.7, size=periods), changes)[:periods]
    dark = rng.random(periods) < 0.12
    return np.where(dark, 0.0, mean * level * rng.lognormal(0.0, 0.15, periods))


def synthetic_media(
    seed: int, periods: int = 156, n_channels: int = 3, noise_share: float = 0.04
) -> tuple[MediaData, SyntheticTruth]:
    """Weekly data: baseline 100 with trend, yearly seasonality and one control, plus channels worth ~30% of it."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-02", periods=periods, freq="7D")
    mean_spend = rng.uniform(5.0, 20.0, n_channels)
    spend = np.column_stack([flighted_spend(rng, periods, m) for m in mean_spend])
    decay = rng.uniform(0.1, 0.7, n_channels)
    shape = rng.uniform(0.8, 2.2, n_channels)
    k_ss = rng.uniform(0.6, 1.6, n_channels) * mean_spend
    max_effect = rng.uniform(15.0, 35.0, n_channels)
    contribution = media_response(spend, decay, k_ss, shape) * max_effect
    control = rng.normal(0.0, 1.0, periods)
    t = np.arange(periods)
    baseline = 100.0 + 0.05 * t + 8.0 * np.sin(2 * np.pi * t * 7 / 365.25) + 4.0 * control
    outcome = baseline + contribution.sum(axis=1)
    outcome = outcome + rng.normal(0.0, noise_share * outcome.mean(), periods)
    channels = tuple(f"channel_{c}" for c in range(n_channels))
    data = MediaData(dates, outcome, spend, control[:, None], channels, ("control",))
    return data, SyntheticTruth(decay, k_ss, shape, max_effect, contribution)


@dataclass(frozen=True)
class WeibullTruth:
    """True Weibull adstock (shape, scale in periods), saturation and effect per channel, and the contributions."""

    adstock_shape: np.ndarray
    adstock_scale: np.ndarray
    half_saturation_spend: np.ndarray
    shape: np.ndarray
    max_effect: np.ndarray
    contribution: np.ndarray  # (T, C)

    def as_array(self) -> np.ndarray:
        """(5, C) in the order of ``ml.models.mmm.result.WEIBULL_PARAMETERS``."""
        return np.stack(
            [self.adstock_shape, self.adstock_scale, self.half_saturation_spend, self.shape, self.max_effect]
        )


def synthetic_weibull_media(
    seed: int, periods: int = 156, n_channels: int = 3, noise_share: float = 0.04, max_lag: int = 12
) -> tuple[MediaData, WeibullTruth]:
    """As ``synthetic_media`` but the carry-over is Weibull: some channels peak late (shape > 1), some decay fast."""
    data, truth = synthetic_media(seed, periods, n_channels, noise_share)
    rng = np.random.default_rng(seed + 10_000)
    adstock = np.stack([rng.uniform(0.6, 2.5, n_channels), rng.uniform(0.8, 3.0, n_channels)])
    contribution = (
        adstocked_response(data.spend, "weibull", adstock, truth.half_saturation_spend, truth.shape, max_lag)
        * truth.max_effect
    )
    outcome = data.outcome - truth.contribution.sum(axis=1) + contribution.sum(axis=1)
    weibull = MediaData(data.dates, outcome, data.spend, data.controls, data.channels, data.control_names)
    return weibull, WeibullTruth(
        adstock[0], adstock[1], truth.half_saturation_spend, truth.shape, truth.max_effect, contribution
    )
