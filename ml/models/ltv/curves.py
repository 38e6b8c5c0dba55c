"""Time-curve factors that carry an LTV from the longest horizon with enough mature users to a longer one.

With 180 days of history almost nobody is mature at day 180, so ``ltv_d180`` cannot be learned directly. Per
source (campaign) we fit a cumulative value curve ``G(d) = c + 1 - exp(-d / tau)`` (a day-0 burst ``c`` and an
exponential decay of spending, the usual shape of app revenue) to ratio points ``G(d) / G(ref)``:

* ``d < ref``: sum of ``revenue_d{1,3,7,30}`` over sum of ``revenue_d{ref}`` among users mature at ``ref``;
* ``d > ref``: users older than ``ref``, in age bins, sum of revenue seen so far over their ``revenue_d{ref}``.

Ratios of the same users' revenue cancel cohort-to-cohort value differences. The fitted curve gives the factor
``G(h) / G(ref)``; a campaign's factor is shrunk to the portfolio's by its number of payers (sparse campaigns
borrow the portfolio curve, unseen campaigns use it outright).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ml.models.ltv.features import is_mature, label_column, user_age_days

LABELLED_DAYS: tuple[int, ...] = (1, 3, 7, 30, 90, 180)
AGE_BIN_DAYS = 15
SHRINK_PAYERS = 100.0
MIN_POINT_REVENUE = 1.0
DEFAULT_CURVE = (0.1, 30.0)  # (burst, tau) before any ratio point exists: a 10% day-0 burst, a month's decay
C_BOUNDS = (1e-4, 20.0)
TAU_BOUNDS = (1.0, 1000.0)
COARSE_GRID = (25, 30)  # burst x tau points of the first, portfolio-wide search (log-spaced within the bounds)
REFINE_POINTS = 9  # per axis, in each of the narrowing local searches
REFINE_ROUNDS = 3
CANDIDATE_BLOCK = 32
POLISH_STEPS = 30
FINITE_STEP = 1e-5
DAMPING = 1e-3


def curve(days: np.ndarray | float, c: float, tau: float) -> np.ndarray:
    """Cumulative value curve up to a constant: a day-0 burst ``c`` plus exponential decay with ``tau`` days."""
    return c + 1.0 - np.exp(-np.asarray(days, dtype=float) / tau)


def ratio_points(df: pd.DataFrame, ref: int, as_of: pd.Timestamp, key: str) -> pd.DataFrame:
    """Points (key, day, ratio to ``revenue_d{ref}``, weight) measured on the same users, per source key."""
    keys = df[key].astype(str).to_numpy()
    base = is_mature(df, ref, as_of)
    ref_revenue = df[label_column(ref)].to_numpy(dtype=float)
    parts = []
    for day in LABELLED_DAYS:
        if day != ref and label_column(day) in df:
            mask = base & is_mature(df, day, as_of)
            parts.append(
                pd.DataFrame(
                    {
                        "key": keys[mask],
                        "day": float(day),
                        "ref": ref_revenue[mask],
                        "seen": df[label_column(day)].to_numpy(dtype=float)[mask],
                    }
                )
            )
    # Beyond ref, revenue seen so far by age; only where the warehouse stopped at as_of (no later events).
    age = user_age_days(df)
    older = base & (age > ref) & (age < max(LABELLED_DAYS)) & (pd.to_datetime(df["as_of_ts"]) <= as_of).to_numpy()
    parts.append(
        pd.DataFrame(
            {
                "key": keys[older],
                "day": ref + (age[older] - ref) // AGE_BIN_DAYS * AGE_BIN_DAYS,
                "age": age[older],
                "ref": ref_revenue[older],
                "seen": df["revenue_total"].to_numpy(dtype=float)[older],
            }
        )
    )
    frame = pd.concat(parts, ignore_index=True)
    frame["age"] = frame["age"].fillna(frame["day"])
    agg = frame.groupby(["key", "day"], as_index=False).agg(
        age=("age", "mean"), seen=("seen", "sum"), weight=("ref", "sum")
    )
    agg = agg[agg["weight"] >= MIN_POINT_REVENUE]
    return pd.DataFrame(
        {"key": agg["key"], "day": agg["age"], "ratio": agg["seen"] / agg["weight"], "weight": agg["weight"]}
    )


def _key_shares(weight: np.ndarray, codes: np.ndarray, n_keys: int) -> np.ndarray:
    """Each point's weight as a share of its key's total, so every key's error is a weighted mean."""
    return weight / np.bincount(codes, weights=weight, minlength=n_keys)[codes]


