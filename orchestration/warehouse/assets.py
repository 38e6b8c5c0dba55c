"""dbt models as Dagster assets, grouped by layer (staging, intermediate, marts).

The large facts are dbt incremental models (dbt_project/macros/incremental.sql): a plain `dbt build` rebuilds only
their recent days. A run rebuilds them from raw (`--full-refresh`) unless its job tags it ``pmi/dbt_build:
incremental`` (``dbt_build_args``), which only ``hourly_allocation`` does (orchestration/jobs.py): every other job
may follow a re-simulation or an ingest that changed old days, and must leave the same warehouse however often it
runs. The incremental run also leaves out the user-level marts while they are current for the data day
(ml/warehouse/user_marts.py): their assets are then reported kept, not rebuilt.
"""

import uuid
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets, get_asset_key_for_model

from ml.operations.retention import dbt_target_dir
from ml.warehouse.user_marts import (
    USER_LEVEL_MODELS,
    hourly_rebuild_reason,
    record_user_marts_built,
    user_marts_as_of,
)
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.project import dbt_build_args, dbt_environment, is_incremental_run, pmi_dbt_project

LAYERS = ("staging", "intermediate", "marts")
LIVE_HOUR = dg.AssetKey("simulator_live_hour")


class LayeredTranslator(DagsterDbtTranslator):
    """Put each model in the asset group of its dbt layer (the folder under models/)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        for layer in LAYERS:
            if layer in fqn:
                return layer
        return super().get_group_name(dbt_resource_props)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        """Models reading raw tables also wait for the live simulator hour, which appends to raw outside dbt."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        upstream = manifest.get("nodes", {}).get(unique_id, {}).get("depends_on", {}).get("nodes", [])
        if any(node.startswith("source.") for node in upstream):
            return spec.merge_attributes(deps=[dg.AssetDep(LIVE_HOUR)])
        return spec


@dbt_assets(manifest=pmi_dbt_project.manifest_path, project=pmi_dbt_project, dagster_dbt_translator=LayeredTranslator())
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, pmi_home: PmiHomeResource):
    """Build and test the dbt models against the warehouse under PMI_HOME."""
    paths = pmi_home.paths()
    user_level = [key for key in user_level_keys() if key in context.selected_asset_keys]
    rebuild_reason = hourly_rebuild_reason(paths) if is_incremental_run(context.run.tags) else "not an hourly run"
    args = dbt_build_args(context.run.tags)
    if rebuild_reason is None:
        args += ["--exclude", " ".join(USER_LEVEL_MODELS)]
    # dbt's per-run artefacts go to the data directory (pruned by ml.operations.retention), not the checkout.
    target = dbt_target_dir(paths) / f"{context.run.run_id[:8]}-{uuid.uuid4().hex[:6]}"
    with dbt_environment(paths):  # dbt's profile reads PMI_HOME; the subprocess starts inside this block
        build = dbt.cli(args, context=context, target_path=target)
    yield from build.stream()
    if rebuild_reason is None:
        yield from kept_user_marts(paths, user_level)
    elif user_level == user_level_keys():
        record_user_marts_built(paths)  # the stream raised if a model or test failed
        context.log.info(f"user-level marts rebuilt: {rebuild_reason}")


def kept_user_marts(paths, keys: list[dg.AssetKey]):
    """One materialisation per kept user-level mart, saying it is the data day's build (downstream steps run)."""
    as_of = str(user_marts_as_of(paths))
    for key in keys:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"pmi/user_marts": "kept", "pmi/built_as_of": as_of},
        )


def user_level_keys() -> list[dg.AssetKey]:
    """The asset keys of the user-level marts, upstream first (dbt's order, kept materialisations follow it)."""
    return [dbt_model_key(name) for name in USER_LEVEL_MODELS]


def dbt_model_key(model: str) -> dg.AssetKey:
    """The asset key dagster-dbt gives a dbt model, so no other module spells a model's key by hand."""
    return get_asset_key_for_model([warehouse_models], model)


def warehouse_table_key(table: str) -> dg.AssetKey:
    """Asset key of a warehouse table ``schema.name``: a dbt model's own key, else ``[schema, name]`` (raw)."""
    schema, name = table.split(".")
    return dbt_model_key(name) if schema in LAYERS else dg.AssetKey([schema, name])
