"""Issue 16's hostile and odd files, one test each: exit 2 with one line naming file, row and column (or exit 0 where
the file is fine), fast, and the warehouse byte-for-byte unchanged."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import GOOD, GOOD_FILES, checkpoint, file_hash, ingest_args, run_pmi

CAMPAIGNS = {"--campaigns": GOOD / "campaigns.csv"}
HOURLY_HEADER = "campaign_id,hour_ts,spend,impressions,clicks,conversions,revenue"
MARKET_HEADER = "date,network,geo,cpm_index,competition_index,seasonality_index,economic_index,sentiment_index"


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory) -> Path:
    """A warehouse with the valid corpus, checkpointed so that its bytes are its whole state."""
    from ml.cli.main import main

    home = tmp_path_factory.mktemp("hostile")
    assert main(ingest_args(GOOD_FILES, home)) == 0
    checkpoint(home / "warehouse.duckdb")
    return home


def refused(capsys, home: Path, files: dict[str, Path], *extra: str) -> str:
    """Run `pmi ingest`; assert exit 2, one stderr line and an unchanged warehouse; return the line."""
    before = file_hash(home / "warehouse.duckdb")
    code, _, err = run_pmi(capsys, ingest_args(files, home, *extra))
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("pmi ingest: ") and "error:" not in err, err
    assert file_hash(home / "warehouse.duckdb") == before
    return err.strip()


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def billion_laughs(levels: int = 9) -> str:
    """Nested anchors under revenue_events: 9 aliases per level, 9**levels strings once expanded."""
    lines = ["revenue_events:", "  columns:", "    a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(levels):
        name, previous = chr(98 + i), chr(97 + i)
        lines.append(f"    {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_mapping_is_refused_at_once_naming_the_line(loaded_home, tmp_path, capsys):
    mapping = tmp_path / "laughs.yaml"
    mapping.write_text(billion_laughs())
    started = time.perf_counter()
    line = refused(capsys, loaded_home, CAMPAIGNS, "--mapping", str(mapping))
    assert time.perf_counter() - started < 5  # was 35 s and 3.5 GB, then exit 1 with an empty message
    assert f"{mapping}: line 3: YAML anchors and aliases are not allowed in a mapping" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hourly:\n  columns: {spend: Spent}\n" + "# padding\n" * 7000, "a mapping file may hold at most 64 KB"),
        ("[" * 5000, "more than 1,000 '[' or '{'"),
        ("- " * 20000 + "x\n", "line 1: nested deeper than 16 levels"),
        ("hourly: !!python/object/apply:os.system [echo]\n", "not valid YAML"),
        ('hourly:\n  columns: {spend: "Spent\\u0000"}\n', "hourly.columns.spend: expected a column name or a value"),
    ],
)
def test_other_hostile_mappings_are_one_line(text, expected, loaded_home, tmp_path, capsys):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text)
    assert expected in refused(capsys, loaded_home, CAMPAIGNS, "--mapping", str(mapping))


def test_a_10_mb_header_line_is_bad_input_naming_the_column(loaded_home, tmp_path, capsys):
    good = (GOOD / "hourly.csv").read_text().splitlines()
    hourly = write(tmp_path / "hourly.csv", good[0] + "," + "x" * 10_000_000, *(row + ",1" for row in good[1:]))
    line = refused(capsys, loaded_home, {**CAMPAIGNS, "--hourly": hourly})
    # was exit 1: "field larger than field limit (131072)" from the csv module
    assert f"{hourly}: header, column 8: a column name longer than 1,024 characters" in line


def test_a_header_of_thousands_of_columns_is_refused(loaded_home, tmp_path, capsys):
    hourly = write(tmp_path / "hourly.csv", HOURLY_HEADER + "".join(f",x{i}" for i in range(2000)))
    assert "header: 2,007 columns; pmi reads at most 1,024" in refused(
        capsys, loaded_home, {**CAMPAIGNS, "--hourly": hourly}
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1e309", "row 1, column cpm_index: not a finite number: '1e309'"),
        ("-1.5", "row 1, column cpm_index: not positive: '-1.5' (market indices are ratios above 0 and at most 1,000)"),
        ("0", "row 1, column cpm_index: not positive: '0'"),
        ("1e308", "row 1, column cpm_index: implausibly large: '1e308' (market indices are ratios above 0 and at most"),
        ("nan", "row 1, column cpm_index: missing value (nan)"),
        ("inf", "row 1, column cpm_index: not a number: 'inf'"),
    ],
)
def test_market_indices_must_be_finite_positive_and_bounded(value, expected, loaded_home, tmp_path, capsys):
    market = write(tmp_path / "market.csv", MARKET_HEADER, f"2026-10-01,meta,US,{value},0.8,1.0,0.99,1.1")
    assert f"{market}: {expected}" in refused(capsys, loaded_home, {**CAMPAIGNS, "--market": market})


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00", "1900-01-01T00:00:00", "1999-12-31T23:00:00"])
def test_hourly_timestamps_before_2000_are_refused_like_the_gate_would(stamp, loaded_home, tmp_path, capsys):
    hourly = write(
        tmp_path / "hourly.csv", HOURLY_HEADER, "101,2026-10-01T00:00:00,1,10,1,0,0", f"101,{stamp},1,10,1,0,0"
    )
    line = refused(capsys, loaded_home, {**CAMPAIGNS, "--hourly": hourly})
    assert f"{hourly}: row 2, column hour_ts: before 2000-01-01: '{stamp}'" in line


def test_money_and_counts_above_the_bound_are_refused(loaded_home, tmp_path, capsys):
    hourly = write(tmp_path / "hourly.csv", HOURLY_HEADER, "101,2026-10-01T00:00:00,1e308,10,1,0,0")
    line = refused(capsys, loaded_home, {**CAMPAIGNS, "--hourly": hourly})
    assert "row 1, column spend: implausibly large: '1e308' (money is at most 1,000,000,000,000 per row)" in line
    hourly = write(tmp_path / "hourly.csv", HOURLY_HEADER, "101,2026-10-01T00:00:00,1,2e12,1,0,0")
    assert "row 1, column impressions: implausibly large: '2e12'" in refused(
        capsys, loaded_home, {**CAMPAIGNS, "--hourly": hourly}
    )


def test_a_nul_byte_in_a_campaign_name_is_refused(loaded_home, tmp_path, capsys):
    campaigns = tmp_path / "campaigns.csv"
    campaigns.write_bytes((GOOD / "campaigns.csv").read_bytes().replace(b"Spring video US", b"Spring\x00video"))
    line = refused(capsys, loaded_home, {"--campaigns": campaigns})
    assert f"{campaigns}: row 1, column name: a control character (U+0000) in 'Spring?video'" in line


def test_a_line_break_in_an_id_is_refused_and_the_message_stays_one_line(loaded_home, tmp_path, capsys):
    users = write(
        tmp_path / "users.csv",
        "user_id,campaign_id,install_ts,platform,geo",
        '"u\nnine",101,2026-10-01T00:20:00,ios,US',
    )
    line = refused(capsys, loaded_home, {**CAMPAIGNS, "--users": users})
    assert "row 1, column user_id: a control character (U+000A) in 'u?nine'" in line


def test_a_mapping_giving_one_contract_column_twice_names_both_sources(loaded_home, tmp_path, capsys):
    mapping = write(tmp_path / "mapping.yaml", "hourly:", "  columns: {spend: Spent, spend: Cost}")
    line = refused(capsys, loaded_home, {**GOOD_FILES}, "--mapping", str(mapping))
    assert f"{mapping}: line 2: spend is given twice ('Spent' and 'Cost'); keep one" in line


def test_a_rename_onto_a_column_the_file_already_has_names_both(loaded_home, tmp_path, capsys):
    mapping = write(tmp_path / "mapping.yaml", "hourly:", "  columns: {spend: revenue}")
    line = refused(capsys, loaded_home, {**GOOD_FILES}, "--mapping", str(mapping))
    assert (
        "hourly.csv: column spend: the mapping takes hourly.spend from column revenue, but the file has a "
        "column spend too"
    ) in line


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  columns: {spend: clicks, revenue: clicks}",
            "hourly.columns.revenue: column clicks is already hourly.columns.spend",
        ),
        (
            "  columns: {revenue: spend}\n  constants: {revenue: 0}",
            "hourly.constants.revenue: hourly.columns.revenue gives it too (column spend)",
        ),
        (
            "  constants: {revenue: 0}",
            "column revenue: the mapping sets hourly.revenue to the constant '0', but the file "
            "has a column revenue too",
        ),
    ],
)
def test_other_ambiguous_mappings_name_both_columns(body, expected, loaded_home, tmp_path, capsys):
    mapping = write(tmp_path / "mapping.yaml", "hourly:", body)
    assert expected in refused(capsys, loaded_home, {**GOOD_FILES}, "--mapping", str(mapping))


def test_scientific_notation_in_spend_is_read_as_a_number(tmp_path, capsys):
    hourly = write(tmp_path / "hourly.csv", HOURLY_HEADER, "101,2026-10-01T00:00:00,1.5e3,1E+4,2.5e1,3,1.2345E2")
    code, _, err = run_pmi(capsys, ingest_args({**CAMPAIGNS, "--hourly": hourly}, tmp_path / "home"))
    assert code == 0, err
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute("SELECT spend, impressions, clicks, revenue FROM raw.campaign_hourly").fetchall()
    assert row == [(Decimal("1500.00"), 10_000, 25, Decimal("123.45"))]


def test_a_fractional_count_in_scientific_notation_is_still_not_whole(loaded_home, tmp_path, capsys):
    hourly = write(tmp_path / "hourly.csv", HOURLY_HEADER, "101,2026-10-01T00:00:00,1,1.25e1,1,0,0")
    assert "row 1, column impressions: not a whole number: '1.25e1'" in refused(
        capsys, loaded_home, {**CAMPAIGNS, "--hourly": hourly}
    )


def test_a_directory_or_an_unreadable_gzip_is_bad_input(loaded_home, tmp_path, capsys):
    (tmp_path / "dir.csv").mkdir()
    assert "dir.csv: not a file" in refused(capsys, loaded_home, {**CAMPAIGNS, "--hourly": tmp_path / "dir.csv"})
    cut = tmp_path / "hourly.csv.gz"
    cut.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    assert "hourly.csv.gz: not a readable gzip file" in refused(capsys, loaded_home, {**CAMPAIGNS, "--hourly": cut})


def test_a_file_with_old_mac_line_ends_loads(tmp_path, capsys):
    hourly = tmp_path / "hourly.csv"
    hourly.write_bytes((GOOD / "hourly.csv").read_bytes().replace(b"\n", b"\r"))
    code, _, err = run_pmi(capsys, ingest_args({**CAMPAIGNS, "--hourly": hourly}, tmp_path / "home"))
    assert code == 0, err


def test_an_install_moved_after_events_already_loaded_is_refused_unless_they_come_along(tmp_path, capsys):
    """Otherwise the warehouse would hold an event before its install: an error of the raw gate's."""
    home = tmp_path / "home"
    assert run_pmi(capsys, ingest_args(GOOD_FILES, home))[0] == 0
    checkpoint(home / "warehouse.duckdb")
    users = write(
        tmp_path / "users.csv", "user_id,campaign_id,install_ts,platform,geo", "u1,101,2026-10-01T00:30:00,ios,US"
    )
    line = refused(capsys, home, {**CAMPAIGNS, "--users": users})
    assert "row 1, column install_ts: install at 2026-10-01 00:30:00 is after this user's event at 2026-10-01 " in line
    events = write(
        tmp_path / "events.csv",
        "event_id,user_id,event_ts,revenue,event_type",
        "e1,u1,2026-10-01T00:35:00,9.99,purchase",
    )
    code, _, err = run_pmi(capsys, ingest_args({**CAMPAIGNS, "--users": users, "--revenue-events": events}, home))
    assert code == 0, err
