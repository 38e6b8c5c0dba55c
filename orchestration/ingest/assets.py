"""The raw tables, produced by the built-in traffic simulator's backfill, or ingested from a drop folder."""

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field

from ml.ingest.drop_folder import ingest_drop_folder
from ml.ingest.source import SIMULATOR, WAREHOUSE, ingested_row_counts, resolve_source
from ml.io.errors import BadInputError
from ml.simulation import SimulationConfig
from ml.simulation.backfill import run_backfill
from ml.warehouse.raw_schema import RAW_TABLES
from orchestration.resources import PmiHomeResource

RAW_TABLE_DESCRIPTIONS = {
    "campaigns": "One row per paid campaign: network, platform, geo, creative, targeting and cost flags.",
    "campaign_hourly": "Hourly delivery per campaign: spend, impressions, clicks, conversions, in-hour revenue.",
    "users": "One row per acquired user with the campaign that brought them.",
    "revenue_events": "Every purchase, subscription and ad-revenue event of acquired users.",
    "market_daily": "Daily market indices per network x geo: CPM, competition, seasonality, economy, sentiment.",
    "budgets": "Daily budget changes per campaign, from history or from allocation runs.",
}


class SimulatorBackfillConfig(dg.Config):
    """How much history the simulator writes; the defaults are the `make run` demo portfolio."""

    seed: int = 7
    n_campaigns: int = 24
    days: int = 180
    end_date: str = ""  # ISO date; empty means today (UTC)
    # A folder of the user's files (campaigns.csv, hourly.csv | daily.csv, users.csv, revenue_events.csv,
    # market.csv, mapping.yaml; .parquet too): when set, they are ingested (pmi ingest) instead of simulating.
    drop_folder: str = ""
    # Where the raw tables come from: "simulator" (default, replaces raw), "warehouse" (what `pmi ingest` loaded,
    # left as it is), or a drop folder's path (ingested first, as `pmi ingest` would).
    source: str = Field(SIMULATOR, description="simulator | warehouse | a drop folder's path")
    corrupt_click_share: float = 0.0  # > 0 writes a broken feed the quality gates must block (tests)
    users_per_campaign: int = 0  # expected users per campaign over the history; 0 = the natural volume

    def to_simulation(self) -> SimulationConfig:
        fields = {
            "seed": self.seed,
            "n_campaigns": self.n_campaigns,
            "days": self.days,
            "corrupt_click_share": self.corrupt_click_share,
            "users_per_campaign": self.users_per_campaign or None,
        }
        if self.end_date:
            fields["end_date"] = dt.date.fromisoformat(self.end_date)
        return SimulationConfig(**fields)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", table], description=RAW_TABLE_DESCRIPTIONS[table], group_name="ingest", kinds={"duckdb"})
        for table in RAW_TABLES
    ],
    name="simulator_backfill",
    description="Simulate hourly campaign history, users and revenue into the raw schema (replaces it), or use "
    "the data `pmi ingest` loaded (source=warehouse), or ingest a drop folder first.",
)
def simulator_backfill(context: dg.AssetExecutionContext, config: SimulatorBackfillConfig, pmi_home: PmiHomeResource):
    """Run the simulator's backfill (or ingest the drop folder) and report each raw table's row count."""
    folder = config.drop_folder or (config.source if config.source not in (SIMULATOR, WAREHOUSE) else "")
    if folder:
        yield from _ingest_drop_folder(context, Path(folder), pmi_home)
        return
    if config.source == WAREHOUSE:
        yield from _use_warehouse(context, pmi_home)
        return
    try:
        resolve_source(pmi_home.paths(), SIMULATOR)  # never simulate over data a user ingested
    except BadInputError as exc:
        raise dg.Failure(description=str(exc)) from exc
    simulation = config.to_simulation()
    counts = run_backfill(simulation, pmi_home.paths())
    context.log.info(f"simulated {simulation.n_campaigns} campaigns x {simulation.days} days: {counts}")
    for table in RAW_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "dagster/row_count": counts[f"raw.{table}"],
                "seed": simulation.seed,
                "history_start": str(simulation.start_date),
                "history_end": str(simulation.end_date),
            },
        )


def _use_warehouse(context: dg.AssetExecutionContext, pmi_home: PmiHomeResource):
    """Report the raw tables `pmi ingest` loaded, untouched; no ingested campaigns fails the step in one line."""
    try:
        counts = ingested_row_counts(pmi_home.paths())
    except BadInputError as exc:
        raise dg.Failure(description=str(exc)) from exc
    context.log.info(f"using the ingested warehouse as it is: {counts}")
    for table in RAW_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table], metadata={"dagster/row_count": counts[table], "source": WAREHOUSE}
        )


def _ingest_drop_folder(context: dg.AssetExecutionContext, folder: Path, pmi_home: PmiHomeResource):
    """Ingest the drop folder all-or-nothing; bad input fails the step with pmi ingest's one-line message."""
    try:
        report, counts = ingest_drop_folder(folder, pmi_home.paths())
    except BadInputError as exc:
        raise dg.Failure(description=f"drop folder rejected: {exc}") from exc
    for warning in report.warnings:
        context.log.warning(warning)
    context.log.info(f"ingested {folder} (run {report.run_id}): {report.tables}")
    for table in RAW_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "dagster/row_count": counts[table],
                "drop_folder": str(folder),
                "ingest_run_id": report.run_id,
                **{f"rows_{status}": n for status, n in report.tables.get(table, {}).items()},
            },
        )
