"""The baseline's design matrix: intercept, linear trend, yearly Fourier terms and standardised controls.

Scaling (trend span, control means and spreads) is taken from the training window and reused for later periods,
so a holdout forecast sees the same columns the fit saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BaselineDesign:
    """How to turn dates and controls into baseline columns (first column the intercept, never penalised)."""

    origin: pd.Timestamp
    span_days: float
    fourier_order: int
    period_days: float
    control_mean: np.ndarray
    control_scale: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def learn(
        cls,
        dates: pd.DatetimeIndex,
        controls: np.ndarray,
        control_names: tuple[str, ...],
        fourier_order: int,
        period_days: float,
    ) -> BaselineDesign:
        """Scaling from a training window; constant controls are kept but contribute a zero column."""
        span = max(float((dates[-1] - dates[0]).days), 1.0)
        mean = controls.mean(axis=0)
        scale = controls.std(axis=0)
        scale = np.where(scale > 0, scale, np.inf)  # a constant column standardises to zeros
        fourier = [f"{kind}_{k}" for k in range(1, fourier_order + 1) for kind in ("sin", "cos")]
        return cls(
            dates[0], span, fourier_order, period_days, mean, scale, ("intercept", "trend", *fourier, *control_names)
        )

    def matrix(self, dates: pd.DatetimeIndex, controls: np.ndarray) -> np.ndarray:
        """Baseline columns for any periods (training or later)."""
        days = (dates - self.origin).days.to_numpy(float)
        cols = [np.ones_like(days), days / self.span_days]
        phase = 2.0 * np.pi * days / self.period_days
        for k in range(1, self.fourier_order + 1):
            cols += [np.sin(k * phase), np.cos(k * phase)]
        return np.column_stack([*cols, (controls - self.control_mean) / self.control_scale])
