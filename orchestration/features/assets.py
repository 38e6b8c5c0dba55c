"""Feast assets: export feature marts to Parquet, `feast apply`, and materialise the online store."""

import datetime as dt

import dagster as dg

from ml.features.export import export_feature_tables
from ml.features.store import apply_definitions, ensure_registry, materialize_online
from ml.warehouse.connection import connect
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.assets import dbt_model_key
from orchestration.warehouse.project import is_incremental_run

FEATURE_MARTS = [
    dbt_model_key(name) for name in ("fct_user_features", "fct_campaign_day_features", "fct_market_day_features")
]


@dg.asset(group_name="features", deps=FEATURE_MARTS, kinds={"parquet"})
def feature_exports(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Parquet exports of the user, campaign-day and market-day feature marts that Feast reads.

    The campaign-day and market-day tables are rewritten each time (today's row moves with every hour); the user
    table only when its mart was rebuilt: the hourly job keeps the user-level marts within a data day.
    """
    counts = export_feature_tables(pmi_home.paths(), keep_current_user_export=is_incremental_run(context.run.tags))
    context.log.info(f"exported feature tables: {counts}")
    if ensure_registry(pmi_home.paths()):  # a moved or copied data directory: point Feast at these exports
        context.log.info("re-applied the Feast registry: its sources named another data directory")
    return dg.MaterializeResult(metadata={f"rows/{name}": n for name, n in counts.items()})


@dg.asset(group_name="features", deps=[feature_exports], kinds={"feast"})
def feast_registry(pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """The Feast registry: entities, sources, feature views and feature services applied from feature_repo/."""
    applied = apply_definitions(pmi_home.paths())
    return dg.MaterializeResult(metadata={"objects": dg.MetadataValue.md("\n".join(f"- {a}" for a in applied))})


@dg.asset(group_name="features", deps=[feast_registry, feature_exports], kinds={"feast", "sqlite"})
def feast_online_store(pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Latest campaign and market features in the online store (sqlite; Redis in production), for hourly predictions.

    It reads the exports directly (the hourly job refreshes them without re-applying the registry), each view from
    where its last materialisation stopped less the late-row lookback (ml/features/store.py).
    """
    paths = pmi_home.paths()
    con = connect(paths.warehouse, read_only=True)
    try:
        as_of = con.execute("SELECT max(as_of_ts) FROM intermediate.int_warehouse_as_of").fetchone()[0]
    finally:
        con.close()
    end = as_of if isinstance(as_of, dt.datetime) else dt.datetime.now(dt.UTC)
    starts = materialize_online(paths, end)
    return dg.MaterializeResult(
        metadata={"materialized_until": str(end), **{f"from/{view}": str(start) for view, start in starts.items()}}
    )
