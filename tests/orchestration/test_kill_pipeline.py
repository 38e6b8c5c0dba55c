"""Killing a Dagster run (SIGKILL of `pmi run`) while it rewrites the raw tables leaves the warehouse as it was;
re-running the step completes and its totals reconcile with the simulation to the cent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ml.settings import pmi_paths
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill, simulate_backfill

BEFORE = {"n_campaigns": 4, "days": 10, "seed": 1, "end_date": "2026-10-01"}
KILLED = {"n_campaigns": 200, "days": 60, "seed": 2, "end_date": "2026-10-01"}  # a write that takes a while


def raw_state(warehouse: Path) -> tuple:
    """Row counts and money totals of the raw tables (what a half-written backfill would change)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""SELECT (SELECT count(*) FROM raw.campaigns), (SELECT count(*) FROM raw.campaign_hourly),
                                     (SELECT sum(spend) FROM raw.campaign_hourly), (SELECT count(*) FROM raw.users),
                                     (SELECT sum(revenue) FROM raw.revenue_events),
                                     (SELECT count(*) FROM raw.budgets)""").fetchall()[0]


def kill_when_the_warehouse_changes(home: Path, simulation: dict) -> tuple[int, bool]:
    """Start `pmi run` in a subprocess, SIGKILL it as soon as it starts writing the warehouse; its exit code and
    whether data was being written then (the file grew or a write-ahead log existed)."""
    warehouse = home / "warehouse.duckdb"
    args = [
        "run",
        "--home",
        str(home),
        "--campaigns",
        str(simulation["n_campaigns"]),
        "--days",
        str(simulation["days"]),
        "--seed",
        str(simulation["seed"]),
    ]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PMI_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ml.cli.main", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    before = warehouse.stat().st_mtime_ns, warehouse.stat().st_size
    wal = warehouse.with_name(warehouse.name + ".wal")
    deadline, writing = time.monotonic() + 300, False
    while proc.poll() is None and time.monotonic() < deadline:
        size = warehouse.stat().st_size
        writing = size != before[1] or wal.exists()
        if writing:
            break
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(), writing


def test_killed_run_leaves_the_warehouse_as_it_was_and_a_rerun_reconciles(tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    run_backfill(SimulationConfig(**BEFORE), paths)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CHECKPOINT")
    before = raw_state(paths.warehouse)

    code, writing = kill_when_the_warehouse_changes(paths.home, KILLED)
    if code == 0:
        pytest.fail("the run finished before it could be killed")
    assert code == -signal.SIGKILL and writing  # killed in the middle of the raw tables' write
    assert raw_state(paths.warehouse) == before

    # The re-run of the step (the Dagster raw-tables asset) completes; its totals are the simulation's own.
    from orchestration.definitions import defs
    from orchestration.warehouse.project import prepare_dbt_manifest

    prepare_dbt_manifest()
    import dagster as dg

    raw_keys = [key for key in defs.resolve_asset_graph().get_all_asset_keys() if key.path[0] == "raw"]
    result = defs.resolve_job_def("full_pipeline").execute_in_process(
        run_config={
            "ops": {"simulator_backfill": {"config": KILLED}},
            "resources": {"pmi_home": {"config": {"home": str(paths.home)}}},
        },
        asset_selection=raw_keys,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success
    frames = simulate_backfill(SimulationConfig(**KILLED)).raw
    hourly, events = frames["campaign_hourly"], frames["revenue_events"]
    expected = (
        len(frames["campaigns"]),
        len(hourly),
        hourly["spend"].sum(),
        len(frames["users"]),
        events["revenue"].sum(),
        len(frames["budgets"]),
    )
    state = raw_state(paths.warehouse)
    assert state[:2] == expected[:2] and state[3] == expected[3] and state[5] == expected[5]
    assert round(float(state[2]), 2) == round(float(expected[2]), 2)
    assert round(float(state[4]), 2) == round(float(expected[4]), 2)
