"""Feast point-in-time joins pushed down to DuckDB, for entity sets too large to pass through Feast's pandas path.

Feast stays the authority on *what* a model reads: the feature service names its views, each view its source file,
timestamp field, time-to-live, join keys and features (read from the registry). The join itself is one DuckDB
``ASOF LEFT JOIN`` per view, with Feast's semantics: the latest source row with ``timestamp <= the entity's
event_timestamp`` and not older than the view's ttl, else missing. Entities come as SQL, so neither the
entities nor the feature table pass through pandas; only the joined result does (the caller bounds its size).
Each view's file is first filtered to the entities' keys, so a chunk of entities joins only its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml.features.store import feature_store, source_path
from ml.io.sql_text import sql_literal
from ml.settings import PmiPaths


@dataclass(frozen=True)
class ViewSpec:
    """What one feature view of a service contributes to a point-in-time join."""

    name: str
    path: str
    timestamp_field: str
    ttl_seconds: float | None
    join_keys: tuple[str, ...]
    features: tuple[str, ...]


def service_views(paths: PmiPaths, service: str) -> list[ViewSpec]:
    """The views of a feature service as the registry defines them (projected to the service's features)."""
    store = feature_store(paths)
    specs = []
    for projection in store.get_feature_service(service).feature_view_projections:
        view = store.get_feature_view(projection.name)
        ttl = view.ttl.total_seconds() if view.ttl else None
        specs.append(
            ViewSpec(
                name=view.name,
                path=str(source_path(paths, view.batch_source.path)),
                timestamp_field=view.batch_source.timestamp_field,
                ttl_seconds=ttl or None,
                join_keys=tuple(view.join_keys),
                features=tuple(f.name for f in projection.features),
            )
        )
    return specs


def point_in_time_sql(views: list[ViewSpec], entity_sql: str, timestamp: str = "event_timestamp") -> str:
    """SQL of the entities (``entity_sql``, with a naive-UTC ``timestamp`` column) and every view's features
    as known at each entity's timestamp (Feast's point-in-time semantics, ttl included)."""
    joins, selects = [], []
    for i, view in enumerate(views):
        alias = f"v{i}"
        keys = ", ".join(view.join_keys)
        wanted = " AND ".join(f"{k} IN (SELECT {k} FROM e)" for k in view.join_keys)  # only the entities' rows
        source = (
            f"(SELECT {keys}, {view.timestamp_field} AS _ts_{i}, {', '.join(view.features)} "
            f"FROM read_parquet({sql_literal(view.path)}) WHERE {wanted})"
        )
        on = " AND ".join(f"e.{k} = {alias}.{k}" for k in view.join_keys)
        joins.append(f"ASOF LEFT JOIN {source} {alias} ON {on} AND e.{timestamp} >= {alias}._ts_{i}")
        fresh = (
            f"{alias}._ts_{i} >= e.{timestamp} - to_seconds({view.ttl_seconds!r})"
            if view.ttl_seconds
            else f"{alias}._ts_{i} IS NOT NULL"
        )
        selects += [f"CASE WHEN {fresh} THEN {alias}.{f} END AS {f}" for f in view.features]
    return f"WITH e AS ({entity_sql}) SELECT e.*, {', '.join(selects)} FROM e {' '.join(joins)}"
