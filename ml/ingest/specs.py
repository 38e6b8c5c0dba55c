"""What each input file of `pmi ingest` must hold: its columns, their value kinds, its key and its raw table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column; optional columns get ``default`` (SQL literal) when the file does not have them."""

    name: str
    kind: str  # id | text | money | count | index | timestamp | date | bool | enum (bounds: ml/quality/plausibility)
    required: bool = True
    default: str = "NULL"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileKind:
    """One kind of input file (one command-line flag) and the raw table it lands in."""

    name: str
    flag: str
    table: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    depends_on: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def _performance(time_column: ColumnSpec, name: str, flag: str) -> FileKind:
    return FileKind(
        name=name,
        flag=flag,
        table="campaign_hourly",
        key=("campaign_id", time_column.name),
        depends_on=("campaigns",),
        columns=(
            ColumnSpec("campaign_id", "id"),
            time_column,
            ColumnSpec("spend", "money"),
            ColumnSpec("impressions", "count"),
            ColumnSpec("clicks", "count"),
            ColumnSpec("conversions", "count"),
            ColumnSpec("revenue", "money", required=False, default="'0'"),
        ),
    )


CAMPAIGNS = FileKind(
    name="campaigns",
    flag="--campaigns",
    table="campaigns",
    key=("campaign_id",),
    columns=(
        ColumnSpec("campaign_id", "id"),
        ColumnSpec("name", "text", required=False),
        ColumnSpec("network", "text"),
        ColumnSpec("platform", "enum", choices=("ios", "android", "web")),
        ColumnSpec("geo", "text"),
        ColumnSpec("creative_format", "text", required=False),
        ColumnSpec("targeting", "text", required=False),
        ColumnSpec("has_agency", "bool", required=False, default="'false'"),
        ColumnSpec("creative_production_cost", "money", required=False, default="'0'"),
        ColumnSpec("auto_optimization_enabled", "bool", required=False, default="'false'"),
        ColumnSpec("launched_at", "timestamp", required=False),
    ),
)
HOURLY = _performance(ColumnSpec("hour_ts", "timestamp"), "hourly", "--hourly")
DAILY = _performance(ColumnSpec("date", "date"), "daily", "--daily")
USERS = FileKind(
    name="users",
    flag="--users",
    table="users",
    key=("user_id",),
    depends_on=("campaigns",),
    columns=(
        ColumnSpec("user_id", "id"),
        ColumnSpec("campaign_id", "id"),
        ColumnSpec("install_ts", "timestamp"),
        ColumnSpec("platform", "enum", required=False, choices=("ios", "android", "web")),
        ColumnSpec("geo", "text", required=False),
    ),
)
REVENUE_EVENTS = FileKind(
    name="revenue_events",
    flag="--revenue-events",
    table="revenue_events",
    key=("event_id",),
    depends_on=("users",),
    columns=(
        ColumnSpec("event_id", "id"),
        ColumnSpec("user_id", "id"),
        ColumnSpec("event_ts", "timestamp"),
        ColumnSpec("revenue", "money"),
        ColumnSpec(
            "event_type", "enum", required=False, default="'purchase'", choices=("purchase", "ad", "subscription")
        ),
    ),
)
MARKET = FileKind(
    name="market",
    flag="--market",
    table="market_daily",
    key=("date", "network", "geo"),
    columns=(
        ColumnSpec("date", "date"),
        ColumnSpec("network", "text"),
        ColumnSpec("geo", "text"),
        *(
            ColumnSpec(f"{index}_index", "index")
            for index in ("cpm", "competition", "seasonality", "economic", "sentiment")
        ),
    ),
)

# Dependency order: a file is checked after the files its references point into.
FILE_KINDS: dict[str, FileKind] = {k.name: k for k in (CAMPAIGNS, HOURLY, DAILY, USERS, REVENUE_EVENTS, MARKET)}
