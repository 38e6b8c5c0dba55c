"""The portfolio's customer value: the d90 value of every user acquired so far, with an interval from a back-test.

A budget is decided on a total, so the total needs an honest range. Users past the horizon have paid what they will
pay (their part is settled and exact); the rest is developed along the value curves (``development``), and that
step's error is measured, not assumed. At earlier origins ``t``, every ``step_days`` back from ``horizon`` days
before the data's as-of (so that every user unsettled at ``t`` has settled since), the users unsettled at ``t`` are
developed with curves fitted only on what was known at ``t`` and compared with the d90 they have realised since.
Origins whose history already held users as old as the horizon are used, as today's curves do (up to
``MAX_BACKTEST_ORIGINS``); a shorter history adds the latest earlier origins up to ``MIN_BACKTEST_ORIGINS``, whose
curves saw less and so err more (the interval is then wider, not narrower). The log errors' root mean square (bias
included) sets a log-normal interval on today's unsettled part, with a Student t quantile for the few origins that
estimate it. Only users the back-test can develop (a day old or more at ``t``) are compared; today's youngest users
are given the same error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ml.models.ltv.development import developed_user_value, development_reference, fit_development_curve
from ml.models.ltv.features import is_mature, label_column

BACKTEST_STEP_DAYS = 7
MAX_BACKTEST_ORIGINS = 8  # the latest eight weeks that can be checked: a curve fit each, seconds at 2,000 campaigns
MIN_BACKTEST_ORIGINS = 3  # fewer origins than this measure nothing: the interval is left open (NaN)
INTERVAL_LEVEL = 0.90


def history_days_needed(horizon: int = 90, step_days: int = BACKTEST_STEP_DAYS) -> int:
    """Days of installs before the back-test has ``MIN_BACKTEST_ORIGINS`` origins (each after a first checkpoint
    of history, all settled by today)."""
    return horizon + development_reference(horizon) + step_days * (MIN_BACKTEST_ORIGINS - 1) + 1


@dataclass(frozen=True)
class DevelopmentBacktest:
    """Log errors (developed / realised) of the unsettled users' total at each back-test origin."""

    origins: tuple[pd.Timestamp, ...]
    log_errors: tuple[float, ...]

    @property
    def log_sd(self) -> float:
        """Root mean square of the log errors (a bias counts as error), NaN with too few origins."""
        if len(self.log_errors) < MIN_BACKTEST_ORIGINS:
            return float("nan")
        return float(np.sqrt(np.mean(np.square(self.log_errors))))


def development_backtest(
    users: pd.DataFrame, horizon: int = 90, step_days: int = BACKTEST_STEP_DAYS, key: str = "campaign_id"
) -> DevelopmentBacktest:
    """Develop the users unsettled at each earlier origin with only what was known then; compare with what they
    realised by ``horizon``.

    ``users`` holds ``key``, install_ts, as_of_ts and the revenue_d* columns: every user, or a stratified sample
    (the same ratios, with the sample's noise added). Memory: a few arrays of ``len(users)`` per origin.
    """
    as_of = pd.Timestamp(users["as_of_ts"].max())
    install = pd.to_datetime(users["install_ts"])
    first_ref_day = install.min() + pd.Timedelta(days=development_reference(horizon))
    origins, errors = [], []
    origin = as_of - pd.Timedelta(days=horizon)
    while origin > first_ref_day and len(errors) < MAX_BACKTEST_ORIGINS:
        like_today = origin - install.min() >= pd.Timedelta(days=horizon)
        if not like_today and len(errors) >= MIN_BACKTEST_ORIGINS:
            break
        error = _origin_log_error(users, install, origin, horizon, key)
        if error is not None:
            origins.append(origin)
            errors.append(error)
        origin -= pd.Timedelta(days=step_days)
    return DevelopmentBacktest(tuple(reversed(origins)), tuple(reversed(errors)))


