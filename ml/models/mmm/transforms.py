"""Carry-over and saturation of media: geometric or Weibull adstock, then the project's Hill curve
(``ml.response_curves``).

Geometric adstock is a first-order recursive filter per channel (a_t = s_t + decay a_(t-1)); at a constant spend s it
settles at s / (1 - decay). Weibull adstock (Robyn's CDF form) weighs the last ``max_lag`` periods by the Weibull
survival function w_l = exp(-(l / scale) ** shape), w_0 = 1: shape < 1 decays fast with a long tail, shape > 1 holds
the effect for a while and then drops (TV, outdoor). Its long-run multiplier is sum(w). Either multiplier turns a
fitted curve into the steady-state curve the allocator uses.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from ml.response_curves import hill_value

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


def weibull_weights(shape: np.ndarray, scale: np.ndarray, max_lag: int) -> np.ndarray:
    """Lag weights (C, max_lag) of Weibull adstock, the first one 1."""
    lags = np.arange(max_lag, dtype=float)[None, :]
    return np.exp(-((lags / np.asarray(scale, float)[:, None]) ** np.asarray(shape, float)[:, None]))


def weibull_adstock(spend: np.ndarray, shape: np.ndarray, scale: np.ndarray, max_lag: int) -> np.ndarray:
    """Adstocked spend (T, channels) with Weibull lag weights; the periods before the data spend the mean of the
    first ones (the same warm start as the geometric filter)."""
    weights = weibull_weights(shape, scale, max_lag)
    start = spend[:_WARMUP_PERIODS].mean(axis=0)
    out = np.empty_like(spend, dtype=float)
    for c in range(spend.shape[1]):  # one FIR filter per channel; channels are few, periods are vectorised
        padded = np.concatenate([np.full(max_lag - 1, start[c]), spend[:, c]])
        out[:, c] = signal.lfilter(weights[c], [1.0], padded)[max_lag - 1 :]
    return out


def long_run_multiplier(kind: str, params: np.ndarray, max_lag: int) -> np.ndarray:
    """Adstock of a constant spend of 1 per period, per channel: 1 / (1 - decay) or the Weibull weights' sum."""
    if kind == "weibull":
        return weibull_weights(params[0], params[1], max_lag).sum(axis=1)
    return 1.0 / (1.0 - params[0])


def adstocked_response(
    spend: np.ndarray, kind: str, params: np.ndarray, half_saturation_ss: np.ndarray, shape: np.ndarray, max_lag: int
) -> np.ndarray:
    """Saturated adstock per period and channel for either adstock (``params``: (1, C) decay or (2, C) Weibull shape
    and scale); the half-saturation is in steady-state spend per period, as for ``media_response``."""
    if kind == "weibull":
        adstock = weibull_adstock(spend, params[0], params[1], max_lag)
    else:
        adstock = geometric_adstock(spend, params[0])
    return hill_saturation(adstock, half_saturation_ss * long_run_multiplier(kind, params, max_lag), shape)


def hill_saturation(adstock: np.ndarray, half_saturation: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Share of each channel's maximum effect bought at an adstock level (T, channels), in [0, 1)."""
    # The Hill formula itself, not a ResponseCurves object: the MMM fit calls this thousands of times on small arrays.
    return hill_value(1.0, half_saturation, shape, adstock)


def media_response(
    spend: np.ndarray, decay: np.ndarray, half_saturation_ss: np.ndarray, shape: np.ndarray
) -> np.ndarray:
    """Saturated adstock per period and channel; ``half_saturation_ss`` is in steady-state spend per period, so the
    adstock-scale half-saturation is ``half_saturation_ss / (1 - decay)``."""
    return hill_saturation(geometric_adstock(spend, decay), half_saturation_ss / (1.0 - decay), shape)
