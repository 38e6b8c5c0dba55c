"""The portfolio total of customer value: which level to trust, and an interval for it.

Why: a budget is decided on the total, and the two value sources fail it in different ways. BG/NBD + Gamma-Gamma
is rigid (17% low on CDNOW); the boosted ensemble corrects it customer by customer, but its correction is learned
at an inner cutoff where customers are younger than at the calibration end, and applied to older histories the
trees' level can drift (+25% on a log drawn from the very BG/NBD it corrects). The inner split that trains the
ensemble cannot see that drift: it scores the ensemble on the ages it was trained on.

The transfer check reproduces the drift inside the calibration window, never reading the holdout: with half the
inner window h, both sources are trained (and total-calibrated) at cutoff `end - 2h` on the window up to `end - h`,
then applied with the history up to `end - h` to the last h days, as the real prediction applies them one window
later. The source whose transferred total lands closer to what those customers spent sets the portfolio level;
the ensemble (when it wins on the inner deviance) still decides how that total is shared among customers.

The interval of the total is log-normal with four independent parts: the purchase-and-spend noise of the window
(the Monte Carlo draws' variance summed over customers), the uncertainty of the BG/NBD + Gamma-Gamma parameters
(refits on customers resampled with replacement), the sampling error of the calibration factor (inner customers
resampled), and the transfer error of the chosen level (one measured error, used as its standard deviation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from ml.models.clv.calibration import inner_split, total_factor
from ml.models.clv.predict import fit_parametric, parametric_expectations

TOTAL_INTERVAL = 0.90  # central probability of the reported total interval
PARAMETER_REFITS = 20


@dataclass(frozen=True)
class TransferCheck:
    """Log errors of each source's total when trained one half-window earlier than it is applied."""

    window_days: int
    ensemble_error: float  # log(transferred calibrated ensemble total / actual), nan if it could not be trained
    parametric_error: float  # same for BG/NBD + Gamma-Gamma with its own calibration factor

    def preferred(self) -> str:
        """The source whose level transferred better ("ensemble" or "bgnbd+gg")."""
        if np.isfinite(self.ensemble_error) and abs(self.ensemble_error) < abs(self.parametric_error):
            return "ensemble"
        return "bgnbd+gg"

    def error_of(self, source: str) -> float:
        return self.ensemble_error if source == "ensemble" else self.parametric_error


def transfer_check(
    daily: pd.DataFrame, calibration_end: pd.Timestamp, window_days: int, seed: int = 0, with_ensemble: bool = True
) -> TransferCheck | None:
    """Train at `end - 2h`, apply at `end - h`, score on (end - h, end] with h = window_days // 2.

    `daily` must hold purchase days on or before `calibration_end` only. None when the history is too short for
    two nested splits; without `with_ensemble` only BG/NBD + Gamma-Gamma is checked (ensemble_error nan).
    """
    from ml.models.clv.ensemble import fit_predict_ensemble  # deferred: LightGBM/XGBoost import

    half = int(window_days) // 2
    late = inner_split(daily, calibration_end, half)
    if late is None:
        return None
    history = daily[daily["date"] <= late.cutoff].reset_index(drop=True)
    early = inner_split(history, late.cutoff, half) if not history.empty else None
    if early is None or early.window_days != half:
        return None
    actual = float(late.actual.sum())
    bg_level = total_factor(early.actual, early.parametric_value()) * float(late.parametric_value().sum())
    ens_level = float("nan")
    if with_ensemble:
        ens = fit_predict_ensemble(history, early, half, late.summary, late.fit, seed=seed)
        ens_level = total_factor(early.actual, ens.oof) * float(ens.predictions.sum())
    return TransferCheck(
        window_days=half,
        ensemble_error=float(np.log(ens_level / actual)) if ens_level > 0 else float("nan"),
        parametric_error=float(np.log(bg_level / actual)) if bg_level > 0 else float("nan"),
    )


def parameter_spread(summary: pd.DataFrame, horizon_days: float, seed: int = 0) -> float:
    """Relative standard deviation of the BG/NBD + Gamma-Gamma expected total over refits on resampled customers.

    Each refit is scored on the original customers: what varies is only what the parameters could have been.
    """
    rng = np.random.default_rng(seed)
    totals = np.empty(PARAMETER_REFITS)
    for k in range(PARAMETER_REFITS):  # 20 refits of a 4- and a 3-parameter model, not a per-row loop
        resampled = summary.iloc[rng.integers(0, len(summary), len(summary))]
        fit = fit_parametric(resampled)
        totals[k] = parametric_expectations(fit, summary, horizon_days)["predicted_value"].sum()
    return float(np.std(np.log(totals), ddof=1))


@dataclass(frozen=True)
class TotalInterval:
    """The predicted portfolio total with its TOTAL_INTERVAL interval and the parts of its log spread."""

    total: float
    low: float
    high: float
    noise_sd: float
    parameter_sd: float
    factor_sd: float
    transfer_sd: float

    def as_dict(self) -> dict[str, float]:
        return {
            "total": self.total,
            "total_low": self.low,
            "total_high": self.high,
            "total_noise_sd": self.noise_sd,
            "total_parameter_sd": self.parameter_sd,
            "total_factor_sd": self.factor_sd,
            "total_transfer_sd": self.transfer_sd,
        }


def total_interval(
    total: float, variance: float, parameter_sd: float, factor_sd: float, transfer_sd: float
) -> TotalInterval:
    """Log-normal interval around `total`; `variance` is the window's purchase-and-spend variance of the total."""
    if not total > 0:
        return TotalInterval(total, total, total, 0.0, parameter_sd, factor_sd, transfer_sd)
    noise_sd = float(np.sqrt(np.log1p(max(variance, 0.0) / total**2)))
    sd = float(np.sqrt(noise_sd**2 + parameter_sd**2 + factor_sd**2 + transfer_sd**2))
    z = float(norm.ppf(0.5 + TOTAL_INTERVAL / 2))
    return TotalInterval(
        total=total,
        low=total * float(np.exp(-z * sd)),
        high=total * float(np.exp(z * sd)),
        noise_sd=noise_sd,
        parameter_sd=parameter_sd,
        factor_sd=factor_sd,
        transfer_sd=transfer_sd,
    )
