"""The campaign export behind `pmi allocate`: validated, summed to campaign-days, with per-campaign attributes.

Budgets are daily, so hourly rows are summed to days before anything is fitted. Validation runs over every
row at once and reports the earliest bad cell, because one clear line beats a traceback from deep in a fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.io.cells import parse_flags, parse_ids, parse_numbers, parse_timestamps, raise_first
from ml.io.errors import BadInputError
from ml.io.tables import read_table

HISTORY_COLUMNS = ("date", "campaign_id", "spend", "impressions", "clicks", "conversions", "revenue")
DELIVERY_COLUMNS = ("spend", "impressions", "clicks", "conversions", "revenue")
COST_ATTRIBUTES = ("has_agency", "creative_production_cost")
MIN_HISTORY_DAYS = 7


@dataclass(frozen=True)
class CampaignHistory:
    """Daily delivery per campaign and the attributes that are constant per campaign (costs, network, ...)."""

    path: Path
    daily: pd.DataFrame  # campaign_id, date, spend, impressions, clicks, conversions, revenue
    attributes: pd.DataFrame  # indexed by campaign_id; has_agency and creative_production_cost always present

    @property
    def campaign_ids(self) -> np.ndarray:
        return self.attributes.index.to_numpy(dtype=object)

    @property
    def last_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.daily["date"].max())

    def totals(self) -> pd.DataFrame:
        """Delivery summed over the whole history, one row per campaign in `campaign_ids` order."""
        return self.daily.groupby("campaign_id")[list(DELIVERY_COLUMNS)].sum().reindex(self.campaign_ids)

    def days_with_spend(self) -> pd.Series:
        """How many days each campaign spent money: the observations its response curve is fitted on."""
        spent = self.daily[self.daily["spend"] > 0]
        return spent.groupby("campaign_id").size().reindex(self.campaign_ids, fill_value=0)


def read_history(path: Path) -> CampaignHistory:
    """Read, validate and aggregate a history file; raises `BadInputError` naming file, row and column."""
    raw = read_table(path, HISTORY_COLUMNS)
    ids, id_problem = parse_ids(raw["campaign_id"])
    stamps, date_problem = parse_timestamps(raw["date"])
    values, labels = {}, {"campaign_id": id_problem, "date": date_problem}
    for column in DELIVERY_COLUMNS:
        values[column], labels[column] = parse_numbers(raw[column], column)
    with np.errstate(invalid="ignore"):
        too_many_clicks = (values["clicks"] > values["impressions"]) & (labels["impressions"] == "")
    labels["clicks"][too_many_clicks & (labels["clicks"] == "")] = "clicks exceed impressions"
    has_agency, creative = np.zeros(len(raw)), np.zeros(len(raw))
    if "has_agency" in raw:
        has_agency, labels["has_agency"] = parse_flags(raw["has_agency"], "has_agency")
    if "creative_production_cost" in raw:
        creative, labels["creative_production_cost"] = parse_numbers(
            raw["creative_production_cost"], "creative_production_cost", allow_empty=True
        )
    problems = list(labels.items())
    raise_first(path, raw, problems)

    rows = pd.DataFrame(
        {
            "campaign_id": ids,
            "stamp": stamps,
            **values,
            "has_agency": np.nan_to_num(has_agency, nan=0.0) > 0,
            "creative_production_cost": np.nan_to_num(creative, nan=0.0),
        },
        index=raw.index,
    )
    _check_duplicates(path, rows)
    rows["date"] = rows["stamp"].dt.normalize()
    daily = rows.groupby(["campaign_id", "date"], as_index=False, sort=True)[list(DELIVERY_COLUMNS)].sum()
    if daily["date"].nunique() < MIN_HISTORY_DAYS:
        raise BadInputError(
            f"{path}: column date: {daily['date'].nunique()} distinct day(s) of history; at least "
            f"{MIN_HISTORY_DAYS} are needed to fit response curves"
        )
    return CampaignHistory(path=path, daily=daily, attributes=_attributes(raw, rows))


def _check_duplicates(path: Path, rows: pd.DataFrame) -> None:
    """Two rows for the same campaign and date (or hour) would double-count delivery: name the second one."""
    key = rows[["campaign_id", "stamp"]]
    repeated = key.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    position = int(np.argmax(repeated))
    cid, stamp = key.iloc[position]
    first = rows.index[(key["campaign_id"] == cid).to_numpy() & (key["stamp"] == stamp).to_numpy()][0]
    when = stamp.date() if stamp == stamp.normalize() else stamp
    raise BadInputError(
        f"{path}: row {rows.index[position]}, column date: duplicate row for campaign {cid!r} "
        f"on {when} (first at row {first})"
    )


def _attributes(raw: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Per-campaign attributes: the latest cost settings, plus every other column that is constant per campaign."""
    latest = rows.sort_values("stamp", kind="stable").groupby("campaign_id", sort=True).last()
    attributes = latest[list(COST_ATTRIBUTES)].copy()
    others = [c for c in raw.columns if c not in HISTORY_COLUMNS and c not in COST_ATTRIBUTES]
    if others:
        extra = raw[others].astype("string").assign(campaign_id=rows["campaign_id"].to_numpy())
        grouped = extra.groupby("campaign_id", sort=True)
        constant = grouped.nunique(dropna=False).le(1).all(axis=0)
        kept = [c for c in others if constant[c]]
        attributes = attributes.join(grouped[kept].first()) if kept else attributes
    attributes.index.name = "campaign_id"
    return attributes
