"""The GX gates inside real Dagster runs: a corrupted feed blocks models and allocation; a clean one passes."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from ml.settings import pmi_paths
from ml.warehouse.raw_schema import RAW_TABLES

SIMULATION = {"n_campaigns": 3, "days": 14, "seed": 3, "end_date": "2026-10-01"}
RAW_KEYS = [dg.AssetKey(["raw", t]) for t in RAW_TABLES]


def run_full_pipeline(tmp_path_factory, name: str, simulation: dict, selection: dg.AssetSelection | None = None):
    """Execute the `full_pipeline` job (or a selection of it) in process into a fresh PMI_HOME."""
    with pytest.MonkeyPatch.context() as env:
        paths = pmi_paths(tmp_path_factory.mktemp(name)).ensure()
        env.setenv("PMI_HOME", str(paths.home))
        from orchestration.warehouse.project import prepare_dbt_manifest

        prepare_dbt_manifest()
        from orchestration.definitions import defs

        job = defs.resolve_job_def("full_pipeline")
        keys = list(selection.resolve(defs.resolve_asset_graph())) if selection is not None else None
        result = job.execute_in_process(
            run_config={
                "ops": {"simulator_backfill": {"config": simulation}},
                "resources": {"pmi_home": {"config": {"home": str(paths.home)}}},
            },
            asset_selection=keys,
            raise_on_error=False,
        )
    return paths, result


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "great_expectations"
    }


@pytest.fixture(scope="module")
def blocked(tmp_path_factory):
    """1% of the simulated hourly rows have clicks > impressions (written by the run's own backfill)."""
    return run_full_pipeline(tmp_path_factory, "corrupted", SIMULATION | {"corrupt_click_share": 0.01})


def test_corrupted_feed_blocks_models_and_allocation(blocked):
    paths, result = blocked
    assert not result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {f"raw/{t}" for t in RAW_TABLES} <= materialized
    assert not materialized & {"applied_allocation", "response_curves_model", "ltv_model", "marts/fct_campaign_daily"}
    succeeded = {e.step_key for e in result.get_step_success_events()}
    assert succeeded == {"simulator_backfill"}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        schemas = {row[0] for row in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert "raw" in schemas and not {"marts", "audit"} & schemas


def test_blocking_evaluation_names_the_failing_rows(blocked):
    paths, result = blocked
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        n_rows = con.execute("SELECT count(*) FROM raw.campaign_hourly").fetchall()[0][0]
        bad = con.execute(
            "SELECT campaign_id, hour_ts FROM raw.campaign_hourly WHERE clicks > impressions "
            "ORDER BY campaign_id, hour_ts"
        ).fetchall()
    assert len(bad) == round(0.01 * n_rows) > 0
    hourly = evaluations(result)["raw/campaign_hourly"]
    assert not hourly.passed and hourly.severity == dg.AssetCheckSeverity.ERROR and hourly.blocking
    assert hourly.metadata["failing_rows"].value == len(bad)
    assert "clicks_le_impressions" in hourly.metadata["failed_expectations"].value
    detail = hourly.metadata["failing_rows_detail"].value
    for campaign_id, hour_ts in bad[:5]:
        assert campaign_id in detail and str(hour_ts) in detail
    others = [e for key, e in evaluations(result).items() if key != "raw/campaign_hourly"]
    assert len(others) == len(RAW_TABLES) - 1 and all(e.passed for e in others)


def test_clean_feed_passes_every_gate(pipeline_run):
    """The shared full pipeline run (clean simulation): every gate ran, none failed with ERROR, Data Docs built."""
    paths, result = pipeline_run
    assert result.success
    checks = evaluations(result)
    assert set(checks) == {f"raw/{t}" for t in RAW_TABLES} | {"marts/fct_campaign_daily", "marts/fct_user_value"}
    # history ending 2026-10-01 is stale today: freshness may warn, nothing may fail with ERROR
    assert all(e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in checks.values())
    assert all(e.passed for key, e in checks.items() if key != "raw/campaign_hourly")
    for site in ("raw", "marts"):
        assert (paths.home / "gx_data_docs" / site / "index.html").exists()


def test_jobs_include_the_gates():
    """define_asset_job includes the checks of its selected assets: raw and mart gates in the full pipeline,
    the mart gates in the hourly loop (its live step appends to raw outside the raw assets)."""
    from orchestration.definitions import defs

    def gates(job_name: str) -> set[str]:
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        return {key.asset_key.to_user_string() for key in graph.asset_check_keys if key.name == "great_expectations"}

    assert gates("full_pipeline") == {f"raw/{t}" for t in RAW_TABLES} | {
        "marts/fct_campaign_daily",
        "marts/fct_user_value",
    }
    assert gates("hourly_allocation") == {"marts/fct_campaign_daily", "marts/fct_user_value"}
