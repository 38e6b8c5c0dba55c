"""`pmi status` and the CLI's exit codes."""

from __future__ import annotations

from ml.cli.main import main


def test_status_without_a_warehouse_is_bad_input(tmp_path, capsys):
    assert main(["status", "--home", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no warehouse yet" in err[0]


def test_simulate_then_status(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["simulate", "--home", home, "--campaigns", "3", "--days", "3", "--end-date", "2026-10-01"]) == 0
    assert main(["simulate", "--home", home, "--live-hours", "2"]) == 0
    assert main(["status", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "Simulator clock (next hour to simulate): 2026-10-01 02:00:00" in out
    assert "Current daily budgets" in out


def test_bad_simulate_options_exit_2(tmp_path, capsys):
    assert main(["simulate", "--home", str(tmp_path), "--campaigns", "0"]) == 2
    assert main(["simulate", "--home", str(tmp_path / "none"), "--live-hours", "1"]) == 2
