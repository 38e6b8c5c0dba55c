"""The Hill curve's value, slope and inverse slope, including S-shaped curves (shape above 1) and their envelope.

Kept apart from the container because Hill is the one family without a closed-form inverse slope: a vectorised
monotone Newton iteration for concave shapes, and a bisection on the concave branch for S-shaped ones (whose
concave envelope's linear piece is found by ``tangent_spend``).
"""

from __future__ import annotations

import numpy as np

NEWTON_STEP_DONE = 1e-7
NEWTON_MAX_ITER = 60
LOG_SPAN = 800.0  # beyond exp(+-LOG_SPAN) relative spend under/overflows


def safe_log(x: np.ndarray) -> np.ndarray:
    """log without the divide-by-zero warning (log 0 is -inf, which the callers expect)."""
    with np.errstate(divide="ignore"):
        return np.log(x)


def hill_value(scale: np.ndarray, spend_scale: np.ndarray, shape: np.ndarray | None, spend: np.ndarray) -> np.ndarray:
    """``scale * r / (1 + r)`` with ``r = (spend / spend_scale) ** shape`` (``shape=None``: 1, no power taken)."""
    x = spend / spend_scale
    ratio = x if shape is None else np.power(x, shape)
    with np.errstate(invalid="ignore"):
        out = scale * ratio / (1.0 + ratio)
    return np.where(np.isinf(ratio), scale, out)


def hill_marginal(scale: np.ndarray, spend_scale: np.ndarray, shape: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Slope ``scale / spend_scale * n x^(n-1) / (1 + x^n)^2``, in logs so huge or tiny spends neither overflow
    nor give nan."""
    n = shape
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        y = safe_log(spend / spend_scale)
        log_d = np.log(n) + (n - 1.0) * y - 2.0 * np.logaddexp(0.0, n * y)
        return scale / spend_scale * np.exp(log_d)


def inflection_spend(spend_scale: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Where an S-shaped Hill curve (shape n > 1) turns from convex to concave (its marginal response peaks)."""
    n = shape
    return spend_scale * np.power(np.maximum(n - 1.0, 0.0) / (n + 1.0), 1.0 / n)


def tangent_spend(scale: np.ndarray, spend_scale: np.ndarray, shape: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Where the line from (start, f(start)) touches an S-shaped Hill curve: the end of its concave envelope's
    linear piece (``start`` at or beyond the inflection point: no linear piece, ``start`` itself).

    From 0 it is ``spend_scale (n - 1)^(1/n)``; otherwise the root of f'(b)(b - start) = f(b) - f(start) beyond
    the inflection point, found by bisection on log(b) (vectorised).
    """
    k, n = spend_scale, shape
    start = np.asarray(start, float)
    infl = inflection_spend(k, n)
    out = np.where(start <= 0.0, k * np.power(np.maximum(n - 1.0, 0.0), 1.0 / n), start)
    todo = (start > 0.0) & (start < infl)
    if todo.any():
        sc, kk, nn, a = scale[todo], k[todo], n[todo], start[todo]
        fa = hill_value(sc, kk, nn, a)
        lo, hi = np.log(infl[todo]), np.log(kk) + 40.0 / nn

        def gap(b: np.ndarray) -> np.ndarray:
            return hill_marginal(sc, kk, nn, b) * (b - a) - (hill_value(sc, kk, nn, b) - fa)

        for _ in range(80):
            mid = 0.5 * (lo + hi)
            above = gap(np.exp(mid)) > 0  # still left of the tangent point
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        out[todo] = np.exp(0.5 * (lo + hi))
    return out


def concave_spend_at_marginal(
    shape: np.ndarray, ratio: np.ndarray, spend_scale: np.ndarray, upper: np.ndarray | None
) -> np.ndarray:
    """Relative spend ``y = log(s / spend_scale)`` solving log(n) + (n-1) y - 2 softplus(n y) = log(ratio), as
    ``s / spend_scale``, for concave shapes n in (0, 1), by monotone Newton steps.

    The left side is concave and decreasing in y, so Newton started right of the root walks down to it without
    overshooting; the minimum of the two linear asymptotes is such a start, and any spend known to be at or above
    the answer (``upper``, a warm start from a smaller target) is a better one. After a step d the error is at most
    d^2 / 2 (|phi''| <= |phi'| / 2), so a step of 1e-7 means converged to rounding.
    """
    n = shape
    log_n = np.log(n)
    goal = np.clip(safe_log(ratio), -1e300, 1e300)
    y = np.minimum((goal - log_n) / (n - 1.0), (log_n - goal) / (n + 1.0))
    if upper is not None:
        warm = safe_log(upper / spend_scale)
        y = np.where(np.isfinite(warm), np.minimum(y, warm), y)
    y = np.clip(y, -LOG_SPAN, LOG_SPAN)
    active: np.ndarray | None = None  # indices still iterating once most campaigns have converged
    y_a, n_a, log_n_a, goal_a = y, n, log_n, goal
    for _ in range(NEWTON_MAX_ITER):
        u = np.exp(np.minimum(n_a * y_a, LOG_SPAN / 2))  # (s/k)^n, capped where it only adds rounding
        gap = log_n_a + (n_a - 1.0) * y_a - 2.0 * np.log1p(u) - goal_a
        slope = (n_a - 1.0) - 2.0 * n_a * u / (1.0 + u)
        y_next = np.clip(y_a - gap / slope, -LOG_SPAN, LOG_SPAN)
        done = np.abs(y_next - y_a) <= NEWTON_STEP_DONE
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


def s_shaped_spend_at_marginal(
    scale: np.ndarray,
    spend_scale: np.ndarray,
    shape: np.ndarray,
    seg_lo: np.ndarray | None,
    seg_hi: np.ndarray | None,
    target: np.ndarray,
) -> np.ndarray:
    """On the concave envelope of an S-shaped curve: the start of its linear piece while the target exceeds the
    piece's slope, else the root on the concave (decreasing-marginal) branch, at least the piece's end.

    The linear piece is [seg_lo, seg_hi] (NaN: none), or the tangent from zero when no envelope was taken.
    """
    sc, k, n = scale, spend_scale, shape
    if seg_lo is None or seg_hi is None:
        lo = np.zeros_like(sc)
        hi = tangent_spend(sc, k, n, lo)
    else:
        lo, hi = np.nan_to_num(seg_lo), np.nan_to_num(seg_hi)
    f_lo, f_hi = hill_value(sc, k, n, lo), hill_value(sc, k, n, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(hi > lo, (f_hi - f_lo) / (hi - lo), np.inf)
    # root of f'(s) = target right of the inflection point, by bisection on log(s) (f' decreases there)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        y_lo = np.log(inflection_spend(k, n))
        y_hi = np.log(k) + 60.0 / n + np.maximum(0.0, -safe_log(np.maximum(target, 1e-300) * k / sc)) / n
        for _ in range(90):
            mid = 0.5 * (y_lo + y_hi)
            high = hill_marginal(sc, k, n, np.exp(mid)) > target
            y_lo, y_hi = np.where(high, mid, y_lo), np.where(high, y_hi, mid)
        root = np.exp(0.5 * (y_lo + y_hi))
    out = np.where(target >= slope, lo, np.maximum(root, hi))
    return np.where(target <= 0.0, np.inf, out)
