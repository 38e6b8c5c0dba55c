"""One writer at a time per data directory: the run lock's API, the `pmi` writers and the Dagster resource."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from ml.cli.errors import EXIT_BAD_INPUT
from ml.cli.main import WRITER_COMMANDS, build_parser, main
from ml.settings import PmiPaths
from ml.warehouse.run_lock import (
    LOCK_FILE,
    RunLockBusy,
    acquire_run_lock,
    hold_run_lock,
    holds_run_lock,
    read_holder,
)
from orchestration.resources import PmiHomeResource

REPO = Path(__file__).resolve().parents[3]
# A second process holding the lock through the real API for argv[2] seconds, or else until a line arrives on its
# stdin (or stdin closes); it prints "ready" once it holds the lock.
HOLDER = """
import sys, time
from ml.settings import PmiPaths
from ml.warehouse.run_lock import hold_run_lock
with hold_run_lock(PmiPaths(home=sys.argv[1]), "pmi simulate"):
    print("ready", flush=True)
    time.sleep(float(sys.argv[2])) if len(sys.argv) > 2 else sys.stdin.readline()
"""
BUSY = re.compile(r"another pmi run \(pid (\d+), started (\S+)\) holds (.+)")


@contextmanager
def holder(home: Path, *seconds: str) -> Iterator[subprocess.Popen]:
    """Another process holding ``home``'s lock for the ``with`` block, or ``seconds`` (it has the lock once this
    yields)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home), *seconds],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            proc.wait(timeout=30)


def free_for_another_process(home: Path) -> bool:
    """Whether a separate process can take ``home``'s lock right now."""
    code = (
        "import sys\nfrom ml.settings import PmiPaths\nfrom ml.warehouse.run_lock import acquire_run_lock\n"
        "try:\n    acquire_run_lock(PmiPaths(home=sys.argv[1]), 'probe')\nexcept Exception:\n    sys.exit(3)"
    )
    return subprocess.run([sys.executable, "-c", code, str(home)], cwd=REPO, timeout=60).returncode == 0


@pytest.fixture
def paths(tmp_path) -> PmiPaths:
    return PmiPaths(home=tmp_path / "home")


def test_busy_names_the_holders_pid_start_and_home(paths):
    with holder(paths.home) as proc:
        with pytest.raises(RunLockBusy) as caught:
            acquire_run_lock(paths, "pmi run")
    match = BUSY.fullmatch(str(caught.value))
    assert match, str(caught.value)
    assert int(match[1]) == proc.pid == caught.value.pid
    assert match[3] == str(paths.home.resolve())
    started = dt.datetime.fromisoformat(match[2])
    assert started.tzinfo is not None and abs(dt.datetime.now(dt.UTC) - started) < dt.timedelta(minutes=5)
    assert caught.value.command == "pmi simulate"
    assert not holds_run_lock(paths)


def test_reentrant_in_one_process_and_released_by_the_outermost_exit(paths):
    with hold_run_lock(paths, "pmi run"):
        with hold_run_lock(PmiPaths(home=paths.home / ".." / paths.home.name), "dagster run"):  # same directory
            assert holds_run_lock(paths)
        assert holds_run_lock(paths)
        assert read_holder(paths.home)["pid"] == os.getpid()
        assert not free_for_another_process(paths.home)
    assert not holds_run_lock(paths)
    assert read_holder(paths.home) == {}  # no stale metadata once released
    assert free_for_another_process(paths.home)


def test_released_after_an_exception(paths):
    with pytest.raises(ValueError), hold_run_lock(paths, "pmi ingest"):
        raise ValueError("the writer failed")
    assert not holds_run_lock(paths)
    assert free_for_another_process(paths.home)


def test_a_lock_file_left_by_a_killed_holder_does_not_block(paths):
    with holder(paths.home) as proc:
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    assert (paths.home / LOCK_FILE).exists() and read_holder(paths.home)["pid"] == proc.pid  # stale metadata
    with hold_run_lock(paths, "pmi run"):
        assert read_holder(paths.home)["pid"] == os.getpid()


def test_wait_gives_up_after_the_timeout_and_says_once_why_it_waits(paths):
    told: list[RunLockBusy] = []
    with holder(paths.home) as proc:
        started = time.monotonic()
        with pytest.raises(RunLockBusy):
            acquire_run_lock(paths, "pmi run", wait=True, timeout=0.6, on_wait=told.append)
        assert time.monotonic() - started >= 0.6
    assert [busy.pid for busy in told] == [proc.pid]


