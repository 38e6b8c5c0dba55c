"""`pmi backtest` on the command line: bad options exit 2 naming the option; a small run writes its outputs."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.cli.main import main


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--days", "0"], "--days"),
        (["--campaigns", "1"], "--campaigns"),
        (["--seeds", "0"], "--seeds"),
        (["--days", "5"], "--days"),
    ],
)
def test_bad_options_exit_2_and_name_the_option(argv, option, tmp_path, capsys):
    assert main(["backtest", *argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pmi backtest: {option}:") and "\n" not in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_small_run_prints_the_table_and_writes_csv_and_png(tmp_path, capsys):
    out = tmp_path / "bt"
    assert (
        main(
            ["backtest", "--days", "3", "--campaigns", "4", "--seed", "2", "--seeds", "2", "--drift", "none"]
            + ["--out", str(out)]
        )
        == 0
    )
    printed = capsys.readouterr().out
    for policy in ("static", "equal", "greedy", "pmi", "oracle"):
        assert policy in printed
    assert "paired se" in printed  # two seeds: pmi - greedy is read with its seed-to-seed interval
    assert len(pd.read_csv(out / "daily.csv")) == 2 * 5 * 3
    assert set(pd.read_csv(out / "summary.csv")["policy"]) == {"static", "equal", "greedy", "pmi", "oracle"}
    assert (out / "cumulative_profit.png").stat().st_size > 1000
