"""Bad input: exit code 2, one line on stderr naming file, row (1-based, header excluded) and column, no output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from allocate_helpers import run_cli

CAMPAIGNS = ("alpha", "beta", "gamma")


def valid_history(days: int = 20) -> pd.DataFrame:
    """Three campaigns x `days` days of plausible delivery (rows ordered by campaign, then date)."""
    rng = np.random.default_rng(1)
    rows = []
    for i, cid in enumerate(CAMPAIGNS):
        spend = (400.0 + 200 * i) * rng.lognormal(0, 0.4, days)
        conversions = rng.poisson(60 * spend / (spend + 500.0 + 300 * i))
        rows.append(
            pd.DataFrame(
                {
                    "date": pd.date_range("2026-03-01", periods=days).strftime("%Y-%m-%d"),
                    "campaign_id": cid,
                    "spend": spend.round(2),
                    "impressions": (spend * 90).astype(int),
                    "clicks": (spend * 0.9).astype(int),
                    "conversions": conversions,
                    "revenue": (conversions * (20.0 + 5 * i)).round(2),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def set_cell(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A mutation writing `value` into data row `row` (1-based) of `column`."""

    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object})
        frame.loc[row - 1, column] = value
        return frame

    return mutate


def duplicate_row(source: int, target: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[target - 1, ["campaign_id", "date"]] = frame.loc[source - 1, ["campaign_id", "date"]].to_numpy()
        return frame

    return mutate


HISTORY_CASES = {
    "missing column": (lambda f: f.drop(columns="revenue"), ["column revenue", "missing"]),
    "non-numeric spend": (set_cell(5, "spend", "12,5O"), ["row 5, column spend", "not a number"]),
    "negative spend": (set_cell(7, "spend", -3.0), ["row 7, column spend", ">= 0"]),
    "empty cell": (set_cell(3, "conversions", ""), ["row 3, column conversions", "missing"]),
    "NaN cell": (set_cell(4, "revenue", "NaN"), ["row 4, column revenue"]),
    "infinite cell": (set_cell(8, "impressions", "inf"), ["row 8, column impressions", "not finite"]),
    "clicks above impressions": (set_cell(9, "clicks", 10**9), ["row 9, column clicks", "exceed impressions"]),
    "duplicate campaign-day": (duplicate_row(2, 12), ["row 12, column date", "duplicate", "first at row 2"]),
    "unparsable date": (set_cell(6, "date", "2026-13-45"), ["row 6, column date", "unparsable"]),
    "missing campaign id": (set_cell(11, "campaign_id", "  "), ["row 11, column campaign_id"]),
    "too few days": (lambda f: f[pd.to_datetime(f["date"]) < "2026-03-05"], ["column date", "at least 7"]),
    "header only": (lambda f: f.iloc[:0], ["header only"]),
}


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    return {"history": tmp_path / "history.csv", "out": tmp_path / "budgets.csv", "dir": tmp_path}


def assert_bad_input(code: int, err: str, paths: dict[str, Path], *fragments: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not paths["out"].exists()
    assert [p.name for p in paths["dir"].iterdir() if p.name.startswith(".")] == []  # no temp file left behind


@pytest.mark.parametrize("case", HISTORY_CASES)
def test_bad_history_is_one_line_naming_row_and_column(case: str, paths: dict[str, Path]):
    mutate, fragments = HISTORY_CASES[case]
    mutate(valid_history()).to_csv(paths["history"], index=False)
    code, _, err = run_cli(["--history", str(paths["history"]), "--total-budget", "1500", "--out", str(paths["out"])])
    assert_bad_input(code, err, paths, "history.csv", *fragments)


def test_bad_parquet_cell_is_numbered_like_a_csv_row(paths: dict[str, Path]):
    history = paths["dir"] / "history.parquet"
    set_cell(10, "spend", -1.0)(valid_history()).astype({"spend": float}).to_parquet(history)
    code, _, err = run_cli(["--history", str(history), "--total-budget", "1500", "--out", str(paths["out"])])
    assert_bad_input(code, err, paths, "history.parquet", "row 10, column spend")


def test_empty_file(paths: dict[str, Path]):
    paths["history"].write_text("")
    code, _, err = run_cli(["--history", str(paths["history"]), "--total-budget", "1500", "--out", str(paths["out"])])
    assert_bad_input(code, err, paths, "history.csv", "empty file")


SIDE_FILE_CASES = {
    "unknown campaign in current": (
        "current",
        "campaign_id,daily_budget\nalpha,500\ndelta,300\n",
        ["current.csv", "row 2, column campaign_id", "not in the history"],
    ),
    "negative current budget": (
        "current",
        "campaign_id,daily_budget\nalpha,500\nbeta,-1\n",
        ["current.csv", "row 2, column daily_budget"],
    ),
    "unknown campaign in constraints": (
        "constraints",
        "campaign_id,max_budget\nalpha,900\nomega,100\n",
        ["constraints.csv", "row 2, column campaign_id", "not in the history"],
    ),
    "min above max": (
        "constraints",
        "campaign_id,min_budget,max_budget\nalpha,100,900\nbeta,700,600\n",
        ["constraints.csv", "row 2, column max_budget", "below min_budget"],
    ),
    "unknown constraint column": (
        "constraints",
        "campaign_id,max_budjet\nalpha,900\n",
        ["constraints.csv", "column max_budjet", "not a constraint"],
    ),
    "bad flag": (
        "constraints",
        "campaign_id,locked\nalpha,perhaps\n",
        ["constraints.csv", "row 1, column locked", "true or false"],
    ),
    "campaign listed twice": (
        "constraints",
        "campaign_id,min_budget\nalpha,1\nbeta,2\nalpha,3\n",
        ["constraints.csv", "row 3, column campaign_id", "twice"],
    ),
}


@pytest.mark.parametrize("case", SIDE_FILE_CASES)
def test_bad_current_or_constraints_file(case: str, paths: dict[str, Path]):
    option, text, fragments = SIDE_FILE_CASES[case]
    valid_history().to_csv(paths["history"], index=False)
    side = paths["dir"] / f"{option}.csv"
    side.write_text(text)
    code, _, err = run_cli(
        [
            "--history",
            str(paths["history"]),
            "--total-budget",
            "1500",
            "--out",
            str(paths["out"]),
            f"--{option}",
            str(side),
        ]
    )
    assert_bad_input(code, err, paths, *fragments)


OPTION_CASES = {
    "negative total budget": (["--total-budget", "-100"], ["--total-budget", "non-negative"]),
    "total budget not a number": (["--total-budget", "lots"], ["--total-budget"]),
    "unknown objective": (["--total-budget", "1500", "--objective", "roas"], ["--objective", "profit"]),
    "negative change limit": (["--total-budget", "1500", "--max-change-pct", "-0.1"], ["--max-change-pct"]),
    "bad seed": (["--total-budget", "1500", "--seed", "x"], ["--seed"]),
    "budget below the change-limit floors": (["--total-budget", "10"], ["--total-budget", "max change"]),
}


@pytest.mark.parametrize("case", OPTION_CASES)
def test_bad_options(case: str, paths: dict[str, Path]):
    options, fragments = OPTION_CASES[case]
    valid_history().to_csv(paths["history"], index=False)
    code, _, err = run_cli(["--history", str(paths["history"]), "--out", str(paths["out"]), *options])
    assert_bad_input(code, err, paths, *fragments)


def test_missing_history_file(paths: dict[str, Path]):
    code, _, err = run_cli(["--history", str(paths["history"]), "--total-budget", "1", "--out", str(paths["out"])])
    assert_bad_input(code, err, paths, "history.csv", "not found")


def test_failed_run_leaves_an_existing_output_untouched(paths: dict[str, Path]):
    paths["out"].write_text("previous run\n")
    set_cell(2, "spend", "oops")(valid_history()).to_csv(paths["history"], index=False)
    code, _, err = run_cli(["--history", str(paths["history"]), "--total-budget", "1500", "--out", str(paths["out"])])
    assert code == 2 and "row 2, column spend" in err
    assert paths["out"].read_text() == "previous run\n"
