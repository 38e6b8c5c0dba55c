"""CLV holdout accuracy: `pmi ltv`'s calibrated value model against plain BG/NBD + Gamma-Gamma, side by side.

The standard exercise (Fader, Hardie & Lee 2005): calibrate on the first 39 weeks (1997-01-01 .. 1997-09-30),
predict each customer's spend in the next 39 weeks (to 1998-06-30), compare to what they did. Every model only
sees calibration transactions; the holdout is read for scoring alone.

Data sets: the CDNOW master log (the one used while choosing the loss, the calibration and the selection score:
tuning data), and logs drawn with fixed seeds from the published FHL CDNOW parameter sets (`synthetic.py`): a
BG/NBD population and a Pareto/NBD population (dropout at any time, which the BG/NBD does not describe), 10,000
customers each, same calendar; never used while tuning. Columns: MAE of the expected value (predicted_value) and
of the median (value_p50, the point that minimises absolute error), their ratio to BG/NBD+GG's MAE, the error of
the portfolio total, and the share of holdout actuals inside [p10, p90] (nominal 80%; inflated by the many exact
zeros) and above p90 (nominal 10%).

Run: `.venv/bin/python benchmarks/ltv_cdnow_bench.py [path/to/CDNOW_master.txt] [--seeds 1 2]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ml.models.clv.calibration import interval_report
from ml.models.clv.predict import fit_parametric, parametric_expectations, predict_ltv
from ml.models.clv.summary import daily_purchases, rfm_summary
from ml.models.clv.synthetic import LogSpec, simulate_log

DEFAULT_MASTER = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "cdnow" / "CDNOW_master.txt"
CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
HORIZON_DAYS = (HOLDOUT_END - CALIBRATION_END).days  # 273 = 39 weeks


def load_master(path: Path) -> pd.DataFrame:
    """CDNOW_master.txt: whitespace separated, header `customer_id date number_of_cds dollar_value`."""
    raw = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"].astype(float),
        }
    )


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
    return {
        "MAE": float(np.mean(np.abs(err))),
        "RMSE": float(np.sqrt(np.mean(err**2))),
        "norm. Gini": normalised_gini(actual, predicted),
        "total rel. err": float(predicted.sum() / actual.sum() - 1.0),
    }


def evaluate(name: str, tx: pd.DataFrame) -> dict[str, object]:
    """Fit on the calibration window, score on the holdout: one table row."""
    started = time.perf_counter()
    daily_all = daily_purchases(tx)
    truth = rfm_summary(daily_all, CALIBRATION_END, holdout_end=HOLDOUT_END, daily=daily_all)
    calibration = tx[tx["date"] <= CALIBRATION_END]  # no model below sees beyond this
    summary = rfm_summary(daily_purchases(calibration), CALIBRATION_END)
    assert summary.index.equals(truth.index)
    actual = truth["holdout_value"].to_numpy()
    baseline = parametric_expectations(fit_parametric(summary), summary, HORIZON_DAYS)["predicted_value"].to_numpy()
    result = predict_ltv(calibration, CALIBRATION_END, HORIZON_DAYS, model="auto", draws=500, seed=0)
    table = result.table.set_index("customer_id").reindex(truth.index)
    quantiles = table[["value_p10", "value_p50", "value_p90"]].to_numpy()
    mae_bg = float(np.mean(np.abs(baseline - actual)))
    mae_mean = float(np.mean(np.abs(table["predicted_value"].to_numpy() - actual)))
    mae_p50 = float(np.mean(np.abs(quantiles[:, 1] - actual)))
    intervals = interval_report(actual, quantiles)
    return {
        "data": name,
        "customers": len(actual),
        "mae_bg": mae_bg,
        "total_bg": baseline.sum() / actual.sum() - 1,
        "mae_mean": mae_mean,
        "mae_p50": mae_p50,
        "ratio_mean": mae_mean / mae_bg,
        "ratio_p50": mae_p50 / mae_bg,
        "total": table["predicted_value"].sum() / actual.sum() - 1,
        "source": result.value_source,
        "factor": result.calibration_factor,
        "gini": normalised_gini(actual, table["predicted_value"].to_numpy()),
        "gini_bg": normalised_gini(actual, baseline),
        **intervals,
        "seconds": time.perf_counter() - started,
    }


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"\n{'data':<26}{'BG MAE':>8}{'BG tot':>8} | {'MAE mean':>9}{'x BG':>6}{'MAE p50':>9}{'x BG':>6}"
        f"{'total':>8}{'cover':>7}{'>p90':>6} | {'source':>9}{'factor':>7}{'Gini':>6}{'BG':>6}{'s':>5}"
    )
    for r in rows:
        print(
            f"{r['data']:<26}{r['mae_bg']:>8.2f}{r['total_bg']:>+8.1%} | {r['mae_mean']:>9.2f}"
            f"{r['ratio_mean']:>6.3f}{r['mae_p50']:>9.2f}{r['ratio_p50']:>6.3f}{r['total']:>+8.1%}"
            f"{r['coverage']:>7.1%}{r['above_p90']:>6.1%} | {r['source']:>9.9}{r['factor']:>7.3f}{r['gini']:>6.3f}"
            f"{r['gini_bg']:>6.3f}{r['seconds']:>5.0f}"
        )


def main(path: Path, seeds: list[int], customers: int) -> None:
    rows = [evaluate("CDNOW master (tuning)", load_master(path))]
    print_table(rows)
    for process in ("bgnbd", "pareto_nbd"):
        for seed in seeds:
            tx = simulate_log(LogSpec(process=process, n_customers=customers), seed)
            rows.append(evaluate(f"FHL {process} seed {seed}", tx))
            print_table(rows[-1:])
    print("\nAll rows (BG = BG/NBD+GG expected value, uncalibrated; mean = pmi predicted_value; p50 = value_p50):")
    print_table(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("master", nargs="?", type=Path, default=DEFAULT_MASTER)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    main(args.master, args.seeds, args.customers)
