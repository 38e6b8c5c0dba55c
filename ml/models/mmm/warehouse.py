"""The media-mix model as a pipeline step on a data directory: read the ingested channel data, fit, allocate, write.

A home is channel-level when `pmi ingest` loaded a total outcome per period (``raw.period_outcomes``) and no
campaign reports conversions: then no per-campaign response curve can be fitted and this model is the only way to
an allocation. The allocation is applied to ``raw.budgets`` through the one budget gate (``ml/models/mmm/apply.py``),
audited like any campaign allocation. Outputs replace the previous fit's rows in one transaction
(``predictions.channel_*``), so a re-run on the same data leaves the same tables and a failed one leaves the old ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.tables import read_typed_table
from ml.models.mmm.allocation import allocate_channels, current_spend
from ml.models.mmm.apply import apply_channel_allocation, channel_period_start_spend
from ml.models.mmm.config import MmmConfig
from ml.models.mmm.data import MediaData, MmmInputError
from ml.models.mmm.lift import LiftTests, lift_tests
from ml.models.mmm.model import BaselineOnlyModel, fit_mmm
from ml.models.mmm.result import MmmResult, nrmse
from ml.models.mmm.trajectories import channel_scenarios, channel_trajectories
from ml.optimize.problem import DEFAULT_MAX_CHANGE_PCT
from ml.settings import PmiPaths
from ml.warehouse.connection import connect, read_sql, table_exists, transaction

HOLDOUT_SHARE = 0.2  # the last 20% of periods: the out-of-sample check of the fit against a baseline-only model
OUTPUT_TABLES = (
    "channel_fit",
    "channel_contributions",
    "channel_allocation",
    "channel_decomposition",
    "channel_trajectories",
    "channel_scenarios",
)


def channel_level_reason(paths: PmiPaths) -> str | None:
    """Why this home takes the media-mix path (one phrase), or None for a campaign-level home."""
    if not paths.warehouse.exists() or not table_exists(paths, "raw.period_outcomes"):
        return None
    con = connect(paths.warehouse, read_only=True)
    try:
        periods = con.execute("SELECT count(*) FROM raw.period_outcomes").fetchall()[0][0]
        conversions = con.execute("SELECT coalesce(sum(conversions), 0) FROM raw.campaign_hourly").fetchall()[0][0]
        channels = con.execute("SELECT count(DISTINCT campaign_id) FROM raw.campaign_hourly").fetchall()[0][0]
    finally:
        con.close()
    if periods == 0 or conversions > 0:
        return None
    return (
        f"{channels} channels with spend and only a total outcome over {periods} periods (no conversions per channel)"
    )


def warehouse_media(paths: PmiPaths) -> MediaData:
    """Spend per channel (a campaign of the wide file) per period, the total outcome and the controls, aligned on the
    periods of ``raw.period_outcomes`` (a period without a channel's row is no spend)."""
    outcomes = read_sql(paths, "SELECT period_date, outcome FROM raw.period_outcomes ORDER BY period_date")
    spend = read_sql(
        paths,
        "SELECT CAST(hour_ts AS DATE) AS period_date, campaign_id, sum(spend) AS spend FROM raw.campaign_hourly "
        "GROUP BY ALL",
    )
    wide = spend.pivot(index="period_date", columns="campaign_id", values="spend")
    wide = wide.reindex(pd.to_datetime(outcomes["period_date"]).dt.date).fillna(0.0)
    wide.index = pd.to_datetime(outcomes["period_date"])
    active = sorted(c for c in wide.columns if wide[c].sum() > 0)
    if not active:
        raise MmmInputError(f"{paths.warehouse}: raw.campaign_hourly: no channel spent in the outcome's periods")
    controls = pd.DataFrame(index=wide.index)
    if table_exists(paths, "raw.period_controls"):
        long = read_sql(paths, "SELECT period_date, control, value FROM raw.period_controls")
        if len(long):
            controls = long.pivot(index="period_date", columns="control", values="value")
            controls.index = pd.to_datetime(controls.index)
            controls = controls.reindex(wide.index)
            if controls.isna().any().any():
                column = controls.columns[int(np.argmax(controls.isna().any().to_numpy()))]
                raise MmmInputError(f"{paths.warehouse}: raw.period_controls: control {column!r} misses periods")
    return MediaData(
        pd.DatetimeIndex(wide.index),
        outcomes["outcome"].to_numpy(float),
        wide[active].to_numpy(float),
        controls.to_numpy(float),
        tuple(str(c) for c in active),
        tuple(str(c) for c in controls.columns),
    )


def warehouse_lift_tests(paths: PmiPaths, data: MediaData, lift_file: Path | None = None) -> pd.DataFrame:
    """The lift tests to calibrate with: a given file (it then replaces ``raw.lift_tests``) or the home's table."""
    if lift_file is not None:
        path = Path(lift_file)
        frame = read_typed_table(path, "lift-test table")
        lift_tests(frame, data, str(path))  # validated before anything is written
        return frame
    if table_exists(paths, "raw.lift_tests"):
        return read_sql(paths, 'SELECT channel, start, "end", lift, lift_se FROM raw.lift_tests')
    return pd.DataFrame(columns=["channel", "start", "end", "lift", "lift_se"])


@dataclass(frozen=True, eq=False)
class MediaMixRun:
    """What one pipeline fit produced: the fit, the tables written and the figures the CLI prints."""

    run_id: str
    result: MmmResult
    fit: pd.DataFrame
    contributions: pd.DataFrame
    allocation: pd.DataFrame
    decomposition: pd.DataFrame


def holdout_figures(data: MediaData, config: MmmConfig) -> dict[str, float]:
    """Fit on the first 80% of periods (point fit), NRMSE on the rest for the model and the baseline-only model."""
    n_train = int(round(len(data) * (1.0 - HOLDOUT_SHARE)))
    test = np.arange(len(data)) >= n_train
    held = fit_mmm(data.head(n_train), config.model_copy(update={"n_bootstrap": 0}))
    baseline = BaselineOnlyModel(data.head(n_train), config)
    return {
        "holdout_periods": float(test.sum()),
        "holdout_nrmse": nrmse(data.outcome[test], held.predict(data)[test]),
        "baseline_holdout_nrmse": nrmse(data.outcome[test], baseline.predict(data)[test]),
    }


def _tables(
    run_id: str, result: MmmResult, config: MmmConfig, lift: int, max_change_pct: float, current: np.ndarray | None
) -> dict:
    decomposition = result.decomposition()
    fitted = decomposition.sum(axis=1)
    long = decomposition.reset_index(names="period_date").melt(
        id_vars="period_date", var_name="component", value_name="value"
    )
    extra = pd.DataFrame({"period_date": decomposition.index, "component": "fitted", "value": fitted.to_numpy()})
    actual = pd.DataFrame({"period_date": decomposition.index, "component": "actual", "value": result.data.outcome})
    long = pd.concat([long, extra, actual], ignore_index=True)
    current = current_spend(result) if current is None else current
    plan = allocate_channels(result, current=current, max_change_pct=max_change_pct, objective="revenue").to_frame()
    plan = plan.drop(columns=["reason_code", "paused"])
    fit = pd.DataFrame(
        [
            result.diagnostics()
            | {
                "periods": len(result.data),
                "channels": len(result.channels),
                "adstock": config.adstock,
                "lift_tests": lift,
                "period_days": result.data.period_days,
                "max_change_pct": max_change_pct,
                "fitted_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
            }
        ]
    )
    frames = {
        "channel_fit": fit,
        "channel_contributions": result.contributions(),
        "channel_allocation": plan,
        "channel_decomposition": long,
        "channel_trajectories": channel_trajectories(result, current),
        "channel_scenarios": channel_scenarios(result, current),
    }
    return {name: frame.assign(run_id=run_id) for name, frame in frames.items()}


def run_media_mix(
    paths: PmiPaths,
    config: MmmConfig | None = None,
    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT,
    lift_file: Path | None = None,
) -> MediaMixRun:
    """Fit the home's channel data (with its lift tests), check it out of sample, allocate, apply the allocation to
    ``raw.budgets`` through the budget gate, and replace the ``predictions.channel_*`` tables in one transaction;
    MLflow gets the fit (``ml/models/mmm/tracking.py``).

    The plan moves from the budgets at the start of the gate's period (per period of the data; the recent spend
    before any allocation was applied) and the gate holds the applied budgets to the same period limit
    (``ml/models/mmm/apply.py``), so a second run in the same period cannot stack its change on the first.
    """
    from ml.models.mmm.tracking import log_fit

    config = config or MmmConfig()
    data = warehouse_media(paths)
    lift_frame = warehouse_lift_tests(paths, data, lift_file)
    lift = lift_tests(lift_frame, data, "raw.lift_tests") if len(lift_frame) else LiftTests.none(len(data))
    result = fit_mmm(data, config, lift)
    holdout = holdout_figures(data, config)
    run_id = uuid.uuid4().hex[:16]
    current = channel_period_start_spend(
        paths, result.channels, current_spend(result), data.period_days, max_change_pct
    )
    tables = _tables(run_id, result, config, len(lift), max_change_pct, current)
    for key, value in holdout.items():
        tables["channel_fit"][key] = value
    tables["channel_fit"]["mlflow_run_id"] = log_fit(paths, result, holdout)
    # applied last, once the fit is complete and logged: a fit that fails applies nothing
    applied = apply_channel_allocation(paths, run_id, tables["channel_allocation"], data.period_days, max_change_pct)
    tables["channel_allocation"] = tables["channel_allocation"].merge(applied.applied, on="channel", how="left")
    tables["channel_fit"]["allocation_status"] = applied.status
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS predictions")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE predictions.{name} AS SELECT * FROM frame")
            con.unregister("frame")
        if lift_file is not None:
            con.register("lift_frame", lift_frame[["channel", "start", "end", "lift", "lift_se"]])
            con.execute("CREATE OR REPLACE TABLE raw.lift_tests AS SELECT * FROM lift_frame")
            con.unregister("lift_frame")
    return MediaMixRun(
        run_id,
        result,
        tables["channel_fit"],
        tables["channel_contributions"],
        tables["channel_allocation"],
        tables["channel_decomposition"],
    )
