"""The Feast feature store of pmi: apply the definitions, materialise online, build point-in-time training sets.

The store's configuration is built in code for one data directory (``FeatureStore(config=RepoConfig(...))``): the
registry, the online store and the Parquet exports all live under that directory, so one process can serve several
data directories (tests, a notebook) without any environment variable. The definitions in feature_repo/ name
their sources relative to the data directory's ``feast/`` folder and are applied bound to one directory's files.
The registry is a single sqlite file; a file lock makes sure only one process writes it at a time.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock

from ml.settings import PmiPaths, is_production, production_settings
from ml.warehouse.late_rows import incremental_lookback

FEATURE_REPO = Path(__file__).resolve().parents[2] / "feature_repo"
# In import order: each module imports the ones before it by name (the way `feast apply` loads a repo).
_DEFINITION_MODULES = ("entities", "sources", "feature_views", "feature_services")
# Views served online for hourly predictions; user features are used in batch (training and scoring) only.
ONLINE_VIEWS = ("campaign_trailing_kpis", "campaign_saturation_signals", "campaign_calendar", "market_indices")
FEAST_PROJECT = "pmi"


@contextmanager
def registry_lock(paths: PmiPaths) -> Iterator[None]:
    """Serialise registry writers across processes."""
    paths.feast_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(paths.feast_dir / "registry.lock"), timeout=600):
        yield


def store_config(paths: PmiPaths):
    """Feast's configuration for this data directory: registry and exports under it, online store per profile.

    Embedded: a sqlite online store beside the registry. Production profile: Redis (``PMI_REDIS_*`` settings).
    """
    from feast.repo_config import RepoConfig

    feast_dir = paths.feast_dir
    if is_production():
        online = {"type": "redis", "connection_string": production_settings().redis_connection_string}
    else:
        online = {"type": "sqlite", "path": str(feast_dir / "online_store.db")}
    return RepoConfig(
        project=FEAST_PROJECT,
        provider="local",
        registry=str(feast_dir / "registry.db"),
        online_store=online,
        offline_store={"type": "duckdb"},
        entity_key_serialization_version=3,
        repo_path=feast_dir,
    )


def feature_store(paths: PmiPaths):
    """A FeatureStore over this data directory (its registry, online store and feature exports)."""
    from feast import FeatureStore

    paths.feast_dir.mkdir(parents=True, exist_ok=True)
    return FeatureStore(repo_path=str(paths.feast_dir), config=store_config(paths))


@functools.cache
def _definition_modules() -> tuple:
    """feature_repo/'s modules, loaded once from their files under their own names (as `feast apply` does)."""
    modules = []
    for name in _DEFINITION_MODULES:
        module = sys.modules.get(name)
        if module is None or Path(getattr(module, "__file__", "")).parent != FEATURE_REPO:
            spec = importlib.util.spec_from_file_location(name, FEATURE_REPO / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # the later modules import the earlier ones by this name
            spec.loader.exec_module(module)
        modules.append(module)
    return tuple(modules)


def source_path(paths: PmiPaths, path: str) -> Path:
    """Where a file source's data is: feature_repo/ names it relative to the data directory's feast/ folder."""
    return (paths.feast_dir / path).resolve()


def definitions(paths: PmiPaths) -> list:
    """The Feast objects of feature_repo/ (entities, sources, feature views, feature services), one of each, with
    every file source bound to this data directory's exports.

    The modules name their sources relative to the data directory's feast/ folder, and Feast's DuckDB offline store
    reads a source's path as it is, so the copies registered here carry absolute paths; the modules' own objects
    are never changed, so one process can apply several data directories.
    """
    import copy

    from feast import Entity, FeatureService, FeatureView, FileSource
    from feast.data_source import DataSource

    def bound(source: FileSource) -> FileSource:
        local = FileSource.from_proto(source.to_proto())
        local.file_options.uri = str(source_path(paths, source.path))
        return local

    feast_types = (Entity, DataSource, FeatureView, FeatureService)
    objects: dict[tuple[str, str], object] = {}
    for module in _definition_modules():
        for obj in vars(module).values():
            if isinstance(obj, feast_types):
                objects.setdefault((type(obj).__name__, obj.name), obj)  # modules re-export each other's objects
    result = []
    for obj in objects.values():
        if isinstance(obj, FileSource):
            obj = bound(obj)
        elif isinstance(obj, FeatureView) and isinstance(obj.batch_source, FileSource):
            view = copy.copy(obj)
            view.batch_source = view.data_source = bound(obj.batch_source)
            obj = view
        result.append(obj)
    return result


def apply_definitions(paths: PmiPaths) -> list[str]:
    """`feast apply`: register entities, sources, feature views and services; returns their names."""
    with registry_lock(paths):
        objects = definitions(paths)
        feature_store(paths).apply(objects)
    return sorted(f"{type(o).__name__}:{o.name}" for o in objects)


def registry_reads_here(paths: PmiPaths) -> bool:
    """True if the registry exists and its file sources are this data directory's exports.

    Sources are registered with absolute paths: in a data directory that was moved or copied, Feast would go on
    reading the old one's files (stale, or gone), so such a registry is re-applied.
    """
    if not (paths.feast_dir / "registry.db").exists():
        return False
    data_dir = (paths.feast_dir / "data").resolve()
    with registry_lock(paths):
        sources = feature_store(paths).list_data_sources()
    return bool(sources) and all(source_path(paths, getattr(s, "path", "")).parent == data_dir for s in sources)


def ensure_registry(paths: PmiPaths) -> bool:
    """Apply the definitions if the registry does not read this data directory's exports; True if it applied."""
    if registry_reads_here(paths):
        return False
    apply_definitions(paths)
    return True


def online_window_start(view, end: dt.datetime) -> dt.datetime:
    """Where one view's next materialisation starts: its own last end, less the late-row lookback.

    Feast records each view's materialised intervals in the registry. Starting from the day of the last end, less the
    days dbt's incremental builds still rewrite (``incremental_lookback``), re-reads every row a late arrival could
    have changed and nothing older, however long ago the last run was (a loop stopped for a week catches up on the
    week). A view never materialised (or re-defined, which clears its intervals) starts its TTL before ``end``: older
    rows would be expired online anyway. A last end after ``end`` (a warehouse rebuilt on an earlier history) is
    treated as ``end``.
    """
    end = _utc(end)
    last_end = view.most_recent_end_time
    if last_end is None:
        return end - max(view.ttl or dt.timedelta(0), incremental_lookback())
    day = min(_utc(last_end), end).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - incremental_lookback()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def materialize_online(paths: PmiPaths, end: dt.datetime) -> dict[str, dt.datetime]:
    """Load each online view's features from where it last stopped up to ``end`` (sqlite; Redis in production).

    Per view and incremental (``online_window_start``), so an hourly run's cost follows the hours since the last
    run, not the history. Anchored on the data's own clock (``end``), not on the wall clock Feast's own
    ``materialize_incremental`` uses, so simulated or back-dated histories materialise too. Returns each view's start.
    """
    end = _utc(end)
    starts: dict[str, dt.datetime] = {}
    with registry_lock(paths):
        store = feature_store(paths)
        for name in ONLINE_VIEWS:
            start = online_window_start(store.get_feature_view(name), end)
            store.materialize(start_date=start, end_date=end, feature_views=[name])
            starts[name] = start
    return starts


def training_frame(paths: PmiPaths, entity_rows: pd.DataFrame, service: str) -> pd.DataFrame:
    """Point-in-time join: each entity row gets the feature values known at its ``event_timestamp``, never later."""
    store = feature_store(paths)
    job = store.get_historical_features(entity_df=entity_rows, features=store.get_feature_service(service))
    return job.to_df()


def online_features(paths: PmiPaths, service: str, entity_rows: list[dict]) -> pd.DataFrame:
    """Latest materialised features for live prediction."""
    store = feature_store(paths)
    return store.get_online_features(features=store.get_feature_service(service), entity_rows=entity_rows).to_df()
