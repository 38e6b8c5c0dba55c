"""The allocation stage: trajectories -> proposal -> simulation -> refined allocation -> applied allocation."""

import dagster as dg

from ml.allocation.config import AllocationConfig
from ml.allocation.run import run_allocation
from ml.ingest.source import holds_simulation
from ml.models.insufficient import InsufficientDataError
from ml.models.status import RAN, SKIPPED, record_step_status
from ml.models.training.campaign_models import publish_kpi_forecast_at_budgets
from ml.optimize.objective import ObjectiveName
from ml.simulation.live import step_one_hour
from ml.warehouse.data_days import hourly_data_day
from orchestration.partitions import DATA_DAYS
from orchestration.resources import PmiHomeResource
from orchestration.warehouse.assets import dbt_model_key

ALLOCATION_STAGES = (
    "spend_trajectories",
    "allocation_proposal",
    "allocation_simulation",
    "refined_allocation",
    "applied_allocation",
)
# The KPI forecaster comes first so that the allocation can re-publish its forecast at the recommended budgets.
ALLOCATION_INPUTS = [
    dg.AssetKey("campaign_ltv"),
    dg.AssetKey("response_curves_model"),
    dg.AssetKey("kpi_forecast_model"),
    dbt_model_key("dim_campaigns"),
    dbt_model_key("fct_market_daily"),
]


_DEFAULTS = AllocationConfig()  # the launch config's defaults are the allocation's own, defined there once


