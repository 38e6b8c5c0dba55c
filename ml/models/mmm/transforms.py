"""Carry-over and saturation of media: geometric adstock, then the project's Hill curve (ml/models/response/curves).

Adstock is a first-order recursive filter per channel (a_t = s_t + decay a_(t-1)); at a constant spend s it settles
at s / (1 - decay), the long-run multiplier that turns a fitted curve into the steady-state curve the allocator uses.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from ml.models.response.curves import HILL, response

_WARMUP_PERIODS = 4


def geometric_adstock(spend: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Adstocked spend (T, channels); the series starts in the steady state of its first periods' mean spend,
    so the first weeks are not read as a carry-over-free launch."""
    out = np.empty_like(spend, dtype=float)
    start = spend[:_WARMUP_PERIODS].mean(axis=0)
    for c, lam in enumerate(np.asarray(decay, float)):
        zi = np.array([lam * start[c] / (1.0 - lam)])
        out[:, c] = signal.lfilter([1.0], [1.0, -lam], spend[:, c], zi=zi)[0]
    return out


def hill_saturation(adstock: np.ndarray, half_saturation: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Share of each channel's maximum effect bought at an adstock level (T, channels), in [0, 1)."""
    c = adstock.shape[1]
    return response(np.full(c, HILL), np.ones(c), half_saturation, shape, adstock.T).T


def media_response(
    spend: np.ndarray, decay: np.ndarray, half_saturation_ss: np.ndarray, shape: np.ndarray
) -> np.ndarray:
    """Saturated adstock per period and channel; ``half_saturation_ss`` is in steady-state spend per period, so the
    adstock-scale half-saturation is ``half_saturation_ss / (1 - decay)``."""
    return hill_saturation(geometric_adstock(spend, decay), half_saturation_ss / (1.0 - decay), shape)
