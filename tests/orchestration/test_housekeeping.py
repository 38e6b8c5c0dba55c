"""Housekeeping of the Dagster instance: runs of a killed process are marked failed, live ones are left alone,
old runs are deleted with their files, dbt dies with the process that started it, every job carries the hook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from ml.operations.hygiene import process_start_time
from ml.operations.retention import RetentionPolicy, disk_usage
from orchestration.housekeeping import housekeeping, prune_runs, sweep_dead_runs

REPO = Path(__file__).resolve().parents[2]

# A process that starts a run in the instance of DAGSTER_HOME and then sleeps inside a step.
SLEEPER = textwrap.dedent("""
    import time, dagster as dg

    @dg.op
    def nap():
        time.sleep(600)

    @dg.job
    def sleeper():
        nap()

    sleeper.execute_in_process(instance=dg.DagsterInstance.get())
""")


@dg.asset
def thing() -> int:
    return 1


@dg.asset_check(asset=thing)
def thing_is_fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"padding": "x" * 5000})


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").touch()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as inst:
        yield inst


def start_sleeper(instance: dg.DagsterInstance) -> tuple[subprocess.Popen, str]:
    """A process running a new run that is STARTED and inside its step; returns it and the run id."""
    before = {r.run_id for r in instance.get_runs()}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLEEPER],
        env=os.environ.copy(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            steps = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_START).records
            if run.run_id not in before and steps:
                return proc, run.run_id
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the sleeper never started its run")


def test_a_killed_runs_stays_started_until_swept_then_fails(instance):
    killed, killed_run = start_sleeper(instance)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    alive, alive_run = start_sleeper(instance)
    try:
        assert instance.get_run_by_id(killed_run).status == dg.DagsterRunStatus.STARTED
        assert sweep_dead_runs(instance) == [killed_run]
        assert instance.get_run_by_id(killed_run).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive_run).status == dg.DagsterRunStatus.STARTED  # its process still runs
        assert sweep_dead_runs(instance) == []
    finally:
        alive.kill()
        alive.wait()


def test_opening_the_instance_from_the_cli_sweeps(tmp_path, monkeypatch):
    """`pmi run` / `pmi loop` / `pmi train` get their instance from dagster_instance(): it closes dead runs."""
    from ml.cli.pipeline import dagster_instance
    from ml.settings import pmi_paths

    paths = pmi_paths(tmp_path / "home").ensure()
    first = dagster_instance(paths)
    killed, run_id = start_sleeper(first)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert dagster_instance(paths).get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE


def test_pruning_many_runs_keeps_disk_bounded(instance, tmp_path):
    from ml.settings import pmi_paths

    policy = RetentionPolicy(keep_runs_per_job=3)
    history = Path(os.environ["DAGSTER_HOME"]) / "history"
    sizes = []
    for _ in range(24):
        assert dg.materialize([thing, thing_is_fine], instance=instance).success
        done = housekeeping(instance, pmi_paths(tmp_path / "home").ensure(), policy)
        sizes.append(disk_usage(Path(os.environ["DAGSTER_HOME"])))
        assert len(done.deleted_runs) <= 1
    runs = instance.get_runs()
    assert len(runs) == 3
    checks = instance.event_log_storage.get_asset_check_execution_history(thing_is_fine.check_key, limit=100)
    assert sorted(c.run_id for c in checks) == sorted(r.run_id for r in runs)
    shards = sorted(p.stem for p in (history / "runs").glob("*.db") if p.stem != "index")
    assert shards == sorted(r.run_id for r in runs)
    compute_logs = {p.name for p in (Path(os.environ["DAGSTER_HOME"]) / "storage").glob("*-*-*-*-*")}
    assert compute_logs <= {r.run_id for r in runs}
    # sqlite reuses the pages of deleted rows: the history stops growing once the first runs are pruned
    assert max(sizes[8:]) <= sizes[7] * 1.10, sizes
    assert prune_runs(instance, policy) == []


def test_every_job_carries_the_housekeeping_hook():
    from orchestration.definitions import defs

    for name in ("full_pipeline", "retrain", "hourly_allocation"):
        assert "pmi_housekeeping" in {h.name for h in defs.resolve_job_def(name).hook_defs}, name


PARENT = textwrap.dedent("""
    import subprocess, sys, time
    from orchestration.warehouse.project import DBT_PROJECT_DIR, DBT_EXECUTABLE
    child = subprocess.Popen([DBT_EXECUTABLE, "parse", "--no-partial-parse", "--project-dir", str(DBT_PROJECT_DIR),
                              "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", sys.argv[1]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(child.pid, flush=True)
    time.sleep(600)
""")


def test_dbt_dies_with_the_process_that_started_it(tmp_path):
    """Kill the parent with SIGKILL (what an OOM kill or `kill -9` does): its dbt must not live on."""
    env = os.environ | {"PMI_HOME": str(tmp_path / "home")}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "target")], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the guard has set itself up and become dbt (still parsing: that takes several seconds)
    assert process_start_time(child) is not None, "dbt finished too early for the test to mean anything"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 3
    while process_start_time(child) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = process_start_time(child) is not None
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "dbt outlived the process that started it"
