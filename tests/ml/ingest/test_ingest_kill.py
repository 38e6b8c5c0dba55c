"""Killing `pmi ingest` (SIGKILL) while it writes leaves the warehouse as it was; a re-run loads everything and the
totals reconcile to the cent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from ingest_helpers import GOOD, checkpoint, ingest_args, run_pmi

N_CAMPAIGNS, N_HOURS = 150, 2000


def generate(directory: Path) -> tuple[Path, Path, dict[str, int]]:
    """A campaigns file and a 300k-row hourly file; spend in whole cents so the expected totals are exact."""
    rng = np.random.default_rng(5)
    header = (GOOD / "campaigns.csv").read_text().splitlines()[0]
    ids = [f"k{i:04d}" for i in range(N_CAMPAIGNS)]
    campaigns = directory / "campaigns.csv"
    campaigns.write_text(
        "\n".join([header, *(f"{c},{c},meta,ios,US,video,broad,false,0,false,2026-01-01" for c in ids)]) + "\n"
    )
    n = N_CAMPAIGNS * N_HOURS
    impressions = rng.integers(100, 5000, n)
    clicks = rng.binomial(impressions, 0.02)
    spend_cents = rng.integers(0, 100_000, n)
    hourly = pd.DataFrame(
        {
            "campaign_id": np.repeat(ids, N_HOURS),
            "hour_ts": np.tile(
                pd.date_range("2026-01-01", periods=N_HOURS, freq="h").strftime("%Y-%m-%dT%H:%M:%S"), N_CAMPAIGNS
            ),
            "spend": [f"{c // 100}.{c % 100:02d}" for c in spend_cents],
            "impressions": impressions,
            "clicks": clicks,
            "conversions": rng.binomial(clicks, 0.1),
            "revenue": 0,
        }
    )
    path = directory / "hourly.csv"
    hourly.to_csv(path, index=False)
    return campaigns, path, {"rows": n, "spend_cents": int(spend_cents.sum()), "impressions": int(impressions.sum())}


def state(warehouse: Path) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT (SELECT count(*) FROM raw.campaign_hourly), "
            "(SELECT CAST(coalesce(sum(spend), 0) * 100 AS BIGINT) FROM raw.campaign_hourly), "
            "(SELECT coalesce(sum(impressions), 0) FROM raw.campaign_hourly), "
            "(SELECT count(*) FROM raw.campaigns), (SELECT count(*) FROM audit.ingest_runs)"
        ).fetchall()[0]


def kill_while_writing(args: list[str], warehouse: Path) -> int:
    """Start the real command, wait until it has begun writing the warehouse, SIGKILL it; returns its exit code."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ml.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    for line in proc.stdout:
        if line.startswith("loading into"):
            break
    before = warehouse.stat().st_mtime_ns, warehouse.stat().st_size
    wal = warehouse.with_name(warehouse.name + ".wal")
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        now = warehouse.stat().st_mtime_ns, warehouse.stat().st_size
        if now != before or wal.exists():
            break
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return proc.returncode


def test_sigkill_during_the_load_leaves_the_warehouse_as_it_was(tmp_path, capsys):
    campaigns, hourly, expected = generate(tmp_path)
    home = tmp_path / "home"
    small = tmp_path / "small.csv"
    small.write_text("".join(hourly.open().readlines()[:51]))
    assert run_pmi(capsys, ingest_args({"--campaigns": campaigns, "--hourly": small}, home))[0] == 0
    warehouse = home / "warehouse.duckdb"
    checkpoint(warehouse)
    before = state(warehouse)
    code = kill_while_writing(ingest_args({"--campaigns": campaigns, "--hourly": hourly}, home), warehouse)
    assert code == -signal.SIGKILL, f"the ingest finished (exit {code}) before it could be killed"
    assert state(warehouse) == before
    assert run_pmi(capsys, ingest_args({"--campaigns": campaigns, "--hourly": hourly}, home))[0] == 0
    assert state(warehouse) == (
        expected["rows"],
        expected["spend_cents"],
        expected["impressions"],
        N_CAMPAIGNS,
        before[4] + 1,
    )
