"""Transaction logs drawn from published buy-till-you-die parameter sets, for benchmarks and tests with known truth.

Why: CDNOW is the one public log here, and the value model is tuned on it; a log drawn from a published parameter
set with a fixed seed is data nobody tuned on, and one drawn from Pareto/NBD (dropout at any time, not only after a
purchase) is a population the BG/NBD does not describe exactly. Time is in days, the log starts at `start`, each
customer is acquired (first purchase) uniformly in the first `acquisition_days`, spend per transaction follows the
Gamma-Gamma story (z ~ Gamma(p, nu), nu ~ Gamma(q, gamma) per customer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Fader, Hardie & Lee (2005) on the CDNOW sample, time unit weeks; Gamma-Gamma from "RFM and CLV" (2005).
FHL_BGNBD_WEEKS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
FHL_PARETO_NBD_WEEKS = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
FHL_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PROCESSES = ("bgnbd", "pareto_nbd")


@dataclass(frozen=True)
class LogSpec:
    """What to draw: `n_customers` acquired over `acquisition_days`, transactions up to `end_day` (exclusive)."""

    process: str = "bgnbd"
    n_customers: int = 10_000
    acquisition_days: int = 84
    end_day: int = 546
    start: str = "1997-01-01"


def simulate_log(spec: LogSpec, seed: int) -> pd.DataFrame:
    """A transaction log (customer_id, date, amount) drawn with the FHL CDNOW parameters for `spec.process`."""
    if spec.process not in PROCESSES:
        raise ValueError(f"process must be one of {PROCESSES}, got {spec.process!r}")
    rng = np.random.default_rng(seed)
    n = spec.n_customers
    acquired = rng.uniform(0.0, spec.acquisition_days, n)
    if spec.process == "bgnbd":
        owner, day = _bgnbd_repeats(acquired, float(spec.end_day), rng)
    else:
        owner, day = _pareto_nbd_repeats(acquired, float(spec.end_day), rng)
    owner = np.concatenate([np.arange(n), owner])
    day = np.concatenate([acquired, day])
    gg = FHL_GAMMA_GAMMA
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], n)
    amount = rng.gamma(gg["p"], 1.0 / nu[owner])
    order = np.lexsort((day, owner))
    return pd.DataFrame(
        {
            "customer_id": owner[order].astype(str),
            "date": pd.Timestamp(spec.start) + pd.to_timedelta(np.floor(day[order]), unit="D"),
            "amount": np.round(amount[order], 2),
        }
    )


def _bgnbd_repeats(acquired: np.ndarray, end: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchases while alive at a Gamma(r, alpha) rate; after each one, dropout with a Beta(a, b) chance."""
    par = FHL_BGNBD_WEEKS
    lam = rng.gamma(par["r"], 1.0 / (7.0 * par["alpha"]), len(acquired))  # purchases per day
    drop = rng.beta(par["a"], par["b"], len(acquired))
    return _poisson_stream(acquired, np.full(len(acquired), end), lam, drop, rng)


def _pareto_nbd_repeats(acquired: np.ndarray, end: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchases at a Gamma(r, alpha) rate until an exponential lifetime with a Gamma(s, beta) rate ends."""
    par = FHL_PARETO_NBD_WEEKS
    n = len(acquired)
    lam = rng.gamma(par["r"], 1.0 / (7.0 * par["alpha"]), n)
    mu = rng.gamma(par["s"], 1.0 / (7.0 * par["beta"]), n)
    death = acquired + rng.exponential(1.0 / np.maximum(mu, 1e-300))
    return _poisson_stream(acquired, np.minimum(death, end), lam, np.zeros(n), rng)


def _poisson_stream(
    start: np.ndarray, stop: np.ndarray, lam: np.ndarray, drop: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Event times of Poisson processes from `start` to `stop`, each ending after an event with chance `drop`.

    Vectorised over customers: one round draws the next event of everyone still active.
    """
    t = start.copy()
    active = lam > 0
    owners, days = [], []
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        bought = t[idx] < stop[idx]
        active[idx[~bought]] = False
        got = idx[bought]
        owners.append(got)
        days.append(t[got])
        active[got[rng.random(len(got)) < drop[got]]] = False
    if not owners:
        return np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(owners), np.concatenate(days)
