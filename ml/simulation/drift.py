"""Drift events in the simulated world: change its hidden truth mid-run and log when and how.

The pipeline never reads `truth`, so an event is invisible to it except through what happens next: the test of
monitoring is whether predictions miss, alerts fire and retraining follows.
"""

from __future__ import annotations

import pandas as pd

from ml.settings import PmiPaths
from ml.warehouse.connection import transaction

AUDIENCE_PARAMETER = "max_daily_conversions"


def shrink_audience(paths: PmiPaths, factor: float, campaign_ids: list[str] | None = None) -> pd.DataFrame:
    """Scale the campaigns' reachable audience (the ceiling of daily conversions) by ``factor`` from the next hour.

    An audience that saturates or tires (``factor`` < 1) makes each dollar buy fewer users: CPA rises at the
    same spend. Returns the logged events (one per campaign: before, after, effective hour).
    """
    if not 0 < factor:
        raise ValueError(f"audience factor must be positive, got {factor}")
    with transaction(paths.warehouse) as con:
        effective = con.execute("SELECT next_hour_ts FROM sim.state").fetchall()[0][0]
        truth = con.execute(f"SELECT campaign_id, {AUDIENCE_PARAMETER} AS before FROM truth.campaign_truth").df()
        if campaign_ids is not None:
            unknown = sorted(set(campaign_ids) - set(truth["campaign_id"]))
            if unknown:
                raise ValueError(f"unknown campaigns for a drift event: {unknown}")
            truth = truth[truth["campaign_id"].isin(campaign_ids)]
        events = truth.assign(
            after=truth["before"] * factor,
            parameter=AUDIENCE_PARAMETER,
            effective_ts=pd.Timestamp(effective),
            event="audience_shrinks",
        )
        con.register("drift_events", events)
        con.execute(f"""UPDATE truth.campaign_truth t SET {AUDIENCE_PARAMETER} = e.after
                        FROM drift_events e WHERE t.campaign_id = e.campaign_id""")
        con.execute("CREATE TABLE IF NOT EXISTS truth.drift_events AS SELECT * FROM drift_events LIMIT 0")
        con.execute("INSERT INTO truth.drift_events BY NAME SELECT * FROM drift_events")
    return events.reset_index(drop=True)
