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
from scipy.optimize import least_squares

from ml.models.ltv.features import is_mature, label_column, user_age_days

LABELLED_DAYS: tuple[int, ...] = (1, 3, 7, 30, 90, 180)
AGE_BIN_DAYS = 15
SHRINK_PAYERS = 100.0
MIN_POINT_REVENUE = 1.0


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
            parts.append(pd.DataFrame({"key": keys[mask], "day": float(day), "ref": ref_revenue[mask],
                                       "seen": df[label_column(day)].to_numpy(dtype=float)[mask]}))
    # Beyond ref, revenue seen so far by age; only where the warehouse stopped at as_of (no later events).
    age = user_age_days(df)
    older = base & (age > ref) & (age < max(LABELLED_DAYS)) & (pd.to_datetime(df["as_of_ts"]) <= as_of).to_numpy()
    parts.append(pd.DataFrame({"key": keys[older], "day": ref + (age[older] - ref) // AGE_BIN_DAYS * AGE_BIN_DAYS,
                               "age": age[older], "ref": ref_revenue[older],
                               "seen": df["revenue_total"].to_numpy(dtype=float)[older]}))
    frame = pd.concat(parts, ignore_index=True)
    frame["age"] = frame["age"].fillna(frame["day"])
    agg = frame.groupby(["key", "day"], as_index=False).agg(age=("age", "mean"), seen=("seen", "sum"),
                                                           weight=("ref", "sum"))
    agg = agg[agg["weight"] >= MIN_POINT_REVENUE]
    return pd.DataFrame({"key": agg["key"], "day": agg["age"], "ratio": agg["seen"] / agg["weight"],
                         "weight": agg["weight"]})


def fit_curve(points: pd.DataFrame, ref: int) -> tuple[float, float]:
    """Least-squares (c, tau) of ``G(d) / G(ref)`` on ratio points weighted by their revenue."""
    if len(points) < 2:
        return 0.1, 30.0
    day, ratio = points["day"].to_numpy(), points["ratio"].to_numpy()
    w = np.sqrt(points["weight"].to_numpy() / points["weight"].sum())

    def residual(theta: np.ndarray) -> np.ndarray:
        c, tau = np.exp(theta)
        return w * (curve(day, c, tau) / curve(ref, c, tau) - ratio)

    fit = least_squares(residual, x0=np.log([0.1, 30.0]), bounds=(np.log([1e-4, 1.0]), np.log([20.0, 1000.0])))
    c, tau = np.exp(fit.x)
    return float(c), float(tau)


@dataclass
class TimeCurve:
    """Fitted value curves, portfolio-wide and per source key, relative to the reference horizon ``ref``."""

    ref: int
    key: str = "campaign_id"
    portfolio: tuple[float, float] = (0.1, 30.0)
    by_key: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # key -> (c, tau, n_payers)

    def fit(self, df: pd.DataFrame, as_of: pd.Timestamp) -> TimeCurve:
        """Fit the portfolio curve and one curve per source key."""
        as_of = pd.Timestamp(as_of)
        points = ratio_points(df, self.ref, as_of, self.key)
        pooled = points.groupby("day", as_index=False).apply(
            lambda g: pd.Series({"ratio": np.average(g["ratio"], weights=g["weight"]), "weight": g["weight"].sum()}),
            include_groups=False)
        self.portfolio = fit_curve(pooled, self.ref)
        payer = (df[label_column(self.ref)].to_numpy(float) > 0) & is_mature(df, self.ref, as_of)
        n_payers = pd.Series(payer).groupby(df[self.key].astype(str).to_numpy()).sum()
        self.by_key = {str(k): (*fit_curve(group, self.ref), float(n_payers.get(k, 0.0)))
                       for k, group in points.groupby("key") if n_payers.get(k, 0) > 0}
        return self

    def factor(self, keys: pd.Series | np.ndarray, horizon: int) -> np.ndarray:
        """``G(horizon) / G(ref)`` per row, the source's curve shrunk towards the portfolio's by payer count."""
        def ratio(c: float, tau: float) -> float:
            return float(curve(horizon, c, tau) / curve(self.ref, c, tau))

        overall = ratio(*self.portfolio)
        table = {k: (n * ratio(c, tau) + SHRINK_PAYERS * overall) / (n + SHRINK_PAYERS)
                 for k, (c, tau, n) in self.by_key.items()}
        return pd.Series(np.asarray(keys).astype(str)).map(table).fillna(overall).to_numpy(dtype=float)

    def summary(self) -> pd.DataFrame:
        """Per-source curve parameters and factors to the reference horizon's double (for reports)."""
        rows = [(k, c, tau, n) for k, (c, tau, n) in self.by_key.items()]
        return pd.DataFrame(rows, columns=[self.key, "burst", "tau_days", "n_payers"])
