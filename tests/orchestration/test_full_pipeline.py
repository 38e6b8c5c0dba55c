"""The Dagster graph end to end on a small simulation in a temporary PMI_HOME, reconciled against raw."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ml.features.store import online_features
from ml.tracking.registry import champion_version

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline(pipeline_run):
    """The session's shared full pipeline run (tests/conftest.py)."""
    return pipeline_run


@pytest.fixture
def con(pipeline):
    paths, _ = pipeline
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        yield connection


def test_full_pipeline_succeeds(pipeline):
    _, result = pipeline
    assert result.success
    materialized = {key.to_user_string() for key in (e.asset_key for e in result.get_asset_materialization_events())}
    assert {"raw/campaign_hourly", "raw/users", "marts/fct_campaign_daily", "marts/fct_user_value"} <= materialized


def test_models_are_registered_with_a_champion(pipeline):
    paths, _ = pipeline
    for model in ("response_curves", "cac", "pricing", "kpi_forecast", "ltv"):
        assert champion_version(paths, model) == "1", model


def test_feature_store_is_applied_and_online(pipeline):
    paths, _ = pipeline
    served = online_features(paths, "cac_model", [{"campaign_id": "cmp_00001", "market_id": "facebook:US"}])
    assert served["trailing_7d_spend"].notna().all()


def test_marts_reconcile_with_raw(con):
    raw = con.execute("SELECT sum(spend), sum(conversions), sum(revenue) FROM raw.campaign_hourly").fetchone()
    for mart in ("marts.fct_campaign_hourly", "marts.fct_campaign_daily"):
        assert con.execute(f"SELECT sum(spend), sum(conversions), sum(revenue) FROM {mart}").fetchone() == raw
    events = con.execute("SELECT sum(revenue) FROM raw.revenue_events").fetchone()[0]
    assert con.execute("SELECT sum(revenue_total) FROM marts.fct_user_value").fetchone()[0] == events
    assert con.execute("SELECT sum(cohort_revenue) FROM marts.fct_campaign_daily").fetchone()[0] == events


def test_every_users_revenue_reconciles(con):
    mismatches = con.execute("""
        SELECT count(*) FROM marts.fct_user_value v
        FULL OUTER JOIN (SELECT u.user_id, coalesce(sum(e.revenue), 0) AS revenue
                         FROM raw.users u LEFT JOIN raw.revenue_events e USING (user_id) GROUP BY 1) r USING (user_id)
        WHERE v.user_id IS NULL OR r.user_id IS NULL OR v.revenue_total <> r.revenue
    """).fetchone()[0]
    assert mismatches == 0