class AllocationRunConfig(dg.Config):
    """Budget, safety net and exploration of an allocation run (defaults: keep today's total budget).

    ``objective`` is a Literal so that Dagster refuses an unknown objective when the run is launched, naming the
    allowed values, instead of the run failing inside the allocation step.
    """

    total_budget: float = 0.0  # 0 = today's total
    max_change_pct: float = _DEFAULTS.max_change_pct  # per period, against the budgets in force at its start
    min_change: float = _DEFAULTS.min_change  # absolute floor of that limit (a minimum test budget)
    period_hours: int = _DEFAULTS.period_hours  # the period the change limit applies to, however many runs
    exploration_share: float = _DEFAULTS.exploration_share
    exploration_horizon_days: float = _DEFAULTS.exploration_horizon_days  # caps what exploration may cost
    objective: ObjectiveName = _DEFAULTS.objective
    apply: bool = True
    export_csv: bool = False  # also write PMI_HOME/exports/budget_changes_<run>.csv for bulk upload
    webhook_url: str = ""  # also POST the changes as JSON here (the user's ad-ops endpoint)

    def to_allocation(self, seed: int) -> AllocationConfig:
        return AllocationConfig(
            total_budget=self.total_budget or None,
            max_change_pct=self.max_change_pct,
            min_change=self.min_change,
            period_hours=self.period_hours,
            exploration_share=self.exploration_share,
            exploration_horizon_days=self.exploration_horizon_days,
            objective=self.objective,
            seed=seed,
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "spend_trajectories",
            group_name="allocation",
            deps=ALLOCATION_INPUTS,
            description="Predicted CPA, users, saturation, ROAS, ROI, profit per campaign over a spend grid.",
        ),
        dg.AssetSpec(
            "allocation_proposal",
            group_name="allocation",
            deps=["spend_trajectories"],
            description="Exact KKT optimum of expected profit, blended with a Thompson draw (capped).",
        ),
        dg.AssetSpec(
            "allocation_simulation",
            group_name="allocation",
            deps=["allocation_proposal"],
            description="Monte-Carlo profit distribution of the proposal against today's budgets.",
        ),
        dg.AssetSpec(
            "refined_allocation",
            group_name="allocation",
            deps=["allocation_simulation"],
            description="The proposal pulled back toward current budgets until its risk is acceptable.",
        ),
        dg.AssetSpec(
            "applied_allocation",
            group_name="allocation",
            deps=["refined_allocation"],
            description="Budgets written to raw.budgets with an audit row per campaign (once per run).",
        ),
    ],
    name="allocation_run",
)
def allocation_run(context: dg.AssetExecutionContext, config: AllocationRunConfig, pmi_home: PmiHomeResource):
    """Run one allocation (run id = the Dagster run id, so a retried run never applies twice)."""
    seed = int(context.run.run_id.replace("-", "")[:8], 16)
    try:
        run = run_allocation(
            pmi_home.paths(),
            config.to_allocation(seed),
            run_id=context.run.run_id,
            triggered_by=f"dagster:{context.job_name}",
            apply=config.apply,
            export_csv=config.export_csv,
            webhook_url=config.webhook_url or None,
        )
    except InsufficientDataError as exc:
        context.log.warning(f"allocation skipped: {exc}")
        record_step_status(pmi_home.paths(), "allocation", SKIPPED, str(exc))
        for key in ALLOCATION_STAGES:
            yield dg.MaterializeResult(asset_key=key, metadata={"skipped": str(exc)})
        return
    record_step_status(pmi_home.paths(), "allocation", RAN)
    if config.apply:  # the dashboard's forecast describes the plan applied, not the budgets it replaced
        budgets = run.recommendations.set_index("campaign_id")["recommended_budget"]
        publish_kpi_forecast_at_budgets(pmi_home.paths(), budgets, context.run.run_id)
    recs, sim = run.recommendations, run.simulation
    top = recs.reindex(recs["expected_profit"].sub(0).abs().sort_values(ascending=False).index).head(10)
    table = top[["campaign_id", "current_budget", "recommended_budget", "action", "expected_profit", "reason"]]
    yield dg.MaterializeResult(asset_key="spend_trajectories", metadata={"campaigns": len(recs)})
    yield dg.MaterializeResult(
        asset_key="allocation_proposal",
        metadata={
            "explored_share": sim["explored_share"],
            "total_recommended": float(recs["recommended_budget"].sum()),
        },
    )
    yield dg.MaterializeResult(
        asset_key="allocation_simulation",
        metadata={
            k: float(sim[k])
            for k in (
                "expected_profit",
                "profit_p5",
                "probability_of_loss",
                "expected_gain",
                "probability_worse_than_current",
            )
        },
    )
    yield dg.MaterializeResult(
        asset_key="refined_allocation",
        metadata={
            "refine_steps": sim["refine_steps"],
            "top_recommendations": dg.MetadataValue.md(table.round(2).to_markdown(index=False)),
        },
    )
    yield dg.MaterializeResult(asset_key="applied_allocation", metadata={k: str(v) for k, v in run.applied.items()})


@dg.asset(
    group_name="ingest",
    partitions_def=DATA_DAYS,
    description="Advance the simulated world one hour using the budgets in effect (partition: the hour's data day).",
)
def simulator_live_hour(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource) -> dg.MaterializeResult:
    """The live step of the simulator: closes the loop between applied budgets and what happens next.

    A run is keyed by the newest data day (``hourly_partition``): the step appends that day's next hour, and a run
    launched for any other day fails before writing, since an hour can only follow the warehouse's history. A data
    directory holding a user's ingested data has no simulator: its new hours arrive through `pmi ingest`, so this
    step observes nothing new and the rest of the hourly cycle runs on what is there.
    """
    paths = pmi_home.paths()
    newest = hourly_data_day(paths).isoformat()
    if context.partition_key != newest:
        raise dg.Failure(
            description=f"partition {context.partition_key} is not the newest data day ({newest}): the hourly run "
            "only appends the hour after the warehouse's history; launch it for the newest day",
            allow_retries=False,
        )
    if not holds_simulation(paths):
        context.log.info("no simulator in this data directory: new hours arrive through `pmi ingest`")
        return dg.MaterializeResult(metadata={"simulated": False})
    step = step_one_hour(paths)
    context.log.info(f"simulated {step['hour_ts']}: spend {step['spend']:.2f}, {step['conversions']} conversions")
    return dg.MaterializeResult(metadata={k: str(v) for k, v in step.items()})
