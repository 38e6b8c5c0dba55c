"""A copied or moved data directory loads its champions from its own MLflow artifacts, the original deleted."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np

from ml.settings import pmi_paths
from ml.tracking.registry import EXPERIMENT, configure, load_champion, register_if_better, training_run
from ml.tracking.relocation import ensure_local_artifacts


class ConstantModel:
    """Predicts one number for every row."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, rows):
        return np.full(len(rows), self.value)


def cells_naming(store: Path, text: str) -> list[tuple[str, str]]:
    """Every (table, column) of the sqlite store with a cell that contains ``text``."""
    con = sqlite3.connect(store)
    try:
        found = []
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for column in [row[1] for row in con.execute(f"PRAGMA table_info({table})")]:
                query = f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?) > 0'
                if con.execute(query, (text,)).fetchone()[0]:
                    found.append((table, column))
    finally:
        con.close()
    return found


def train_champion(home: Path, value: float) -> None:
    paths = pmi_paths(home).ensure()
    model = ConstantModel(value)
    with training_run(paths, "constant", {"value": value}):
        register_if_better(paths, "constant", model, 1.0, evaluate=lambda m, unseen_after=None: 1.0)


def test_a_copied_home_reads_its_own_artifacts_after_the_original_is_deleted(tmp_path):
    original, copy = tmp_path / "original home", tmp_path / "copy"
    train_champion(original, 3.0)
    store = copy / "mlflow" / "mlflow.db"
    shutil.copytree(original, copy)
    assert cells_naming(store, original.as_uri())  # MLflow recorded the original's absolute locations
    shutil.rmtree(original)

    paths = pmi_paths(copy)
    assert load_champion(paths, "constant").value == 3.0
    assert cells_naming(store, original.as_uri()) == cells_naming(store, str(original)) == []  # none left behind
    assert ensure_local_artifacts(store, EXPERIMENT, (paths.mlflow_dir / "artifacts").as_uri()) == 0  # idempotent
    configure(paths)
    with training_run(paths, "constant", {"value": 4.0}):  # new runs land in the copy too
        distance = lambda m, unseen_after=None: abs(m.value - 4.0)  # noqa: E731 - the closer to 4, the better
        register_if_better(paths, "constant", ConstantModel(4.0), 0.0, evaluate=distance)
    assert load_champion(paths, "constant").value == 4.0
    assert not original.exists()
