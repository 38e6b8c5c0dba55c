"""Small simulations shared by the simulator tests."""

from __future__ import annotations

import datetime as dt

import pytest

from ml.simulation import SimulationConfig

SMALL = {"n_campaigns": 6, "days": 21, "end_date": dt.date(2026, 10, 1), "seed": 11}


@pytest.fixture(scope="module")
def small_config() -> SimulationConfig:
    return SimulationConfig(**SMALL)
