"""Send everything a Dagster job prints to one log file per run, so `pmi run` / `pmi train` keep stdout for their
summary: dbt's per-test lines, library banners, `warnings` and `logging` output stay readable afterwards.

File descriptors 1 and 2 are redirected (``os.dup2``), not only ``sys.stdout``: child processes (the ``dbt`` CLI)
inherit them and C-level writes bypass Python's streams. Python's ``warnings`` and every ``logging`` handler that
writes to ``sys.stderr``/``sys.stdout`` (dagster, mlflow, dbt, feast, great_expectations) land there too, and
keep working after the run because the stream objects themselves are never swapped.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ml.io.cells import TRUE_WORDS

# Opt-outs the Makefile exports; a user calling `.venv/bin/pmi` directly gets them too (their own values win).
QUIET_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "MLFLOW_ENABLE_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
}
VERBOSE_ENV = "PMI_VERBOSE"


def quiet_telemetry_env() -> None:
    """Turn off usage-stats pings and their banners of dbt, MLflow and Great Expectations unless the user chose."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)


def verbose_from_env() -> bool:
    """``PMI_VERBOSE=1`` shows a run's output live, as ``--verbose`` does, for callers without the flag."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in {*TRUE_WORDS, "on"}


def default_log_dir(run_config: dict[str, Any], instance: Any = None) -> Path:
    """``<PMI_HOME>/logs`` of the run: the ``pmi_home`` resource's config, else the instance's DAGSTER_HOME
    (``<PMI_HOME>/dagster``), else ``PMI_HOME``; a temporary directory when none says where the data lives."""
    home = run_config.get("resources", {}).get("pmi_home", {}).get("config", {}).get("home")
    if home:
        return Path(home).expanduser().resolve() / "logs"
    root = None
    with contextlib.suppress(Exception):  # an ephemeral or remote instance may have no local root
        root = instance.root_directory if instance is not None else None
    if root and Path(root).name == "dagster":
        return Path(root).resolve().parent / "logs"
    if os.environ.get("PMI_HOME"):
        return Path(os.environ["PMI_HOME"]).expanduser().resolve() / "logs"
    return Path(tempfile.gettempdir()) / "pmi-logs"


def run_log_path(log_dir: Path, command: str, run_id: str, now: dt.datetime | None = None) -> Path:
    """``<log_dir>/<command>-<UTC timestamp>-<run id>.log``: sorts by time and names the Dagster run it records."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return log_dir / f"{command}-{stamp}-{run_id}.log"


def _flush_everything() -> None:
    """Flush Python's and C's stdio buffers so bytes land on the side of the redirect they were written on."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


def _terminal_stream(fd: int) -> tuple[TextIO | None, int | None]:
    """A text stream on a duplicate of ``fd`` and its width, when ``fd`` is a terminal (for the progress bar)."""
    if not os.isatty(fd):
        return None, None
    try:
        width: int | None = os.get_terminal_size(fd).columns or None
    except OSError:
        width = None
    return os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace"), width


@contextlib.contextmanager
def terminal_stderr() -> Iterator[tuple[TextIO | None, int | None]]:
    """The process's stderr as ``(stream, width)`` when it is a terminal, else ``(None, None)``."""
    stream, width = _terminal_stream(2)
    try:
        yield stream, width
    finally:
        if stream is not None:
            stream.close()


@contextlib.contextmanager
def captured_output(path: Path, header: str = "") -> Iterator[tuple[TextIO | None, int | None]]:
    """Redirect fds 1 and 2 into ``path`` (appending) until the block ends, then restore them.

    Yields ``(stream, width)`` of the ORIGINAL stderr when it is a terminal (else ``(None, None)``), so a progress
    bar can keep drawing there while everything else goes to the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _flush_everything()
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    if header:
        os.write(log_fd, header.encode() + b"\n")
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal, width = _terminal_stream(2)
    try:
        for fd in saved:
            os.dup2(log_fd, fd)
        yield terminal, width
    finally:
        _flush_everything()
        for fd, original in saved.items():
            os.dup2(original, fd)
            os.close(original)
        os.close(log_fd)
        if terminal is not None:
            terminal.close()
