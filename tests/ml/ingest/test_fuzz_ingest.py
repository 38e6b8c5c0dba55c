"""Property-based fuzzing of `pmi ingest` (issue 16): random malformed CSV, gzip and Parquet files and mappings.

Every generated case must exit 0 or 2, never print a traceback, print exactly one stderr line on exit 2 and leave
the warehouse byte-identical then; peak memory stays bounded; and whatever the accepted cases loaded passes the raw
Great Expectations gate. Cases run in-process through the real entry point (`ml.cli.main.main`) so that 2,000 of
them take about a minute; a few hostile files also run as real subprocesses that report their own peak memory.
PMI_FUZZ_CASES=N runs N cases (default 2,000), PMI_FUZZ_SEED=S a different random draw than the fixed default.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fuzz_cases import Case, ingest_cases
from hypothesis import HealthCheck, given, seed, settings
from ingest_helpers import GOOD, GOOD_FILES, checkpoint, ingest_args

from ml.cli import main as cli_main
from ml.cli.main import main

CASES = int(os.environ.get("PMI_FUZZ_CASES", "2000"))
SEED = os.environ.get("PMI_FUZZ_SEED")
RSS_GROWTH_MB = 700  # peak RSS this process may gain over all in-process cases
SUBPROCESS_PEAK_MB = 800  # peak RSS of one `pmi ingest` process on a hostile file (its imports take ~260 MB)
SUBPROCESS_GROWTH_MB = 400  # what one hostile file may add to that
ROOT = Path(__file__).resolve().parents[3]


def _state(home: Path) -> tuple[bytes, bytes]:
    """The warehouse's bytes and its write-ahead log's (compared whole: cheaper than hashing them every case)."""
    wal = home / "warehouse.duckdb.wal"
    return (home / "warehouse.duckdb").read_bytes(), wal.read_bytes() if wal.exists() else b""


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("fuzz_home")
    assert main(ingest_args(GOOD_FILES, home)) == 0
    checkpoint(home / "warehouse.duckdb")
    return home


def _run(case: Case, folder: Path, home: Path, before: tuple[bytes, bytes], capsys) -> tuple[int, str, str, bool]:
    """Run one case in-process; returns (exit code, stdout, stderr, warehouse unchanged)."""
    folder.mkdir()
    args = case.write(folder)
    capsys.readouterr()
    code = main(["ingest", *args, "--home", str(home)])
    out, err = capsys.readouterr()
    unchanged = _state(home) == before
    if code == 0:
        checkpoint(home / "warehouse.duckdb")
    shutil.rmtree(folder)
    return code, out, err, unchanged


def test_fuzzed_inputs_exit_0_or_2_in_one_line_and_never_change_the_warehouse_on_2(
    fuzz_home, tmp_path, capsys, monkeypatch
):
    stats: Counter = Counter()
    start_rss, start_peak = _rss_mb(), _peak_mb()
    warehouse = [_state(fuzz_home)]  # as of the last case that exited 0
    parser = cli_main.build_parser()  # built once: argparse for every subcommand costs more than a refused header
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)

    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=ingest_cases())
    def run_case(case: Case) -> None:
        stats["cases"] += 1
        code, out, err, unchanged = _run(case, tmp_path / f"case{stats['cases']}", fuzz_home, warehouse[0], capsys)
        stats[f"exit {code}"] += 1
        if code == 0:
            warehouse[0] = _state(fuzz_home)
        assert code in (0, 2), err
        assert "Traceback" not in out + err, err
        if code == 2:
            lines = err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("pmi ingest: ") and "error:" not in lines[0], err
            assert unchanged, f"exit 2 changed the warehouse: {err}"

    if SEED is not None:
        run_case = seed(int(SEED))(run_case)
    run_case()
    print(f"fuzz: {dict(stats)}, peak RSS {_peak_mb():.0f} MB (RSS at start {start_rss:.0f} MB)")
    assert stats["cases"] >= CASES
    assert stats["exit 0"] > 0 and stats["exit 2"] > stats["exit 0"]  # the mutations are mostly caught, not all
    assert _peak_mb() <= max(start_peak, start_rss + RSS_GROWTH_MB)


def test_what_the_fuzzed_ingests_accepted_passes_the_raw_gate(fuzz_home):
    """Runs after the fuzz test (same module warehouse): every row any case loaded is plausible to the GX gate."""
    from ml.quality import raw_suites, validate
    from ml.settings import pmi_paths

    reports = validate(pmi_paths(fuzz_home), raw_suites(dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    errors = {table: [f"{r.rule}: {r.failing_count}" for r in report.errors] for table, report in reports.items()}
    assert not any(errors.values()), errors


RUNNER = """
import sys
from ml.cli.main import main


