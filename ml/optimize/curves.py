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


def _hill_value(scale: np.ndarray, k: np.ndarray, n: np.ndarray, s: np.ndarray) -> np.ndarray:
    ratio = np.power(s / k, n)
    with np.errstate(invalid="ignore"):
        out = scale * ratio / (1.0 + ratio)
    return np.where(np.isinf(ratio), scale, out)


def _hill_marginal(scale: np.ndarray, k: np.ndarray, n: np.ndarray, s: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        y = _safe_log(s / k)
        log_d = np.log(n) + (n - 1.0) * y - 2.0 * np.logaddexp(0.0, n * y)
        return scale / k * np.exp(log_d)


def inflection_spend(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Where an S-shaped Hill curve (shape n > 1) turns from convex to concave (its marginal response peaks)."""
    return k * np.power(np.maximum(n - 1.0, 0.0) / (n + 1.0), 1.0 / n)


def tangent_spend(scale: np.ndarray, k: np.ndarray, n: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Where the line from (start, f(start)) touches an S-shaped Hill curve: the end of its concave envelope's
    linear piece (``start`` at or beyond the inflection point: no linear piece, ``start`` itself).

    From 0 it is ``k (n - 1)^(1/n)``; otherwise the root of f'(b)(b - start) = f(b) - f(start) beyond the
    inflection point, found by bisection on log(b) (vectorised).
    """
    start = np.asarray(start, float)
    infl = inflection_spend(k, n)
    out = np.where(start <= 0.0, k * np.power(np.maximum(n - 1.0, 0.0), 1.0 / n), start)
    todo = (start > 0.0) & (start < infl)
    if todo.any():
        sc, kk, nn, a = scale[todo], k[todo], n[todo], start[todo]
        fa = _hill_value(sc, kk, nn, a)
        lo, hi = np.log(infl[todo]), np.log(kk) + 40.0 / nn

        def gap(b: np.ndarray) -> np.ndarray:
            return _hill_marginal(sc, kk, nn, b) * (b - a) - (_hill_value(sc, kk, nn, b) - fa)

        for _ in range(80):
            mid = 0.5 * (lo + hi)
            above = gap(np.exp(mid)) > 0  # still left of the tangent point
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        out[todo] = np.exp(0.5 * (lo + hi))
    return out


@dataclass(frozen=True, eq=False)
class _Block:
    """One family's parameters for a contiguous run (or index set) of campaigns.

    Kind "hill_s" is an S-shaped Hill curve (shape > 1): convex, then concave. ``seg_lo``/``seg_hi`` (when set)
    replace it on [seg_lo, seg_hi] by the chord between those points: its concave envelope on a spend box, which
    is what the KKT solver maximises before the on/off decision (``ml/optimize/nonconcave.py``).
    """

    kind: str  # "hill", "hill1" (shape exactly 1, closed form), "exp", "log", "hill_s" (shape > 1)
    where: slice | np.ndarray
    scale: np.ndarray
    spend_scale: np.ndarray
    shape: np.ndarray
    seg_lo: np.ndarray | None = None
    seg_hi: np.ndarray | None = None

    def _segment(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The linear piece of the envelope: ends, value at the lower end and slope (NaN ends: none)."""
        lo, hi = self.seg_lo, self.seg_hi
        with np.errstate(invalid="ignore", divide="ignore"):
            f_lo = _hill_value(self.scale, self.spend_scale, self.shape, np.nan_to_num(lo))
            f_hi = _hill_value(self.scale, self.spend_scale, self.shape, np.nan_to_num(hi))
            slope = np.where(hi > lo, (f_hi - f_lo) / (hi - lo), 0.0)
        return lo, hi, f_lo, slope

    def value(self, s: np.ndarray) -> np.ndarray:
        if self.kind == "hill_s":
            out = _hill_value(self.scale, self.spend_scale, self.shape, s)
            if self.seg_lo is None:
                return out
            lo, hi, f_lo, slope = self._segment()
            inside = (s > lo) & (s < hi)
            return np.where(inside, f_lo + slope * (s - np.nan_to_num(lo)), out)
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
        if self.kind == "hill_s":
            out = _hill_marginal(self.scale, self.spend_scale, self.shape, s)
            if self.seg_lo is None:
                return out
            lo, hi, _, slope = self._segment()
            return np.where((s >= lo) & (s < hi), slope, out)
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
        if self.kind == "hill_s":
            return self._s_spend_at_marginal(target)
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

    def _s_spend_at_marginal(self, target: np.ndarray) -> np.ndarray:
        """On the concave envelope of an S-shaped curve: the start of its linear piece while the target exceeds the
        piece's slope, else the root on the concave (decreasing-marginal) branch, at least the piece's end."""
        sc, k, n = self.scale, self.spend_scale, self.shape
        if self.seg_lo is None:
            lo = np.zeros_like(sc)
            hi = tangent_spend(sc, k, n, lo)
        else:
            lo, hi = np.nan_to_num(self.seg_lo), np.nan_to_num(self.seg_hi)
        f_lo, f_hi = _hill_value(sc, k, n, lo), _hill_value(sc, k, n, hi)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(hi > lo, (f_hi - f_lo) / (hi - lo), np.inf)
        # root of f'(s) = target right of the inflection point, by bisection on log(s) (f' decreases there)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            y_lo = np.log(inflection_spend(k, n))
            y_hi = np.log(k) + 60.0 / n + np.maximum(0.0, -_safe_log(np.maximum(target, 1e-300) * k / sc)) / n
            for _ in range(90):
                mid = 0.5 * (y_lo + y_hi)
                high = _hill_marginal(sc, k, n, np.exp(mid)) > target
                y_lo, y_hi = np.where(high, mid, y_lo), np.where(high, y_hi, mid)
            root = np.exp(0.5 * (y_lo + y_hi))
        out = np.where(target >= slope, lo, np.maximum(root, hi))
        return np.where(target <= 0.0, np.inf, out)

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
    """Internal kind per campaign: Hill with shape exactly 1 has a closed-form inverse, above 1 it is S-shaped."""
    hill = np.where(shape == 1.0, 1, np.where(shape > 1.0, 4, 0))
    return np.where(family == CurveFamily.HILL, hill, family + 1)


_KIND_NAMES = ("hill", "hill1", "exp", "log", "hill_s")


@dataclass(frozen=True, eq=False)
class ResponseCurves:
    """Conversions-per-day response of every campaign: family code plus (scale, spend_scale, shape) arrays.

    Hill: scale * r / (1 + r) with r = (s / spend_scale) ** shape (scale = max conversions, spend_scale =
    half-saturation spend); shape in (0, 1] is concave, above 1 S-shaped (thresholded response), which the
    optimiser handles through `envelope` and an on/off decision. Exponential: scale * (1 - exp(-s / spend_scale)). Log:
    scale * log1p(s / spend_scale). `shape` is ignored outside Hill.
    """

    family: np.ndarray
    scale: np.ndarray
    spend_scale: np.ndarray
    shape: np.ndarray
    seg_lo: np.ndarray | None = None  # envelope mode (see `envelope`): linear piece per S-shaped campaign
    seg_hi: np.ndarray | None = None

    @property
    def s_shaped(self) -> np.ndarray:
        """Campaigns whose curve is not concave (Hill shape > 1)."""
        return (self.family == CurveFamily.HILL) & (self.shape > 1.0)

    def envelope(self, floor: np.ndarray, ceiling: np.ndarray) -> ResponseCurves:
        """The curves with each S-shaped one replaced by its concave envelope on [floor, ceiling]: the chord from
        the floor to the tangent point (or to the ceiling, if that comes first), then the curve itself."""
        s = self.s_shaped
        lo = np.where(s, np.asarray(floor, float), np.nan)
        hi = np.full(lo.shape, np.nan)
        if s.any():
            b = tangent_spend(self.scale[s], self.spend_scale[s], self.shape[s], lo[s])
            hi[s] = np.minimum(b, np.asarray(ceiling, float)[s])
        hi = np.where(s & (hi > lo), hi, np.nan)
        lo = np.where(np.isnan(hi), np.nan, lo)
        return ResponseCurves(self.family, self.scale, self.spend_scale, self.shape, lo, hi)

    def exact(self) -> ResponseCurves:
        """The curves themselves (no envelope)."""
        return ResponseCurves(self.family, self.scale, self.spend_scale, self.shape)

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
        seg = (None, None) if self.seg_lo is None else (self.seg_lo[index], self.seg_hi[index])
        return ResponseCurves(self.family[index], self.scale[index], self.spend_scale[index], self.shape[index], *seg)

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
            seg = (None, None) if self.seg_lo is None else (self.seg_lo[where], self.seg_hi[where])
            blocks.append(
                _Block(_KIND_NAMES[kind], where, self.scale[where], self.spend_scale[where], self.shape[where], *seg)
            )
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
                out[block.where] = block.spend_at_marginal(
                    x[block.where], None if upper is None else upper[block.where]
                )
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
