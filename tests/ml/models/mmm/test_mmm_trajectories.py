"""Spend trajectories and scenarios per channel reconcile with the fitted model's own predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.allocation.trajectories import SPEND_MULTIPLES
from ml.models.mmm.allocation import current_spend
from ml.models.mmm.data import MediaData
from ml.models.mmm.trajectories import channel_scenarios, channel_trajectories

LONG_RUN = 200  # periods of constant spend: adstock has settled long before the last one


def constant_spend_prediction(result, spend: np.ndarray) -> np.ndarray:
    """Each channel's contribution in the last of 200 periods of constant ``spend``, from the model's decomposition."""
    data = result.data
    dates = pd.date_range(data.dates[-1], periods=LONG_RUN, freq="7D")
    constant = MediaData(
        dates,
        np.zeros(LONG_RUN),
        np.tile(spend, (LONG_RUN, 1)),
        np.tile(data.controls[-1], (LONG_RUN, 1)),
        data.channels,
        data.control_names,
    )
    return result.decomposition(constant)[list(result.channels)].to_numpy()[-1]


def test_the_trajectory_at_current_spend_is_the_current_spend_prediction(synthetic):
    _, _, result = synthetic
    current = current_spend(result)
    frame = channel_trajectories(result, current)
    at_current = frame[frame["spend_multiple"] == 1.0].set_index("channel").loc[list(result.channels)]
    np.testing.assert_allclose(at_current["spend"], current)
    np.testing.assert_allclose(at_current["outcome"], constant_spend_prediction(result, current), rtol=1e-6)
    tripled = frame[frame["spend_multiple"] == 3.0].set_index("channel").loc[list(result.channels)]
    np.testing.assert_allclose(tripled["outcome"], constant_spend_prediction(result, 3 * current), rtol=1e-6)


def test_trajectories_rise_with_spend_and_price_the_outcome(synthetic):
    _, _, result = synthetic
    frame = channel_trajectories(result, current_spend(result), value_per_outcome=2.0)
    assert len(frame) == len(result.channels) * len(SPEND_MULTIPLES)
    for _, channel in frame.groupby("channel"):
        assert (np.diff(channel.sort_values("spend")["outcome"].to_numpy()) >= 0).all()
    np.testing.assert_allclose(frame["revenue"], 2.0 * frame["outcome"])
    np.testing.assert_allclose(frame["profit"], frame["revenue"] - frame["spend"])
    np.testing.assert_allclose(frame["roas"], frame["revenue"] / frame["spend"])
    assert (frame["outcome_lower"] <= frame["outcome_upper"]).all() and (frame["marginal_roas"] >= 0).all()


def test_scenarios_match_the_trajectory_at_their_budget(synthetic):
    _, _, result = synthetic
    current = current_spend(result)
    trajectory = channel_trajectories(result, current).set_index(["channel", "spend_multiple"])
    scenarios = channel_scenarios(result, current).set_index(["channel", "scenario"])
    for channel in result.channels:
        for name, multiple in (("baseline", 1.0), ("over_scaled", 3.0)):
            row, expected = scenarios.loc[(channel, name)], trajectory.loc[(channel, multiple)]
            assert row["outcome"] == expected["outcome"] and row["profit"] == expected["profit"]
        pessimistic, baseline = scenarios.loc[(channel, "pessimistic")], scenarios.loc[(channel, "baseline")]
        assert pessimistic["spend"] == 0.8 * baseline["spend"]
        assert pessimistic["revenue"] == pytest.approx(0.85 * pessimistic["outcome"])  # value per outcome -15%
        assert pessimistic["outcome"] * 1.2 <= baseline["outcome"]  # less spend, cost per outcome +20%
