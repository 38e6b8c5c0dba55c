"""The media-mix model as a Dagster asset: a thin call of ``ml.models.mmm.warehouse.run_media_mix``.

It belongs to the job `media_mix_pipeline`, which `pmi run` chooses for a channel-level home (spend per channel and
only a total outcome); `full_pipeline` leaves it out, so a campaign-level home runs exactly as before.
"""

from pathlib import Path

import dagster as dg

from ml.models.mmm.config import MmmConfig
from ml.optimize.problem import DEFAULT_MAX_CHANGE_PCT
from orchestration.resources import PmiHomeResource

GROUP = "media_mix"


class MediaMixConfig(dg.Config):
    """Launchpad settings: bootstrap refits for the intervals, adstock form, change limit, optional lift tests."""

    n_bootstrap: int = 100
    adstock: str = "geometric"
    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT  # per period of the data, held by the budget gate too
    lift_tests: str = ""  # a CSV/Parquet of channel, start, end, lift, lift_se; stored as raw.lift_tests


@dg.asset(
    group_name=GROUP,
    deps=[dg.AssetKey(["raw", "campaign_hourly"])],
    kinds={"duckdb", "mlflow"},
    description="Media-mix model of the channel-level data (adstock + Hill saturation, bootstrap intervals, lift-test "
    "calibration), its channel contributions and ROAS, fit diagnostics and an allocation per channel applied to "
    "raw.budgets through the budget gate (audit.budget_changes, triggered_by media_mix) "
    "(predictions.channel_fit / channel_contributions / channel_allocation / channel_decomposition).",
)
def media_mix_model(
    context: dg.AssetExecutionContext, config: MediaMixConfig, pmi_home: PmiHomeResource
) -> dg.MaterializeResult:
    """Fit, check out of sample, allocate, apply through the gate and write the tables; report the diagnostics."""
    from ml.models.mmm.warehouse import run_media_mix

    mmm_config = MmmConfig(n_bootstrap=config.n_bootstrap, adstock=config.adstock)
    lift = Path(config.lift_tests) if config.lift_tests else None
    run = run_media_mix(pmi_home.paths(), mmm_config, config.max_change_pct, lift)
    fit = run.fit.iloc[0]
    context.log.info(f"media-mix fit {run.run_id}: R² {fit['r2']:.3f}, holdout NRMSE {fit['holdout_nrmse']:.4f}")
    return dg.MaterializeResult(
        metadata={
            "run_id": run.run_id,
            "channels": int(fit["channels"]),
            "r2": float(fit["r2"]),
            "nrmse": float(fit["nrmse"]),
            "holdout_nrmse": float(fit["holdout_nrmse"]),
            "baseline_holdout_nrmse": float(fit["baseline_holdout_nrmse"]),
            "mlflow_run_id": str(fit["mlflow_run_id"]),
            "allocation_status": str(fit["allocation_status"]),
        }
    )
