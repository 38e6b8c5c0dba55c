"""The production profile's Dagster pieces: instance storage on PostgreSQL and the Celery executor on RabbitMQ.

The embedded profile (default) keeps a sqlite instance under PMI_HOME/dagster and runs steps in-process; with
``PMI_PROFILE=production`` the instance lives in PostgreSQL and steps are Celery tasks that workers pick up, so the
model-training steps run in parallel (workers: ``dagster-celery worker start -y <celery_config as YAML>``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import yaml

from ml.io.atomic import write_atomically
from ml.settings import ProductionSettings, is_production, production_settings
from ml.warehouse.run_lock import read_holder

# Steps of a Celery run execute in other processes, while the process that launched the run holds the data
# directory's run lock on its behalf: this tag names that process, so a step knows the lock is held for its run.
LOCK_PID_TAG = "pmi/run_lock_pid"


def instance_config(settings: ProductionSettings) -> dict:
    """dagster.yaml of the production instance: run, event-log and schedule storage in one PostgreSQL database."""
    postgres_db = {
        "username": settings.pg_user,
        "password": settings.pg_password,
        "hostname": settings.pg_host,
        "db_name": settings.dagster_db,
        "port": settings.pg_port,
    }
    return {"storage": {"postgres": {"postgres_db": postgres_db}}, "telemetry": {"enabled": False}}


def write_instance_yaml(dagster_home: Path) -> None:
    """The profile's dagster.yaml: PostgreSQL storage in production, Dagster's sqlite defaults (empty) otherwise."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    if is_production():
        write_atomically(target, yaml.safe_dump(instance_config(production_settings()), sort_keys=False))
    elif not target.exists() or target.read_text().strip().startswith("storage:"):
        write_atomically(target, "")  # a directory last used by the production profile goes back to sqlite


def celery_config(settings: ProductionSettings) -> dict:
    """The celery executor's config (also the worker's ``-y`` file): broker, result backend, queue, imports."""
    return {
        "broker": settings.celery_broker,
        "backend": settings.celery_backend,
        "include": ["orchestration.definitions"],
        "config_source": {"task_default_queue": settings.celery_queue},
    }


def pipeline_executor() -> dg.ExecutorDefinition:
    """In-process (embedded: DuckDB takes one writer at a time) or Celery (production: parallel steps)."""
    if not is_production():
        return dg.in_process_executor
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_config(production_settings()), name="celery")


def run_lock_delegated(tags: dict, home: Path) -> bool:
    """True when the run's launcher (named by LOCK_PID_TAG) is alive and holds the data directory's lock."""
    pid = tags.get(LOCK_PID_TAG)
    if pid is None or str(read_holder(home).get("pid")) != pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True


def full_pipeline_job() -> dg.JobDefinition:
    """`full_pipeline` of the code location (a module-level function, so Celery workers can reconstruct it)."""
    from orchestration.definitions import defs

    # The executor is chosen now, not when the code location was first imported (a process may switch profile).
    return defs.resolve_job_def("full_pipeline").with_executor_def(pipeline_executor())


def execute_on_workers(run_config: dict, instance: dg.DagsterInstance) -> dg.ExecutionResult:
    """Run `full_pipeline` with the Celery executor; the caller holds the run lock, which the steps inherit."""
    return dg.execute_job(
        dg.reconstructable(full_pipeline_job),
        instance=instance,
        run_config=run_config,
        tags={LOCK_PID_TAG: str(os.getpid())},
        raise_on_error=False,
    )
