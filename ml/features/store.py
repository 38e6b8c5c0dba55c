"""The Feast feature store of pmi: apply the definitions, materialise online, build point-in-time training sets.

The registry is a single sqlite file; a file lock makes sure only one process writes it at a time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock

from ml.settings import PmiPaths, is_production, production_settings

FEATURE_REPO = Path(__file__).resolve().parents[2] / "feature_repo"
_DEFINITION_MODULES = ("entities", "sources", "feature_views", "feature_services")
# Views served online for hourly predictions; user features are used in batch (training and scoring) only.
ONLINE_VIEWS = ("campaign_trailing_kpis", "campaign_saturation_signals", "campaign_calendar", "market_indices")


@contextmanager
def registry_lock(paths: PmiPaths) -> Iterator[None]:
    """Serialise registry writers across processes."""
    paths.feast_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(paths.feast_dir / "registry.lock"), timeout=600):
        yield


def feature_store(paths: PmiPaths):
    """A FeatureStore over feature_repo/ with its state under this PMI_HOME.

    feature_store.yaml reads PMI_HOME when the store is built, so it is pointed at ``paths`` first: a process that
    served another data directory before (tests, a notebook) must not read that one's registry.
    """
    from feast import FeatureStore

    paths.feast_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PMI_HOME"] = str(paths.home)
    if is_production():  # the online store on Redis (feature_store.production.yaml)
        os.environ["PMI_FEAST_REDIS"] = production_settings().redis_connection_string
        return FeatureStore(repo_path=str(FEATURE_REPO), fs_yaml_file=FEATURE_REPO / "feature_store.production.yaml")
    return FeatureStore(repo_path=str(FEATURE_REPO))


def definitions() -> list:
    """Load the Feast objects from feature_repo/ (re-imported so PMI_HOME-dependent paths are current)."""
    if str(FEATURE_REPO) not in sys.path:
        sys.path.insert(0, str(FEATURE_REPO))
    from feast import Entity, FeatureService, FeatureView
    from feast.data_source import DataSource

    feast_types = (Entity, DataSource, FeatureView, FeatureService)
    objects: dict[tuple[str, str], object] = {}
    for name in _DEFINITION_MODULES:
        module = importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, feast_types):
                objects.setdefault((type(obj).__name__, obj.name), obj)  # modules re-export each other's objects
    return list(objects.values())


def apply_definitions(paths: PmiPaths) -> list[str]:
    """`feast apply`: register entities, sources, feature views and services; returns their names."""
    with registry_lock(paths):
        objects = definitions()
        feature_store(paths).apply(objects)
    return sorted(f"{type(o).__name__}:{o.name}" for o in objects)


def registry_reads_here(paths: PmiPaths) -> bool:
    """True if the registry exists and its file sources are this data directory's exports.

    Sources are stored with absolute paths when applied: in a data directory that was moved or copied, Feast would
    go on reading the old one's files (stale, or gone).
    """
    if not (paths.feast_dir / "registry.db").exists():
        return False
    data_dir = (paths.feast_dir / "data").resolve()
    with registry_lock(paths):
        sources = feature_store(paths).list_data_sources()
    return bool(sources) and all(Path(getattr(s, "path", "")).resolve().parent == data_dir for s in sources)


def ensure_registry(paths: PmiPaths) -> bool:
    """Apply the definitions if the registry does not read this data directory's exports; True if it applied."""
    if registry_reads_here(paths):
        return False
    apply_definitions(paths)
    return True


ONLINE_LOOKBACK = dt.timedelta(days=3)


def materialize_online(paths: PmiPaths, end: dt.datetime) -> None:
    """Load the latest feature values up to ``end`` into the online store (sqlite; Redis in the production profile).

    The window is anchored on the data's own clock (``end``), not on the wall clock that Feast's incremental
    mode uses, so simulated or back-dated histories materialise too.
    """
    with registry_lock(paths):
        feature_store(paths).materialize(
            start_date=end - ONLINE_LOOKBACK, end_date=end, feature_views=list(ONLINE_VIEWS)
        )


def training_frame(paths: PmiPaths, entity_rows: pd.DataFrame, service: str) -> pd.DataFrame:
    """Point-in-time join: each entity row gets the feature values known at its ``event_timestamp``, never later."""
    store = feature_store(paths)
    job = store.get_historical_features(entity_df=entity_rows, features=store.get_feature_service(service))
    return job.to_df()


def online_features(paths: PmiPaths, service: str, entity_rows: list[dict]) -> pd.DataFrame:
    """Latest materialised features for live prediction."""
    store = feature_store(paths)
    return store.get_online_features(features=store.get_feature_service(service), entity_rows=entity_rows).to_df()
