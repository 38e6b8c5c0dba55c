"""Jobs: the whole pipeline, retraining every model, the hourly allocation cycle and the daily user-value refresh.

Every job carries the housekeeping hook (``orchestration/housekeeping.py``): once per run it marks runs whose
process is gone as failed and prunes old run history, dbt targets and run logs, so a schedule that runs for weeks
keeps a bounded data directory.
"""

from __future__ import annotations

import dagster as dg

from ml.io.errors import BadInputError
from ml.warehouse.user_marts import USER_LEVEL_TABLES
from orchestration.housekeeping import housekeeping_hook
from orchestration.partitions import hourly_partition
from orchestration.warehouse.project import DBT_BUILD_TAG, INCREMENTAL, LTV_SCORES_TAG, REUSE_STORED, code_location_home

HOOKS = {housekeeping_hook}

full_pipeline = dg.define_asset_job(
    "full_pipeline",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets("simulator_live_hour")
    - dg.AssetSelection.groups("media_mix"),
    description="Simulate (or ingest) raw data, then build and test every dbt model.",
    hooks=HOOKS,
)

# A channel-level home (spend per channel, only a total outcome): the same steps plus the media-mix model, which
# the dashboard waits for (`pmi run` chooses this job itself, orchestration/media_mix/assets.py).
media_mix_pipeline = dg.define_asset_job(
    "media_mix_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("simulator_live_hour"),
    description="full_pipeline plus the media-mix model of channel-level data and its allocation per channel.",
    hooks=HOOKS,
)

# The LTV scores (group `predictions`) follow the retrain, so that a new LTV champion's scores are made here and
# the next hourly run keeps them instead of re-scoring every user.
retrain = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts", "features", "models", "predictions"),
    description="Rebuild the marts from the raw tables (so data `pmi ingest` just loaded count), refresh the Feast "
    "features, retrain every model (each is promoted only if it beats its champion on outcomes neither has seen) "
    "and re-score every user's LTV with the LTV champion.",
    hooks=HOOKS,
)

# Retraining is its own job on its own clock: weekly (Monday 02:00, clear of the hourly run at the hour and the daily
# one at half past midnight), besides the drift sensor's requests (orchestration/monitoring/sensors.py). The models
# move on the scale of weeks of data; the hourly job only scores with the champions. Off by default, as every schedule.
retrain_schedule = dg.ScheduleDefinition(
    job=retrain,
    cron_schedule="0 2 * * 1",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Weekly retrain of every model (each promoted only if it beats its champion).",
)

# The hour's new users and today's changed rows reach scoring through the Parquet exports (every user keeps their
# campaign) and the online store; the registry (definitions) and the models are left to `pmi run` / `pmi train`.
HOURLY_FEATURES = ("feature_exports", "feast_online_store")

# The only job whose dbt build is incremental: between its runs raw gains the newest hour (and late rows of the last
# days); a history changed further back waits for a job that rebuilds the warehouse from raw, as every other job does
# (orchestration/warehouse/project.py, dbt_build_args).
hourly_allocation = dg.define_asset_job(
    "hourly_allocation",
    selection=dg.AssetSelection.assets("simulator_live_hour", *HOURLY_FEATURES, "campaign_ltv")
    | dg.AssetSelection.groups("staging", "intermediate", "marts", "allocation", "monitoring", "reporting"),
    description="Advance the simulator one hour, update the warehouse (the large facts rebuild only their recent "
    "days; the user-level marts and LTV are the daily job's), refresh the feature exports and online store, "
    "re-allocate the budget and refresh the executive dashboard.",
    tags={DBT_BUILD_TAG: INCREMENTAL},
    hooks=HOOKS,
)


@dg.schedule(job=hourly_allocation, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.STOPPED)
def hourly_allocation_schedule(context: dg.ScheduleEvaluationContext):
    """Every hour, one run keyed by the newest data day of the code location's data directory (added if new)."""
    paths = code_location_home()
    try:
        key = hourly_partition(paths, context.instance)
    except BadInputError as exc:
        return dg.SkipReason(str(exc))
    return dg.RunRequest(partition_key=key)


# Work that moves with the data day, not the hour: every user's row (age, maturity) and every user's LTV score.
# Minutes at thousands of campaigns, so the hourly job keeps the last tested build and score (orchestration/warehouse
# and models assets) and this job moves them to the new day: `pmi loop` runs it after the first cycle of a data day,
# a deployment on this schedule (half past midnight, clear of the hourly run at the hour).
daily_user_value = dg.define_asset_job(
    "daily_user_value",
    # Keys from the tables (schema = the dbt layer, as LayeredTranslator names them), so that importing the jobs
    # needs no parsed dbt manifest.
    selection=dg.AssetSelection.assets(
        *(dg.AssetKey(table.split(".")) for table in USER_LEVEL_TABLES), *HOURLY_FEATURES, "campaign_ltv"
    ),
    description="Rebuild the user-level marts (and their dbt tests) on the warehouse's current data day, re-export "
    "the user features and re-score every user's LTV with the champion (predicting only the users whose "
    "prediction can still move).",
    tags={LTV_SCORES_TAG: REUSE_STORED},
    hooks=HOOKS,
)

daily_user_value_schedule = dg.ScheduleDefinition(
    job=daily_user_value,
    cron_schedule="30 0 * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
