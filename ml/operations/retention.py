"""Retention: what pmi keeps of its own history, so an hourly loop that runs for weeks uses bounded disk.

The policy (each number can be overridden by an environment variable):
- Dagster runs: the newest ``PMI_KEEP_RUNS`` (8) runs of each job, with their event logs and compute logs; a run
  still in progress is never deleted. The warehouse keeps every allocation and audit row: this prunes only the
  orchestration history (about 6 MB per hourly run).
- dbt target folders (``PMI_HOME/dbt_target/<step>-<run>-<id>``, one per `dbt build`, about 15 MB): the newest
  ``PMI_KEEP_DBT_TARGETS`` (3).
- Run logs (``PMI_HOME/logs/*.log``, one per pmi job run): the newest ``PMI_KEEP_RUN_LOGS`` (48).
- Per-run dbt folders that older versions left in the checkout (``dbt_project/target/warehouse_models-*``): deleted
  once an hour old.

Counts rather than ages: a loop that runs faster than hourly (tests, catch-up) stays bounded too.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.settings import PmiPaths

DBT_TARGET_DIR = "dbt_target"
RUN_LOG_DIR = "logs"
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass(frozen=True)
class RetentionPolicy:
    """How much history to keep; see the module docstring."""

    keep_runs_per_job: int = 8
    keep_dbt_targets: int = 3
    keep_run_logs: int = 48

    @classmethod
    def from_env(cls) -> RetentionPolicy:
        """Defaults, overridden by PMI_KEEP_RUNS / PMI_KEEP_DBT_TARGETS / PMI_KEEP_RUN_LOGS (at least 1 each)."""

        def number(name: str, default: int) -> int:
            text = os.environ.get(name, "").strip()
            return max(int(text), 1) if text.isdigit() else default

        return cls(
            number("PMI_KEEP_RUNS", cls.keep_runs_per_job),
            number("PMI_KEEP_DBT_TARGETS", cls.keep_dbt_targets),
            number("PMI_KEEP_RUN_LOGS", cls.keep_run_logs),
        )


def dbt_target_dir(paths: PmiPaths) -> Path:
    """Where dbt writes its per-run artefacts: the data directory, never the code checkout."""
    return paths.home / DBT_TARGET_DIR


def runs_to_delete(runs: pd.DataFrame, keep_per_job: int) -> list[str]:
    """Ids of finished runs beyond the newest ``keep_per_job`` of their job.

    ``runs`` has columns run_id, job_name, status (Dagster status name) and created (timestamp). Runs in progress
    count toward the newest but are never returned.
    """
    if runs.empty:
        return []
    rank = runs.sort_values("created", ascending=False).groupby("job_name").cumcount()
    doomed = (rank.reindex(runs.index) >= keep_per_job) & runs["status"].isin(FINISHED)
    return runs.loc[doomed, "run_id"].tolist()


def prune_newest(directory: Path, keep: int, pattern: str = "*") -> list[Path]:
    """Delete all but the ``keep`` most recently modified entries matching ``pattern``; return what went."""
    if not directory.is_dir():
        return []
    entries = [p for p in directory.glob(pattern) if not p.name.startswith(".")]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = entries[keep:]
    for entry in removed:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return removed


def prune_files(paths: PmiPaths, policy: RetentionPolicy) -> dict[str, int]:
    """Apply the policy to the dbt target folders and run logs of a data directory; counts of what went."""
    return {
        "dbt_targets": len(prune_newest(dbt_target_dir(paths), policy.keep_dbt_targets)),
        "run_logs": len(prune_newest(paths.home / RUN_LOG_DIR, policy.keep_run_logs, "*.log")),
    }


def prune_legacy_dbt_targets(project_target: Path, min_age_seconds: float = 3600.0) -> list[Path]:
    """Delete the per-run folders older pmi versions left in the checkout's dbt_project/target (an hour old or more,
    so a run of such a version still writing one is left alone)."""
    if not project_target.is_dir():
        return []
    cutoff = time.time() - min_age_seconds
    removed = [p for p in project_target.glob("warehouse_models-*") if p.is_dir() and p.stat().st_mtime < cutoff]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def disk_usage(root: Path) -> int:
    """Bytes used by the files under ``root`` (what an operator's `du` would count, symlinks not followed)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed while walking (a concurrent prune)
                continue
    return total
