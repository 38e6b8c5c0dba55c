"""Concave response-curve families: daily conversions as a saturating function of daily spend.

Every family is described by three arrays, one entry per campaign, so portfolios with mixed families
evaluate in one vectorised call:

* ``hill``:        ``scale * x**shape / (1 + x**shape)`` with ``x = spend / k`` and ``shape`` in (0, 1];
  ``scale`` is the maximum daily conversions and ``k`` the half-saturation spend.
* ``exponential``: ``scale * (1 - exp(-spend / k))``; ``shape`` is ignored (stored as 1).
* ``log``:         ``scale * log1p(spend / k)``; unbounded, ``shape`` is ignored (stored as 1).

All three are increasing and concave in spend (Hill only for ``shape <= 1``), which the budget optimiser
relies on. The *saturation level* in [0, 1] is the share of the attainable maximum already bought for the
bounded families (``value / scale``); the log family has no maximum, so its level is the share of the
initial efficiency already lost, ``1 - marginal(spend) / marginal(0) = spend / (spend + k)`` - the same
number a shape-1 Hill curve with the same ``k`` would report, so ``k`` is the 50% point in every family
except the exponential one, whose 50% point is ``k * ln 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

FAMILIES: tuple[str, ...] = ("hill", "exponential", "log")
HILL, EXPONENTIAL, LOG = FAMILIES
N_PARAMS = {HILL: 3, EXPONENTIAL: 2, LOG: 2}
_BISECTION_STEPS = 80


def _aligned(spend: ArrayLike, *params: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast per-campaign parameters against spend of shape (campaigns,) or (campaigns, points)."""
    s = np.maximum(np.asarray(spend, dtype=float), 0.0)
    if s.ndim == 2:
        params = tuple(np.asarray(p)[:, None] for p in params)
    return (s, *params)


