"""Daily partitions of the hourly facts: one partition per data day, added as the data reaches it.

The hourly job materialises the live step for the newest data day only (the day its hour falls on), so Dagster
shows per day which hours arrived and a run is keyed by the day it touched. The days are dynamic, not a
``DailyPartitionsDefinition``: the data's first day (a simulation's history, a user's export) is not known when the
definitions load, and a fixed start would list thousands of days that hold nothing.
"""

from __future__ import annotations

import dagster as dg

from ml.settings import PmiPaths
from ml.warehouse.data_days import hourly_data_day

DATA_DAYS = dg.DynamicPartitionsDefinition(name="data_day")


def hourly_partition(paths: PmiPaths, instance: dg.DagsterInstance) -> str:
    """The partition key of the next hourly run on ``paths`` (the newest data day), added to ``instance`` if new."""
    key = hourly_data_day(paths).isoformat()
    if not instance.has_dynamic_partition(DATA_DAYS.name, key):
        instance.add_dynamic_partitions(DATA_DAYS.name, [key])
    return key
