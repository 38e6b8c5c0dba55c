"""The dbt project handle; its manifest is prepared on demand (``dagster dev`` or `prepare_dbt_manifest`)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject
from filelock import FileLock

from ml.settings import DEFAULT_HOME, PmiPaths, pmi_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# dbt is installed beside this interpreter; don't rely on the caller's PATH.
REAL_DBT_EXECUTABLE = (
    str(Path(sys.executable).with_name("dbt"))
    if Path(sys.executable).with_name("dbt").exists()
    else (shutil.which("dbt") or "dbt")
)
# Dagster runs dbt through a guard that dies with the process that started it (ml/operations/dbt_guard.py), so a
# killed run leaves no `dbt build` holding the warehouse; the guard runs this interpreter and then that dbt.
DBT_EXECUTABLE = str(Path(__file__).with_name("dbt_guard"))
os.environ.setdefault("PMI_DBT_PYTHON", sys.executable)
os.environ.setdefault("PMI_DBT_REAL", REAL_DBT_EXECUTABLE)

pmi_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# A run tagged with this (orchestration/jobs.py: `hourly_allocation` only) builds the incremental models
# incrementally; every other run rebuilds them from raw.
DBT_BUILD_TAG = "pmi/dbt_build"
INCREMENTAL = "incremental"


# A run tagged with this (orchestration/jobs.py: `daily_user_value`) reads back the stored per-user LTV predictions
# as the hourly job does; a job that rebuilds the warehouse from raw predicts every user afresh.
LTV_SCORES_TAG = "pmi/ltv_scores"
REUSE_STORED = "reuse_stored"


def reuses_stored_ltv_scores(run_tags: Mapping[str, str]) -> bool:
    """True for the hourly job (it appended recent hours) and a run tagged ``pmi/ltv_scores: reuse_stored`` (the
    daily job): their users are those the stored predictions were made for."""
    return is_incremental_run(run_tags) or run_tags.get(LTV_SCORES_TAG) == REUSE_STORED


def is_incremental_run(run_tags: Mapping[str, str]) -> bool:
    """True for a run tagged ``pmi/dbt_build: incremental`` (only ``hourly_allocation``): it appended recent hours,
    so dbt builds incrementally and ``campaign_ltv`` may keep the day's scores; the one place that reads the tag."""
    return run_tags.get(DBT_BUILD_TAG) == INCREMENTAL


def dbt_build_args(run_tags: Mapping[str, str]) -> list[str]:
    """`dbt build` incremental for a run tagged ``pmi/dbt_build: incremental``, else from raw (`--full-refresh`):
    rebuilding everything is the safe default for a job that does not say it only appended recent hours."""
    return ["build"] if is_incremental_run(run_tags) else ["build", "--full-refresh"]


def code_location_home() -> PmiPaths:
    """The data directory a code location serves by default: ``PMI_HOME`` if set, else the repository's ./data
    (not the caller's cwd: `dagster dev` may be started anywhere)."""
    return pmi_paths(os.environ.get("PMI_HOME") or REPO_ROOT / DEFAULT_HOME)


@contextmanager
def dbt_environment(paths: PmiPaths) -> Iterator[None]:
    """``PMI_HOME`` set to ``paths`` while one dbt invocation starts, then restored.

    dbt's profile reads the warehouse path from ``env_var('PMI_HOME')`` and dagster-dbt starts dbt with a copy of
    this process's environment (it takes no environment of its own), so the home is set around that call only:
    nothing else in the process reads it, and a process serving several data directories stays correct.
    """
    previous = os.environ.get("PMI_HOME")
    os.environ["PMI_HOME"] = str(paths.home)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PMI_HOME", None)
        else:
            os.environ["PMI_HOME"] = previous


def invoke_dbt(paths: PmiPaths, command: str, target_path: Path, *args: str, manifest: object | None = None):
    """One in-process dbt command on ``paths``'s warehouse (the profile reads PMI_HOME, set around this call only);
    returns the dbtRunnerResult. ``manifest`` (an earlier parse's) skips parsing the project again. dbt is imported
    here so that importing this module stays cheap."""
    from dbt.cli.main import dbtRunner

    with dbt_environment(paths):
        return dbtRunner(manifest=manifest).invoke(
            [
                command,
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(target_path),
                *args,
            ]
        )


def prepare_dbt_manifest(paths: PmiPaths | None = None) -> Path:
    """Parse the dbt project into target/manifest.json (offline; no database needed) and return its path.

    Parsing renders the profile, which names a data directory (``paths``, default the code location's) but opens
    no warehouse.
    """
    target = DBT_PROJECT_DIR / pmi_dbt_project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / "manifest.lock"), timeout=600):  # code servers and runs may parse at once
        result = invoke_dbt(paths or code_location_home(), "parse", target)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return pmi_dbt_project.manifest_path


# Under `dagster dev` re-parse so model edits show up (in-process: no `dbt` needed on PATH); a deployment ships
# a prepared manifest and `pmi run` prepares its own.
if pmi_dbt_project.preparer.using_dagster_dev():
    prepare_dbt_manifest()
