"""The bad-input corpus: every file has one fault; each gets exit 2, one stderr line naming file, row and column,
and leaves the warehouse byte-for-byte unchanged. Harmless oddities load with a warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ingest_helpers import CORPUS, GOOD, GOOD_FILES, checkpoint, file_hash, ingest_args, run_pmi, snapshot

CASES = yaml.safe_load((CORPUS / "corpus.yaml").read_text())["cases"]


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory) -> Path:
    """A warehouse holding the valid corpus files, checkpointed, shared by every case of this module."""
    from ml.cli.main import main

    home = tmp_path_factory.mktemp("ingest_corpus")
    assert main(ingest_args(GOOD_FILES, home)) == 0
    checkpoint(home / "warehouse.duckdb")
    return home


def case_files(case: dict) -> dict[str, Path]:
    files = dict(GOOD_FILES)
    if case["flag"] == "--daily":
        files.pop("--hourly")
    files[case["flag"]] = CORPUS / case["file"]
    return files


def assert_one_line_naming(err: str, case: dict) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert case["file"] in line and case["phrase"] in line, line
    if case["column"] is not None:
        assert f"column {case['column']}" in line, line
    if case["row"] is not None:
        assert f"row {case['row']}," in line, line


def without_import_warnings(err: str) -> str:
    """Drop Python warnings a third-party import prints (file:line: XWarning + its source line), nothing else.

    mlflow warns at import of ml.tracking.registry (a PythonModel.predict without type hints); pmi's own output
    must still be exactly one line.
    """
    lines = err.splitlines()
    drop = {i for i, line in enumerate(lines) if "site-packages" in line and "Warning:" in line}
    drop |= {i + 1 for i in drop}
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def test_corpus_has_25_single_fault_files():
    assert len(CASES) >= 25
    assert len({c["file"] for c in CASES}) == len(CASES)
    assert all((CORPUS / c["file"]).exists() for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_bad_file_exits_2_naming_row_and_column_and_changes_nothing(case, loaded_home, capsys):
    warehouse = loaded_home / "warehouse.duckdb"
    before = file_hash(warehouse)
    code, out, err = run_pmi(capsys, ingest_args(case_files(case), loaded_home))
    assert code == 2, err
    assert_one_line_naming(err, case)
    assert file_hash(warehouse) == before
    assert not [p for p in loaded_home.iterdir() if p.name.startswith(".ingest-")]


def test_allow_partial_does_not_pass_file_level_faults(loaded_home, capsys):
    case = next(c for c in CASES if c["file"] == "hourly_semicolons.csv")
    before = file_hash(loaded_home / "warehouse.duckdb")
    code, _, err = run_pmi(capsys, ingest_args(case_files(case), loaded_home, "--allow-partial"))
    assert code == 2 and "semicolons" in err
    assert file_hash(loaded_home / "warehouse.duckdb") == before


def test_console_script_in_a_subprocess(loaded_home):
    case = next(c for c in CASES if c["file"] == "hourly_clicks_over_impressions.csv")
    before = file_hash(loaded_home / "warehouse.duckdb")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "ml.cli.main", *ingest_args(case_files(case), loaded_home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert_one_line_naming(without_import_warnings(done.stderr), case)
    assert file_hash(loaded_home / "warehouse.duckdb") == before


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("hourly_bom.csv", "byte-order mark"),
        ("hourly_extra_column.csv", "ignored column(s) not in the contract: note"),
        ("hourly_quoted_numbers.csv", "numbers in quotes"),
    ],
)
def test_harmless_oddities_load_with_a_warning(name, warning, tmp_path, capsys):
    reference = tmp_path / "reference"
    assert (
        run_pmi(
            capsys, ingest_args({"--campaigns": GOOD / "campaigns.csv", "--hourly": GOOD / "hourly.csv"}, reference)
        )[0]
        == 0
    )
    files = {"--campaigns": GOOD / "campaigns.csv", "--hourly": CORPUS / "harmless" / name}
    code, out, err = run_pmi(capsys, ingest_args(files, tmp_path / "home"))
    assert code == 0, err
    assert warning in err and "warning" in err
    assert snapshot(tmp_path / "home" / "warehouse.duckdb", ("campaign_hourly",)) == snapshot(
        reference / "warehouse.duckdb", ("campaign_hourly",)
    )