def _weighted_sse(
    points: pd.DataFrame, codes: np.ndarray, share: np.ndarray, c: np.ndarray, tau: np.ndarray, ref: int
) -> np.ndarray:
    """Weighted squared error of ``G(d) / G(ref)`` per key (rows) and candidate (columns); candidates are
    ``(n_keys or 1, m)`` arrays of burst and time constant, one row per key or one shared row. Candidates are
    taken ``CANDIDATE_BLOCK`` at a time so memory stays at points x block."""
    n_keys = int(codes.max()) + 1
    day = points["day"].to_numpy()[:, None]
    ratio = points["ratio"].to_numpy()[:, None]
    rows = codes if c.shape[0] > 1 else np.zeros(len(codes), dtype=np.int64)
    by_key = sparse.csr_matrix((share, (codes, np.arange(len(codes)))), shape=(n_keys, len(codes)))
    out = np.empty((n_keys, c.shape[1]))
    for start in range(0, c.shape[1], CANDIDATE_BLOCK):
        block = slice(start, start + CANDIDATE_BLOCK)
        cc, tt = c[rows, block], tau[rows, block]
        out[:, block] = by_key @ (curve(day, cc, tt) / curve(ref, cc, tt) - ratio) ** 2
    return out


def fit_curves(points: pd.DataFrame, ref: int) -> pd.DataFrame:
    """Weighted least-squares (c, tau) of ``G(d) / G(ref)`` per key of ratio points, all keys at once.

    A log-spaced grid search over the bounds, then ``REFINE_ROUNDS`` local grids around each key's best point,
    each a few times finer: vectorised over keys, so thousands of campaigns cost one pass of array arithmetic.
    Keys with fewer than two points are left out (they take the portfolio curve).
    """
    counts = points.groupby("key")["day"].transform("size")
    points = points[counts >= 2]
    if points.empty:
        return pd.DataFrame({"key": [], "c": [], "tau": []})
    codes, keys = pd.factorize(points["key"])
    share = _key_shares(points["weight"].to_numpy(), codes, len(keys))
    log_c = np.linspace(*np.log(C_BOUNDS), COARSE_GRID[0])
    log_tau = np.linspace(*np.log(TAU_BOUNDS), COARSE_GRID[1])
    grid_c, grid_tau = (g.ravel()[None, :] for g in np.meshgrid(log_c, log_tau, indexing="ij"))
    sse = _weighted_sse(points, codes, share, np.exp(grid_c), np.exp(grid_tau), ref)
    best = sse.argmin(axis=1)
    centre_c, centre_tau = grid_c[0, best], grid_tau[0, best]
    step_c, step_tau = log_c[1] - log_c[0], log_tau[1] - log_tau[0]
    offsets = np.linspace(-1.0, 1.0, REFINE_POINTS)
    local_c, local_tau = (g.ravel()[None, :] for g in np.meshgrid(offsets, offsets, indexing="ij"))
    for _ in range(REFINE_ROUNDS):
        cand_c = np.clip(centre_c[:, None] + step_c * local_c, *np.log(C_BOUNDS))
        cand_tau = np.clip(centre_tau[:, None] + step_tau * local_tau, *np.log(TAU_BOUNDS))
        sse = _weighted_sse(points, codes, share, np.exp(cand_c), np.exp(cand_tau), ref)
        pick = sse.argmin(axis=1)
        centre_c, centre_tau = cand_c[np.arange(len(keys)), pick], cand_tau[np.arange(len(keys)), pick]
        step_c, step_tau = 2 * step_c / (REFINE_POINTS - 1), 2 * step_tau / (REFINE_POINTS - 1)
    centre_c, centre_tau = _polish(points, codes, share, centre_c, centre_tau, ref)
    return pd.DataFrame({"key": keys, "c": np.exp(centre_c), "tau": np.exp(centre_tau)})


