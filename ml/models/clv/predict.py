"""The `pmi ltv` output table: expected purchases, value, P(alive) and an honest value distribution per customer.

- predicted_purchases and p_alive come from the BG/NBD; expected value per purchase from the Gamma-Gamma.
- value_p10/p50/p90 come from Monte Carlo draws of the joint posterior predictive (alive or not, how many
  purchases, how much each), because the value distribution is a zero-inflated mixture whose quantiles have no
  closed form, and a normal approximation around the mean would hide that most customers buy nothing (p10 = 0).
- predicted_value is the expected value: BG/NBD x Gamma-Gamma unless the gradient-boosted ensemble (`ensemble.py`)
  beats it on an inner time split of the calibration period (Poisson deviance, a proper score for a mean), then
  rescaled so the portfolio total is the calibrated total (`calibration.py`) of whichever source transferred better
  one half-window later inside the calibration window (`total.py`: the ensemble's level can drift when its
  correction is applied to older histories than it was trained on). The quantiles are the probabilistic model's,
  moved to the calibrated mean customer by customer; the total gets a 90% interval of its own.
- The expected value is what sums to a budget; the absolute error of one customer is smallest at the median
  (value_p50), which is 0 for most customers. Report MAE of value_p50 and totals of predicted_value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml.models.clv.bgnbd import BGNBDParams, expected_purchases, fit_bgnbd, p_alive, sample_purchases
from ml.models.clv.gamma_gamma import GammaGammaParams, expected_spend, fit_gamma_gamma, sample_spend
from ml.models.clv.summary import daily_purchases, rfm_summary

if TYPE_CHECKING:
    from ml.models.clv.total import TotalInterval

OUTPUT_COLUMNS = [
    "customer_id",
    "predicted_purchases",
    "predicted_value",
    "value_p10",
    "value_p50",
    "value_p90",
    "p_alive",
]
MODEL_CHOICES = ("auto", "bgnbd", "ensemble")
_MIN_REPEAT_BUYERS = 10  # below this a Gamma-Gamma fit is noise; fall back to a pooled mean spend


@dataclass(frozen=True)
class ParametricFit:
    """BG/NBD + Gamma-Gamma fitted on one summary (time unit: days)."""

    bgnbd: BGNBDParams
    gamma_gamma: GammaGammaParams
    spend_model: str  # "gamma-gamma" or a note saying why a pooled mean was used instead


def fit_parametric(summary: pd.DataFrame) -> ParametricFit:
    """Fit both models on an `rfm_summary` frame."""
    bg = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if int(repeat.sum()) >= _MIN_REPEAT_BUYERS:
        try:
            return ParametricFit(bg, fit_gamma_gamma(summary["frequency"], summary["monetary_value"]), "gamma-gamma")
        except ValueError:
            pass
    pooled = float(summary["total_value"].sum() / (summary["frequency"] + 1.0).sum())
    note = f"pooled mean spend {pooled:.2f} (only {int(repeat.sum())} repeat buyers with positive spend)"
    return ParametricFit(bg, GammaGammaParams.point_mass(pooled), note)


def parametric_expectations(fit: ParametricFit, summary: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Closed-form expected purchases, spend per purchase, value and P(alive) over the next `horizon` days."""
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    purchases = expected_purchases(fit.bgnbd, horizon, x, t_x, T)
    spend = expected_spend(fit.gamma_gamma, x, summary["monetary_value"].to_numpy(dtype=float))
    return pd.DataFrame(
        {
            "predicted_purchases": purchases,
            "expected_spend": spend,
            "predicted_value": purchases * spend,
            "p_alive": p_alive(fit.bgnbd, x, t_x, T),
        },
        index=summary.index,
    )