def test_every_writer_command_takes_wait_and_the_readers_do_not():
    assert {"run", "ingest", "train", "simulate"} <= WRITER_COMMANDS
    for argv in (["run"], ["train"], ["simulate"], ["ingest", "--campaigns", "c.csv"]):
        assert build_parser().parse_args([*argv, "--wait"]).wait is True
        assert build_parser().parse_args(argv).wait is False
    with pytest.raises(SystemExit):
        build_parser().parse_args(["status", "--wait"])


def pmi(*args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """The real `pmi` entry point in its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "ml.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        **popen,
    )


def small_warehouse(paths: PmiPaths) -> bytes:
    """A tiny simulated warehouse, checkpointed so its file holds the whole state; returns its bytes."""
    import duckdb

    from ml.simulation import SimulationConfig
    from ml.simulation.backfill import run_backfill

    run_backfill(SimulationConfig(n_campaigns=2, days=3, seed=1, end_date=dt.date(2026, 10, 1)), paths.ensure())
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("CHECKPOINT")
    return paths.warehouse.read_bytes()


SIMULATE = ("simulate", "--campaigns", "3", "--days", "4", "--seed", "9", "--end-date", "2026-10-01")


def test_a_second_writer_exits_2_with_one_line_and_leaves_the_warehouse_alone(paths):
    before = small_warehouse(paths)
    with holder(paths.home) as proc:
        second = pmi(*SIMULATE, "--home", str(paths.home))
        out, err = second.communicate(timeout=120)
    assert second.returncode == EXIT_BAD_INPUT, err
    assert err.count("\n") == 1 and err.startswith(f"pmi simulate: another pmi run (pid {proc.pid}, started "), err
    assert err.rstrip("\n").endswith(f"holds {paths.home.resolve()}")
    assert paths.warehouse.read_bytes() == before
    assert not paths.warehouse.with_name(paths.warehouse.name + ".wal").exists()


def test_a_second_writer_with_wait_runs_once_the_first_releases(paths):
    before = small_warehouse(paths)
    with holder(paths.home) as proc:
        second = pmi(*SIMULATE, "--home", str(paths.home), "--wait")
        waiting = second.stderr.readline()  # printed once, as soon as it finds the lock taken
        assert waiting.startswith(f"pmi simulate: waiting: another pmi run (pid {proc.pid}, "), waiting
        time.sleep(0.5)
        assert second.poll() is None and paths.warehouse.read_bytes() == before
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "raw.campaigns                     3 rows" in out
    assert not holds_run_lock(paths) and free_for_another_process(paths.home)


def test_the_environment_variable_also_makes_a_writer_wait(paths, monkeypatch, capsys):
    monkeypatch.setenv("PMI_WAIT_FOR_LOCK", "1")
    with holder(paths.home, "1") as proc:  # releases by itself after a second
        code = main([*SIMULATE, "--home", str(paths.home)])
        assert proc.wait(timeout=30) == 0
    err = capsys.readouterr().err
    assert code == 0, err
    assert err.startswith(f"pmi simulate: waiting: another pmi run (pid {proc.pid}, ")
    assert not holds_run_lock(paths)


@dg.asset
def needs_the_lock(pmi_home: PmiHomeResource) -> None:
    """An asset of a Dagster run: the run holds the lock while it executes."""
    assert holds_run_lock(pmi_home.paths())


def test_a_dagster_run_fails_with_the_one_line_when_busy_and_nests_under_a_pmi_command(paths):
    job = dg.Definitions(
        assets=[needs_the_lock], resources={"pmi_home": PmiHomeResource()}
    ).resolve_implicit_global_asset_job_def()
    config = {"resources": {"pmi_home": {"config": {"home": str(paths.home)}}}}

    assert job.execute_in_process(run_config=config).success  # takes and releases the lock itself
    assert not holds_run_lock(paths)
    with hold_run_lock(paths, "pmi run"):  # `pmi run` executing its job in-process
        assert job.execute_in_process(run_config=config).success
        assert holds_run_lock(paths)
    assert not holds_run_lock(paths)

    with holder(paths.home) as proc, pytest.raises(Exception) as caught:
        job.execute_in_process(run_config=config)
    failure = caught.value
    while failure is not None and not isinstance(failure, dg.Failure):
        failure = failure.__cause__
    assert isinstance(failure, dg.Failure)
    assert BUSY.fullmatch(failure.description) and f"(pid {proc.pid}," in failure.description
