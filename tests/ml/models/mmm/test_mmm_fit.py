"""The media-mix fit recovers known adstock and saturation, and its decomposition reconciles with its prediction."""

from __future__ import annotations

import numpy as np

from ml.models.mmm import PARAMETERS


def test_true_parameters_inside_bootstrap_intervals(synthetic):
    data, truth, result = synthetic
    table = result.parameters().set_index(["channel", "parameter"])
    inside = [
        table.loc[(ch, name), "lower"] <= truth.as_array()[i, c] <= table.loc[(ch, name), "upper"]
        for c, ch in enumerate(data.channels)
        for i, name in enumerate(PARAMETERS)
    ]
    assert np.mean(inside) >= 0.75, table


def test_true_channel_contributions_inside_intervals(synthetic):
    _, truth, result = synthetic
    contributions = result.contributions()
    true_total = truth.contribution.sum(axis=0)
    inside = (contributions["contribution_lower"] <= true_total) & (true_total <= contributions["contribution_upper"])
    assert inside.sum() >= 2, contributions.assign(truth=true_total)
    assert abs(contributions["contribution"].sum() / true_total.sum() - 1.0) < 0.3
    assert (contributions["contribution_lower"] <= contributions["contribution"]).all()
    assert (contributions["contribution"] <= contributions["contribution_upper"] * (1 + 1e-9)).all()


def test_decomposition_sums_to_prediction_and_explains_the_data(synthetic):
    data, _, result = synthetic
    decomposition = result.decomposition()
    np.testing.assert_allclose(decomposition.sum(axis=1).to_numpy(), result.predict(data))
    diagnostics = result.diagnostics()
    assert diagnostics["r2"] > 0.6
    assert 0.0 < diagnostics["nrmse"] < 0.15
    # the noise the simulator added is 4% of the mean outcome; the fit's residual SD should be near it
    assert 0.5 < diagnostics["noise_sd"] / (0.04 * data.outcome.mean()) < 1.5


def test_fit_diagnostics_reach_mlflow(synthetic, tmp_path):
    import mlflow

    from ml.models.mmm.tracking import log_fit
    from ml.settings import PmiPaths

    _, _, result = synthetic
    run_id = log_fit(PmiPaths(home=tmp_path), result, holdout={"nrmse": 0.1})
    run = mlflow.get_run(run_id)
    assert run.data.metrics["r2"] == result.diagnostics()["r2"]
    assert run.data.metrics["holdout_nrmse"] == 0.1
    assert {f"roas_{ch}" for ch in result.channels} <= run.data.metrics.keys()
    artefacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "mmm")}
    assert artefacts == {"mmm/parameters.csv", "mmm/contributions.csv", "mmm/decomposition.csv"}
