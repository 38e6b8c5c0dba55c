"""Sources: Parquet exports of the dbt marts under <data directory>/feast/data, one per entity grain.

Paths are relative to the data directory's feast/ folder: ``ml/features/store.py`` applies the definitions bound to
one data directory's files, so the same definitions serve every data directory without reading the environment.
Each row carries ``feature_ts``, the moment its values became known, which is what point-in-time joins use.
"""

from pathlib import PurePosixPath

from feast import FileSource

DATA_DIR = PurePosixPath("data")

user_features_source = FileSource(
    name="user_features_source",
    path=str(DATA_DIR / "user_features.parquet"),
    timestamp_field="feature_ts",
    description="marts.fct_user_features; feature_ts = install + 7 days (or as-of for younger users).",
)
campaign_day_source = FileSource(
    name="campaign_day_source",
    path=str(DATA_DIR / "campaign_day_features.parquet"),
    timestamp_field="feature_ts",
    description="marts.fct_campaign_day_features; feature_ts = the day's 00:00 (trailing windows end the day before).",
)
market_day_source = FileSource(
    name="market_day_source",
    path=str(DATA_DIR / "market_day_features.parquet"),
    timestamp_field="feature_ts",
    description="marts.fct_market_day_features; feature_ts = the day's 00:00.",
)
