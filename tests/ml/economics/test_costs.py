"""Cost accounting: every line adds up, and the rates of docs/contract.md §2 are the defaults."""

from __future__ import annotations

import numpy as np
import pytest

from ml.economics.costs import CostConfig, unit_economics


def test_cost_lines_sum_to_total_and_match_the_seed_rates():
    config = CostConfig()
    lines = config.breakdown(
        spend=[1000.0, 1000.0, 0.0], has_agency=[True, False, True], creative_production_cost=[3000.0, 3000.0, 3000.0]
    )
    components = [v for k, v in lines.items() if k != "total_cost"]
    np.testing.assert_allclose(sum(components), lines["total_cost"])
    # 1000 media + 2% attribution + 15% agency + 100/day creative + 1% infra + 2% team
    np.testing.assert_allclose(lines["total_cost"], [1000 + 20 + 150 + 100 + 10 + 20, 1000 + 20 + 100 + 10 + 20, 0.0])
    assert config.overhead_pct == pytest.approx(0.05)


def test_unit_economics_chain():
    out = unit_economics(
        spend=[1000.0, 0.0], conversions=[50.0, 0.0], value_per_conversion=[30.0, 30.0], total_cost=[1200.0, 0.0]
    )
    np.testing.assert_allclose(out["revenue"], [1500.0, 0.0])
    assert out["cpa"][0] == 20.0 and np.isnan(out["cpa"][1])
    assert out["roas"][0] == 1.5 and out["roi"][0] == pytest.approx(0.25) and out["profit"][0] == 300.0
