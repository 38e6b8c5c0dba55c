"""Check the price-of-scale model against the simulator's hidden truth (benchmarks and tests only: the truth
table is never a model input), so we know its curves bend the right way and by about the right amount."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.models.pricing.model import PricingModel
from ml.response_curves import ResponseCurves


def true_cpm_uplift(
    truth: pd.DataFrame, spend_low: np.ndarray, spend_high: np.ndarray, inventory_pressure: float
) -> np.ndarray:
    """log CPM(high) - log CPM(low) in the simulator: CPM scales with 1 + pressure * spend / inventory."""
    inventory = truth["inventory_daily_spend"].to_numpy(float)
    return np.log1p(inventory_pressure * spend_high / inventory) - np.log1p(inventory_pressure * spend_low / inventory)


def true_cpa_uplift(truth: pd.DataFrame, spend_low: np.ndarray, spend_high: np.ndarray) -> np.ndarray:
    """log CPA(high) - log CPA(low) in a neutral market: CPA = spend / Hill(spend) conversions."""
    k = truth["half_saturation_spend"].to_numpy(float)
    shape = truth["hill_shape"].to_numpy(float)

    share_of_max = ResponseCurves.hill(np.ones(len(k)), k, shape)  # conversions per unit of the maximum

    def log_cpa(s: np.ndarray) -> np.ndarray:
        return np.log(s) - np.log(share_of_max.value(s))

    return log_cpa(spend_high) - log_cpa(spend_low)


def scale_uplift_vs_truth(
    model: PricingModel, truth: pd.DataFrame, inventory_pressure: float, low: float = 0.5, high: float = 2.0
) -> pd.DataFrame:
    """Per campaign: predicted vs true log change of CPM and CPA when spend goes from ``low`` to ``high`` times
    the campaign's typical daily spend (neutral market)."""
    truth = truth.set_index("campaign_id").loc[model.typical_spend.index].reset_index()
    ids = truth["campaign_id"].to_numpy()
    typical = model.typical_spend.to_numpy(float)
    spends = np.column_stack([low * typical, high * typical])
    cpm, cpa = model.cpm_at(ids, spends), model.cpa_at(ids, spends)
    return pd.DataFrame(
        {
            "campaign_id": ids,
            "typical_spend": typical,
            "cpm_uplift_pred": np.log(cpm[:, 1] / cpm[:, 0]),
            "cpm_uplift_true": true_cpm_uplift(truth, spends[:, 0], spends[:, 1], inventory_pressure),
            "cpa_uplift_pred": np.log(cpa[:, 1] / cpa[:, 0]),
            "cpa_uplift_true": true_cpa_uplift(truth, spends[:, 0], spends[:, 1]),
        }
    )


def summarize_uplift(table: pd.DataFrame) -> dict[str, float]:
    """Direction agreement, correlation and mean absolute error of predicted vs true log uplifts."""
    out = {}
    for kpi in ("cpm", "cpa"):
        pred, true = table[f"{kpi}_uplift_pred"].to_numpy(), table[f"{kpi}_uplift_true"].to_numpy()
        out[f"{kpi}_direction_agreement"] = float(np.mean(np.sign(pred) == np.sign(true)))
        out[f"{kpi}_uplift_corr"] = float(np.corrcoef(pred, true)[0, 1]) if len(pred) > 2 else float("nan")
        out[f"{kpi}_uplift_mae"] = float(np.mean(np.abs(pred - true)))
    return out
