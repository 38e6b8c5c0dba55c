"""Shared by the ingest tests: the corpus' valid files, running the real `pmi` entry point, warehouse snapshots."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from ml.cli.main import main

CORPUS = Path(__file__).parent / "corpus"
GOOD = CORPUS / "good"
GOOD_FILES = {
    "--campaigns": GOOD / "campaigns.csv",
    "--hourly": GOOD / "hourly.csv",
    "--users": GOOD / "users.csv",
    "--revenue-events": GOOD / "revenue_events.csv",
    "--market": GOOD / "market.csv",
}
RAW_TABLES = ("campaigns", "campaign_hourly", "users", "revenue_events", "market_daily")


def ingest_args(files: dict[str, Path], home: Path, *extra: str) -> list[str]:
    """`pmi ingest` arguments for flag -> file, into ``home``."""
    pairs = [part for flag, path in files.items() for part in (flag, str(path))]
    return ["ingest", *pairs, "--home", str(home), *extra]


def run_pmi(capsys, args: list[str]) -> tuple[int, str, str]:
    """Run the real entry point in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def checkpoint(warehouse: Path) -> None:
    """Fold the write-ahead log into the file, so its bytes are the whole state."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CHECKPOINT")


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(warehouse: Path, tables: tuple[str, ...] = RAW_TABLES) -> dict[str, list[tuple]]:
    """Every row of the raw tables, sorted, to compare the warehouse's content before and after."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: sorted(con.execute(f"SELECT * FROM raw.{t}").fetchall(), key=repr) for t in tables}
