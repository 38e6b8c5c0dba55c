"""The champion alias moves only when a new version beats the champion on the same validation data."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pandas as pd
import pytest

from ml.models.trained import rows_known_after
from ml.settings import pmi_paths
from ml.tracking.registry import (
    champion_version,
    load_champion,
    register_if_better,
    training_run,
)


class ConstantModel:
    """Predicts one number for every row; its error on the validation data is easy to reason about."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, rows):
        return np.full(len(rows), self.value)


def test_champion_moves_only_for_a_better_model(tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    actual = np.array([1.0, 2.0, 3.0])

    def mae(model, unseen_after=None) -> float:
        return float(np.mean(np.abs(model.predict(actual) - actual)))

    results = []
    for value in (0.0, 2.0, 5.0):  # MAE 2.0 (first: champion), 0.67 (better), 3.0 (worse)
        model = ConstantModel(value)
        with training_run(paths, "constant", {"value": value}):
            results.append(register_if_better(paths, "constant", model, mae(model), evaluate=mae))
    assert [r.promoted for r in results] == [True, True, False]
    assert results[2].champion_score == mae(ConstantModel(2.0))
    assert champion_version(paths, "constant") == results[1].version
    assert load_champion(paths, "constant").value == 2.0
    assert (paths.mlflow_dir / "mlflow.db").exists()


class MemorisingModel:
    """Exact on the rows it was trained on (known by ``seen_until``), a constant elsewhere: a refit champion."""

    def __init__(self, seen_until: pd.Timestamp, value: float) -> None:
        self.seen_until, self.value = seen_until, value

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return np.where(rows["known_at"] <= self.seen_until, rows["actual"], self.value)


def test_a_champion_is_judged_only_on_outcomes_it_has_not_seen(tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    day = pd.Timestamp("2026-01-01")
    validation = pd.DataFrame(
        {"known_at": day + pd.to_timedelta(range(1, 11), unit="D"), "actual": [1.0] * 5 + [4.0] * 5}
    )  # the world moved after day 5

    def mae(model, unseen_after=None) -> float:
        rows = rows_known_after(validation, validation["known_at"], unseen_after)
        return float(np.mean(np.abs(model.predict(rows) - rows["actual"]))) if len(rows) else float("nan")

    def register(model, holdout, data_end):
        with training_run(paths, "drifting", {}):
            return register_if_better(
                paths, "drifting", model, mae(holdout), evaluate=mae, data_end=data_end, holdout_model=holdout
            )

    first = register(
        MemorisingModel(day + pd.Timedelta(days=5), 1.0), MemorisingModel(day, 1.0), day + pd.Timedelta(days=5)
    )
    # The old champion has seen days 1-5 and scores 1.5 on all ten rows; the new holdout model (fit before the
    # window, predicting the new level) scores 1.5 too, so comparing on all rows would keep the stale champion.
    # On days 6-10, which neither saw, the challenger wins 0 against 3.
    fresh_holdout = MemorisingModel(day, 4.0)
    second = register(MemorisingModel(day + pd.Timedelta(days=10), 4.0), fresh_holdout, day + pd.Timedelta(days=10))
    assert mae(MemorisingModel(day + pd.Timedelta(days=5), 1.0)) == 1.5
    assert mae(fresh_holdout) == 1.5
    assert first.promoted and second.promoted
    assert second.champion_score == 3.0 and second.reason.startswith("beats the champion on rows known after")
    # Retraining on the same data: nothing the champion has not seen, so there is nothing to prove.
    third = register(
        MemorisingModel(day + pd.Timedelta(days=10), 9.0), MemorisingModel(day, 9.0), day + pd.Timedelta(days=10)
    )
    assert not third.promoted and "no validation outcome" in third.reason
    assert champion_version(paths, "drifting") == second.version


def test_a_champion_pickled_by_older_code_counts_as_absent(tmp_path, monkeypatch):
    """A champion whose class has since moved (a refactor) warns and reads as None, so retraining replaces it."""
    paths = pmi_paths(tmp_path / "home").ensure()
    (tmp_path / "old_code").mkdir()
    (tmp_path / "old_code" / "vanishing_model.py").write_text(
        "class Model:\n    def predict(self, rows):\n        return rows\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "old_code"))
    model = importlib.import_module("vanishing_model").Model()
    with training_run(paths, "vanishing", {}):
        first = register_if_better(paths, "vanishing", model, 1.0, evaluate=lambda m, u: 1.0)
    assert first.promoted and load_champion(paths, "vanishing") is not None
    monkeypatch.delitem(sys.modules, "vanishing_model")
    (tmp_path / "old_code" / "vanishing_model.py").unlink()
    with pytest.warns(UserWarning, match="pickled by older code"):
        assert load_champion(paths, "vanishing") is None
    with pytest.warns(UserWarning), training_run(paths, "vanishing", {}):
        second = register_if_better(paths, "vanishing", ConstantModel(1.0), 2.0, evaluate=lambda m, u: 2.0)
    assert second.promoted and load_champion(paths, "vanishing").value == 1.0
