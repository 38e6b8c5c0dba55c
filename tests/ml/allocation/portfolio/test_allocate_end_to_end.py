"""`pmi allocate` end to end on a simulated export: the output contract, budget and change limits, the profit
rule for unspent money, constraints, determinism, and hourly vs daily input."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from allocate_helpers import run_cli, simulated

from ml.allocation.portfolio import OUTPUT_COLUMNS, RunOptions, default_current, fit_curves, read_history
from ml.allocation.portfolio import allocate as allocate_library
from ml.cli import allocate as allocate_cli

SEED = 11
ACTIONS = {"scale_up", "hold", "reduce", "pause"}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    frame, _ = simulated(SEED)
    path = tmp_path_factory.mktemp("allocate_e2e") / "history.csv"
    frame.to_csv(path, index=False)
    return path, frame


def current_total(frame: pd.DataFrame) -> float:
    dates = pd.to_datetime(frame["date"])
    return float(frame.loc[dates > dates.max() - pd.Timedelta(days=7), "spend"].sum() / 7)


def allocate(history: Path, out: Path, budget: float, *options: str) -> pd.DataFrame:
    code, stdout, err = run_cli(["--history", str(history), "--total-budget", f"{budget}", "--out", str(out), *options])
    assert code == 0, err
    assert err == "" and "allocate:" in stdout
    return pd.read_csv(out)


def cost_multiplier(frame: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    agency = frame.groupby("campaign_id")["has_agency"].first().reindex(table["campaign_id"]).to_numpy(bool)
    return 1.0 + 0.05 + 0.15 * agency


def test_output_contract_and_limits(export, tmp_path):
    history, frame = export
    budget = current_total(frame)
    table = allocate(history, tmp_path / "out.csv", budget)
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    assert sorted(table["campaign_id"]) == sorted(frame["campaign_id"].unique())
    assert set(table["action"]) <= ACTIONS
    assert table["reason"].str.len().gt(20).all() and table["reason"].str.endswith(".").all()
    assert table["recommended_budget"].sum() <= budget * (1 + 1e-12)
    assert np.allclose(table["current_budget"].sum(), budget)
    moved = np.abs(table["recommended_budget"] / table["current_budget"] - 1.0)
    assert (moved <= 0.25 + 1e-9).all()
    assert (table["profit_p10"] <= table["expected_profit"] + 1e-6).all()
    assert (table["profit_p90"] >= table["profit_p10"]).all()
    assert table["saturation_level"].between(0, 1).all()
    np.testing.assert_allclose(
        table["expected_revenue"] - table["expected_profit"],
        table["recommended_budget"] * cost_multiplier(frame, table)
        + np.where(
            table["recommended_budget"] > 0,
            frame.groupby("campaign_id")["creative_production_cost"].first().reindex(table["campaign_id"]) / 30,
            0.0,
        ),
        rtol=1e-6,
    )


def test_profit_leaves_money_unspent_only_where_marginal_profit_is_negative(export, tmp_path):
    history, frame = export
    budget = 3 * current_total(frame)
    table = allocate(history, tmp_path / "out.csv", budget, "--max-change-pct", "inf")
    spent = table["recommended_budget"]
    assert spent.sum() < budget  # three times today's budget is more than pays
    running = spent > 0
    # Every running campaign stops where one more dollar earns exactly its cost; paused ones lose money.
    np.testing.assert_allclose(table.loc[running, "marginal_roas"], cost_multiplier(frame, table)[running], rtol=1e-5)
    assert (table.loc[~running, "expected_profit"] <= 0).all()


def test_profit_spends_the_whole_budget_when_every_dollar_pays(export, tmp_path):
    history, frame = export
    budget = 0.3 * current_total(frame)
    table = allocate(history, tmp_path / "out.csv", budget, "--max-change-pct", "inf")
    assert table["recommended_budget"].sum() == pytest.approx(budget, rel=1e-9)
    assert (table["marginal_roas"] >= cost_multiplier(frame, table) * (1 - 1e-6)).all()


@pytest.mark.parametrize("objective", ["revenue", "conversions"])
def test_other_objectives_spend_everything_the_bounds_allow(export, tmp_path, objective):
    history, frame = export
    budget = current_total(frame)
    table = allocate(history, tmp_path / "out.csv", budget, "--objective", objective)
    assert table["recommended_budget"].sum() == pytest.approx(budget, rel=1e-9)


def test_constraints_and_current_file(export, tmp_path):
    history, frame = export
    ids = sorted(frame["campaign_id"].unique())
    current = pd.DataFrame({"campaign_id": ids[:5], "daily_budget": [1000.0, 1200.0, 800.0, 1500.0, 600.0]})
    current.to_csv(tmp_path / "current.csv", index=False)
    constraints = pd.DataFrame(
        {
            "campaign_id": ids[:6],
            "locked": ["true", "", "", "", "", ""],
            "min_budget": [np.nan, 2000.0, np.nan, np.nan, np.nan, np.nan],  # beyond +25%: the change limit wins
            "max_budget": [np.nan, np.nan, 700.0, np.nan, np.nan, np.nan],
            "max_change_pct": [np.nan, np.nan, np.nan, 0.05, np.nan, np.nan],
            "min_roas": [np.nan, np.nan, np.nan, np.nan, 50.0, np.nan],
            "has_agency": ["", "", "", "", "", "yes"],
            "creative_production_cost": [np.nan, np.nan, np.nan, np.nan, np.nan, 3000.0],
        }
    )
    constraints.to_csv(tmp_path / "constraints.csv", index=False)
    table = allocate(
        history,
        tmp_path / "out.csv",
        20_000.0,
        "--current",
        str(tmp_path / "current.csv"),
        "--constraints",
        str(tmp_path / "constraints.csv"),
    ).set_index("campaign_id")
    rec, cur = table["recommended_budget"], table["current_budget"]
    assert cur[ids[:5]].tolist() == current["daily_budget"].tolist()
    assert rec[ids[0]] == cur[ids[0]] and "locked" in table.loc[ids[0], "reason"]
    assert rec[ids[1]] == pytest.approx(1200.0 * 1.25) and "change limit wins" in table.loc[ids[1], "reason"]
    assert rec[ids[2]] <= 700.0 + 1e-9 and rec[ids[2]] >= 800.0 * 0.75 - 1e-9
    assert abs(rec[ids[3]] / 1500.0 - 1.0) <= 0.05 + 1e-9
    assert rec[ids[4]] == pytest.approx(600.0 * 0.75) or table.loc[ids[4], "marginal_roas"] >= 50.0 - 1e-6
    assert rec.sum() <= 20_000.0 * (1 + 1e-12)
    assert (np.abs(rec / cur - 1.0) <= 0.25 + 1e-9).all()
    # Cost attributes from the constraints file replace the history's: 15% agency fee, 3000 / 30 creative per day.
    row = table.loc[ids[5]]
    assert row["expected_revenue"] - row["expected_profit"] == pytest.approx(
        row["recommended_budget"] * 1.20 + (100.0 if row["recommended_budget"] > 0 else 0.0), rel=1e-6
    )


def test_deterministic_for_a_seed(export, tmp_path):
    history, frame = export
    budget = current_total(frame)
    outputs = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        allocate(
            history,
            tmp_path / f"{name}.csv",
            budget,
            "--exploration",
            "thompson",
            "--seed",
            seed,
            "--max-change-pct",
            "0.5",
        )
        outputs.append((tmp_path / f"{name}.csv").read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_thompson_exploration_moves_at_most_five_percent(export, tmp_path):
    history, frame = export
    budget = current_total(frame)
    base = allocate(history, tmp_path / "base.csv", budget, "--max-change-pct", "0.5")
    explored = allocate(
        history,
        tmp_path / "explored.csv",
        budget,
        "--max-change-pct",
        "0.5",
        "--exploration",
        "thompson",
        "--seed",
        "3",
    )
    shift = explored["recommended_budget"] - base["recommended_budget"]
    moved = max(shift[shift > 0].sum(), -shift[shift < 0].sum())
    assert 0 < moved <= 0.05 * budget * (1 + 1e-9)
    assert explored["recommended_budget"].sum() <= budget * (1 + 1e-12)
    assert (np.abs(explored["recommended_budget"] / explored["current_budget"] - 1.0) <= 0.5 + 1e-9).all()
    assert explored["reason"].str.contains("Thompson exploration").any()


def test_hourly_rows_are_summed_to_days(tmp_path):
    _, frames = simulated(SEED)
    hourly = frames.raw["campaign_hourly"].rename(columns={"hour_ts": "date"})
    hourly.to_parquet(tmp_path / "hourly.parquet")
    daily = (
        hourly.assign(date=hourly["date"].dt.strftime("%Y-%m-%d"))
        .groupby(["campaign_id", "date"], as_index=False)[["spend", "impressions", "clicks", "conversions", "revenue"]]
        .sum()
    )
    daily.to_csv(tmp_path / "daily.csv", index=False)
    budget = current_total(daily)
    from_hours = allocate(tmp_path / "hourly.parquet", tmp_path / "h.csv", budget)
    from_days = allocate(tmp_path / "daily.csv", tmp_path / "d.csv", budget)
    pd.testing.assert_frame_equal(from_hours, from_days, rtol=1e-6, atol=1e-5)  # sums in another order


def test_short_histories_are_held_and_missing_conversions_pooled(export, tmp_path):
    _, frame = export
    frame = frame.copy()
    first = sorted(frame["campaign_id"].unique())[0]
    frame.loc[frame["campaign_id"] == first, ["conversions", "revenue"]] = 0
    newcomer = frame[frame["campaign_id"] == first].tail(3).assign(campaign_id="cmp_new", conversions=4, revenue=120.0)
    pd.concat([frame, newcomer]).to_csv(tmp_path / "history.csv", index=False)
    table = allocate(tmp_path / "history.csv", tmp_path / "out.csv", current_total(frame) + 2000.0).set_index(
        "campaign_id"
    )
    assert table.loc["cmp_new", "recommended_budget"] == pytest.approx(table.loc["cmp_new", "current_budget"])
    assert "fewer than the 5" in table.loc["cmp_new", "reason"]
    assert "portfolio's revenue per conversion" in table.loc[first, "reason"]
    assert table.loc[first, "action"] in {"reduce", "pause"}


def test_help_documents_every_option():
    parser = argparse.ArgumentParser(prog="pmi")
    subparsers = parser.add_subparsers()
    allocate_cli.add_parser(subparsers)
    text = subparsers.choices["allocate"].format_help()
    for option in (
        "--history",
        "--total-budget",
        "--out",
        "--current",
        "--constraints",
        "--objective",
        "--max-change-pct",
        "--overhead-pct",
        "--exploration",
        "--seed",
    ):
        assert option in text


def test_properties_hold_over_random_settings(export):
    history_path, frame = export
    history = read_history(history_path)
    current = default_current(history).to_numpy()
    curves = fit_curves(history, history.campaign_ids, seed=0)  # fitted once: the sweep is about the allocation
    multiplier = None
    rng = np.random.default_rng(7)
    for _ in range(12):
        pct = float(rng.choice([0.1, 0.25, 0.6, np.inf]))
        budget = float(current.sum() * rng.uniform(0.8, 2.5))
        objective = str(rng.choice(["profit", "revenue", "conversions"]))
        run = allocate_library(
            history,
            RunOptions(
                total_budget=budget,
                objective=objective,
                max_change_pct=pct,
                exploration=str(rng.choice(["none", "thompson"])),
                seed=int(rng.integers(100)),
            ),
            curves=curves,
        )
        table = run.table
        multiplier = cost_multiplier(frame, table) if multiplier is None else multiplier
        rec = table["recommended_budget"].to_numpy()
        assert rec.sum() <= budget * (1 + 1e-12)
        assert (np.abs(rec / current - 1.0) <= pct + 1e-9).all()
        ceiling = current * (1 + pct)
        if run.exploration is not None:
            assert run.exploration.moved <= 0.05 * budget * (1 + 1e-9)
        elif objective != "profit":
            assert rec.sum() == pytest.approx(min(budget, ceiling.sum()), rel=1e-9)
        elif rec.sum() < budget * (1 - 1e-9):
            # Money left unspent: no campaign with room to grow may still earn on its next dollar.
            room = (rec < ceiling * (1 - 1e-9)) & (rec > 0)
            assert (table["marginal_roas"].to_numpy()[room] <= multiplier[room] * (1 + 1e-6)).all()
