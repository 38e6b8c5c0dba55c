"""The Dagster code location loads the way `make dagster` loads it: no PMI_HOME, no DAGSTER_HOME, a fresh manifest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
EXPECTED_ASSETS = {
    "raw/campaigns",
    "raw/campaign_hourly",
    "raw/users",
    "raw/revenue_events",
    "raw/market_daily",
    "raw/budgets",
    "marts/fct_campaign_daily",
    "response_curves_model",
    "applied_allocation",
    "executive_dashboard",
}
EXPECTED_JOBS = {"full_pipeline", "retrain", "hourly_allocation", "daily_user_value"}
# Each job on its own clock (hourly, daily, weekly retrain), all off until a deployment switches them on.
EXPECTED_SCHEDULES = {
    "hourly_allocation_schedule": ["hourly_allocation", "0 * * * *", "STOPPED"],
    "daily_user_value_schedule": ["daily_user_value", "30 0 * * *", "STOPPED"],
    "retrain_schedule": ["retrain", "0 2 * * 1", "STOPPED"],
}
LOAD = """
import json, os
import orchestration.definitions as m
graph = m.defs.resolve_asset_graph()
home = str(m.defs.resources["pmi_home"].location().home)
assert "PMI_HOME" not in os.environ  # loading the location configures nothing through the environment
schedules = {s.name: [s.job_name, s.cron_schedule, s.default_status.value] for s in m.defs.schedules}
print(json.dumps({"home": home, "jobs": [j.name for j in m.defs.resolve_all_job_defs()], "schedules": schedules,
                  "assets": [k.to_user_string() for k in graph.get_all_asset_keys()]}))
"""
WORKSPACE_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { jobs { name } assetNodes { assetKey { path } } } } } } } } }"""


def bare_env(**extra: str) -> dict[str, str]:
    """The caller's environment without pmi's and Dagster's variables (a fresh shell)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_HOME", "DAGSTER_HOME", "DAGSTER_IS_DEV_CLI")}
    return env | {"PYTHONWARNINGS": "ignore"} | extra


def test_code_location_loads_with_no_environment_and_defaults_to_the_repo_data(tmp_path):
    # As under `dagster dev` (which re-parses the dbt manifest on load), from a cwd that is not the repository.
    proc = subprocess.run(
        [sys.executable, "-c", LOAD],
        cwd=tmp_path,
        env=bare_env(DAGSTER_IS_DEV_CLI="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded["home"] == str(REPO / "data")
    assert EXPECTED_ASSETS <= set(loaded["assets"])
    assert EXPECTED_JOBS <= set(loaded["jobs"])
    assert loaded["schedules"] == EXPECTED_SCHEDULES


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_dagster_serves_the_data_directory_on_localhost():
    def dry_run(*args: str) -> str:
        return subprocess.run(
            ["make", "-n", "dagster", *args], cwd=REPO, env=bare_env(), capture_output=True, text=True, check=True
        ).stdout

    default = dry_run()
    assert f'PMI_HOME="{REPO}/data" DAGSTER_HOME="{REPO}/data/dagster"' in default
    assert "dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000" in default
    custom = dry_run("PMI_HOME=/srv/pmi", "DAGSTER_PORT=3456")
    assert 'PMI_HOME="/srv/pmi" DAGSTER_HOME="/srv/pmi/dagster"' in custom and "-h 127.0.0.1 -p 3456" in custom


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


def test_dagster_dev_serves_the_loaded_location(tmp_path):
    """The real `dagster dev -w workspace.yaml` (the Makefile's command) shows the location LOADED with its graph."""
    dagster_home = tmp_path / "dagster"  # as `make dagster` does, so nothing is written into the repository
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port, log = free_port(), (tmp_path / "dagster_dev.log").open("w")
    proc = subprocess.Popen(
        [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=bare_env(DAGSTER_HOME=str(dagster_home)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    entry, deadline = None, time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                entries = graphql(port, WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
            except OSError:
                entries = []
            if entries and entries[0]["loadStatus"] == "LOADED":
                entry = entries[0]
                break
            time.sleep(1)
    finally:  # dagster dev's services do not all stop on a signal here: kill its whole session
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    output = (tmp_path / "dagster_dev.log").read_text()[-3000:]
    assert entry is not None, f"the location did not load within 90 s:\n{output}"
    location = entry["locationOrLoadError"]
    assert entry["name"] == "pmi" and location["__typename"] == "RepositoryLocation", location
    (repository,) = location["repositories"]
    assert EXPECTED_ASSETS <= {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
    assert EXPECTED_JOBS <= {job["name"] for job in repository["jobs"]}
