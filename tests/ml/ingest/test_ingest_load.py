"""What a successful ingest writes: idempotent upserts, audited corrections, quarantine, daily rows, time zones."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
from ingest_helpers import GOOD, GOOD_FILES, ingest_args, run_pmi, snapshot


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_reingest_changes_nothing_and_a_corrected_row_is_replaced_and_audited(tmp_path, capsys):
    home = tmp_path / "home"
    assert run_pmi(capsys, ingest_args(GOOD_FILES, home))[0] == 0
    before = snapshot(home / "warehouse.duckdb")
    code, out, _ = run_pmi(capsys, ingest_args(GOOD_FILES, home))
    assert code == 0 and "campaign_hourly" in out
    assert snapshot(home / "warehouse.duckdb") == before
    assert query(home, "SELECT sum(rows_inserted), sum(rows_replaced) FROM audit.ingest_runs") == [(19, 0)]
    corrected = (
        (GOOD / "hourly.csv").read_text().replace("102,2026-10-01T01:00:00,6.90,", "102,2026-10-01T01:00:00,7.90,")
    )
    hourly = tmp_path / "hourly_fixed.csv"
    hourly.write_text(corrected)
    code, out, _ = run_pmi(capsys, ingest_args({"--campaigns": GOOD / "campaigns.csv", "--hourly": hourly}, home))
    assert code == 0
    assert query(
        home,
        "SELECT spend FROM raw.campaign_hourly WHERE campaign_id = '102' AND hour_ts = TIMESTAMP '2026-10-01 01:00:00'",
    )[0][0] == pytest_decimal("7.90")
    changes = query(home, "SELECT table_name, key, old_values, new_values FROM audit.ingest_changes")
    assert len(changes) == 1
    table, key, old, new = changes[0]
    assert table == "campaign_hourly" and json.loads(key)["campaign_id"] == "102"
    assert json.loads(old)["spend"] == 6.9 and json.loads(new)["spend"] == 7.9
    assert query(home, "SELECT count(*) FROM raw.campaign_hourly") == [(6,)]


def pytest_decimal(text: str):
    from decimal import Decimal

    return Decimal(text)


def test_allow_partial_loads_valid_rows_and_quarantines_the_rest(tmp_path, capsys):
    hourly = write_csv(
        tmp_path / "hourly.csv",
        "campaign_id,hour_ts,spend,impressions,clicks,conversions,revenue",
        "101,2026-10-01T00:00:00,10,100,10,1,0",
        "101,2026-10-01T01:00:00,-1,100,10,1,0",
        "999,2026-10-01T00:00:00,10,100,10,1,0",
        "102,2026-10-01T00:00:00,10,100,200,1,0",
    )
    users = write_csv(
        tmp_path / "users.csv",
        "user_id,campaign_id,install_ts",
        "u1,101,2026-10-01T00:10:00",
        "u2,999,2026-10-01T00:10:00",
    )
    events = write_csv(
        tmp_path / "events.csv",
        "event_id,user_id,event_ts,revenue",
        "e1,u1,2026-10-01T01:00:00,5",
        "e2,u2,2026-10-01T01:00:00,5",
    )
    files = {"--campaigns": GOOD / "campaigns.csv", "--hourly": hourly, "--users": users, "--revenue-events": events}
    home = tmp_path / "home"
    code, out, err = run_pmi(capsys, ingest_args(files, home))
    assert code == 2 and "row 2, column spend" in err
    assert not (home / "warehouse.duckdb").exists()
    code, out, err = run_pmi(capsys, ingest_args(files, home, "--allow-partial"))
    assert code == 0, err
    assert query(home, "SELECT campaign_id FROM raw.campaign_hourly") == [("101",)]
    assert query(home, "SELECT user_id FROM raw.users") == [("u1",)]
    assert query(home, "SELECT event_id FROM raw.revenue_events") == [("e1",)]
    rejected = query(
        home,
        "SELECT table_name, row_number, column_name, reason, raw_row FROM quarantine.rejected_rows "
        "ORDER BY table_name, row_number",
    )
    assert [(r[0], r[1], r[2]) for r in rejected] == [
        ("campaign_hourly", 2, "spend"),
        ("campaign_hourly", 3, "campaign_id"),
        ("campaign_hourly", 4, "clicks"),
        ("revenue_events", 2, "user_id"),
        ("users", 2, "campaign_id"),
    ]
    assert json.loads(rejected[0][4])["spend"] == "-1"
    assert query(home, "SELECT rows_quarantined FROM audit.ingest_runs") == [(5,)]


def test_daily_rows_land_at_midnight_and_offsets_are_converted_to_utc(tmp_path, capsys):
    daily = write_csv(
        tmp_path / "daily.csv",
        "campaign_id,date,spend,impressions,clicks,conversions",
        "101,2026-10-01,10.005,100,10,1",
        "101,2026-10-02,20,200,20,2",
    )
    users = write_csv(
        tmp_path / "users.csv",
        "user_id,campaign_id,install_ts",
        "u1,101,2026-10-01T02:30:00+02:00",
        "u2,101,2026-10-01T01:30:00-05:00",
    )
    home = tmp_path / "home"
    files = {"--campaigns": GOOD / "campaigns.csv", "--daily": daily, "--users": users}
    assert run_pmi(capsys, ingest_args(files, home))[0] == 0
    assert query(
        home,
        "SELECT strftime(hour_ts, '%Y-%m-%d %H:%M'), spend::VARCHAR, revenue::VARCHAR "
        "FROM raw.campaign_hourly ORDER BY hour_ts",
    ) == [("2026-10-01 00:00", "10.01", "0.00"), ("2026-10-02 00:00", "20.00", "0.00")]
    assert query(home, "SELECT strftime(install_ts, '%Y-%m-%d %H:%M') FROM raw.users ORDER BY user_id") == [
        ("2026-10-01 00:30",),
        ("2026-10-01 06:30",),
    ]


def test_parquet_input_and_references_to_rows_already_in_the_warehouse(tmp_path, capsys):
    home = tmp_path / "home"
    assert run_pmi(capsys, ingest_args({"--campaigns": GOOD / "campaigns.csv"}, home))[0] == 0
    hourly = pd.read_csv(GOOD / "hourly.csv", dtype={"campaign_id": str})
    hourly["hour_ts"] = pd.to_datetime(hourly["hour_ts"]).dt.tz_localize("UTC")
    hourly.to_parquet(tmp_path / "hourly.parquet", index=False)
    only_new = write_csv(
        tmp_path / "campaigns.csv",
        (GOOD / "campaigns.csv").read_text().splitlines()[0],
        "104,New,meta,web,FR,video,broad,false,0,false,2026-09-01",
    )
    users = write_csv(
        tmp_path / "users.csv",
        "user_id,campaign_id,install_ts",
        "u1,101,2026-10-01T00:10:00",
        "u2,104,2026-10-01T00:10:00",
    )
    files = {"--campaigns": only_new, "--hourly": tmp_path / "hourly.parquet", "--users": users}
    code, out, err = run_pmi(capsys, ingest_args(files, home))
    assert code == 0, err
    assert query(home, "SELECT count(*), sum(spend)::VARCHAR, min(hour_ts)::VARCHAR FROM raw.campaign_hourly") == [
        (6, "78.50", "2026-10-01 00:00:00")
    ]
    assert query(home, "SELECT count(*) FROM raw.campaigns") == [(4,)]


def test_a_mistake_in_the_mapping_is_bad_input_naming_the_key(tmp_path, capsys):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("hourly:\n  columns: {cost: Spent}\n")
    code, _, err = run_pmi(capsys, ingest_args(GOOD_FILES, tmp_path / "home", "--mapping", str(mapping)))
    assert code == 2 and "hourly.columns.cost: not a contract column" in err
    mapping.write_text("hourly:\n  columns: {spend: Spent}\n")
    code, _, err = run_pmi(capsys, ingest_args(GOOD_FILES, tmp_path / "home", "--mapping", str(mapping)))
    assert code == 2 and "column Spent: the mapping takes hourly.spend from it" in err
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()
