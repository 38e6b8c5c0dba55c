"""Feast assets: export feature marts to Parquet, `feast apply`, and materialise the online store."""

import datetime as dt

import dagster as dg

from ml.features.export import export_feature_tables
from ml.features.store import ONLINE_VIEWS, apply_definitions, materialize_online
from ml.warehouse.connection import connect
from orchestration.resources import PmiHomeResource

FEATURE_MARTS = [dg.AssetKey(["marts", name]) for name in
                 ("fct_user_features", "fct_campaign_day_features", "fct_market_day_features")]


@dg.asset(group_name="features", deps=FEATURE_MARTS, kinds={"parquet"})
def feature_exports(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Parquet exports of the user, campaign-day and market-day feature marts that Feast reads."""
    counts = export_feature_tables(pmi_home.paths())
    context.log.info(f"exported feature tables: {counts}")
    return dg.MaterializeResult(metadata={f"rows/{name}": n for name, n in counts.items()})


@dg.asset(group_name="features", deps=[feature_exports], kinds={"feast"})
def feast_registry(pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """The Feast registry: entities, sources, feature views and feature services applied from feature_repo/."""
    applied = apply_definitions(pmi_home.paths())
    return dg.MaterializeResult(metadata={"objects": dg.MetadataValue.md("\n".join(f"- {a}" for a in applied))})


@dg.asset(group_name="features", deps=[feast_registry], kinds={"feast", "sqlite"})
def feast_online_store(pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """Latest campaign and market features in the sqlite online store, for hourly predictions."""
    paths = pmi_home.paths()
    con = connect(paths.warehouse, read_only=True)
    try:
        as_of = con.execute("SELECT max(as_of_ts) FROM intermediate.int_warehouse_as_of").fetchone()[0]
    finally:
        con.close()
    end = as_of if isinstance(as_of, dt.datetime) else dt.datetime.now(dt.UTC)
    materialize_online(paths, end)
    return dg.MaterializeResult(metadata={"materialized_until": str(end), "views": ", ".join(ONLINE_VIEWS)})
