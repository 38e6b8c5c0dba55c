"""`pmi run` in a pipe: stdout carries only the summary and the log path; dbt's per-test lines, banners and library
warnings go to the run's log file, and no progress bar is drawn (stderr is not a terminal)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from ml.cli.job_progress import bar_console
from ml.cli.run_log import QUIET_ENV, captured_output, default_log_dir

REPO = Path(__file__).resolve().parents[3]
# Lines only dbt, dagster-dbt or a library's logging would write.
NOISE = re.compile(r"PASS|START (test|sql|seed)|Running with dbt|Registered adapter|Telemetry|\bwarn", re.IGNORECASE)
BAR = re.compile(r"full pipeline .*━|\d+/\d+ \d+:\d\d:\d\d")  # the bar's label, counts and elapsed time


@pytest.fixture(scope="module")
def piped_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One real `pmi run` (the smallest simulation whose models still fit) with stdout and stderr in pipes, and
    without the Makefile's telemetry opt-outs, as a user calling `.venv/bin/pmi` directly would have it."""
    home = tmp_path_factory.mktemp("quiet_home")
    env = {k: v for k, v in os.environ.items() if k not in QUIET_ENV and k != "PMI_VERBOSE"}
    proc = subprocess.run(
        [sys.executable, "-m", "ml.cli.main", "run", "--home", str(home), "--campaigns", "6", "--days", "60"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, home


def logged_path(stdout: str) -> Path:
    lines = [line for line in stdout.splitlines() if line.startswith("Log: ")]
    assert len(lines) == 1, stdout
    return Path(lines[0].removeprefix("Log: ").strip())


def test_stdout_is_the_summary_only(piped_run):
    proc, _ = piped_run
    assert "Portfolio by campaign" in proc.stdout and "Recommendations" in proc.stdout
    assert "Executive dashboard:" in proc.stdout
    assert [line for line in proc.stdout.splitlines() if NOISE.search(line)] == []
    assert [line for line in proc.stdout.splitlines() if BAR.search(line)] == []


def test_stderr_gets_no_progress_bar_in_a_pipe(piped_run):
    proc, _ = piped_run
    assert proc.stderr.strip() == ""


def test_the_log_file_holds_what_the_run_printed(piped_run):
    proc, home = piped_run
    log = logged_path(proc.stdout)
    assert log.parent == (home / "logs").resolve() and log.name.startswith("full_pipeline-")
    text = log.read_text()
    assert "Running with dbt" in text and "START test" in text and "PASS" in text  # dbt, a child process
    assert "WARNING" in text  # dagster's and MLflow's logging


def test_capture_takes_child_processes_and_restores_the_descriptors(tmp_path):
    log = tmp_path / "logs" / "x.log"
    with captured_output(log, header="header") as (terminal, _):
        subprocess.run(
            [sys.executable, "-c", "import sys; print('child out'); print('child err', file=sys.stderr)"], check=True
        )
        os.write(1, b"fd one\n")
        print("python print", file=sys.__stdout__, flush=True)  # the CLI's sys.stdout
    assert terminal is None  # pytest's stderr is no terminal: no bar
    text = log.read_text()
    for expected in ("header", "child out", "child err", "fd one", "python print"):
        assert expected in text
    os.write(1, b"after\n")
    assert "after" not in log.read_text()


def test_bar_goes_to_a_terminal_or_a_callers_own_file_only():
    assert bar_console(Console(), None, None) is None  # stdout console, stderr no terminal: no bar
    own = Console(file=io.StringIO())
    assert bar_console(own, None, None) is own
    terminal = io.StringIO()
    assert bar_console(Console(), terminal, 90).file is terminal


def test_log_dir_follows_the_data_directory(tmp_path):
    config = {"resources": {"pmi_home": {"config": {"home": str(tmp_path)}}}}
    assert default_log_dir(config) == tmp_path.resolve() / "logs"
