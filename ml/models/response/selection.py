"""Choosing a campaign's curve family by out-of-sample fit: blocked cross-validation over weeks.

Within the spend range a campaign has run, Hill, exponential and log curves often fit equally well in-sample
while disagreeing on how fast returns fall: exactly what a budget move depends on. Holding out whole weeks (so
weekday effects and day-to-day autocorrelation do not leak across the split) and scoring each family on the days
it did not see rewards the family that predicts, not the one the prior or the parameter count favours. Each fold
refits from the full-data MAP (one start), so a fold costs one or two Newton solves per family.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ml.models.response.estimation import CampaignData, FamilyFit, Prior, fit_family, log_mean
from ml.response_curves import CurveFamily

CV_FOLDS = 3
BLOCK_DAYS = 7


def fold_of_rows(n_rows: int, folds: int = CV_FOLDS, block: int = BLOCK_DAYS) -> np.ndarray:
    """Fold of each row (rows are a campaign's days in order): consecutive blocks of ``block`` days, dealt to
    ``folds`` folds in turn; with too few rows for ``folds`` whole blocks, shorter blocks."""
    size = min(block, max(n_rows // folds, 1))
    return (np.arange(n_rows) // size) % folds


def _subset(data: CampaignData, rows: np.ndarray) -> CampaignData:
    return CampaignData(data.u[rows], data.conversions[rows], data.offset[rows], data.reference_spend)


def heldout_scores(
    data: CampaignData,
    fits: dict[CurveFamily, FamilyFit],
    priors: dict[CurveFamily, Prior],
    dispersion: float,
    folds: int = CV_FOLDS,
) -> dict[CurveFamily, float]:
    """Held-out quasi-Poisson negative log-likelihood per family (lower is better), summed over the folds.

    Poisson log-likelihood over the dispersion: the same scale the fit uses, so over-dispersed campaigns do not
    let a few noisy days decide. Families whose fold fit fails score infinity.
    """
    fold = fold_of_rows(len(data.conversions), folds)
    scores = dict.fromkeys(fits, 0.0)
    y = data.conversions
    for f in range(folds):
        train, test = fold != f, fold == f
        if test.sum() == 0 or train.sum() < 3:
            continue
        for family, full in fits.items():
            fit = fit_family(
                family, _subset(data, train), priors[family], dispersion, log_k_starts=(0.0,), start=full.theta
            )
            mu = np.exp(log_mean(family, _subset(data, test), fit.theta)[0])
            loss = np.sum(mu - special.xlogy(y[test], mu) + special.gammaln(y[test] + 1.0)) / dispersion
            scores[family] += float(loss) if np.isfinite(loss) else np.inf
    return scores
