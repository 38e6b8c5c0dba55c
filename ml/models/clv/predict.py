"""The `pmi ltv` output table: expected purchases, value, P(alive) and an honest value distribution per customer.

- predicted_purchases and p_alive come from the BG/NBD; expected value per purchase from the Gamma-Gamma.
- value_p10/p50/p90 come from Monte Carlo draws of the joint posterior predictive (alive or not, how many
  purchases, how much each), because the value distribution is a zero-inflated mixture whose quantiles have no
  closed form, and a normal approximation around the mean would hide that most customers buy nothing (p10 = 0).
- predicted_value is BG/NBD x Gamma-Gamma unless the gradient-boosted ensemble (`ensemble.py`) beats it on an
  inner time split of the calibration period; the quantiles always describe the probabilistic model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.models.clv.bgnbd import BGNBDParams, expected_purchases, fit_bgnbd, p_alive, sample_purchases
from ml.models.clv.gamma_gamma import GammaGammaParams, expected_spend, fit_gamma_gamma, sample_spend
from ml.models.clv.summary import daily_purchases, rfm_summary

OUTPUT_COLUMNS = ["customer_id", "predicted_purchases", "predicted_value", "value_p10", "value_p50", "value_p90",
                  "p_alive"]
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
    return pd.DataFrame({"predicted_purchases": purchases, "expected_spend": spend,
                         "predicted_value": purchases * spend, "p_alive": p_alive(fit.bgnbd, x, t_x, T)},
                        index=summary.index)


def simulate_value_quantiles(fit: ParametricFit, summary: pd.DataFrame, horizon: float, draws: int = 500,
                             seed: int = 0, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
                             chunk_cells: int = 2_000_000) -> np.ndarray:
    """Quantiles of window value per customer from `draws` posterior-predictive draws, shape (n, len(quantiles)).

    Customers are processed in chunks of about `chunk_cells` draws so memory stays bounded on large logs; the
    generator is seeded once, so results are reproducible for a given seed, data and chunk size.
    """
    rng = np.random.default_rng(seed)
    x, t_x, T, zbar = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    n = len(x)
    out = np.empty((n, len(quantiles)))
    step = max(1, chunk_cells // max(draws, 1))
    for lo in range(0, n, step):
        sl = slice(lo, min(lo + step, n))
        counts = sample_purchases(fit.bgnbd, horizon, x[sl], t_x[sl], T[sl], draws, rng)
        value = sample_spend(fit.gamma_gamma, counts, x[sl], zbar[sl], rng)
        out[sl] = np.quantile(value, quantiles, axis=1).T
    return out


@dataclass
class LTVResult:
    """What `predict_ltv` returns: the output table plus what was fitted and chosen, for logs and reports."""

    table: pd.DataFrame
    fit: ParametricFit
    value_source: str  # "ensemble" or "bgnbd+gg"
    reason: str
    validation: dict[str, float] = field(default_factory=dict)


def predict_ltv(transactions: pd.DataFrame, calibration_end: pd.Timestamp | str, horizon_days: int,
                model: str = "auto", draws: int = 500, seed: int = 0) -> LTVResult:
    """Predict every calibration customer's purchases and value in (calibration_end, calibration_end + horizon].

    Only transactions on or before `calibration_end` are read. `model`: "auto" uses the ensemble when it beats
    BG/NBD+GG on the inner split (MAE), "bgnbd" never trains it, "ensemble" uses it whenever it can be trained.
    """
    from ml.models.clv.ensemble import fit_predict_ensemble  # deferred: only pay the LightGBM/XGBoost import if used

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
    q = simulate_value_quantiles(fit, summary, float(horizon_days), draws=draws, seed=seed)
    table = pd.DataFrame({
        "customer_id": summary.index.to_numpy(),
        "predicted_purchases": expect["predicted_purchases"].to_numpy(),
        "predicted_value": expect["predicted_value"].to_numpy(),
        "value_p10": q[:, 0], "value_p50": q[:, 1], "value_p90": q[:, 2],
        "p_alive": expect["p_alive"].to_numpy(),
    })
    source, reason, validation = "bgnbd+gg", "BG/NBD + Gamma-Gamma requested", {}
    if model != "bgnbd":
        ens = fit_predict_ensemble(daily, cal_end, int(horizon_days), summary, fit, seed=seed)
        if ens is None:
            reason = "too little history before the calibration end to train the ensemble on an inner time split"
        else:
            validation = {"inner_window_days": float(ens.inner_window_days), "inner_customers": float(ens.n_train),
                          "inner_mae_ensemble": ens.mae_ensemble, "inner_mae_bgnbd_gg": ens.mae_parametric,
                          "inner_total_ratio_ensemble": ens.total_ratio}
            better = ens.mae_ensemble < ens.mae_parametric
            if model == "ensemble" or better:
                table["predicted_value"] = ens.predictions
                source = "ensemble"
            verdict = "beats" if better else "does not beat"
            reason = (f"ensemble {verdict} BG/NBD+GG on the inner split (MAE {ens.mae_ensemble:.4g} vs "
                      f"{ens.mae_parametric:.4g}, ensemble total {ens.total_ratio:.0%} of actual; "
                      f"{ens.n_train} customers, {ens.inner_window_days}-day window)")
    return LTVResult(table=table, fit=fit, value_source=source, reason=reason, validation=validation)
