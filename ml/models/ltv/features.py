"""Model inputs of the LTV models: the acquisition source and what a user did in the first 0..7 days, nothing later.

A user's *observed window* is the longest early window (0, 1, 3 or 7 days) fully seen at ``as_of``; every
behavioural feature is cut to that window, so a user aged 2.5 days is described exactly like a 7-day-old user
truncated at day 1. Training copies some mature users with shorter windows (``truncate_window``), so one
model serves users of every age. Labels (``revenue_d30`` and later), ``revenue_total``, ``age_days`` beyond
day 7 and anything else after day 7 never enter the features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

EARLY_WINDOWS: tuple[int, ...] = (1, 3, 7)
OBSERVED_WINDOWS: tuple[int, ...] = (0, 1, 3, 7)
HORIZONS: tuple[int, ...] = (30, 90, 180)
CATEGORICAL: tuple[str, ...] = ("campaign_id", "network", "platform", "geo", "creative_format", "targeting")
SOURCE_FLAGS: tuple[str, ...] = ("has_agency", "auto_optimization_enabled")
CALENDAR: tuple[str, ...] = ("install_hour", "install_day_of_week")
BEHAVIOUR: tuple[str, ...] = (
    "observed_days",
    "revenue_d1",
    "revenue_d3",
    "revenue_d7",
    "events_d1",
    "events_d3",
    "events_d7",
    "hours_to_first_event",
    "hours_to_first_purchase",
    "ad_revenue_share_d7",
    "subscription_revenue_share_d7",
)
# Day-0..7 behaviour of the user's whole campaign (all users with a complete 7-day window), shrunk to the
# portfolio: lets the trees place a campaign by its early economics, including campaigns without mature users.
SOURCE_STATS: tuple[str, ...] = (
    "source_payer_rate_d7",
    "source_revenue_d7_per_user",
    "source_revenue_d7_per_payer",
    "source_d1_share_of_d7",
)
SOURCE_PRIOR_USERS = 500.0
NUMERIC: tuple[str, ...] = SOURCE_FLAGS + CALENDAR + SOURCE_STATS + BEHAVIOUR
FEATURES: tuple[str, ...] = CATEGORICAL + NUMERIC
# Heavy-tailed numeric inputs that the neural net sees on a log scale.
LOG_SCALED: tuple[str, ...] = (
    "revenue_d1",
    "revenue_d3",
    "revenue_d7",
    "events_d1",
    "events_d3",
    "events_d7",
    "hours_to_first_event",
    "hours_to_first_purchase",
)


def label_column(horizon: int) -> str:
    """The warehouse column holding revenue with days_since_install < ``horizon``."""
    return f"revenue_d{horizon}"


def maturity_column(horizon: int) -> str:
    """The warehouse flag telling the ``horizon``-day label is complete."""
    return f"is_mature_d{horizon}"


def user_age_days(df: pd.DataFrame, as_of: pd.Timestamp | None = None) -> np.ndarray:
    """Days between install and ``as_of`` (default: each row's warehouse ``as_of_ts``)."""
    end = df["as_of_ts"] if as_of is None else pd.Timestamp(as_of)
    return ((end - pd.to_datetime(df["install_ts"])) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def is_mature(df: pd.DataFrame, horizon: int, as_of: pd.Timestamp | None = None) -> np.ndarray:
    """Whether the ``horizon``-day label is complete at ``as_of`` (install + horizon days <= as_of)."""
    return user_age_days(df, as_of) >= horizon


def observed_window(df: pd.DataFrame, as_of: pd.Timestamp | None = None) -> np.ndarray:
    """Longest early window in OBSERVED_WINDOWS fully observed at ``as_of``, per user."""
    age = user_age_days(df, as_of)
    windows = np.asarray(OBSERVED_WINDOWS)
    return windows[np.searchsorted(windows, age, side="right") - 1].astype(int)


def _windowed(df: pd.DataFrame, prefix: str, window: np.ndarray, k: int) -> np.ndarray:
    """``{prefix}_d{k}`` as known after ``window`` days: the value of the shorter window when not yet complete."""
    out = np.zeros(len(df))
    for w in EARLY_WINDOWS:
        use = np.minimum(window, k) == w
        out[use] = df[f"{prefix}_d{w}"].to_numpy(dtype=float)[use]
    return out


def _share(part: pd.Series, total: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Share of early revenue of one kind, NaN unless the full 7-day window is seen and has revenue."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = part.fillna(0).to_numpy(dtype=float) / total
    return np.where(ok & (total > 0), share, np.nan)


def source_stats(df: pd.DataFrame, as_of: pd.Timestamp | None = None, key: str = "campaign_id") -> pd.DataFrame:
    """Per-campaign early economics from users whose 7-day window is complete at ``as_of`` (no labels used).

    Rates are shrunk towards the portfolio with ``SOURCE_PRIOR_USERS`` pseudo-users, so small campaigns get
    portfolio-like values instead of noise.
    """
    full = observed_window(df, as_of) >= 7
    frame = pd.DataFrame(
        {
            "key": df[key].astype(str).to_numpy()[full],
            "payer": (df["revenue_d7"].to_numpy(dtype=float)[full] > 0).astype(float),
            "d7": df["revenue_d7"].to_numpy(dtype=float)[full],
            "d1": df["revenue_d1"].to_numpy(dtype=float)[full],
        }
    )
    sums = frame.groupby("key").agg(n=("payer", "size"), payers=("payer", "sum"), d7=("d7", "sum"), d1=("d1", "sum"))
    total = sums.sum()
    m = SOURCE_PRIOR_USERS
    rate = total["payers"] / max(total["n"], 1.0)
    per_user = total["d7"] / max(total["n"], 1.0)
    per_payer = total["d7"] / max(total["payers"], 1.0)
    d1_share = total["d1"] / max(total["d7"], 1e-9)
    payers_prior = m * rate
    return pd.DataFrame(
        {
            "source_payer_rate_d7": (sums["payers"] + m * rate) / (sums["n"] + m),
            "source_revenue_d7_per_user": (sums["d7"] + m * per_user) / (sums["n"] + m),
            "source_revenue_d7_per_payer": (sums["d7"] + payers_prior * per_payer) / (sums["payers"] + payers_prior),
            "source_d1_share_of_d7": (sums["d1"] + payers_prior * per_payer * d1_share)
            / (sums["d7"] + payers_prior * per_payer),
        }
    )


def early_features(
    df: pd.DataFrame,
    window: np.ndarray | None = None,
    as_of: pd.Timestamp | None = None,
    sources: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Numeric feature frame (categoricals still raw) cut to each user's observed window.

    ``sources`` is a ``source_stats`` table (campaigns missing from it get NaN source features).
    """
    win = (
        observed_window(df, as_of)
        if window is None
        else np.minimum(np.asarray(window, dtype=int), observed_window(df, as_of))
    )
    out = {c: df[c].to_numpy() for c in CATEGORICAL}
    for c in SOURCE_FLAGS:
        out[c] = df[c].fillna(False).to_numpy(dtype=float) if c in df else np.zeros(len(df))
    for c in CALENDAR:
        out[c] = df[c].to_numpy(dtype=float)
    stats = sources if sources is not None else pd.DataFrame(columns=list(SOURCE_STATS), dtype=float)
    keys = df["campaign_id"].astype(str)
    for c in SOURCE_STATS:
        out[c] = keys.map(stats[c]).to_numpy(dtype=float)
    out["observed_days"] = win.astype(float)
    for prefix in ("revenue", "events"):
        for k in EARLY_WINDOWS:
            out[f"{prefix}_d{k}"] = _windowed(df, prefix, win, k)
    for c in ("hours_to_first_event", "hours_to_first_purchase"):
        hours = df[c].to_numpy(dtype=float)
        out[c] = np.where(hours < 24.0 * win, hours, np.nan)
    full = win >= 7
    out["ad_revenue_share_d7"] = _share(df["ad_revenue_d7"], out["revenue_d7"], full)
    out["subscription_revenue_share_d7"] = _share(df["subscription_revenue_d7"], out["revenue_d7"], full)
    frame = pd.DataFrame(out, index=df.index)
    return frame[list(FEATURES)]


def truncate_window(df: pd.DataFrame, share: float, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows to add to training as if observed for 0, 1 or 3 days only, so young users get a trained model."""
    pick = np.flatnonzero(rng.random(len(df)) < share)
    window = rng.choice(np.asarray(OBSERVED_WINDOWS[:-1]), size=len(pick))
    return df.iloc[pick], window


@dataclass
class CategoryCodes:
    """Category levels seen in training, so unseen levels at prediction time become missing, not new codes."""

    levels: dict[str, list[str]] = field(default_factory=dict)

    def fit(self, features: pd.DataFrame) -> CategoryCodes:
        """Remember the sorted levels of every categorical column."""
        self.levels = {c: sorted(features[c].dropna().astype(str).unique()) for c in CATEGORICAL}
        return self

    def transform(self, features: pd.DataFrame) -> pd.DataFrame:
        """Categoricals as pandas ``category`` with the training levels (what LightGBM and XGBoost expect)."""
        out = features.copy()
        for c in CATEGORICAL:
            out[c] = pd.Categorical(out[c].astype(str), categories=self.levels[c])
        return out
