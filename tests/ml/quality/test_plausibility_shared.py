"""One plausibility rule set for ingest and the raw gate (ml/quality/plausibility.py): the edge cases ingest accepts
pass the real raw Great Expectations gate, and the gate flags what ingest refuses when it arrives another way."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from ml.cli.main import main
from ml.quality import raw_suites, validate
from ml.quality.plausibility import MAX_AMOUNT, MAX_COUNT, MAX_ID_CHARS, MAX_INDEX, MAX_TEXT_CHARS, NUMBER_BOUNDS
from ml.quality.rules import within_bounds
from ml.settings import pmi_paths

LONG_ID = "c" * MAX_ID_CHARS
LONG_NAME = ("Ünïcødé 😀 é" * 200)[:MAX_TEXT_CHARS]
BIG = f"{MAX_AMOUNT:.0f}"  # exactly the bound: 1000000000000
EDGE_FILES = {
    "campaigns": [
        "campaign_id,name,network,platform,geo,creative_format,targeting,has_agency,creative_production_cost,"
        "auto_optimization_enabled,launched_at",
        f"e1,{LONG_NAME},meta,ios,US,video,broad,true,{BIG},false,2000-01-01T00:00:00",
        f"{LONG_ID},Plain,google,web,DE,,,,0,,",  # no launch date: optional at ingest, allowed by the gate
        "e3,Sci,unity,android,BR,playable,lookalike,false,1.5e3,true,2020-06-30T23:59:59",
    ],
    "hourly": [
        "campaign_id,hour_ts,spend,impressions,clicks,conversions,revenue",
        f"e1,2000-01-01T00:00:00,{BIG},{MAX_COUNT:.0f},{MAX_COUNT:.0f},{MAX_COUNT:.0f},1e12",
        "e1,2020-07-01T00:00:00,1.5e3,1E+4,2.5e1,3,0",
        f"{LONG_ID},2020-07-01T00:00:00,0,0,0,0,0",
        "e3,2020-07-01T01:00:00,-0,1,0,0,",
    ],
    "users": [
        "user_id,campaign_id,install_ts,platform,geo",
        "u1,e1,2000-01-01T00:00:00,,",
        f"u2,{LONG_ID},2020-07-01T00:00:00,web,ZZ",
    ],
    "revenue-events": [
        "event_id,user_id,event_ts,revenue,event_type",
        f"ev1,u1,2000-01-01T00:00:00,{BIG},purchase",
        "ev2,u2,2020-07-01T00:00:00,0,",
    ],
    "market": [
        "date,network,geo,cpm_index,competition_index,seasonality_index,economic_index,sentiment_index",
        f"2000-01-01,meta,US,{MAX_INDEX:.0f},1e-9,0.2,5,1",
        "2020-07-01,google,DE,1.5e0,1,1,1,1",
    ],
}


@pytest.fixture(scope="module")
def edge_home(tmp_path_factory) -> Path:
    """A warehouse holding exactly the accepted edge cases, loaded by the real `pmi ingest`."""
    folder = tmp_path_factory.mktemp("edge_files")
    args = ["ingest", "--home", str(folder / "home")]
    for flag, lines in EDGE_FILES.items():
        (folder / f"{flag}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        args += [f"--{flag}", str(folder / f"{flag}.csv")]
    assert main(args) == 0
    return folder / "home"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_the_edge_cases_ingest_accepts_pass_the_raw_gate_without_errors(edge_home):
    with duckdb.connect(str(edge_home / "warehouse.duckdb"), read_only=True) as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0]
            for t in ("campaigns", "campaign_hourly", "users", "revenue_events", "market_daily")
        }
    assert counts == {"campaigns": 3, "campaign_hourly": 4, "users": 2, "revenue_events": 2, "market_daily": 2}
    reports = validate(pmi_paths(edge_home), raw_suites(_now()))
    errors = {table: [(r.rule, r.observed) for r in report.errors] for table, report in reports.items()}
    assert not any(errors.values()), errors


@pytest.mark.parametrize(
    ("sql", "table", "rule"),
    [
        (
            "UPDATE raw.campaigns SET name = 'Spring' || chr(0) || 'video' WHERE campaign_id = 'e3'",
            "raw.campaigns",
            "name_printable",
        ),
        (
            "UPDATE raw.campaigns SET name = repeat('n', 1025) WHERE campaign_id = 'e3'",
            "raw.campaigns",
            "name_length_within_bound",
        ),
        ("UPDATE raw.users SET user_id = 'u' || chr(10) || '2' WHERE user_id = 'u2'", "raw.users", "user_id_printable"),
        (
            "UPDATE raw.campaign_hourly SET impressions = 2e12 WHERE campaign_id = 'e3'",
            "raw.campaign_hourly",
            "impressions_within_bound",
        ),
        (
            "UPDATE raw.revenue_events SET revenue = 1e13 WHERE event_id = 'ev2'",
            "raw.revenue_events",
            "revenue_within_bound",
        ),
        (
            "UPDATE raw.market_daily SET cpm_index = 'inf'::DOUBLE WHERE network = 'google'",
            "raw.market_daily",
            "cpm_index_within_bound",
        ),
        (
            "UPDATE raw.users SET install_ts = TIMESTAMP '1900-01-01' WHERE user_id = 'u2'",
            "raw.users",
            "install_ts_in_range_not_future",
        ),
    ],
)
def test_the_gate_flags_what_ingest_refuses_when_it_arrives_another_way(sql, table, rule, edge_home, tmp_path):
    paths = pmi_paths(tmp_path / "home").ensure()
    shutil.copy(edge_home / "warehouse.duckdb", paths.warehouse)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(sql)
    reports = validate(paths, [s for s in raw_suites(_now()) if s.table == table])
    assert rule in {r.rule for r in reports[table].errors}, [r.rule for r in reports[table].errors]


def test_the_gate_reads_its_bounds_from_the_shared_module():
    bounds = {e.column: e.max_value for e in within_bounds("campaign_hourly")}
    assert bounds == {
        "spend": NUMBER_BOUNDS["money"].high,
        "revenue": NUMBER_BOUNDS["money"].high,
        "impressions": NUMBER_BOUNDS["count"].high,
        "clicks": NUMBER_BOUNDS["count"].high,
        "conversions": NUMBER_BOUNDS["count"].high,
    }
    assert {e.max_value for e in within_bounds("market_daily")} == {MAX_INDEX}
