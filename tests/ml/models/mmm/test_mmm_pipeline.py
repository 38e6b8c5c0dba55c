"""A channel-level file end to end, as a user runs it: `pmi ingest` (spend per channel, total outcome, controls)
-> `pmi run --source warehouse` chooses the media-mix path and says so, writes the channel tables and the dashboard's
channel sections; a re-run of the step is idempotent; a campaign-level home never takes this path.

The file is synthetic (``ml/models/mmm/synthetic.py``: known adstock and saturation), so the lift test fed to the run
is the channel's true contribution and the tables can be checked against the model's own identities.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.cli.errors import BadInputError
from ml.ingest.run import ingest
from ml.models.mmm import MmmConfig
from ml.models.mmm.synthetic import synthetic_media
from ml.models.mmm.warehouse import OUTPUT_TABLES, channel_level_reason, run_media_mix
from ml.settings import pmi_paths

ROOT = Path(__file__).resolve().parents[4]
MAX_CHANGE = 0.25
CHANNELS = ("search", "social", "tv")


def write_channel_files(folder: Path, seed: int = 3) -> pd.DataFrame:
    """A wide weekly file (date, spend per channel, sales, one control), its campaigns file and mapping."""
    data, truth = synthetic_media(seed, periods=130)
    frame = pd.DataFrame({"week_start": data.dates.strftime("%Y-%m-%d")})
    for c, name in enumerate(CHANNELS):
        frame[f"spend_{name}"] = data.spend[:, c].round(2)
    frame["sales"] = data.outcome.round(2)
    frame["price_index"] = data.controls[:, 0]
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "weekly.csv", index=False)
    campaigns = pd.DataFrame(
        {
            "campaign_id": CHANNELS,
            "name": [f"{c} channel" for c in CHANNELS],
            "network": CHANNELS,
            "platform": "web",
            "geo": "US",
            "creative_format": "mixed",
            "targeting": "broad",
            "has_agency": False,
            "creative_production_cost": 0,
            "auto_optimization_enabled": False,
            "launched_at": frame["week_start"].iloc[0],
        }
    )
    campaigns.to_csv(folder / "campaigns.csv", index=False)
    groups = "\n".join(f"    {c}: {{spend: spend_{c}}}" for c in CHANNELS)
    (folder / "mapping.yaml").write_text(
        "daily:\n  columns: {date: week_start}\n  constants: {clicks: 0, conversions: 0, revenue: 0, impressions: 0}\n"
        f"  campaigns_from_columns:\n{groups}\n  total_outcome: sales\n  controls: [price_index]\n"
    )
    # one experiment on search over the whole history, measuring its true contribution
    lift = truth.contribution[:, 0].sum()
    pd.DataFrame(
        [
            {
                "channel": "search",
                "start": frame["week_start"].iloc[0],
                "end": frame["week_start"].iloc[-1],
                "lift": lift,
                "lift_se": 0.05 * lift,
            }
        ]  # fmt: skip
    ).to_csv(folder / "lift.csv", index=False)
    return frame


def pmi(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PMI_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "ml.cli.main", *args, "--home", str(home)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )


def query(home: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def channel_home(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame, subprocess.CompletedProcess[str]]:
    work = tmp_path_factory.mktemp("channel_home")
    folder, home = work / "files", work / "home"
    frame = write_channel_files(folder)
    ingested = pmi(
        "ingest",
        "--campaigns",
        str(folder / "campaigns.csv"),
        "--daily",
        str(folder / "weekly.csv"),
        "--mapping",
        str(folder / "mapping.yaml"),
        home=home,
    )
    assert ingested.returncode == 0, ingested.stderr
    run = pmi(
        "run", "--source", "warehouse", "--mmm-bootstrap", "12", "--lift-tests", str(folder / "lift.csv"), home=home
    )
    return home, folder, frame, run


def test_run_chooses_the_media_mix_path_and_says_why(channel_home):
    home, _, _, run = channel_home
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = " ".join(run.stdout.split())
    assert (
        "Path: media-mix model, because the home holds 3 channels with spend and only a total outcome over 130 "
        "periods (no conversions per channel)" in out
    )
    assert re.search(r"Media-mix model \(geometric adstock, 130 periods, 1 lift tests\): R² 0\.\d+", out)
    assert "not applied to raw.budgets" in out


def test_ingest_kept_the_total_outcome_and_controls(channel_home):
    home, _, frame, _ = channel_home
    outcomes = query(home, "SELECT period_date, outcome FROM raw.period_outcomes ORDER BY period_date")
    np.testing.assert_allclose(outcomes["outcome"], frame["sales"])
    controls = query(home, "SELECT value FROM raw.period_controls ORDER BY period_date")
    np.testing.assert_allclose(controls["value"], frame["price_index"])
    assert len(query(home, "SELECT * FROM raw.lift_tests")) == 1


def test_contributions_reconcile_with_the_fitted_outcome(channel_home):
    home, _, frame, _ = channel_home
    long = query(home, "SELECT period_date, component, value FROM predictions.channel_decomposition")
    wide = long.pivot(index="period_date", columns="component", values="value")
    np.testing.assert_allclose(wide["baseline"] + wide[list(CHANNELS)].sum(axis=1), wide["fitted"], rtol=1e-9)
    np.testing.assert_allclose(wide["actual"].to_numpy(), frame["sales"].to_numpy())
    contributions = query(home, "SELECT * FROM predictions.channel_contributions").set_index("channel")
    np.testing.assert_allclose(contributions.loc[list(CHANNELS), "contribution"], wide[list(CHANNELS)].sum(axis=0))
    np.testing.assert_allclose(contributions["roas"], contributions["contribution"] / contributions["spend"])
    fit = query(home, "SELECT * FROM predictions.channel_fit").iloc[0]
    assert fit["lift_tests"] == 1 and fit["r2"] > 0.5
    assert np.isfinite(fit["holdout_nrmse"]) and np.isfinite(fit["baseline_holdout_nrmse"])


def test_allocation_conserves_the_budget_within_the_change_limit(channel_home):
    home, _, frame, _ = channel_home
    plan = query(home, "SELECT * FROM predictions.channel_allocation").set_index("channel")
    current = frame[[f"spend_{c}" for c in CHANNELS]].tail(4).mean().to_numpy()  # mean of the last 4 periods
    np.testing.assert_allclose(plan.loc[list(CHANNELS), "current_budget"], current, rtol=1e-9)
    assert plan["recommended"].sum() == pytest.approx(current.sum(), rel=1e-6)
    assert (plan["recommended"] >= 0).all()
    moved = (plan["recommended"] - plan["current_budget"]).abs()
    assert (moved <= MAX_CHANGE * plan["current_budget"] + 1e-6).all()
    assert (plan["outcome_lower"] <= plan["outcome_upper"]).all()


def test_dashboard_has_the_channel_sections(channel_home, browser_check, tmp_path):
    home, _, _, _ = channel_home
    page = home / "dashboard" / "index.html"
    text = page.read_text(encoding="utf-8")
    for section in ("channels", "channel-allocation"):
        assert f'<section id="{section}" class="pmi-section">' in text
    assert "Out-of-sample NRMSE" in text and "current vs recommended" in text
    report = browser_check(page, tmp_path)
    assert report["errors"] == []
    charts = {c["id"]: c for c in report["charts"]}
    for chart in ("chart-channel-roas", "chart-channel-allocation"):
        assert charts[chart]["rendered"] and min(charts[chart]["traces"]) >= 1


def test_rerunning_the_step_replaces_its_tables(channel_home):
    home, _, _, _ = channel_home
    paths = pmi_paths(str(home))
    before = {t: query(home, f"SELECT * FROM predictions.{t}") for t in OUTPUT_TABLES}
    run_media_mix(paths, MmmConfig(n_bootstrap=12), MAX_CHANGE)  # lift tests now from raw.lift_tests
    after = {t: query(home, f"SELECT * FROM predictions.{t}") for t in OUTPUT_TABLES}
    for table in OUTPUT_TABLES:
        assert len(after[table]) == len(before[table]), table
        assert after[table]["run_id"].nunique() == 1
    same = ["channel", "contribution", "roas_lower", "roas_upper"]
    pd.testing.assert_frame_equal(after["channel_contributions"][same], before["channel_contributions"][same])
    assert after["channel_fit"]["lift_tests"].iloc[0] == 1


def test_a_campaign_level_home_keeps_its_path(tmp_path, channel_home):
    assert channel_level_reason(pmi_paths(str(tmp_path / "empty"))) is None
    _, folder, _, _ = channel_home
    home = tmp_path / "with_conversions"
    mapping = (folder / "mapping.yaml").read_text().replace("conversions: 0", "conversions: 3")
    (tmp_path / "mapping.yaml").write_text(
        mapping.replace("clicks: 0", "clicks: 5").replace("impressions: 0", "impressions: 90")
    )
    ingest(
        pmi_paths(str(home)),
        {"campaigns": folder / "campaigns.csv", "daily": folder / "weekly.csv"},
        tmp_path / "mapping.yaml",
    )
    assert query(home, "SELECT count(*) AS n FROM raw.period_outcomes")["n"].iloc[0] == 130
    assert channel_level_reason(pmi_paths(str(home))) is None  # conversions per channel: the campaign path


def test_a_bad_outcome_value_names_file_row_and_column(tmp_path, channel_home):
    _, folder, frame, _ = channel_home
    bad = frame.copy()
    bad["sales"] = bad["sales"].astype(object)
    bad.loc[6, "sales"] = "lots"
    bad.to_csv(tmp_path / "weekly.csv", index=False)
    home = tmp_path / "home"
    with pytest.raises(BadInputError, match=r"weekly\.csv: row 7, column sales: expected a finite number >= 0"):
        ingest(
            pmi_paths(str(home)),
            {"campaigns": folder / "campaigns.csv", "daily": tmp_path / "weekly.csv"},
            folder / "mapping.yaml",
        )
    assert not (home / "warehouse.duckdb").exists()
