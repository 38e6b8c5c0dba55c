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

from ml.ingest.run import ingest
from ml.io.errors import BadInputError
from ml.models.mmm import MmmConfig
from ml.models.mmm.apply import apply_channel_allocation
from ml.models.mmm.synthetic import synthetic_media
from ml.models.mmm.warehouse import OUTPUT_TABLES, channel_level_reason, run_media_mix
from ml.settings import pmi_paths

ROOT = Path(__file__).resolve().parents[4]
MAX_CHANGE = 0.25
CHANNELS = ("search", "social", "tv")
WEEK_DAYS = 7.0
CENT = 0.01


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
    # the total outcome and the controls are kept, so ingest does not call them ignored
    ignored = [line for line in (ingested.stdout + ingested.stderr).splitlines() if "ignored column" in line]
    assert not any("sales" in line or "price_index" in line for line in ignored), ignored
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
    assert "applied to raw.budgets as daily budgets through the budget gate" in out


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


def period_start_daily(frame: pd.DataFrame) -> np.ndarray:
    """The channels' daily budgets at the period's start before any allocation: the recent weekly spend / 7."""
    return frame[[f"spend_{c}" for c in CHANNELS]].tail(4).mean().to_numpy() / WEEK_DAYS


def in_force(home: Path) -> pd.DataFrame:
    """Each channel's latest raw.budgets row (the home has no later hour, so it is the one in force)."""
    return query(
        home,
        "SELECT campaign_id, daily_budget::DOUBLE AS daily_budget, effective_ts, source FROM raw.budgets "
        "QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY effective_ts DESC) = 1",
    ).set_index("campaign_id")


def assert_within_period_limit(daily: pd.Series, start: np.ndarray) -> None:
    """Every channel within max_change_pct of its budget at the period's start (to the cent the gate rounds to)."""
    moved = np.abs(daily.loc[list(CHANNELS)].to_numpy() - start)
    assert (moved <= MAX_CHANGE * start + CENT).all(), (moved, start)


def test_allocation_is_applied_through_the_budget_gate(channel_home):
    home, _, frame, _ = channel_home
    fit = query(home, "SELECT * FROM predictions.channel_fit").iloc[0]
    assert fit["allocation_status"] == "applied" and fit["period_days"] == WEEK_DAYS
    budgets = in_force(home)
    assert set(budgets.index) == set(CHANNELS)
    assert (budgets["source"] == fit["run_id"]).all()
    start = period_start_daily(frame)
    assert_within_period_limit(budgets["daily_budget"], start)
    total = round(float(start.sum()), 2)  # conserved: the gate caps at the total, cutting in whole cents
    assert total - len(CHANNELS) * CENT <= budgets["daily_budget"].sum() <= total + 1e-9
    plan = query(home, "SELECT * FROM predictions.channel_allocation").set_index("channel")
    np.testing.assert_allclose(plan.loc[list(CHANNELS), "applied"], budgets.loc[list(CHANNELS), "daily_budget"] * 7)
    changes = query(home, f"SELECT * FROM audit.budget_changes WHERE run_id = '{fit['run_id']}'")
    assert len(changes) == len(CHANNELS) and (changes["triggered_by"] == "media_mix").all()
    np.testing.assert_allclose(changes.set_index("campaign_id").loc[list(CHANNELS), "period_start_budget"], start)
    runs = query(home, f"SELECT * FROM audit.allocation_runs WHERE run_id = '{fit['run_id']}'")
    assert runs["status"].tolist() == ["applied"] and runs["triggered_by"].tolist() == ["media_mix"]
    effective = budgets["effective_ts"].iloc[0]
    assert runs["period_start"].iloc[0] == effective.floor("168h")  # the gate's period is the data's week


def test_trajectories_start_from_the_allocation_s_current_spend(channel_home):
    home, _, _, _ = channel_home
    plan = query(home, "SELECT channel, current_budget FROM predictions.channel_allocation").set_index("channel")
    paths = query(home, "SELECT * FROM predictions.channel_trajectories")
    at_current = paths[paths["spend_multiple"] == 1.0].set_index("channel").loc[list(CHANNELS)]
    np.testing.assert_allclose(at_current["spend"], plan.loc[list(CHANNELS), "current_budget"])
    scenarios = query(home, "SELECT * FROM predictions.channel_scenarios WHERE scenario = 'baseline'")
    np.testing.assert_allclose(scenarios.set_index("channel").loc[list(CHANNELS), "outcome"], at_current["outcome"])


def test_dashboard_has_the_channel_sections(channel_home, browser_check, tmp_path):
    home, _, _, _ = channel_home
    page = home / "dashboard" / "index.html"
    text = page.read_text(encoding="utf-8")
    for section in ("channels", "channel-allocation", "channel-trajectories"):
        assert f'<section id="{section}" class="pmi-section">' in text
    assert "Out-of-sample NRMSE" in text and "current vs recommended" in text
    assert "Applied to raw.budgets as daily budgets" in text and "held by" in text
    report = browser_check(page, tmp_path)
    assert report["errors"] == []
    charts = {c["id"]: c for c in report["charts"]}
    for chart in ("chart-channel-roas", "chart-channel-allocation", "chart-channel-trajectories"):
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


def test_a_second_run_in_the_period_does_not_stack(channel_home):
    """Runs after the first in the same week move each channel at most the limit from the week's start in all."""
    home, _, frame, _ = channel_home
    start = period_start_daily(frame)
    run_media_mix(pmi_paths(str(home)), MmmConfig(n_bootstrap=12), MAX_CHANGE)
    assert_within_period_limit(in_force(home)["daily_budget"], start)
    # a plan pushing search up and tv down far beyond the limit: the gate holds it to the week's start
    current = start * WEEK_DAYS
    plan = pd.DataFrame(
        {"channel": CHANNELS, "current_budget": current, "recommended": current * [3.0, 1.0, 0.1], "reason": "push"}
    )
    applied = apply_channel_allocation(pmi_paths(str(home)), "push-run", plan, WEEK_DAYS, MAX_CHANGE)
    assert applied.status == "applied"
    budgets = in_force(home)
    assert_within_period_limit(budgets["daily_budget"], start)
    assert budgets["daily_budget"].sum() <= round(float(start.sum()), 2) + 1e-9
    bound = applied.applied.set_index("channel")["bound_by"]
    assert bound["tv"] == "period_change_limit_down"
    assert bound["search"] in ("period_change_limit_up", "total_budget")
    runs = query(home, "SELECT period_start FROM audit.allocation_runs WHERE triggered_by = 'media_mix'")
    assert len(runs) == 4 and runs["period_start"].nunique() == 1  # the fixture run, two re-runs, the push
    again = apply_channel_allocation(pmi_paths(str(home)), "push-run", plan, WEEK_DAYS, MAX_CHANGE)
    assert again.status == "already applied"  # idempotent per run id


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
