"""CLV on real data: BG/NBD + Gamma-Gamma against the boosted ensemble on the CDNOW master log.

The standard exercise (Fader, Hardie & Lee 2005): calibrate on the first 39 weeks (1997-01-01 .. 1997-09-30),
predict each customer's spend in the next 39 weeks (to 1998-06-30), compare to what they did. Both models only
see calibration transactions; the holdout is read for scoring alone.

Run: `.venv/bin/python benchmarks/ltv_cdnow_bench.py [path/to/CDNOW_master.txt]`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ml.models.clv.ensemble import fit_predict_ensemble
from ml.models.clv.predict import fit_parametric, parametric_expectations, simulate_value_quantiles
from ml.models.clv.summary import daily_purchases, rfm_summary

DEFAULT_MASTER = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "cdnow" / "CDNOW_master.txt"
CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
HORIZON_DAYS = (HOLDOUT_END - CALIBRATION_END).days  # 273 = 39 weeks


def load_master(path: Path) -> pd.DataFrame:
    """CDNOW_master.txt: whitespace separated, header `customer_id date number_of_cds dollar_value`."""
    raw = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return pd.DataFrame({"customer_id": raw["customer_id"], "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                         "amount": raw["dollar_value"].astype(float)})


def normalised_gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Gini of `actual` ordered by `predicted`, divided by the Gini of the perfect ordering (1 = perfect ranking).

    Tied predictions get their average rank, so the score does not depend on row order.
    """
    def gini(order_by: np.ndarray) -> float:
        n = len(actual)
        ranks = rankdata(order_by)  # ascending, ties averaged
        return float((actual @ ranks / actual.sum() - (n + 1) / 2) / n)

    return gini(predicted) / gini(actual)


def metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    err = predicted - actual
    return {"MAE": float(np.mean(np.abs(err))), "RMSE": float(np.sqrt(np.mean(err ** 2))),
            "norm. Gini": normalised_gini(actual, predicted),
            "total rel. err": float(predicted.sum() / actual.sum() - 1.0)}


def main(path: Path) -> None:
    started = time.perf_counter()
    tx = load_master(path)
    daily_all = daily_purchases(tx)
    truth = rfm_summary(daily_all, CALIBRATION_END, holdout_end=HOLDOUT_END, daily=daily_all)
    daily = daily_all[daily_all["date"] <= CALIBRATION_END].reset_index(drop=True)  # models never see beyond
    summary = rfm_summary(daily, CALIBRATION_END, daily=daily)
    assert summary.index.equals(truth.index)
    print(f"CDNOW master: {len(tx):,} transactions, {len(summary):,} customers, calibration to "
          f"{CALIBRATION_END.date()}, holdout {HORIZON_DAYS} days to {HOLDOUT_END.date()}")

    t0 = time.perf_counter()
    fit = fit_parametric(summary)
    expect = parametric_expectations(fit, summary, HORIZON_DAYS)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    quant = simulate_value_quantiles(fit, summary, HORIZON_DAYS, draws=500, seed=0)
    t_mc = time.perf_counter() - t0
    t0 = time.perf_counter()
    ens = fit_predict_ensemble(daily, CALIBRATION_END, HORIZON_DAYS, summary, fit, seed=0)
    t_ens = time.perf_counter() - t0
    ens_poisson = fit_predict_ensemble(daily, CALIBRATION_END, HORIZON_DAYS, summary, fit, seed=0, loss="poisson")
    assert ens is not None and ens_poisson is not None

    bg = fit.bgnbd
    gg = fit.gamma_gamma
    print(f"\nBG/NBD (days):  r={bg.r:.4f} alpha={bg.alpha:.3f} (= {bg.alpha / 7:.3f} weeks) a={bg.a:.4f} "
          f"b={bg.b:.4f} LL={bg.log_likelihood:.1f}")
    print(f"Gamma-Gamma:    p={gg.p:.4f} q={gg.q:.4f} gamma={gg.gamma:.4f} on {gg.n_customers:,} repeat buyers "
          f"(LL={gg.log_likelihood:.1f})")
    print(f"Timings: parametric fit {t_fit:.2f} s, Monte Carlo 500 draws {t_mc:.2f} s, ensemble {t_ens:.2f} s")
    print(f"Inner split: {ens.n_train:,} customers, {ens.inner_window_days}-day window; out-of-fold MAE "
          f"BG/NBD+GG {ens.mae_parametric:.3f}, ensemble {ens.mae_ensemble:.3f} (sum of predictions / actual "
          f"{ens.total_ratio:.3f}), Poisson variant {ens_poisson.mae_ensemble:.3f} ({ens_poisson.total_ratio:.3f})"
          f" -> CLI uses {'ensemble' if ens.mae_ensemble < ens.mae_parametric else 'BG/NBD+GG'}")

    actual = truth["holdout_value"].to_numpy()
    rows = {"BG/NBD+GG": metrics(actual, expect["predicted_value"].to_numpy()),
            "ensemble": metrics(actual, ens.predictions),
            "ens. Poisson": metrics(actual, ens_poisson.predictions)}
    print(f"\nHoldout spend per customer (actual total {actual.sum():,.2f}, mean {actual.mean():.3f}, "
          f"{(actual == 0).mean():.1%} spend nothing)")
    print(f"{'metric':<16}" + "".join(f"{name:>14}" for name in rows))
    for metric in rows["BG/NBD+GG"]:
        print(f"{metric:<16}" + "".join(f"{rows[name][metric]:>14.4f}" for name in rows))

    purchases = truth["holdout_purchases"].to_numpy()
    pred_p = expect["predicted_purchases"].to_numpy()
    print(f"\nBG/NBD purchases: predicted total {pred_p.sum():,.0f} vs actual {purchases.sum():,.0f}, "
          f"MAE {np.mean(np.abs(pred_p - purchases)):.4f}")
    inside = np.mean((actual >= quant[:, 0]) & (actual <= quant[:, 2]))
    print(f"Monte Carlo interval [p10, p90] covers {inside:.1%} of customers' holdout spend; "
          f"p10 = 0 for {(quant[:, 0] == 0).mean():.1%}, p50 = 0 for {(quant[:, 1] == 0).mean():.1%}")
    print(f"Total wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MASTER)
