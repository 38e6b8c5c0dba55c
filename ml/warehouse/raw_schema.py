"""The binding raw-table contract (docs/contract.md §1) as DuckDB DDL, shared by the simulator and ingest."""

from __future__ import annotations

RAW_SCHEMA = "raw"

# table -> (ordered column definitions, primary key columns)
RAW_TABLES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "campaigns": (
        {
            "campaign_id": "VARCHAR",
            "name": "VARCHAR",
            "network": "VARCHAR",
            "platform": "VARCHAR",
            "geo": "VARCHAR",
            "creative_format": "VARCHAR",
            "targeting": "VARCHAR",
            "has_agency": "BOOLEAN",
            "creative_production_cost": "DECIMAL(18,2)",
            "auto_optimization_enabled": "BOOLEAN",
            "launched_at": "TIMESTAMP",
        },
        ("campaign_id",),
    ),
    "campaign_hourly": (
        {
            "campaign_id": "VARCHAR",
            "hour_ts": "TIMESTAMP",
            "spend": "DECIMAL(18,2)",
            "impressions": "BIGINT",
            "clicks": "BIGINT",
            "conversions": "BIGINT",
            "revenue": "DECIMAL(18,2)",
        },
        ("campaign_id", "hour_ts"),
    ),
    "users": (
        {
            "user_id": "VARCHAR",
            "campaign_id": "VARCHAR",
            "install_ts": "TIMESTAMP",
            "platform": "VARCHAR",
            "geo": "VARCHAR",
        },
        ("user_id",),
    ),
    "revenue_events": (
        {
            "event_id": "VARCHAR",
            "user_id": "VARCHAR",
            "event_ts": "TIMESTAMP",
            "revenue": "DECIMAL(18,2)",
            "event_type": "VARCHAR",
        },
        ("event_id",),
    ),
    "market_daily": (
        {
            "date": "DATE",
            "network": "VARCHAR",
            "geo": "VARCHAR",
            "cpm_index": "DOUBLE",
            "competition_index": "DOUBLE",
            "seasonality_index": "DOUBLE",
            "economic_index": "DOUBLE",
            "sentiment_index": "DOUBLE",
        },
        ("date", "network", "geo"),
    ),
    "budgets": (
        {
            "campaign_id": "VARCHAR",
            "effective_ts": "TIMESTAMP",
            "daily_budget": "DECIMAL(18,2)",
            "source": "VARCHAR",
        },
        ("campaign_id", "effective_ts"),
    ),
}


def create_table_sql(table: str, schema: str = RAW_SCHEMA) -> str:
    """DDL for one raw table with its primary key, so duplicate keys are refused by the database itself."""
    columns, key = RAW_TABLES[table]
    cols = ",\n  ".join(f"{name} {dtype}" for name, dtype in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {schema}.{table} (\n  {cols},\n  PRIMARY KEY ({', '.join(key)})\n)"
