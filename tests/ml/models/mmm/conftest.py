"""One synthetic channel data set with known adstock and saturation, fitted once per module (small bootstrap)."""

from __future__ import annotations

import pytest

from ml.models.mmm import MmmConfig, fit_mmm
from ml.models.mmm.synthetic import synthetic_media

SEED = 1  # a development seed of benchmarks/mmm_recovery_bench.py
CONFIG = MmmConfig(n_bootstrap=30, seed=0)


@pytest.fixture(scope="module")
def synthetic():
    """(data, truth, fitted result) for 3 channels x 156 weeks."""
    data, truth = synthetic_media(SEED)
    return data, truth, fit_mmm(data, CONFIG)