def developed_at(
    users: pd.DataFrame,
    origin: pd.Timestamp,
    horizon: int = 90,
    key: str = "campaign_id",
    install: pd.Series | None = None,
) -> pd.DataFrame:
    """The users unsettled at ``origin`` (installed before it, younger than ``horizon`` then), each developed to
    ``horizon`` with curves fitted on what was known at ``origin`` (``developed``, NaN where nothing could be
    developed), beside the d90 they realised (``realised``, complete only once they have settled).

    ``install`` is ``users.install_ts`` as datetimes, passed by the back-test so it is converted once, not per origin.
    """
    install = pd.to_datetime(users["install_ts"]) if install is None else install
    known = users[(install < origin).to_numpy()]
    cohort = known[~is_mature(known, horizon, origin)]
    curve = fit_development_curve(known, key, horizon, as_of=origin)
    developed = np.full(len(cohort), np.nan)
    if curve is not None:
        per_user = developed_user_value(cohort, developed, (key,), horizon, origin, curve)
        developed = np.where(per_user["basis"] == "developed", per_user["developed"].to_numpy(), np.nan)
    return pd.DataFrame(
        {key: cohort[key].to_numpy(), "developed": developed, "realised": cohort[label_column(horizon)].to_numpy(float)}
    )


def _origin_log_error(
    users: pd.DataFrame, install: pd.Series, origin: pd.Timestamp, horizon: int, key: str
) -> float | None:
    """log(developed / realised) of the users unsettled at ``origin``, or None when nothing could be developed."""
    cohort = developed_at(users, origin, horizon, key, install)
    compared = cohort[cohort["developed"].notna()]
    predicted, realised = compared["developed"].sum(), compared["realised"].sum()
    if realised <= 0 or predicted <= 0:
        return None
    return float(np.log(predicted / realised))


def interval_text(low: float, high: float) -> str | None:
    """The interval as every report shows it ("90% interval 1,234 .. 5,678"), or None while it is open (NaN)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return f"{INTERVAL_LEVEL:.0%} interval {low:,.0f} .. {high:,.0f}"


@dataclass(frozen=True)
class PortfolioValue:
    """The d90 value of every user acquired so far, its settled part and a ``INTERVAL_LEVEL`` interval."""

    n_users: int
    total: float
    settled: float
    low: float
    high: float
    log_sd: float
    n_origins: int

    def as_frame(self, as_of: pd.Timestamp, model_version: str | None) -> pd.DataFrame:
        """One row for ``predictions.portfolio_ltv``."""
        return pd.DataFrame(
            [
                {
                    "n_users": self.n_users,
                    "total_ltv_d90": self.total,
                    "settled_ltv_d90": self.settled,
                    "total_ltv_d90_p05": self.low,
                    "total_ltv_d90_p95": self.high,
                    "development_log_sd": self.log_sd,
                    "n_backtest_origins": self.n_origins,
                    "model_version": model_version,
                    "as_of_ts": as_of,
                }
            ]
        )


def portfolio_value(by_campaign: pd.DataFrame, backtest: DevelopmentBacktest, horizon: int = 90) -> PortfolioValue:
    """Sum the campaigns' value (``n_users`` x ``blended_ltv_d{h}``, of which ``settled_ltv_d{h}`` is exact) and put
    the back-test's log-normal error on the unsettled rest."""
    n = by_campaign["n_users"].to_numpy(dtype=float)
    total = float((n * by_campaign[f"blended_ltv_d{horizon}"].to_numpy(dtype=float)).sum())
    settled = float((n * by_campaign[f"settled_ltv_d{horizon}"].to_numpy(dtype=float)).sum())
    unsettled = total - settled
    log_sd = backtest.log_sd
    z = stats.t.ppf(0.5 + INTERVAL_LEVEL / 2, df=max(len(backtest.log_errors), 1))
    return PortfolioValue(
        n_users=int(n.sum()),
        total=total,
        settled=settled,
        low=settled + unsettled * float(np.exp(-z * log_sd)),
        high=settled + unsettled * float(np.exp(z * log_sd)),
        log_sd=log_sd,
        n_origins=len(backtest.log_errors),
    )
