"""The dbt project handle; its manifest is prepared on demand (``dagster dev`` or `prepare_dbt_manifest`)."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

from ml.settings import pmi_paths

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

pmi_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
pmi_dbt_project.prepare_if_dev()


def prepare_dbt_manifest() -> Path:
    """Parse the dbt project into target/manifest.json (offline; no database needed) and return its path."""
    pmi_paths()  # dbt's profile reads PMI_HOME
    pmi_dbt_project.preparer.prepare(pmi_dbt_project)
    return pmi_dbt_project.manifest_path
