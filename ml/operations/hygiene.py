"""Run hygiene: tell a run whose process is gone from one still running, so killed runs can be closed.

A Dagster run records the pid of the process writing its events. A run left "STARTED" by a killed process must
be marked failed, but a pid can be reused: the process now holding it must also have started before the run
wrote that event, or it is someone else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# A process's start time read from /proc is rounded to clock ticks; allow for it.
START_TIME_SLACK_SECONDS = 2.0


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_start_time(pid: int) -> float | None:
    """Epoch seconds at which ``pid`` started; None if no such live process (gone, or a zombie)."""
    if pid <= 0:
        return None
    if not sys.platform.startswith("linux"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0  # alive; its start time is unknown here, so it is taken to be old enough
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    if fields[0] in ("Z", "X"):
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_gone(pid: int | None, seen_at: float) -> bool:
    """True if the process that was ``pid`` at epoch ``seen_at`` no longer runs (exited, or its pid reused)."""
    if pid is None:
        return False  # nothing to go on: leave the run alone
    started = process_start_time(pid)
    return started is None or started > seen_at + START_TIME_SLACK_SECONDS
