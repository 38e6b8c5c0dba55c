"""`pmi simulate --live-hours` on a warehouse holding only a user's ingested data: one line, exit 2, nothing written."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ml.cli.main import main

GOOD = Path(__file__).resolve().parents[1] / "ingest" / "corpus" / "good"


def test_live_hours_on_ingested_data_is_bad_input(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("PMI_HOME", str(home))
    files = {
        "campaigns": "campaigns",
        "hourly": "hourly",
        "users": "users",
        "revenue-events": "revenue_events",
        "market": "market",
    }
    options = [f"--{opt}={GOOD / f'{name}.csv'}" for opt, name in files.items()]
    assert main(["ingest", "--home", str(home), *options]) == 0
    capsys.readouterr()
    before = hashlib.sha256((home / "warehouse.duckdb").read_bytes()).hexdigest()
    assert main(["simulate", "--home", str(home), "--live-hours", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no simulation" in err[0] and "Catalog Error" not in err[0], err
    assert hashlib.sha256((home / "warehouse.duckdb").read_bytes()).hexdigest() == before


def test_live_hours_without_a_warehouse_is_bad_input(tmp_path, capsys):
    assert main(["simulate", "--home", str(tmp_path / "empty"), "--live-hours", "1"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
