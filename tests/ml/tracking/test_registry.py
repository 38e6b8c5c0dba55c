"""The champion alias moves only when a new version beats the champion on the same validation data."""

from __future__ import annotations

import numpy as np

from ml.settings import pmi_paths
from ml.tracking.registry import champion_version, load_champion, register_if_better, training_run


class ConstantModel:
    """Predicts one number for every row; its error on the validation data is easy to reason about."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, rows):
        return np.full(len(rows), self.value)


def test_champion_moves_only_for_a_better_model(tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    actual = np.array([1.0, 2.0, 3.0])

    def mae(model) -> float:
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
