"""Housekeeping of the Dagster instance under PMI_HOME: close runs whose process is gone, prune old history.

Called when a pmi command opens the instance (``ml.cli.pipeline.dagster_instance``) and, for runs Dagster launches
itself (the hourly schedule, the UI), by a hook on the first step of every pmi job. The retention policy is
documented in ``ml/operations/retention.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

from ml.operations.hygiene import process_gone
from ml.operations.retention import RetentionPolicy, prune_files, prune_legacy_dbt_targets, runs_to_delete
from ml.settings import PmiPaths

LEGACY_DBT_TARGET = Path(__file__).resolve().parents[1] / "dbt_project" / "target"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
DEAD_RUN_MESSAGE = "pmi: the process running this run (pid {pid}) is gone; marked failed at the next start"


@dataclass
class Housekeeping:
    """What one pass did: runs marked failed, runs deleted, files pruned."""

    failed_runs: list[str] = field(default_factory=list)
    deleted_runs: list[str] = field(default_factory=list)
    pruned_files: dict[str, int] = field(default_factory=dict)


def last_writer(instance: dg.DagsterInstance, run_id: str) -> tuple[int | None, float]:
    """The pid that wrote the run's newest Dagster event, and when (none among the last 50 records: no pid)."""
    for record in instance.get_records_for_run(run_id, ascending=False, limit=50).records:
        entry = record.event_log_entry
        if entry.dagster_event is not None and entry.dagster_event.pid is not None:
            return entry.dagster_event.pid, entry.timestamp
    return None, 0.0


def sweep_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every in-progress run whose process no longer runs; return their ids."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        pid, seen_at = last_writer(instance, run.run_id)
        if pid == os.getpid() or not process_gone(pid, seen_at):
            continue
        instance.report_run_failed(run, DEAD_RUN_MESSAGE.format(pid=pid))
        failed.append(run.run_id)
    return failed


def run_table(instance: dg.DagsterInstance) -> pd.DataFrame:
    """Every run of the instance: run_id, job_name, status, created."""
    records = instance.get_run_records()
    return pd.DataFrame(
        {
            "run_id": [r.dagster_run.run_id for r in records],
            "job_name": [r.dagster_run.job_name for r in records],
            "status": [r.dagster_run.status.value for r in records],
            "created": pd.to_datetime([r.create_timestamp for r in records], utc=True),
        }
    )


def delete_check_executions(instance: dg.DagsterInstance, run_id: str) -> None:
    """Delete the run's asset check executions (one per dbt test, a few KB each), which `delete_run` leaves behind.

    Dagster's UI tolerates check executions whose run is gone (dagster-io/dagster#18236); without this the index
    grows by ~2 MB per hourly run for ever.
    """
    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage) or not storage.has_table(AssetCheckExecutionsTable.name):
        return
    with storage.index_connection() as conn:
        conn.execute(AssetCheckExecutionsTable.delete().where(AssetCheckExecutionsTable.c.run_id == run_id))


def delete_run(instance: dg.DagsterInstance, run_id: str) -> None:
    """Delete a run, its events, check executions and compute logs; with sqlite storage, its per-run event file."""
    instance.delete_run(run_id)
    delete_check_executions(instance, run_id)
    instance.compute_log_manager.delete_logs(prefix=[run_id])
    shard = getattr(instance.event_log_storage, "path_for_shard", None)
    if shard is not None:
        for suffix in ("", "-wal", "-shm"):
            path = shard(run_id) + suffix
            if os.path.exists(path):
                os.remove(path)


def prune_runs(instance: dg.DagsterInstance, policy: RetentionPolicy) -> list[str]:
    """Delete the finished runs beyond the newest ``policy.keep_runs_per_job`` of each job."""
    doomed = runs_to_delete(run_table(instance), policy.keep_runs_per_job)
    for run_id in doomed:
        delete_run(instance, run_id)
    return doomed


def housekeeping(instance: dg.DagsterInstance, paths: PmiPaths, policy: RetentionPolicy | None = None) -> Housekeeping:
    """One pass: close dead runs first (so they become prunable), then prune runs, dbt targets and run logs."""
    policy = policy or RetentionPolicy.from_env()
    failed = sweep_dead_runs(instance)
    pruned = prune_files(paths, policy) | {"legacy_dbt_targets": len(prune_legacy_dbt_targets(LEGACY_DBT_TARGET))}
    return Housekeeping(failed, prune_runs(instance, policy), pruned)


_DONE: set[str] = set()  # runs this process already did housekeeping for


@dg.success_hook(name="pmi_housekeeping", required_resource_keys={"pmi_home"})
def housekeeping_hook(context: dg.HookContext) -> None:
    """Once per run, after its first successful step: the same housekeeping pmi commands do when they start.

    A hook, not an asset, so it needs no place in the asset graph; a failure here never fails the run.
    """
    if context.run_id in _DONE:
        return
    _DONE.add(context.run_id)
    try:
        done = housekeeping(context.instance, context.resources.pmi_home.paths())
    except Exception as exc:  # noqa: BLE001 - housekeeping must never break the run it rides on
        context.log.warning(f"housekeeping skipped: {exc}")
        return
    if done.failed_runs or done.deleted_runs:
        context.log.info(
            f"housekeeping: marked failed {done.failed_runs}, deleted {len(done.deleted_runs)} old "
            f"runs, pruned {done.pruned_files}"
        )
