"""`pmi allocate` on the shared Facebook ads export, mapped to a history by `examples/facebook_ads/to_history.py`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from allocate_helpers import run_cli

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "facebook_ads" / "to_history.py"
_spec = importlib.util.spec_from_file_location("facebook_to_history", EXAMPLE)
to_history = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(to_history)  # type: ignore[union-attr]

pytestmark = pytest.mark.skipif(not to_history.SOURCE.is_file(), reason="shared Facebook dataset not available")


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    frame = to_history.facebook_history(pd.read_csv(to_history.SOURCE))
    path = tmp_path_factory.mktemp("facebook") / "fb_history.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_mapping_gives_one_dated_row_per_ad(history):
    _, frame = history
    assert len(frame) == 625 and frame["campaign_id"].nunique() == 8
    assert not frame.duplicated(["campaign_id", "date"]).any()
    assert (frame.groupby("campaign_id")["date"].max() == to_history.DEFAULT_END_DATE).all()
    assert frame["spend"].sum() == pytest.approx(55_662, rel=1e-3)


def test_allocation_is_sensible_and_every_constraint_holds(history, tmp_path):
    path, frame = history
    roas = frame.groupby("campaign_id")[["revenue", "spend"]].sum().eval("revenue / spend").sort_values()
    worst, best = roas.index[0], roas.index[-1]
    locked, capped, floored = roas.index[3], roas.index[4], roas.index[1]
    pd.DataFrame(
        {
            "campaign_id": [locked, capped, floored],
            "locked": ["yes", "", ""],
            "max_budget": [np.nan, 20.0, np.nan],
            "min_budget": [np.nan, np.nan, 1.0],
        }
    ).to_csv(tmp_path / "constraints.csv", index=False)
    budget = 600.0
    code, stdout, err = run_cli(
        [
            "--history",
            str(path),
            "--total-budget",
            f"{budget}",
            "--out",
            str(tmp_path / "out.csv"),
            "--constraints",
            str(tmp_path / "constraints.csv"),
            "--exploration",
            "thompson",
            "--seed",
            "1",
        ]
    )
    assert code == 0, err
    table = pd.read_csv(tmp_path / "out.csv").set_index("campaign_id")
    rec, cur = table["recommended_budget"], table["current_budget"]
    assert rec.sum() <= budget * (1 + 1e-12)
    assert (np.abs(rec / cur - 1.0) <= 0.25 + 1e-9).all()
    assert rec[locked] == cur[locked]
    assert rec[capped] <= max(20.0, 0.75 * cur[capped]) + 1e-9
    assert rec[floored] >= 1.0 - 1e-9
    # Money moves from the worst return on spend to the best.
    assert table.loc[best, "action"] == "scale_up" and table.loc[worst, "action"] in {"reduce", "pause"}
    assert table["reason"].str.len().gt(20).all()


def test_ad_sets_as_campaigns_have_too_few_observations(tmp_path):
    frame = to_history.facebook_history(pd.read_csv(to_history.SOURCE), by="adset")
    frame.to_csv(tmp_path / "adsets.csv", index=False)
    code, _, err = run_cli(
        ["--history", str(tmp_path / "adsets.csv"), "--total-budget", "500", "--out", str(tmp_path / "out.csv")]
    )
    assert code == 2 and "column date" in err and "at least 7" in err
