"""One allocation run on the warehouse: trajectories, proposal, simulation, refinement, prediction log, apply."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.allocation.apply import apply_allocation, record_refusal
from ml.allocation.config import AllocationConfig
from ml.allocation.decision import predictive_noise
from ml.allocation.engine import build_problem, profit_quantiles, propose, refine, total_budget
from ml.allocation.gate import gate
from ml.allocation.inputs import AllocationInputs, load_inputs
from ml.allocation.scenarios import scenario_table
from ml.allocation.trajectories import optimal_spend, spend_trajectories
from ml.optimize import InfeasibleBudgetError
from ml.settings import PmiPaths
from ml.warehouse.connection import transaction

ACTION_THRESHOLD = 0.02  # moves under 2% are a hold


@dataclass
class AllocationRun:
    run_id: str
    recommendations: pd.DataFrame
    simulation: dict
    applied: dict


def recommendations(
    inputs: AllocationInputs, config: AllocationConfig, proposal, budget: np.ndarray, outcome: dict | None = None
) -> pd.DataFrame:
    """The recommendation table of docs/contract.md §2 (same columns as `pmi allocate --out`).

    The reason says "Thompson sampling explores" only where the exploration step moved the campaign, and says
    where the decision rule stopped short of the proposal (with its criterion).
    """
    problem = build_problem(inputs, config)
    ids = inputs.campaigns["campaign_id"].to_numpy()
    current = inputs.current
    conversions = problem.curves.value(budget)
    revenue = conversions * problem.value_per_conversion
    cost = config.costs.total_cost(budget, problem.has_agency, problem.creative_production_cost)
    change = np.divide(budget - current, current, out=np.zeros_like(budget), where=current > 0)
    action = np.select(
        [
            (budget <= 0) & (current > 0),
            change > ACTION_THRESHOLD,
            change < -ACTION_THRESHOLD,
            (current <= 0) & (budget > 0),
        ],
        ["pause", "scale_up", "reduce", "scale_up"],
        "hold",
    )
    reason = np.asarray(proposal.exploit.reason, dtype=object)
    explored = np.abs(proposal.proposed_budget - proposal.exploit.daily_budget) > 0.01
    reason = np.where(explored, reason + "; Thompson sampling explores a nearby level.", reason)
    pulled = np.abs(budget - proposal.proposed_budget) > 0.01
    if outcome is not None and pulled.any():
        note = (
            f"; moved {outcome.get('move_share', float('nan')):.0%} of the way from today's budget: the share "
            f"with the best expected profit under the curves' posterior (P(worse than today) "
            f"{outcome.get('probability_worse_than_current', float('nan')):.0%})."
        )
        reason = np.where(pulled, reason + note, reason)
    price = inputs.campaigns["price_index"].to_numpy(float)
    frame = pd.DataFrame(
        {
            "campaign_id": ids,
            "current_budget": current,
            "recommended_budget": budget,
            "change_pct": change,
            "expected_conversions": conversions,
            "expected_revenue": revenue,
            "expected_profit": revenue - cost,
            "expected_roas": np.divide(revenue, budget, out=np.zeros_like(budget), where=budget > 0),
            "marginal_roas": problem.curves.marginal(budget) * problem.value_per_conversion,
            "saturation_level": inputs.curves.saturation(ids, budget / price),
            "action": action,
            "reason": reason,
        }
    )
    return pd.concat([frame, profit_quantiles(inputs, config, budget)], axis=1)


class AllocationRefusedError(RuntimeError):
    """The engine's budgets break the total or the period's bounds: nothing is applied (an audit row says why)."""


def check_budgets(inputs: AllocationInputs, config: AllocationConfig, budget: np.ndarray) -> str | None:
    """Why ``budget`` may not be applied (total or period bounds broken, to the cent), or None when it may."""
    total = total_budget(inputs, config)
    rules = config.rules()
    held = gate(inputs.period_start, budget, total, rules)
    if not np.all(np.isfinite(budget)):
        return "the allocation holds non-finite budgets"
    if held.refused:
        return f"the period's limits need {held.lower.sum():,.2f}, above the total {total:,.2f}"
    if budget.sum() > total + 0.005 * len(budget):
        return f"the budgets sum to {budget.sum():,.2f}, above the total {total:,.2f}"
    outside = (budget < held.lower - 0.01) | (budget > held.upper + 0.01)
    if outside.any():
        i = int(np.argmax(outside))
        return (
            f"campaign {inputs.campaigns['campaign_id'].iloc[i]}: {budget[i]:,.2f} is outside the period's "
            f"bounds [{held.lower[i]:,.2f}, {held.upper[i]:,.2f}] ({int(outside.sum())} campaign(s))"
        )
    return None


def add_missing_columns(con, table: str, relation: str) -> None:
    """Columns a newer pmi logs are added to a prediction log an older one created (its rows get NULL)."""
    have = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    for name, dtype, *_ in con.execute(f"DESCRIBE {relation}").fetchall():
        if name not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {dtype}')


def _write_predictions(
    paths: PmiPaths,
    run_id: str,
    inputs: AllocationInputs,
    recs: pd.DataFrame,
    trajectories: pd.DataFrame,
    optimum: pd.DataFrame,
    scenarios: pd.DataFrame,
    samples: np.ndarray,
) -> None:
    """Store what this run predicted (for accuracy tracking) beside the model versions it used, and the model's own
    noise of each prediction (posterior sd of log conversions, fit over-dispersion) that the drift rule weighs."""
    price = inputs.campaigns["price_index"].to_numpy(float)
    ids, budget = inputs.campaigns["campaign_id"].to_numpy(), recs["recommended_budget"].to_numpy(float)
    log_sd, dispersion = predictive_noise(inputs.curves, ids, price, inputs.demand, budget)
    logged = recs.assign(
        expected_conversions_log_sd=log_sd,
        response_dispersion=dispersion,
        run_id=run_id,
        predicted_at=inputs.as_of,
        horizon="next_day",
        target_date=inputs.target_date,
        demand_factor=(inputs.demand if inputs.demand is not None else 1.0),
        ltv=inputs.value_per_conversion,
        ltv_d90=inputs.campaigns["blended_ltv_d90"].astype(float).to_numpy(),
        expected_cpa=np.divide(recs["recommended_budget"], recs["expected_conversions"]),
        response_curves_version=inputs.model_versions.get("response_curves"),
        ltv_version=inputs.model_versions.get("ltv"),
    )
    with transaction(paths.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS predictions")
        for name, frame in (("allocation_predictions", logged),):
            con.register("frame", frame)
            con.execute(f"CREATE TABLE IF NOT EXISTS predictions.{name} AS SELECT * FROM frame LIMIT 0")
            add_missing_columns(con, f"predictions.{name}", "frame")
            con.execute(f"INSERT INTO predictions.{name} BY NAME SELECT * FROM frame")
        for name, frame in (
            ("spend_trajectories", trajectories),
            ("optimal_spend", optimum),
            ("scenarios", scenarios),
            ("allocation_profit_distribution", pd.DataFrame({"daily_profit": samples})),
        ):
            con.register("frame", frame.assign(run_id=run_id))
            con.execute(f"CREATE OR REPLACE TABLE predictions.{name} AS SELECT * FROM frame")


def run_allocation(
    paths: PmiPaths,
    config: AllocationConfig | None = None,
    run_id: str | None = None,
    triggered_by: str = "manual",
    apply: bool = True,
    export_csv: bool = False,
    webhook_url: str | None = None,
) -> AllocationRun:
    """Propose, simulate, refine and (optionally) apply one allocation; returns the recommendations."""
    config = config or AllocationConfig()
    run_id = run_id or f"alloc_{uuid.uuid4().hex[:12]}"
    inputs = load_inputs(paths, config.rules())
    try:
        proposal = propose(inputs, config)
    except InfeasibleBudgetError as exc:  # the total is below what the period's limits require
        message = f"allocation {run_id} refused, nothing applied: {exc}"
        if apply:
            record_refusal(paths, run_id, triggered_by, message, None, config.rules())
        raise AllocationRefusedError(message) from exc
    budget, outcome, steps = refine(inputs, config, proposal.proposed_budget)
    summary = {k: v for k, v in outcome.items() if k != "profit_samples"} | {
        "refine_steps": steps,
        "explored_share": proposal.explored_share,
        "thompson_draw": proposal.thompson_draw,
    }
    problem = check_budgets(inputs, config, budget)
    if problem is not None:
        message = f"allocation {run_id} refused, nothing applied: {problem}"
        if apply:
            record_refusal(paths, run_id, triggered_by, message, summary, config.rules())
        raise AllocationRefusedError(message)
    recs = recommendations(inputs, config, proposal, budget, outcome)
    _write_predictions(
        paths,
        run_id,
        inputs,
        recs,
        spend_trajectories(inputs, config),
        optimal_spend(inputs, config),
        scenario_table(inputs, config),
        outcome["profit_samples"],
    )
    applied = {"applied": False}
    if apply:
        changes = recs.rename(columns={"current_budget": "budget_before", "recommended_budget": "budget_after"})
        applied = apply_allocation(
            paths,
            run_id,
            changes[["campaign_id", "budget_before", "budget_after", "action", "reason"]],
            summary,
            triggered_by,
            csv_export=paths.home / "exports" / f"budget_changes_{run_id}.csv" if export_csv else None,
            webhook_url=webhook_url,
            rules=config.rules(),
            total_budget=total_budget(inputs, config),
        )
    return AllocationRun(run_id=run_id, recommendations=recs, simulation=summary, applied=applied)
