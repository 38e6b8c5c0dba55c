"""Concave spend-response curves (conversions per day against daily spend), vectorised per family.

Every family exposes the three operations the KKT solver needs -- value, marginal response and the spend at
which the marginal response equals a target -- so the allocator stays closed-form (or a few vectorised Newton
steps) per family instead of calling a general-purpose optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

import numpy as np

_NEWTON_STEP_DONE = 1e-7
_NEWTON_MAX_ITER = 60
_LOG_SPAN = 800.0


class CurveFamily(IntEnum):
    """Response families: Hill with shape in (0, 1], exponential saturation and logarithmic growth."""

    HILL = 0
    EXPONENTIAL = 1
    LOG = 2


def _safe_log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


@dataclass(frozen=True, eq=False)
class _Block:
    """One family's parameters for a contiguous run (or index set) of campaigns."""

    kind: str  # "hill", "hill1" (shape exactly 1, closed form), "exp", "log"
    where: slice | np.ndarray
    scale: np.ndarray
    spend_scale: np.ndarray
    shape: np.ndarray

    def value(self, s: np.ndarray) -> np.ndarray:
        x = s / self.spend_scale
        if self.kind == "exp":
            return self.scale * -np.expm1(-x)
        if self.kind == "log":
            return self.scale * np.log1p(x)
        ratio = x if self.kind == "hill1" else np.power(x, self.shape)
        with np.errstate(invalid="ignore"):
            out = self.scale * ratio / (1.0 + ratio)
        return np.where(np.isinf(ratio), self.scale, out)

    def marginal(self, s: np.ndarray) -> np.ndarray:
        x = s / self.spend_scale
        if self.kind == "exp":
            return self.scale / self.spend_scale * np.exp(-x)
        if self.kind == "log":
            return self.scale / (self.spend_scale + s)
        if self.kind == "hill1":
            return self.scale / self.spend_scale / (1.0 + x) ** 2
        n = self.shape
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            # n x^(n-1) / (1 + x^n)^2 computed in logs so huge or tiny spends neither overflow nor give nan.
            y = _safe_log(x)
            log_d = np.log(n) + (n - 1.0) * y - 2.0 * np.logaddexp(0.0, n * y)
            return self.scale / self.spend_scale * np.exp(log_d)

    def spend_at_marginal(self, target: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
        """Spend where the marginal response equals `target` (0 if below target from the first dollar)."""
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ratio = target * self.spend_scale / self.scale  # target in units of the slope scale vmax/k
            if self.kind == "exp":
                x = -_safe_log(ratio)
            elif self.kind == "log":
                x = 1.0 / ratio - 1.0
            elif self.kind == "hill1":
                x = 1.0 / np.sqrt(ratio) - 1.0
            else:
                x = self._hill_newton(ratio, upper)
            return np.where(ratio <= 0.0, np.inf, self.spend_scale * np.maximum(x, 0.0))

    def _hill_newton(self, ratio: np.ndarray, upper: np.ndarray | None) -> np.ndarray:
        """Solve log(n) + (n-1) y - 2 softplus(n y) = log(ratio) for y = log(s/k) by monotone Newton steps.

        The left side is concave and decreasing in y, so Newton started right of the root walks down to it
        without overshooting; the minimum of the two linear asymptotes is such a start, and any spend known to
        be at or above the answer (a warm start from a smaller target) is a better one.
        """
        n = self.shape
        log_n = np.log(n)
        goal = np.clip(_safe_log(ratio), -1e300, 1e300)
        y = np.minimum((goal - log_n) / (n - 1.0), (log_n - goal) / (n + 1.0))
        if upper is not None:
            warm = _safe_log(upper / self.spend_scale)
            y = np.where(np.isfinite(warm), np.minimum(y, warm), y)
        y = np.clip(y, -_LOG_SPAN, _LOG_SPAN)
        active: np.ndarray | None = None  # indices still iterating once most campaigns have converged
        y_a, n_a, log_n_a, goal_a = y, n, log_n, goal
        for _ in range(_NEWTON_MAX_ITER):
            u = np.exp(np.minimum(n_a * y_a, _LOG_SPAN / 2))  # (s/k)^n, capped where it only adds rounding
            gap = log_n_a + (n_a - 1.0) * y_a - 2.0 * np.log1p(u) - goal_a
            slope = (n_a - 1.0) - 2.0 * n_a * u / (1.0 + u)
            y_next = np.clip(y_a - gap / slope, -_LOG_SPAN, _LOG_SPAN)  # beyond the span s/k under/overflows
            # Newton error after a step d is at most d^2 / 2 (|phi''| <= |phi'| / 2): 1e-7 is converged.
            done = np.abs(y_next - y_a) <= _NEWTON_STEP_DONE
            if active is None:
                y = y_a = y_next
            else:
                y[active] = y_next
            if done.all():
                break
            if done.mean() > 0.25:
                keep = np.flatnonzero(~done)
                active = keep if active is None else active[keep]
                y_a, n_a, log_n_a, goal_a = y_next[keep], n_a[keep], log_n_a[keep], goal_a[keep]
            else:
                y_a = y_next
        return np.exp(y)


def _kinds(family: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Internal kind per campaign: Hill with shape exactly 1 has a closed-form inverse."""
    return np.where(family == CurveFamily.HILL, np.where(shape == 1.0, 1, 0), family + 1)


_KIND_NAMES = ("hill", "hill1", "exp", "log")


@dataclass(frozen=True, eq=False)
class ResponseCurves:
    """Conversions-per-day response of every campaign: family code plus (scale, spend_scale, shape) arrays.

    Hill: scale * r / (1 + r) with r = (s / spend_scale) ** shape, shape in (0, 1] (scale = max conversions,
    spend_scale = half-saturation spend). Exponential: scale * (1 - exp(-s / spend_scale)). Log:
    scale * log1p(s / spend_scale). `shape` is ignored outside Hill.
    """

    family: np.ndarray
    scale: np.ndarray
    spend_scale: np.ndarray
    shape: np.ndarray

    @classmethod
    def build(cls, family: object, scale: object, spend_scale: object, shape: object = 1.0) -> ResponseCurves:
        """Broadcast and coerce inputs (family may be a CurveFamily, its name or its code)."""
        scale_a = np.atleast_1d(np.asarray(scale, dtype=float))
        fam = np.asarray(family)
        if fam.dtype.kind in "UO":
            fam = np.vectorize(lambda f: CurveFamily[str(f).upper()] if isinstance(f, str) else int(f))(fam)
        n = max(scale_a.size, np.size(fam), np.size(spend_scale), np.size(shape))
        k_a, shape_a = np.asarray(spend_scale, dtype=float), np.asarray(shape, dtype=float)
        fam, sc, k, sh = np.broadcast_arrays(fam.astype(np.int8), scale_a, k_a, shape_a)
        return cls(*(np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in (fam, sc, k, sh)))

    @classmethod
    def hill(cls, max_conversions: object, half_saturation_spend: object, shape: object) -> ResponseCurves:
        return cls.build(CurveFamily.HILL, max_conversions, half_saturation_spend, shape)

    @classmethod
    def exponential(cls, max_conversions: object, spend_scale: object) -> ResponseCurves:
        return cls.build(CurveFamily.EXPONENTIAL, max_conversions, spend_scale)

    @classmethod
    def log(cls, scale: object, spend_scale: object) -> ResponseCurves:
        return cls.build(CurveFamily.LOG, scale, spend_scale)

    def __len__(self) -> int:
        return self.scale.size

    def take(self, index: np.ndarray) -> ResponseCurves:
        """The curves of a subset (or permutation) of campaigns."""
        return ResponseCurves(self.family[index], self.scale[index], self.spend_scale[index],
                              self.shape[index])

    def family_order(self) -> np.ndarray:
        """A permutation grouping campaigns by internal kind, so per-family work runs on contiguous slices."""
        return np.argsort(_kinds(self.family, self.shape), kind="stable")

    @cached_property
    def _blocks(self) -> tuple[_Block, ...]:
        kinds = _kinds(self.family, self.shape)
        blocks = []
        sorted_ = kinds.size < 2 or bool(np.all(kinds[1:] >= kinds[:-1]))
        for kind in np.unique(kinds):
            if sorted_:
                start, stop = np.searchsorted(kinds, [kind, kind + 1])
                where: slice | np.ndarray = slice(int(start), int(stop))
            else:
                where = np.flatnonzero(kinds == kind)
            blocks.append(_Block(_KIND_NAMES[kind], where, self.scale[where], self.spend_scale[where],
                                 self.shape[where]))
        return tuple(blocks)

    def _apply(self, method: str, x: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
        x = np.broadcast_to(np.asarray(x, dtype=float), self.scale.shape)
        blocks = self._blocks
        if len(blocks) == 1 and isinstance(blocks[0].where, slice):
            args = (x,) if upper is None else (x, upper)
            return getattr(blocks[0], method)(*args)
        out = np.empty(self.scale.shape)
        for block in blocks:
            if method == "spend_at_marginal":
                out[block.where] = block.spend_at_marginal(x[block.where],
                                                           None if upper is None else upper[block.where])
            else:
                out[block.where] = getattr(block, method)(x[block.where])
        return out

    def value(self, spend: np.ndarray) -> np.ndarray:
        """Expected conversions per day at each campaign's spend."""
        return self._apply("value", spend)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """Extra conversions per extra dollar at each campaign's spend (infinite at 0 for Hill shape < 1)."""
        return self._apply("marginal", spend)

    def spend_at_marginal(self, target: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
        """Spend at which the marginal response falls to `target` per campaign (inf if target <= 0).

        `upper`, if given, must hold spends at or above the answer (e.g. the answer for smaller targets); it
        only speeds up the Hill Newton iteration.
        """
        if upper is None:
            return self._apply("spend_at_marginal", target)
        return self._apply("spend_at_marginal", target, np.asarray(upper, dtype=float))
