"""Re-point a moved or copied data directory's MLflow store at its own artifact folder.

MLflow records absolute artifact locations (the experiment's folder, each run's, each logged model's and each
registered version's). A data directory that was moved or copied would go on loading its champions from the
original's folder, and lose them once that is deleted. The embedded sqlite store lives inside the data directory, so
its locations are rewritten to this directory's folder; a server store (the production profile) is shared between
homes and left alone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Every column of MLflow's sqlite schema that holds an artifact location (checked against a trained store in
# tests/ml/tracking/test_relocation.py, so a schema that adds one fails there).
ARTIFACT_LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
)


def _tables(con: sqlite3.Connection) -> set[str]:
    """The store's table names (an older MLflow schema lacks some of ``ARTIFACT_LOCATION_COLUMNS``'s tables)."""
    return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def recorded_artifact_root(store: Path, experiment: str) -> str | None:
    """The artifact location the store recorded for ``experiment``, or None when there is none yet."""
    if not store.exists():
        return None
    con = sqlite3.connect(store)
    try:
        if "experiments" not in _tables(con):
            return None
        row = con.execute("SELECT artifact_location FROM experiments WHERE name = ?", (experiment,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def repoint_artifacts(store: Path, old_root: str, new_root: str) -> int:
    """Rewrite every artifact location under ``old_root`` to the same place under ``new_root``, in one transaction;
    returns the number of rows changed (0 when nothing pointed at ``old_root``)."""
    old_root, new_root = old_root.rstrip("/"), new_root.rstrip("/")
    con = sqlite3.connect(store, timeout=60)
    try:
        tables = _tables(con)
        changed = 0
        with con:  # one transaction: a crash leaves every location old or every one new
            for table, column in ARTIFACT_LOCATION_COLUMNS:
                if table not in tables:
                    continue
                changed += con.execute(
                    f"""UPDATE {table} SET {column} = ? || substr({column}, ?)
                        WHERE {column} = ? OR substr({column}, 1, ?) = ?""",
                    (new_root, len(old_root) + 1, old_root, len(old_root) + 1, old_root + "/"),
                ).rowcount
    finally:
        con.close()
    return changed


def ensure_local_artifacts(store: Path, experiment: str, artifact_root: str) -> int:
    """Re-point the store when its experiment's artifacts are recorded elsewhere (the directory was moved or
    copied); returns the rows changed, 0 when it already reads ``artifact_root``."""
    recorded = recorded_artifact_root(store, experiment)
    if recorded is None or recorded.rstrip("/") == artifact_root.rstrip("/"):
        return 0
    return repoint_artifacts(store, recorded, artifact_root)