def simulate_value_quantiles(
    fit: ParametricFit,
    summary: pd.DataFrame,
    horizon: float,
    draws: int = 500,
    seed: int = 0,
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    chunk_cells: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of window value per customer from `draws` posterior-predictive draws, shape (n, len(quantiles)),
    and each customer's variance of the draws (what the portfolio total's noise is summed from).

    Customers are processed in chunks of about `chunk_cells` draws so memory stays bounded on large logs; the
    generator is seeded once, so results are reproducible for a given seed, data and chunk size.
    """
    rng = np.random.default_rng(seed)
    x, t_x, T, zbar = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    n = len(x)
    out = np.empty((n, len(quantiles)))
    variance = np.empty(n)
    step = max(1, chunk_cells // max(draws, 1))
    for lo in range(0, n, step):
        sl = slice(lo, min(lo + step, n))
        counts = sample_purchases(fit.bgnbd, horizon, x[sl], t_x[sl], T[sl], draws, rng)
        value = sample_spend(fit.gamma_gamma, counts, x[sl], zbar[sl], rng)
        out[sl] = np.quantile(value, quantiles, axis=1).T
        variance[sl] = value.var(axis=1, ddof=1) if draws > 1 else 0.0
    return out, variance


@dataclass
class LTVResult:
    """What `predict_ltv` returns: the output table plus what was fitted and chosen, for logs and reports."""

    table: pd.DataFrame
    fit: ParametricFit
    value_source: str  # "ensemble" or "bgnbd+gg": who shares the total among customers
    reason: str
    validation: dict[str, float] = field(default_factory=dict)
    calibration_factor: float = 1.0  # predicted_value total / the value source's uncalibrated total
    level_source: str = "bgnbd+gg"  # whose calibrated total the portfolio total is
    total: TotalInterval | None = None


def poisson_deviance(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean Poisson deviance: a proper score for an expected value that, unlike squared error, a few big spenders
    do not dominate."""
    mu = np.maximum(predicted, 1e-9)
    term = np.where(actual > 0, actual * np.log(np.maximum(actual, 1e-300) / mu), 0.0)
    return float(2.0 * np.mean(term - (actual - mu)))