def _polish(
    points: pd.DataFrame, codes: np.ndarray, share: np.ndarray, log_c: np.ndarray, log_tau: np.ndarray, ref: int
) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt steps on (log c, log tau) for every key at once; a key moves only when its weighted
    error falls, so the grid's answer is the worst case (the grid cannot follow the ridge where burst and time
    constant trade off)."""
    day, ratio = points["day"].to_numpy(), points["ratio"].to_numpy()
    n_keys = len(log_c)
    lower, upper = np.log([C_BOUNDS[0], TAU_BOUNDS[0]]), np.log([C_BOUNDS[1], TAU_BOUNDS[1]])

    def residual(lc: np.ndarray, lt: np.ndarray) -> np.ndarray:
        c, tau = np.exp(lc[codes]), np.exp(lt[codes])
        return curve(day, c, tau) / curve(ref, c, tau) - ratio

    def per_key(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=share * values, minlength=n_keys)

    r = residual(log_c, log_tau)
    sse = per_key(r**2)
    damping = np.full(n_keys, DAMPING)
    for _ in range(POLISH_STEPS):
        j_c = (residual(log_c + FINITE_STEP, log_tau) - r) / FINITE_STEP
        j_tau = (residual(log_c, log_tau + FINITE_STEP) - r) / FINITE_STEP
        a11, a12, a22 = per_key(j_c * j_c), per_key(j_c * j_tau), per_key(j_tau * j_tau)
        g1, g2 = per_key(j_c * r), per_key(j_tau * r)
        a11, a22 = a11 * (1 + damping) + 1e-12, a22 * (1 + damping) + 1e-12
        det = a11 * a22 - a12**2
        new_c = np.clip(log_c - (a22 * g1 - a12 * g2) / det, lower[0], upper[0])
        new_tau = np.clip(log_tau - (a11 * g2 - a12 * g1) / det, lower[1], upper[1])
        r_new = residual(new_c, new_tau)
        sse_new = per_key(r_new**2)
        better = sse_new < sse
        log_c, log_tau = np.where(better, new_c, log_c), np.where(better, new_tau, log_tau)
        sse = np.where(better, sse_new, sse)
        r = np.where(better[codes], r_new, r)
        damping = np.where(better, damping / 3, damping * 10)  # Levenberg-Marquardt: trust a key's model more
        # when its last step helped, less when it did not
    return log_c, log_tau


@dataclass
class TimeCurve:
    """Fitted value curves, portfolio-wide and per source key, relative to the reference horizon ``ref``."""

    ref: int
    key: str = "campaign_id"
    portfolio: tuple[float, float] = DEFAULT_CURVE
    by_key: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # key -> (c, tau, n_payers)

    def fit(self, df: pd.DataFrame, as_of: pd.Timestamp) -> TimeCurve:
        """Fit the portfolio curve and one curve per source key."""
        as_of = pd.Timestamp(as_of)
        points = ratio_points(df, self.ref, as_of, self.key)
        pooled = points.groupby("day", as_index=False).apply(
            lambda g: pd.Series({"ratio": np.average(g["ratio"], weights=g["weight"]), "weight": g["weight"].sum()}),
            include_groups=False,
        )
        portfolio = fit_curves(pooled.assign(key="portfolio"), self.ref)
        self.portfolio = (
            (float(portfolio["c"].iloc[0]), float(portfolio["tau"].iloc[0])) if len(portfolio) else DEFAULT_CURVE
        )
        payer = (df[label_column(self.ref)].to_numpy(float) > 0) & is_mature(df, self.ref, as_of)
        n_payers = pd.Series(payer).groupby(df[self.key].astype(str).to_numpy()).sum()
        fitted = fit_curves(points[points["key"].map(n_payers).fillna(0).to_numpy() > 0], self.ref)
        self.by_key = {
            str(k): (float(c), float(tau), float(n_payers[k]))
            for k, c, tau in zip(fitted["key"], fitted["c"], fitted["tau"], strict=True)
        }
        return self

    def factor(self, keys: pd.Series | np.ndarray, horizon: int) -> np.ndarray:
        """``G(horizon) / G(ref)`` per row, the source's curve shrunk towards the portfolio's by payer count."""

        def ratio(c: float, tau: float) -> float:
            return float(curve(horizon, c, tau) / curve(self.ref, c, tau))

        overall = ratio(*self.portfolio)
        table = {
            k: (n * ratio(c, tau) + SHRINK_PAYERS * overall) / (n + SHRINK_PAYERS)
            for k, (c, tau, n) in self.by_key.items()
        }
        return pd.Series(np.asarray(keys).astype(str)).map(table).fillna(overall).to_numpy(dtype=float)

    def summary(self) -> pd.DataFrame:
        """Per-source curve parameters and factors to the reference horizon's double (for reports)."""
        rows = [(k, c, tau, n) for k, (c, tau, n) in self.by_key.items()]
        return pd.DataFrame(rows, columns=[self.key, "burst", "tau_days", "n_payers"])
