"""Retention: over many cycles the pruned history stays bounded, and nothing in progress or recent is deleted."""

from __future__ import annotations

import os
import time

import pandas as pd

from ml.operations.retention import (
    RetentionPolicy,
    dbt_target_dir,
    disk_usage,
    prune_files,
    prune_legacy_dbt_targets,
    runs_to_delete,
)
from ml.settings import pmi_paths


def synthetic_runs(n_hourly: int, n_full: int) -> pd.DataFrame:
    start = pd.Timestamp("2026-01-01", tz="UTC")
    rows = [(f"h{i}", "hourly_allocation", "SUCCESS", start + pd.Timedelta(hours=i)) for i in range(n_hourly)]
    rows += [(f"f{i}", "full_pipeline", "FAILURE", start + pd.Timedelta(days=i)) for i in range(n_full)]
    return pd.DataFrame(rows, columns=["run_id", "job_name", "status", "created"]).sample(frac=1, random_state=0)


def test_keeps_the_newest_runs_of_each_job():
    runs = synthetic_runs(1000, 3)
    doomed = set(runs_to_delete(runs, keep_per_job=8))
    kept = runs[~runs["run_id"].isin(doomed)]
    assert kept.groupby("job_name").size().to_dict() == {"full_pipeline": 3, "hourly_allocation": 8}
    assert set(kept["run_id"]) >= {f"h{i}" for i in range(992, 1000)}


def test_never_deletes_a_run_in_progress():
    runs = synthetic_runs(20, 0)
    runs.loc[runs["run_id"] == "h0", "status"] = "STARTED"  # the oldest, beyond the kept ones
    assert "h0" not in runs_to_delete(runs, keep_per_job=2)
    assert len(runs_to_delete(runs, keep_per_job=2)) == 17


def test_policy_from_environment(monkeypatch):
    monkeypatch.setenv("PMI_KEEP_RUNS", "3")
    monkeypatch.setenv("PMI_KEEP_DBT_TARGETS", "0")  # at least one is always kept
    monkeypatch.setenv("PMI_KEEP_RUN_LOGS", "lots")  # not a number: the default
    assert RetentionPolicy.from_env() == RetentionPolicy(3, 1, RetentionPolicy.keep_run_logs)


def test_disk_stays_bounded_over_many_cycles(tmp_path):
    """Each synthetic cycle leaves a dbt target folder and a run log, as an hourly run does; pruning bounds both."""
    paths = pmi_paths(tmp_path / "home").ensure()
    policy = RetentionPolicy(keep_runs_per_job=8, keep_dbt_targets=3, keep_run_logs=5)
    sizes = []
    for cycle in range(60):
        folder = dbt_target_dir(paths) / f"run{cycle:03d}"
        (folder / "compiled").mkdir(parents=True)
        (folder / "manifest.json").write_bytes(b"m" * 20_000)
        (folder / "compiled" / "model.sql").write_bytes(b"s" * 5_000)
        (paths.home / "logs").mkdir(exist_ok=True)
        (paths.home / "logs" / f"hourly-{cycle:03d}.log").write_bytes(b"l" * 1_000)
        stamp = time.time() - 3600 + cycle  # distinct modification times, oldest first
        for path in (folder, paths.home / "logs" / f"hourly-{cycle:03d}.log"):
            os.utime(path, (stamp, stamp))
        prune_files(paths, policy)
        sizes.append(disk_usage(paths.home))
    assert sorted(p.name for p in dbt_target_dir(paths).iterdir()) == ["run057", "run058", "run059"]
    assert len(list((paths.home / "logs").iterdir())) == 5
    assert max(sizes[10:]) == min(sizes[10:]) == 3 * 25_000 + 5 * 1_000


def test_legacy_checkout_folders_go_once_an_hour_old(tmp_path):
    old, fresh, other = (tmp_path / n for n in ("warehouse_models-aaa", "warehouse_models-bbb", "manifest.lock"))
    old.mkdir(), fresh.mkdir(), other.write_text("")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert prune_legacy_dbt_targets(tmp_path) == [old]
    assert fresh.exists() and other.exists() and not old.exists()