def _family_masks(family: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    family = np.asarray(family)
    unknown = ~np.isin(family, FAMILIES)
    if unknown.any():
        raise ValueError(f"unknown response-curve families: {sorted(set(family[unknown]))}")
    return family == HILL, family == EXPONENTIAL, family == LOG


def response(family: ArrayLike, scale: ArrayLike, k: ArrayLike, shape: ArrayLike, spend: ArrayLike) -> np.ndarray:
    """Expected daily conversions at a daily spend."""
    hill, expo, _ = _family_masks(np.asarray(family))
    s, scale, k, shape, hill, expo = _aligned(
        spend, np.asarray(scale, float), np.asarray(k, float), np.asarray(shape, float), hill, expo
    )
    x = s / k
    r = np.power(x, np.where(hill, shape, 1.0))
    return scale * np.where(hill, r / (1.0 + r), np.where(expo, -np.expm1(-x), np.log1p(x)))


def marginal_response(
    family: ArrayLike, scale: ArrayLike, k: ArrayLike, shape: ArrayLike, spend: ArrayLike
) -> np.ndarray:
    """Extra conversions per extra dollar of daily spend (infinite at zero spend for a Hill shape below 1)."""
    hill, expo, _ = _family_masks(np.asarray(family))
    s, scale, k, shape, hill, expo = _aligned(
        spend, np.asarray(scale, float), np.asarray(k, float), np.asarray(shape, float), hill, expo
    )
    x = s / k
    n = np.where(hill, shape, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        hill_slope = n * np.power(x, n - 1.0) / (1.0 + np.power(x, n)) ** 2
    return scale / k * np.where(hill, hill_slope, np.where(expo, np.exp(-x), 1.0 / (1.0 + x)))


def saturation_level(family: ArrayLike, k: ArrayLike, shape: ArrayLike, spend: ArrayLike) -> np.ndarray:
    """How saturated a campaign is at a spend, in [0, 1] and increasing (see the module docstring)."""
    hill, expo, _ = _family_masks(np.asarray(family))
    s, k, shape, hill, expo = _aligned(spend, np.asarray(k, float), np.asarray(shape, float), hill, expo)
    x = s / k
    r = np.power(x, np.where(hill, shape, 1.0))
    return np.where(hill, r / (1.0 + r), np.where(expo, -np.expm1(-x), x / (1.0 + x)))


def spend_at_saturation(family: ArrayLike, k: ArrayLike, shape: ArrayLike, level: ArrayLike) -> np.ndarray:
    """Daily spend at which the saturation level reaches ``level`` (0.5 gives the half-saturation spend)."""
    hill, expo, _ = _family_masks(np.asarray(family))
    q = np.clip(np.asarray(level, dtype=float), 0.0, 1.0)
    k, shape = np.asarray(k, float), np.asarray(shape, float)
    if q.ndim == 2:
        k, shape, hill, expo = k[:, None], shape[:, None], hill[:, None], expo[:, None]
    with np.errstate(divide="ignore"):
        odds = q / (1.0 - q)
        return k * np.where(hill, np.power(odds, 1.0 / np.where(hill, shape, 1.0)), np.where(expo, -np.log1p(-q), odds))


def spend_at_marginal(
    family: ArrayLike, scale: ArrayLike, k: ArrayLike, shape: ArrayLike, target: ArrayLike
) -> np.ndarray:
    """Daily spend at which one more dollar buys ``target`` conversions (0 if even the first dollar buys less).

    Closed forms for the exponential and log families; a vectorised bisection on log-spend for Hill, whose
    marginal response is strictly decreasing because the curve is concave.
    """
    hill, expo, _ = _family_masks(np.asarray(family))
    scale, k, shape = (np.broadcast_to(np.asarray(a, float), hill.shape) for a in (scale, k, shape))
    m = np.broadcast_to(np.asarray(target, dtype=float), hill.shape)
    ratio = m * k / scale  # target marginal in units of the curve's initial slope scale / k
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = np.where(expo, -np.log(ratio), 1.0 / ratio - 1.0)
    x = np.where(hill, _hill_marginal_root(np.where(hill, shape, 1.0), ratio), closed)
    return np.maximum(np.nan_to_num(x, nan=0.0, posinf=np.inf), 0.0) * k


def _hill_marginal_root(shape: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Solve ``n x**(n-1) / (1 + x**n)**2 = ratio`` for relative spend ``x = spend / k``."""
    lo, hi = np.full(ratio.shape, -25.0), np.full(ratio.shape, 25.0)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        x = np.exp(mid)
        slope = shape * np.power(x, shape - 1.0) / (1.0 + np.power(x, shape)) ** 2
        above = slope > ratio
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    root = np.exp(0.5 * (lo + hi))
    # A shape-1 curve starts at slope 1: targets above it are never reached.
    return np.where((shape >= 1.0) & (ratio >= 1.0), 0.0, root)


@dataclass(frozen=True)
class CurveParameters:
    """One response curve per campaign (families may differ), evaluated in vectorised calls."""

    family: np.ndarray
    scale: np.ndarray
    k: np.ndarray
    shape: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.family)
        for name in ("scale", "k", "shape"):
            if np.asarray(getattr(self, name)).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},)")
        _family_masks(self.family)

    def __len__(self) -> int:
        return len(self.family)

    def take(self, index: ArrayLike) -> CurveParameters:
        """The curves of a subset (or reordering) of campaigns."""
        idx = np.asarray(index)
        return CurveParameters(self.family[idx], self.scale[idx], self.k[idx], self.shape[idx])

    def value(self, spend: ArrayLike) -> np.ndarray:
        """Expected daily conversions at ``spend`` (shape (campaigns,) or (campaigns, points))."""
        return response(self.family, self.scale, self.k, self.shape, spend)

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        """Marginal conversions per dollar at ``spend``."""
        return marginal_response(self.family, self.scale, self.k, self.shape, spend)

    def saturation(self, spend: ArrayLike) -> np.ndarray:
        """Saturation level in [0, 1] at ``spend``."""
        return saturation_level(self.family, self.k, self.shape, spend)

    def spend_at_saturation(self, level: ArrayLike) -> np.ndarray:
        """Spend reaching a saturation level per campaign."""
        return spend_at_saturation(self.family, self.k, self.shape, level)

    def spend_at_marginal(self, target: ArrayLike) -> np.ndarray:
        """Spend at which the marginal response falls to ``target`` conversions per dollar."""
        return spend_at_marginal(self.family, self.scale, self.k, self.shape, target)

    @property
    def half_saturation_spend(self) -> np.ndarray:
        """Spend at a saturation level of one half."""
        return self.spend_at_saturation(np.full(len(self), 0.5))
