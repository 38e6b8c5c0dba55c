"""One writer at a time per data directory: an exclusive advisory lock on ``<home>/.pmi.lock``.

DuckDB lets one process write the warehouse, and a backfill replaces the raw tables, so two `pmi` writers (or a
`pmi` command and a Dagster run) in one data directory either die on DuckDB's lock or clobber each other's data.
The lock makes the second writer stop at once with one line naming the holder (or wait, if asked).

``fcntl.flock`` is released by the kernel when the holding process dies, so a lock file left by a killed run
never blocks; the file's content (pid, command, start time) only serves to name the holder. The lock is
re-entrant within one process: `pmi run` holds it and then executes the Dagster job in-process, whose resource
acquires it again.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ml.settings import PmiPaths

LOCK_FILE = ".pmi.lock"
POLL_SECONDS = 0.2  # how often a waiting writer retries
READ_RETRIES = 10  # a holder writes its metadata just after locking: a reader retries briefly to see it


class RunLockBusy(Exception):
    """Another process holds the data directory's run lock; the message names its pid and start time."""

    def __init__(self, home: Path, pid: int | None, started: str | None, command: str | None) -> None:
        self.home, self.pid, self.started, self.command = home, pid, started, command
        pid_text = str(pid) if pid is not None else "unknown"
        super().__init__(f"another pmi run (pid {pid_text}, started {started or 'unknown'}) holds {home}")


@dataclass
class _Held:
    """A lock this process holds: the open descriptor carrying the flock and how many acquires are nested."""

    fd: int
    count: int
    pid: int  # a forked child inherits the registry but is another process: it must not count as a holder


_HELD: dict[Path, _Held] = {}
_REGISTRY = threading.Lock()


def lock_path(home: Path) -> Path:
    return Path(home).resolve() / LOCK_FILE


def read_holder(home: Path) -> dict:
    """The metadata the current holder wrote ({} if none is readable, e.g. the file is being rewritten)."""
    path = lock_path(home)
    for attempt in range(READ_RETRIES):
        try:
            holder = json.loads(path.read_text())
            if isinstance(holder, dict):
                return holder
        except (OSError, ValueError):
            pass
        if attempt < READ_RETRIES - 1:
            time.sleep(0.05)
    return {}


def _busy(home: Path) -> RunLockBusy:
    holder = read_holder(home)
    pid = holder.get("pid")
    return RunLockBusy(home, pid if isinstance(pid, int) else None, holder.get("started"), holder.get("command"))


def _try_acquire(home: Path, command: str) -> bool:
    """Take the lock without blocking (or count one more nested acquire); False if another process holds it."""
    with _REGISTRY:
        held = _HELD.get(home)
        if held is not None and held.pid == os.getpid():
            held.count += 1
            return True
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        metadata = json.dumps({"pid": os.getpid(), "command": command, "started": started})
        os.ftruncate(fd, 0)
        os.pwrite(fd, metadata.encode() + b"\n", 0)
        _HELD[home] = _Held(fd=fd, count=1, pid=os.getpid())
        return True


def acquire_run_lock(
    paths: PmiPaths,
    command: str,
    wait: bool = False,
    timeout: float | None = None,
    on_wait: Callable[[RunLockBusy], None] | None = None,
) -> None:
    """Take the data directory's run lock for ``command`` (e.g. "pmi run").

    Raises RunLockBusy if another process holds it, unless ``wait``: then retry until it is free (or ``timeout``
    seconds have passed, then raise), calling ``on_wait`` once with the holder so a user knows why nothing happens.
    """
    home = Path(paths.home).resolve()
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    while not _try_acquire(home, command):
        busy = _busy(home)
        if not wait or (deadline is not None and time.monotonic() >= deadline):
            raise busy
        if on_wait is not None and not told:
            on_wait(busy)
            told = True
        time.sleep(POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))


def release_run_lock(paths: PmiPaths) -> None:
    """Undo one acquire; the last one clears the metadata and releases the flock."""
    home = Path(paths.home).resolve()
    with _REGISTRY:
        held = _HELD.get(home)
        if held is None or held.pid != os.getpid():
            return
        held.count -= 1
        if held.count > 0:
            return
        del _HELD[home]
        try:
            os.ftruncate(held.fd, 0)  # the file stays (deleting it would let two writers lock two inodes)
        finally:
            fcntl.flock(held.fd, fcntl.LOCK_UN)
            os.close(held.fd)


def holds_run_lock(paths: PmiPaths) -> bool:
    """Whether this process holds the data directory's run lock."""
    held = _HELD.get(Path(paths.home).resolve())
    return held is not None and held.pid == os.getpid()


@contextmanager
def hold_run_lock(
    paths: PmiPaths,
    command: str,
    wait: bool = False,
    timeout: float | None = None,
    on_wait: Callable[[RunLockBusy], None] | None = None,
) -> Iterator[None]:
    """Hold the data directory's run lock for the ``with`` block; released on exit, exception included."""
    acquire_run_lock(paths, command, wait=wait, timeout=timeout, on_wait=on_wait)
    try:
        yield
    finally:
        release_run_lock(paths)
