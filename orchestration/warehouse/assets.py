"""dbt models as Dagster assets, grouped by layer (staging, intermediate, marts)."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.resources import PmiHomeResource
from orchestration.warehouse.project import pmi_dbt_project

LAYERS = ("staging", "intermediate", "marts")


class LayeredTranslator(DagsterDbtTranslator):
    """Put each model in the asset group of its dbt layer (the folder under models/)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        for layer in LAYERS:
            if layer in fqn:
                return layer
        return super().get_group_name(dbt_resource_props)


@dbt_assets(manifest=pmi_dbt_project.manifest_path, project=pmi_dbt_project,
            dagster_dbt_translator=LayeredTranslator())
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, pmi_home: PmiHomeResource):
    """Build and test the dbt models against the warehouse under PMI_HOME."""
    pmi_home.paths()  # exports the resolved PMI_HOME for dbt's profile
    yield from dbt.cli(["build"], context=context).stream()
