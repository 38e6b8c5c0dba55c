"""Current budgets and per-campaign constraints: read from the optional files or derived from the history.

Both files are keyed by campaign_id and must only name campaigns of the history, because a budget for a
campaign the model has never seen is almost always a typo or a stale export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ml.allocation.portfolio.history import CampaignHistory
from ml.io.cells import parse_flags, parse_ids, parse_numbers, raise_first
from ml.io.errors import BadInputError
from ml.io.tables import read_table
from ml.quality.plausibility import printable

CURRENT_WINDOW_DAYS = 7
CONSTRAINT_NUMBERS = ("min_budget", "max_budget", "max_change_pct", "min_roas", "max_cpa", "creative_production_cost")
CONSTRAINT_FLAGS = ("locked", "has_agency")
CONSTRAINT_COLUMNS = ("campaign_id", *CONSTRAINT_NUMBERS, *CONSTRAINT_FLAGS)


def default_current(history: CampaignHistory) -> pd.Series:
    """Mean daily spend over the last 7 calendar days of the history (days without rows count as no spend)."""
    daily = history.daily
    recent = daily[daily["date"] > history.last_date - pd.Timedelta(days=CURRENT_WINDOW_DAYS)]
    spend = recent.groupby("campaign_id")["spend"].sum() / CURRENT_WINDOW_DAYS
    return spend.reindex(history.campaign_ids, fill_value=0.0).rename("current_budget")


def read_current(path: Path, history: CampaignHistory) -> pd.Series:
    """Daily budgets from a `campaign_id, daily_budget` file; campaigns it omits keep the history's default."""
    raw = read_table(path, ("campaign_id", "daily_budget"))
    ids, id_problem = parse_ids(raw["campaign_id"])
    budget, budget_problem = parse_numbers(raw["daily_budget"], "daily_budget")
    id_problem = _keyed_problems(ids, id_problem, history)
    raise_first(path, raw, [("campaign_id", id_problem), ("daily_budget", budget_problem)])
    current = default_current(history)
    current.loc[ids] = budget
    return current


def read_constraints(path: Path, history: CampaignHistory) -> pd.DataFrame:
    """Constraint columns per campaign (NaN = no constraint), one row per campaign of the history."""
    raw = read_table(path, ("campaign_id",))
    unknown = [c for c in raw.columns if c not in CONSTRAINT_COLUMNS]
    if unknown:
        raise BadInputError(
            f"{path}: column {printable(unknown[0])}: not a constraint (expected campaign_id and "
            f"any of {', '.join(CONSTRAINT_COLUMNS[1:])})"
        )
    ids, id_problem = parse_ids(raw["campaign_id"])
    problems = [("campaign_id", _keyed_problems(ids, id_problem, history))]
    parsed: dict[str, np.ndarray] = {}
    for column in CONSTRAINT_NUMBERS:
        if column in raw:
            parsed[column], label = parse_numbers(
                raw[column],
                column,
                allow_empty=True,
                allow_inf=column in ("max_budget", "max_change_pct", "max_cpa"),
                positive=column == "max_cpa",
            )
            problems.append((column, label))
    for column in CONSTRAINT_FLAGS:
        if column in raw:
            parsed[column], label = parse_flags(raw[column], column)
            problems.append((column, label))
    if "min_budget" in parsed and "max_budget" in parsed:
        with np.errstate(invalid="ignore"):
            inverted = parsed["min_budget"] > parsed["max_budget"]
        label = dict(problems)["max_budget"]
        label[inverted & (label == "")] = "max_budget is below min_budget"
    raise_first(path, raw, problems)
    table = pd.DataFrame(parsed, index=pd.Index(ids, name="campaign_id"))
    return table.reindex(columns=list(CONSTRAINT_COLUMNS[1:])).reindex(history.campaign_ids).astype(float)


def _keyed_problems(ids: np.ndarray, problem: np.ndarray, history: CampaignHistory) -> np.ndarray:
    """Flag ids that are not in the history, and repeats of an id (one row per campaign)."""
    problem = problem.copy()
    fine = problem == ""
    unknown = fine & ~pd.Series(ids).isin(history.campaign_ids).to_numpy()
    problem[unknown] = "campaign not in the history"
    repeated = fine & ~unknown & pd.Series(ids).duplicated().to_numpy()
    problem[repeated] = "campaign listed twice"
    return problem
