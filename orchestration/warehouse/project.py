"""The dbt project handle; its manifest is prepared on demand (``dagster dev`` or `prepare_dbt_manifest`)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject
from filelock import FileLock

from ml.settings import DEFAULT_HOME, pmi_paths

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

# dbt's profile reads PMI_HOME: a code location started with no environment (`dagster dev`) serves the
# repository's ./data, whatever the caller's cwd; a relative PMI_HOME is made absolute for dbt's subprocesses.
pmi_paths(os.environ.get("PMI_HOME") or REPO_ROOT / DEFAULT_HOME)

pmi_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_dbt_manifest() -> Path:
    """Parse the dbt project into target/manifest.json (offline; no database needed) and return its path."""
    from dbt.cli.main import dbtRunner

    pmi_paths()  # dbt's profile reads PMI_HOME
    target = DBT_PROJECT_DIR / pmi_dbt_project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / "manifest.lock"), timeout=600):  # code servers and runs may parse at once
        result = dbtRunner().invoke(
            [
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(target),
            ]
        )
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return pmi_dbt_project.manifest_path


# Under `dagster dev` re-parse so model edits show up (in-process: no `dbt` needed on PATH); a deployment ships
# a prepared manifest and `pmi run` prepares its own.
if pmi_dbt_project.preparer.using_dagster_dev():
    prepare_dbt_manifest()
