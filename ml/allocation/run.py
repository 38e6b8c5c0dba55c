"""One allocation run on the warehouse: trajectories, proposal, simulation, refinement, prediction log, apply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.apply import apply_allocation
from ml.allocation.config import AllocationConfig
from ml.allocation.engine import build_problem, profit_quantiles, propose, refine
from ml.allocation.inputs import AllocationInputs, load_inputs
from ml.allocation.scenarios import scenario_table
from ml.allocation.trajectories import optimal_spend, spend_trajectories
from ml.settings import PmiPaths
from ml.warehouse.connection import transaction

ACTION_THRESHOLD = 0.02  # moves under 2% are a hold


@dataclass
class AllocationRun:
    run_id: str
    recommendations: pd.DataFrame
    simulation: dict
    applied: dict


def recommendations(inputs: AllocationInputs, config: AllocationConfig, proposal, budget: np.ndarray) -> pd.DataFrame:
    """The recommendation table of docs/contract.md §2 (same columns as `pmi allocate --out`)."""
    problem = build_problem(inputs, config)
    ids = inputs.campaigns["campaign_id"].to_numpy()
    current = problem.current_budget
    conversions = problem.curves.value(budget)
    revenue = conversions * problem.value_per_conversion
    cost = config.costs.total_cost(budget, problem.has_agency, problem.creative_production_cost)
    change = np.divide(budget - current, current, out=np.zeros_like(budget), where=current > 0)
    action = np.select([(budget <= 0) & (current > 0), change > ACTION_THRESHOLD, change < -ACTION_THRESHOLD],
                       ["pause", "scale_up", "reduce"], "hold")
    reason = np.asarray(proposal.exploit.reason, dtype=object)
    explored = np.abs(budget - proposal.exploit.daily_budget) > 0.01
    reason = np.where(explored, reason + "; Thompson sampling explores a nearby level.", reason)
    price = inputs.campaigns["price_index"].to_numpy(float)
    frame = pd.DataFrame({
        "campaign_id": ids, "current_budget": current, "recommended_budget": budget, "change_pct": change,
        "expected_conversions": conversions, "expected_revenue": revenue, "expected_profit": revenue - cost,
        "expected_roas": np.divide(revenue, budget, out=np.zeros_like(budget), where=budget > 0),
        "marginal_roas": problem.curves.marginal(budget) * problem.value_per_conversion,
        "saturation_level": inputs.curves.saturation(ids, budget / price),
        "action": action, "reason": reason,
    })
    return pd.concat([frame, profit_quantiles(inputs, config, budget)], axis=1)


def add_missing_columns(con, table: str, relation: str) -> None:
    """Columns a newer pmi logs are added to a prediction log an older one created (its rows get NULL)."""
    have = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    for name, dtype, *_ in con.execute(f"DESCRIBE {relation}").fetchall():
        if name not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {dtype}')


def _write_predictions(paths: PmiPaths, run_id: str, inputs: AllocationInputs, recs: pd.DataFrame,
                       trajectories: pd.DataFrame, optimum: pd.DataFrame, scenarios: pd.DataFrame,
                       samples: np.ndarray) -> None:
    """Store what this run predicted (for accuracy tracking) beside the model versions it used."""
    logged = recs.assign(run_id=run_id, predicted_at=inputs.as_of, horizon="next_day",
                         ltv=inputs.value_per_conversion,
                         ltv_d90=inputs.campaigns["blended_ltv_d90"].astype(float).to_numpy(),
                         expected_cpa=np.divide(recs["recommended_budget"], recs["expected_conversions"]),
                         response_curves_version=inputs.model_versions.get("response_curves"),
                         ltv_version=inputs.model_versions.get("ltv"))
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS predictions")
        for name, frame in (("allocation_predictions", logged),):
            con.register("frame", frame)
            con.execute(f"CREATE TABLE IF NOT EXISTS predictions.{name} AS SELECT * FROM frame LIMIT 0")
            add_missing_columns(con, f"predictions.{name}", "frame")
            con.execute(f"INSERT INTO predictions.{name} BY NAME SELECT * FROM frame")
        for name, frame in (("spend_trajectories", trajectories), ("optimal_spend", optimum), ("scenarios", scenarios),
                            ("allocation_profit_distribution", pd.DataFrame({"daily_profit": samples}))):
            con.register("frame", frame.assign(run_id=run_id))
            con.execute(f"CREATE OR REPLACE TABLE predictions.{name} AS SELECT * FROM frame")


def run_allocation(paths: PmiPaths, config: AllocationConfig | None = None, run_id: str | None = None,
                   triggered_by: str = "manual", apply: bool = True, export_csv: bool = False,
                   webhook_url: str | None = None) -> AllocationRun:
    """Propose, simulate, refine and (optionally) apply one allocation; returns the recommendations."""
    config = config or AllocationConfig()
    run_id = run_id or f"alloc_{uuid.uuid4().hex[:12]}"
    inputs = load_inputs(paths)
    proposal = propose(inputs, config)
    budget, outcome, steps = refine(inputs, config, proposal.proposed_budget)
    recs = recommendations(inputs, config, proposal, budget)
    summary = {k: v for k, v in outcome.items() if k != "profit_samples"} | {
        "refine_steps": steps, "explored_share": proposal.explored_share, "thompson_draw": proposal.thompson_draw}
    _write_predictions(paths, run_id, inputs, recs, spend_trajectories(inputs, config), optimal_spend(inputs, config),
                       scenario_table(inputs, config), outcome["profit_samples"])
    applied = {"applied": False}
    if apply:
        changes = recs.rename(columns={"current_budget": "budget_before", "recommended_budget": "budget_after"})
        applied = apply_allocation(paths, run_id, changes[["campaign_id", "budget_before", "budget_after", "action",
                                                           "reason"]], summary, triggered_by,
                                   csv_export=paths.home / "exports" / f"budget_changes_{run_id}.csv" if export_csv
                                   else None, webhook_url=webhook_url)
    return AllocationRun(run_id=run_id, recommendations=recs, simulation=summary, applied=applied)