def predict_ltv(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    horizon_days: int,
    model: str = "auto",
    draws: int = 500,
    seed: int = 0,
) -> LTVResult:
    """Predict every calibration customer's purchases and value in (calibration_end, calibration_end + horizon].

    Only transactions on or before `calibration_end` are read. `model`: "auto" shares the total with the ensemble
    when it beats BG/NBD+GG on the inner split, and takes the total's level from the source whose level survives
    the transfer check (`total.py`); "bgnbd" never trains the ensemble; "ensemble" uses it for both whenever it can
    be trained. Each source is total-calibrated on the inner split.
    """
    from ml.models.clv.calibration import customer_scale, factor_spread, inner_split, total_factor
    from ml.models.clv.ensemble import fit_predict_ensemble  # deferred: only pay the LightGBM/XGBoost import if used
    from ml.models.clv.total import parameter_spread, total_interval, transfer_check

    if model not in MODEL_CHOICES:
        raise ValueError(f"model must be one of {MODEL_CHOICES}, got {model!r}")
    cal_end = pd.Timestamp(calibration_end).normalize()
    daily = daily_purchases(transactions)
    daily = daily[daily["date"] <= cal_end].reset_index(drop=True)
    if daily.empty:
        raise ValueError("no transactions on or before the calibration end")
    summary = rfm_summary(daily, cal_end, daily=daily)
    fit = fit_parametric(summary)
    expect = parametric_expectations(fit, summary, float(horizon_days))
    bg_value = expect["predicted_value"].to_numpy()
    q, variance = simulate_value_quantiles(fit, summary, float(horizon_days), draws=draws, seed=seed)
    param_sd = parameter_spread(summary, float(horizon_days), seed=seed)
    split = inner_split(daily, cal_end, int(horizon_days))
    if split is None:
        table = _table(summary, expect, bg_value, q)
        reason = "uncalibrated BG/NBD + Gamma-Gamma: too little history before the calibration end for an inner split"
        total = total_interval(float(bg_value.sum()), float(variance.sum()), param_sd, 0.0, 0.0)
        return LTVResult(table=table, fit=fit, value_source="bgnbd+gg", reason=reason, total=total)

    actual, bg_inner = split.actual, split.parametric_value()
    bg_factor = total_factor(actual, bg_inner)
    validation = {
        "inner_window_days": float(split.window_days),
        "inner_customers": float(len(actual)),
        "inner_mae_bgnbd_gg": float(np.mean(np.abs(bg_inner - actual))),
        "inner_deviance_bgnbd_gg": poisson_deviance(actual, bg_factor * bg_inner),
        "calibration_factor_bgnbd_gg": bg_factor,
    }
    shares, inner = {"bgnbd+gg": bg_value}, {"bgnbd+gg": bg_inner}
    levels = {"bgnbd+gg": bg_factor * float(bg_value.sum())}
    source = level = "bgnbd+gg"
    check = transfer_check(daily, cal_end, split.window_days, seed=seed, with_ensemble=model != "bgnbd")
    if model != "bgnbd":
        ens = fit_predict_ensemble(daily, split, int(horizon_days), summary, fit, seed=seed)
        ens_factor = total_factor(actual, ens.oof)
        validation.update(
            {
                "inner_mae_ensemble": ens.mae_ensemble,
                "inner_deviance_ensemble": poisson_deviance(actual, ens_factor * ens.oof),
                "calibration_factor_ensemble": ens_factor,
            }
        )
        shares["ensemble"], inner["ensemble"] = ens.predictions, ens.oof
        levels["ensemble"] = ens_factor * float(ens.predictions.sum())
        if model == "ensemble" or validation["inner_deviance_ensemble"] < validation["inner_deviance_bgnbd_gg"]:
            source = "ensemble"
        level = "ensemble" if model == "ensemble" or (check is not None and check.preferred() == "ensemble") else level
    if check is not None:
        validation.update(
            {
                "transfer_window_days": float(check.window_days),
                "transfer_log_error_ensemble": check.ensemble_error,
                "transfer_log_error_bgnbd_gg": check.parametric_error,
            }
        )
    value = shares[source]
    calibrated = value * (levels[level] / max(float(value.sum()), 1e-12))
    scale = customer_scale(calibrated, bg_value)
    transfer_sd = abs(check.error_of(level)) if check is not None and np.isfinite(check.error_of(level)) else 0.0
    total = total_interval(
        float(calibrated.sum()),
        float(variance @ scale**2),
        param_sd,
        factor_spread(split, inner[level], seed=seed),
        transfer_sd,
    )
    table = _table(summary, expect, calibrated, q * scale[:, None])
    factor = float(calibrated.sum() / max(float(value.sum()), 1e-12))
    verdict = "chosen" if source == "ensemble" else ("not trained" if model == "bgnbd" else "not chosen")
    reason = (
        f"{source} shares a total at the level of the calibrated {level} (x {factor:.3f} overall; calibration "
        f"learned on the last {split.window_days} days of the calibration window, {len(actual):,} customers"
        + (
            ""
            if check is None
            else f"; level transferred over {check.window_days} days: ensemble {check.ensemble_error:+.3f},"
            f" BG/NBD+GG {check.parametric_error:+.3f} log error"
        )
        + f"); ensemble {verdict}"
        + (
            ""
            if model == "bgnbd"
            else f" (inner Poisson deviance {validation['inner_deviance_ensemble']:.4g}"
            f" vs BG/NBD+GG {validation['inner_deviance_bgnbd_gg']:.4g})"
        )
    )
    return LTVResult(
        table=table,
        fit=fit,
        value_source=source,
        reason=reason,
        validation=validation,
        calibration_factor=factor,
        level_source=level,
        total=total,
    )


def _table(summary: pd.DataFrame, expect: pd.DataFrame, value: np.ndarray, quantiles: np.ndarray) -> pd.DataFrame:
    """The contract table (OUTPUT_COLUMNS), one row per calibration customer."""
    return pd.DataFrame(
        {
            "customer_id": summary.index.to_numpy(),
            "predicted_purchases": expect["predicted_purchases"].to_numpy(),
            "predicted_value": value,
            "value_p10": quantiles[:, 0],
            "value_p50": quantiles[:, 1],
            "value_p90": quantiles[:, 2],
            "p_alive": expect["p_alive"].to_numpy(),
        }
    )
