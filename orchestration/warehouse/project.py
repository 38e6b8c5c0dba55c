"""The dbt project handle; its manifest is prepared on demand (``dagster dev`` or `prepare_dbt_manifest`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from ml.settings import pmi_paths

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# dbt is installed beside this interpreter; don't rely on the caller's PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt")) if Path(sys.executable).with_name("dbt").exists() \
    else (shutil.which("dbt") or "dbt")

pmi_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
pmi_dbt_project.prepare_if_dev()


def prepare_dbt_manifest() -> Path:
    """Parse the dbt project into target/manifest.json (offline; no database needed) and return its path."""
    from dbt.cli.main import dbtRunner

    pmi_paths()  # dbt's profile reads PMI_HOME
    result = dbtRunner().invoke(["parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                                 "--profiles-dir", str(DBT_PROJECT_DIR),
                                 "--target-path", str(pmi_dbt_project.target_path)])
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return pmi_dbt_project.manifest_path