def test_definitions_validate():
    env_bin = Path(sys.executable).parent
    completed = subprocess.run(
        [str(env_bin / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_allocation_applied_with_audit(con):
    runs = con.execute("SELECT run_id, total_before, total_after FROM audit.allocation_runs").fetchall()
    assert len(runs) == 1
    run_id, before, after = runs[0]
    assert after <= before + 0.01  # default total budget: today's total, never exceeded
    applied = con.execute("SELECT count(*) FROM raw.budgets WHERE source = ?", [run_id]).fetchall()[0][0]
    audited = con.execute("SELECT count(*) FROM audit.budget_changes WHERE run_id = ?", [run_id]).fetchall()[0][0]
    assert audited == 6 and 0 < applied <= audited
    # the safety net holds to the cent (budgets are stored in cents)
    excess = con.execute(
        """SELECT max(abs(budget_after - budget_before) - 0.25 * budget_before)
                            FROM audit.budget_changes WHERE run_id = ?""",
        [run_id],
    ).fetchall()[0][0]
    assert excess <= 0.005
    logged = con.execute(
        "SELECT count(*), count(DISTINCT response_curves_version) FROM "
        "predictions.allocation_predictions WHERE run_id = ?",
        [run_id],
    ).fetchall()[0]
    assert logged == (6, 1)


def test_hourly_schedule_keys_its_run_by_the_newest_data_day(pipeline, monkeypatch, tmp_path):
    """The schedule adds the day the next hour falls on as a partition and requests that one; no data, no run."""
    import dagster as dg

    from ml.warehouse.data_days import hourly_data_day
    from orchestration.definitions import defs
    from orchestration.jobs import hourly_allocation_schedule

    paths, _ = pipeline
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        next_hour = connection.execute("SELECT next_hour_ts FROM sim.state").fetchall()[0][0]
    assert hourly_data_day(paths) == next_hour.date()
    monkeypatch.setenv("PMI_HOME", str(paths.home))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def())
        [request] = hourly_allocation_schedule.evaluate_tick(context).run_requests
        assert request.partition_key == next_hour.date().isoformat()
        assert instance.get_dynamic_partitions("data_day") == [request.partition_key]
        monkeypatch.setenv("PMI_HOME", str(tmp_path / "empty"))
        skipped = hourly_allocation_schedule.evaluate_tick(context)
    assert not skipped.run_requests and "no warehouse yet" in skipped.skip_message


def test_hourly_allocation_closes_the_loop(pipeline):
    """One hourly run: the simulator spends the applied budgets, the warehouse updates, a new allocation applies.
    The run is the newest data day's partition; a run for an older day fails before writing anything."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.partitions import DATA_DAYS, hourly_partition

    paths, _ = pipeline
    job = defs.resolve_job_def("hourly_allocation")
    run_config = {"resources": {"pmi_home": {"config": {"home": str(paths.home)}}}}
    instance = dg.DagsterInstance.ephemeral()
    newest = hourly_partition(paths, instance)
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        hours_before = connection.execute("SELECT count(*) FROM raw.campaign_hourly").fetchall()[0][0]
    instance.add_dynamic_partitions(DATA_DAYS.name, ["2026-09-01"])
    stale = job.execute_in_process(
        run_config=run_config, instance=instance, partition_key="2026-09-01", raise_on_error=False
    )
    assert not stale.success
    [failure] = [e for e in stale.all_events if e.is_step_failure]
    assert failure.step_key == "simulator_live_hour" and "not the newest data day" in str(failure.event_specific_data)
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM raw.campaign_hourly").fetchall()[0][0] == hours_before
        assert connection.execute("SELECT count(*) FROM audit.allocation_runs").fetchall()[0][0] == 1

    result = job.execute_in_process(
        run_config=run_config, instance=instance, partition_key=newest, raise_on_error=False
    )
    assert result.success
    [live] = result.asset_materializations_for_node("simulator_live_hour")
    assert live.partition == newest and live.metadata["hour_ts"].value.startswith(newest)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        first_run = con.execute("SELECT run_id FROM audit.allocation_runs ORDER BY applied_at LIMIT 1").fetchall()[0][0]
        # the hour simulated after the first allocation spent at the allocated budgets' pace
        spent = con.execute(
            """
            SELECT h.campaign_id, h.spend::DOUBLE, b.daily_budget::DOUBLE FROM raw.campaign_hourly h
            JOIN raw.budgets b ON b.campaign_id = h.campaign_id AND b.effective_ts = h.hour_ts AND b.source = ?
        """,
            [first_run],
        ).fetchall()
        assert spent and all(0 < s < b for _, s, b in spent)
        assert con.execute("SELECT count(*) FROM audit.allocation_runs").fetchall()[0][0] == 2


def test_drift_raises_alerts_and_exactly_one_retrain(pipeline, monkeypatch):
    """The audience shrinks mid-day: CPA misses its prediction, alerts fire, the sensor asks for one retrain."""
    import dagster as dg
    import pandas as pd

    from ml.models.training.ltv_scoring import campaign_ltv_is_current
    from ml.simulation.drift import shrink_audience
    from ml.simulation.live import step_one_hour
    from orchestration.definitions import defs
    from orchestration.monitoring.sensors import mape_drift_sensor
    from orchestration.partitions import hourly_partition

    paths, _ = pipeline
    monkeypatch.setenv("PMI_HOME", str(paths.home))
    events = shrink_audience(paths, 0.4)
    assert len(events) == 6 and (events["after"] < events["before"]).all()
    last_hour = pd.Timestamp("2026-10-01 23:00")  # the hourly job simulates it, completing the predicted day
    for _ in range(int((last_hour - events["effective_ts"].iloc[0]) / pd.Timedelta(hours=1))):
        step_one_hour(paths)
    instance = dg.DagsterInstance.ephemeral()
    run_config = {"resources": {"pmi_home": {"config": {"home": str(paths.home)}}}}
    hourly = defs.resolve_job_def("hourly_allocation").execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False, partition_key=hourly_partition(paths, instance)
    )
    assert hourly.success
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        cpa_alerts = con.execute("""SELECT count(*) FROM monitoring.alerts
                                    WHERE metric = 'cpa' AND date = DATE '2026-10-01'""").fetchall()[0][0]
        cpa_mape = con.execute("""SELECT max(mape) FROM monitoring.model_accuracy WHERE metric = 'cpa'""").fetchall()
    assert cpa_alerts >= 4, cpa_alerts  # every campaign's CPA rose ~2.5x; the odd one may have had no delivery
    assert cpa_mape[0][0] > 0.30

    tick = dg.build_sensor_context(instance=instance, cursor=None)
    request = mape_drift_sensor(tick)
    assert isinstance(request, dg.RunRequest) and request.tags["pmi/drifted_metrics"] == "cpa"
    retrain = defs.resolve_job_def("retrain").execute_in_process(
        run_config=run_config, instance=instance, tags=request.tags, raise_on_error=False
    )
    assert retrain.success
    [scored] = retrain.asset_materializations_for_node("campaign_ltv")  # so the next hourly run keeps the scores
    assert scored.metadata["scoring"].value == "re-scored"
    assert campaign_ltv_is_current(paths, same_data_day=False) is None
    again = mape_drift_sensor(dg.build_sensor_context(instance=instance, cursor=tick.cursor))
    assert isinstance(again, dg.SkipReason)  # the same evaluation never asks twice
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="retrain"))
    assert len(runs) == 1 and runs[0].tags["pmi/evaluation_id"] == request.tags["pmi/evaluation_id"]


def test_alert_actions_apply_once_and_only_to_auto_optimised_campaigns(pipeline):
    """After the drift: its CPA alerts cut budgets of auto-optimised campaigns only, and checking again acts never."""
    from ml.monitoring.alerts import check_and_act, latest_economics

    paths, _ = pipeline
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        cut = con.execute("""SELECT b.campaign_id, c.auto_optimization_enabled, b.budget_after / b.budget_before,
                                    b.bound_by
                             FROM audit.budget_changes b JOIN raw.campaigns c USING (campaign_id)
                             WHERE b.triggered_by = 'alert:cpa_above_prediction'""").fetchall()
        budgets_before = con.execute("SELECT count(*), sum(daily_budget) FROM raw.budgets").fetchall()
        # what decided it, for the failure message: every CPA alert and the economics its cut was judged on
        alerts = con.execute("""SELECT campaign_id, date, severity, deviation, auto_optimization_enabled,
                                       action_run_id, raised_at
                                FROM monitoring.alerts WHERE metric = 'cpa' ORDER BY date, campaign_id""").df()
    economics = latest_economics(paths)
    assert cut, f"the drift's CPA alerts cut no budget:\n{alerts.to_string()}\n{economics}"
    assert all(auto for _, auto, _, _ in cut)
    # The rule asks for -15%; the gate may hold a cut short where the period's limit or a bound binds, and says so.
    assert all(ratio >= 0.85 - 0.01 for _, _, ratio, _ in cut)
    held = [(ratio, bound) for _, _, ratio, bound in cut if ratio > 0.85 + 0.01]
    assert all(bound in {"period_change_limit_down", "min_budget"} for _, bound in held), held
    assert any(abs(ratio - 0.85) < 0.01 or bound != "none" for _, _, ratio, bound in cut)
    assert check_and_act(paths) == {"new_alerts": 0, "auto_actions": 0}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(daily_budget) FROM raw.budgets").fetchall() == budgets_before
