"""The data day an hourly run works on: the newest day of delivery, the unit the hourly facts are partitioned by.

An hourly cycle appends one hour (the simulator's next hour) or, on a user's ingested data, works on what the last
`pmi ingest` brought; either way it touches the newest data day only, and that day is its partition
(orchestration/partitions.py). Days are UTC dates of ``hour_ts``, as in every mart.
"""

from __future__ import annotations

import datetime as dt

from ml.ingest.source import holds_simulation
from ml.io.errors import BadInputError
from ml.settings import PmiPaths
from ml.warehouse.connection import connect


def hourly_data_day(paths: PmiPaths) -> dt.date:
    """The day the next hourly run touches: the simulator's next hour's day, else the newest delivered hour's."""
    if not paths.warehouse.exists():
        raise BadInputError(f"{paths.warehouse}: no warehouse yet; run `pmi run` or `pmi ingest` first")
    simulated = holds_simulation(paths)
    con = connect(paths.warehouse, read_only=True)
    try:
        sql = "SELECT max(next_hour_ts) FROM sim.state" if simulated else "SELECT max(hour_ts) FROM raw.campaign_hourly"
        newest = con.execute(sql).fetchall()[0][0]
    finally:
        con.close()
    if newest is None:
        raise BadInputError(f"{paths.warehouse}: raw.campaign_hourly holds no delivery yet, so there is no data day")
    return newest.date()