def peak_kb():  # VmHWM, not ru_maxrss: that survives execve, so it would report the forking pytest's size
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


imported = peak_kb()
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    fh.write(f"{imported} {peak_kb()}")
sys.exit(code)
"""


def _hostile_files(folder: Path) -> dict[str, list[str]]:
    """A few files that used to cost the most (time, memory) or end in a traceback: name -> ingest arguments."""
    hourly = (GOOD / "hourly.csv").read_text().splitlines()
    campaigns = ["--campaigns", str(GOOD / "campaigns.csv")]
    laughs = folder / "laughs.yaml"
    laughs.write_text(
        "revenue_events:\n  columns:\n    a: &a ["
        + ",".join(['"lol"'] * 9)
        + "]\n"
        + "".join(f"    {chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    )
    header = folder / "header.csv"
    header.write_text(hourly[0] + "," + "h" * 10_000_000 + "\n" + "\n".join(hourly[1:]) + "\n")
    big = folder / "big.csv"
    with open(big, "w") as fh:  # 390,000 valid rows (about 20 MB) of three campaigns since 2001, then the year 1
        fh.write(hourly[0] + "\n")
        for campaign in ("101", "102", "103"):
            fh.writelines(
                f"{campaign},{dt.datetime(2001, 1, 1) + dt.timedelta(hours=h):%Y-%m-%dT%H:%M:%S},1.5e1,100,5,1,2\n"
                for h in range(130_000)
            )
        fh.write("101,0001-01-01T00:00:00,1,1,1,1,1\n")
    return {
        "billion laughs mapping": [*campaigns, "--mapping", str(laughs)],
        "10 MB header line": [*campaigns, "--hourly", str(header)],
        "390k rows, the last one in the year 1": [*campaigns, "--hourly", str(big)],
    }


def test_hostile_files_in_real_subprocesses_exit_2_in_one_line_within_bounded_memory(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    for name, args in _hostile_files(tmp_path).items():
        peak = tmp_path / "peak"
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(peak), "ingest", *args, "--home", str(tmp_path / "home")],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            cwd=ROOT,
        )
        lines = [line for line in done.stderr.splitlines() if "Warning" not in line]
        assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, (name, done.stderr)
        imported_mb, peak_mb = (int(kb) / 1024 for kb in peak.read_text().split())
        print(f"{name}: exit 2 in one line, peak RSS {peak_mb:.0f} MB ({imported_mb:.0f} MB after imports)")
        assert peak_mb < SUBPROCESS_PEAK_MB and peak_mb - imported_mb < SUBPROCESS_GROWTH_MB, (name, peak_mb)
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()


def test_the_console_script_on_a_fuzzed_file_matches_the_in_process_run(tmp_path, capsys):
    """The real `python -m ml.cli.main` on a mutated file: same exit code and the same one line as in-process."""
    bad = tmp_path / "hourly.csv"
    bad.write_bytes((GOOD / "hourly.csv").read_bytes().replace(b"13.25", b"1e309", 1))
    args = ingest_args({"--campaigns": GOOD / "campaigns.csv", "--hourly": bad}, tmp_path / "home")
    capsys.readouterr()
    code = main(args)
    in_process = capsys.readouterr().err
    done = subprocess.run(
        [sys.executable, "-m", "ml.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        cwd=ROOT,
    )
    assert code == done.returncode == 2
    assert [line for line in done.stderr.splitlines() if "Warning" not in line] == in_process.splitlines()
    assert "row 2, column spend: not a finite number: '1e309'" in in_process
