"""Lift tests pull a channel's estimate toward the experiment; bad lift-test rows are refused naming row and column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.mmm import MmmConfig, MmmInputError, fit_mmm, lift_tests, media_data

WINDOW = slice(60, 72)


def _window_contribution(result, channel: str) -> float:
    return float(result.decomposition()[channel].iloc[WINDOW].sum())


def test_lift_test_moves_channel_estimate_toward_experiment(synthetic):
    data, _, uncalibrated = synthetic
    channel = data.channels[0]
    before = _window_contribution(uncalibrated, channel)
    measured = 1.6 * before  # an experiment that disagrees with the uncalibrated model
    table = pd.DataFrame(
        {
            "channel": [channel],
            "start": [data.dates[WINDOW.start]],
            "end": [data.dates[WINDOW.stop - 1]],
            "lift": [measured],
            "lift_se": [0.03 * measured],
        }
    )
    calibrated = fit_mmm(data, MmmConfig(n_bootstrap=0), lift_tests(table, data))
    after = _window_contribution(calibrated, channel)
    assert abs(after - measured) < 0.5 * abs(before - measured)
    # a vague experiment (huge SE) leaves the estimate where the data put it
    vague = table.assign(lift_se=100.0 * measured)
    loose = fit_mmm(data, MmmConfig(n_bootstrap=0), lift_tests(vague, data))
    assert abs(_window_contribution(loose, channel) / before - 1.0) < 0.05
    # without a bootstrap every parameter still has its estimate, and no interval (not a crash)
    params = calibrated.parameters()
    assert len(params) == len(data.channels) * params["parameter"].nunique()
    assert params["estimate"].notna().all() and params[["lower", "upper"]].isna().all().all()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("channel", "tv", "row 1, column 'channel': unknown channel 'tv'"),
        ("lift_se", 0.0, "row 1, column 'lift_se': expected a number > 0"),
        ("start", "not a date", "row 1, column 'start': not a date"),
        ("start", "1990-01-01", "row 1, column 'start': no period"),
    ],
)
def test_bad_lift_test_rows_name_row_and_column(synthetic, column, value, message):
    data = synthetic[0]
    row = {
        "channel": data.channels[0],
        "start": str(data.dates[10].date()),
        "end": str(data.dates[14].date()),
        "lift": 100.0,
        "lift_se": 10.0,
    }
    if column == "start" and value == "1990-01-01":
        row["end"] = "1990-02-01"
    row[column] = value
    with pytest.raises(MmmInputError, match=message):
        lift_tests(pd.DataFrame([row]), data, "lifts.csv")


def test_negative_spend_is_refused_naming_row_and_column():
    frame = pd.DataFrame(
        {"week": pd.date_range("2024-01-07", periods=3, freq="7D"), "sales": [1.0, 2.0, 3.0], "tv": [1.0, -5.0, 2.0]}
    )
    with pytest.raises(MmmInputError, match="media.csv: row 2, column 'tv': expected a finite number >= 0"):
        media_data(frame, date="week", outcome="sales", spend=["tv"], controls=[], source="media.csv")
    assert np.isfinite(frame["sales"]).all()
