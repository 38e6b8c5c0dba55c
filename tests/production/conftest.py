"""The production profile against the real services: PostgreSQL, Redis and RabbitMQ on localhost.

Each test session gets its own PostgreSQL databases (dropped afterwards) and its own Redis database index, so it
never reads or changes state another run left; a service that is not reachable skips with one line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"PostgreSQL": ("127.0.0.1", 5432), "Redis": ("127.0.0.1", 6379), "RabbitMQ": ("127.0.0.1", 5672)}
REDIS_TEST_DB = 13


def unreachable() -> str | None:
    """The first service that does not accept a TCP connection, named with its address."""
    for name, (host, port) in SERVICES.items():
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            return f"{name} is not reachable on {host}:{port}"
    return None


def admin_execute(sql: str) -> None:
    """Run one statement on the server's `postgres` database outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    con.autocommit = True
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


@pytest.fixture(scope="module")
def production_env():
    """Environment of the production profile with fresh databases; restores the variables it set and drops the
    databases after."""
    reason = unreachable()
    if reason:
        pytest.skip(reason)
    suffix = uuid.uuid4().hex[:10]
    databases = {"PMI_PG_DAGSTER_DB": f"pmi_test_dagster_{suffix}", "PMI_PG_MLFLOW_DB": f"pmi_test_mlflow_{suffix}"}
    for name in databases.values():
        admin_execute(f"CREATE DATABASE {name}")
    settings = databases | {
        "PMI_PROFILE": "production",
        "PMI_REDIS_DB": str(REDIS_TEST_DB),
        "PMI_PG_USER": "postgres",
        "PMI_CELERY_QUEUE": f"pmi_test_{suffix}",
    }
    # Only these variables are restored: what modules imported meanwhile set (dbt's interpreter, telemetry
    # opt-outs) stays, so later tests in the same process find the environment they imported with.
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield databases
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name in databases.values():
            admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def celery_workers(production_env, tmp_path_factory):
    """One `dagster-celery` worker (2 processes) on RabbitMQ, on its own queue; stopped by its process group."""
    from ml.settings import production_settings
    from orchestration.production import celery_config, write_instance_yaml

    config = tmp_path_factory.mktemp("celery") / "celery.yaml"
    write_instance_yaml(config.parent / "dagster")  # the worker's instance: the same PostgreSQL storage
    config.write_text(yaml.safe_dump(celery_config(production_settings())))
    log = config.with_name("worker.log")
    bin_dir = Path(sys.executable).parent  # the CLI starts `celery` from PATH
    command = [
        str(bin_dir / "dagster-celery"),
        "worker",
        "start",
        "-A",
        "dagster_celery.app",
        "-y",
        str(config),
        "-q",
        os.environ["PMI_CELERY_QUEUE"],
        "--",
        "--concurrency=2",
    ]
    env = dict(os.environ) | {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(config.parent / "dagster"),
    }
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while b"ready" not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            pytest.fail(f"celery worker did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    try:
        yield log
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
