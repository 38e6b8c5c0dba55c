"""Family choice by held-out weeks: whole weeks are held out, and the family that generated the data predicts best."""

from __future__ import annotations

import numpy as np

from ml.models.response.estimation import CampaignData, Prior, fit_family
from ml.models.response.selection import fold_of_rows, heldout_scores
from ml.response_curves import CurveFamily


def test_folds_hold_out_whole_weeks_in_turn():
    assert list(fold_of_rows(21)) == [0] * 7 + [1] * 7 + [2] * 7
    folds = fold_of_rows(180)
    assert np.all(folds[:7] == 0) and np.all(folds[7:14] == 1) and np.all(folds[21:28] == 0)
    assert set(fold_of_rows(9)) == {0, 1, 2}  # too short for weeks: shorter blocks, every fold used


def test_the_generating_family_predicts_held_out_weeks_best():
    rng = np.random.default_rng(3)
    wins = 0
    for trial in range(5):
        u = np.exp(rng.uniform(-1.5, 1.5, 120))  # spend relative to its mean, widely varied
        log, exponential = CurveFamily.LOG, CurveFamily.EXPONENTIAL
        family, other = (log, exponential) if trial % 2 else (exponential, log)
        mean = 40 * (np.log1p(u / 0.5) if family == log else -np.expm1(-u / 0.5))
        data = CampaignData(u, rng.poisson(mean).astype(float), np.zeros(len(u)), 1.0)
        prior = Prior(np.zeros(2), np.array([1e-4, 1.5**-2]))
        fits = {f: fit_family(f, data, prior) for f in (family, other)}
        scores = heldout_scores(data, fits, {f: prior for f in fits}, 1.0)
        wins += scores[family] < scores[other]
    assert wins == 5
